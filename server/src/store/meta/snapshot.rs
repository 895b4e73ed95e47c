//! The `topic_snapshot` table: the tenant's top topics of its active model, replaced in the
//! transaction that activates it, so GetTopTopics is one indexed read.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, SqliteConnection};
use topic_engine::{Keyword, TopicModel};

use super::backend::values_rows;
use super::{
    db_err, stored_version, to_i64, to_u64, Backend, MetaStore, Pool, Result, StoreError, TenantId,
    Version,
};

/// One entry of a tenant's top-topics snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTopic {
    /// 1-based rank (1 = largest topic).
    pub rank: u32,
    /// Topic id in the model.
    pub topic_id: i64,
    /// The label shown (an operator's label when there is one).
    pub label: String,
    /// True when `label` is an operator's label rather than the generated one.
    pub label_overridden: bool,
    /// Top keywords with weights, best first.
    pub keywords: Vec<Keyword>,
    /// Documents in the topic.
    pub message_count: u64,
    /// Representative messages (at most 5).
    pub samples: Vec<String>,
    /// First day the topic was seen.
    pub first_seen: NaiveDate,
    /// Last day the topic was seen.
    pub last_seen: NaiveDate,
    /// Day the snapshot describes.
    pub analysis_date: NaiveDate,
    /// Version the snapshot was taken from ([`MetaStore::activate`] sets it to the activated
    /// version).
    pub model_version: Version,
    /// Topic ids merged into this one by hand (its aliases), ascending.
    #[serde(default)]
    pub aliases: Vec<i64>,
}

/// Most samples kept per snapshot topic.
pub const SNAPSHOT_SAMPLES: usize = 5;

impl SnapshotTopic {
    /// The `limit` largest visible topics of `model` (active, non-outlier, not hidden; by size
    /// desc, then id asc), ranked from 1.
    pub fn top_of(
        model: &TopicModel,
        limit: usize,
        analysis_date: NaiveDate,
        version: Version,
    ) -> Vec<Self> {
        let mut topics: Vec<_> = model.visible_topics().collect();
        topics.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
        topics
            .into_iter()
            .take(limit)
            .enumerate()
            .map(|(i, t)| SnapshotTopic {
                rank: i as u32 + 1,
                topic_id: t.id,
                label: t.display_label().to_string(),
                label_overridden: t.is_label_overridden(),
                keywords: t.keywords.clone(),
                message_count: t.size,
                samples: t.samples.iter().take(SNAPSHOT_SAMPLES).cloned().collect(),
                first_seen: t.first_seen,
                last_seen: t.last_seen,
                analysis_date,
                model_version: version,
                aliases: t.memory.edits.aliases.iter().map(|a| a.id).collect(),
            })
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct SnapshotRow {
    rank: i64,
    topic_id: i64,
    label: String,
    label_overridden: bool,
    keywords: Json<Vec<Keyword>>,
    message_count: i64,
    samples: Json<Vec<String>>,
    first_seen: NaiveDate,
    last_seen: NaiveDate,
    analysis_date: NaiveDate,
    model_version: String,
    aliases: Json<Vec<i64>>,
}

impl TryFrom<SnapshotRow> for SnapshotTopic {
    type Error = StoreError;
    fn try_from(r: SnapshotRow) -> Result<Self> {
        Ok(SnapshotTopic {
            rank: u32::try_from(r.rank)
                .map_err(|_| StoreError::Corrupt(format!("snapshot rank {}", r.rank)))?,
            topic_id: r.topic_id,
            label: r.label,
            label_overridden: r.label_overridden,
            keywords: r.keywords.0,
            message_count: to_u64(r.message_count, "message_count")?,
            samples: r.samples.0,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            analysis_date: r.analysis_date,
            model_version: stored_version(&r.model_version)?,
            aliases: r.aliases.0,
        })
    }
}

/// Bound parameters per snapshot row (besides the shared tenant).
const SNAPSHOT_PARAMS: usize = 12;

/// Writes of `topic_snapshot` inside the caller's transaction.
pub(super) trait SnapshotWrites {
    /// Delete the tenant's snapshot.
    async fn delete_snapshot(&mut self, tenant: &str) -> Result<()>;

    /// Insert `snapshot` as taken from `version`: one statement (a snapshot holds a handful of
    /// rows; only one over the backend's parameter limit would take more).
    async fn insert_snapshot(
        &mut self,
        backend: Backend,
        tenant: &str,
        version: &str,
        snapshot: &[SnapshotTopic],
    ) -> Result<()>;
}

/// The same SQL on both backends.
macro_rules! impl_snapshot_writes {
    ($conn:ty) => {
        impl SnapshotWrites for $conn {
            async fn delete_snapshot(&mut self, tenant: &str) -> Result<()> {
                sqlx::query("DELETE FROM topic_snapshot WHERE tenant_id = $1")
                    .bind(tenant)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn insert_snapshot(
                &mut self,
                backend: Backend,
                tenant: &str,
                version: &str,
                snapshot: &[SnapshotTopic],
            ) -> Result<()> {
                let per_statement = (backend.max_bind_params() - 1) / SNAPSHOT_PARAMS;
                for chunk in snapshot.chunks(per_statement) {
                    let sql = format!(
                        "INSERT INTO topic_snapshot (tenant_id, rank, topic_id, label, keywords, \
                         message_count, samples, first_seen, last_seen, analysis_date, model_version, \
                         label_overridden, aliases) \
                         VALUES {}",
                        values_rows(chunk.len(), SNAPSHOT_PARAMS)
                    );
                    let mut q = sqlx::query(&sql).bind(tenant);
                    for s in chunk {
                        q = q
                            .bind(i64::from(s.rank))
                            .bind(s.topic_id)
                            .bind(&s.label)
                            .bind(Json(&s.keywords))
                            .bind(to_i64(s.message_count, "message_count")?)
                            .bind(Json(&s.samples))
                            .bind(s.first_seen)
                            .bind(s.last_seen)
                            .bind(s.analysis_date)
                            .bind(version)
                            .bind(s.label_overridden)
                            .bind(Json(&s.aliases));
                    }
                    q.execute(&mut *self).await.map_err(|e| match db_err(e) {
                        StoreError::Conflict(m) => {
                            let ranks: Vec<u32> = chunk.iter().map(|s| s.rank).collect();
                            StoreError::Conflict(format!("snapshot ranks {ranks:?}: {m}"))
                        }
                        e => e,
                    })?;
                }
                Ok(())
            }
        }
    };
}

impl_snapshot_writes!(SqliteConnection);
impl_snapshot_writes!(PgConnection);

impl MetaStore {
    /// The tenant's top-topics snapshot, by rank (empty when it has no active model).
    pub async fn snapshot(&self, tenant: &TenantId) -> Result<Vec<SnapshotTopic>> {
        let rows: Vec<SnapshotRow> = with_pool!(self, p => sqlx::query_as(
            "SELECT rank, topic_id, label, label_overridden, keywords, message_count, samples, \
             first_seen, last_seen, analysis_date, model_version, aliases FROM topic_snapshot \
             WHERE tenant_id = $1 ORDER BY rank")
            .bind(tenant.as_str())
            .fetch_all(p)
            .await)
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
