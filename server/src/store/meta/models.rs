//! The `models` table: one row per stored model version (its files are in the model store), at
//! most one active per tenant. Activation, which also writes the other tables, is in
//! `activate`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use topic_engine::TopicModel;

use super::windows::WindowWrites;
use super::{
    db_err, stored_path, stored_tenant, stored_version, to_i64, to_u64, MetaStore, Pool, Result,
    StoragePath, StoreError, TenantId, Version,
};

/// What a stored model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// A model fitted on one window of documents (a Fit result, a merge candidate).
    Day,
    /// A model produced by merging a day model into the tenant's base model.
    Merged,
}

impl ModelKind {
    /// `"day"` or `"merged"`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Day => "day",
            ModelKind::Merged => "merged",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "day" => Ok(ModelKind::Day),
            "merged" => Ok(ModelKind::Merged),
            other => Err(StoreError::Corrupt(format!("unknown model kind {other:?}"))),
        }
    }
}

/// A model version to record (its files are already in the model store).
#[derive(Debug, Clone, PartialEq)]
pub struct NewModel {
    /// Owner.
    pub tenant: TenantId,
    /// Version (unique per tenant).
    pub version: Version,
    /// Day or merged model.
    pub kind: ModelKind,
    /// Storage path returned by [`ModelStore::put`](crate::store::ModelStore::put).
    pub storage_path: StoragePath,
    /// Active, non-outlier topics in the model.
    pub total_topics: u64,
    /// Documents behind the model.
    pub total_documents: u64,
    /// First and last day of its documents.
    pub date_range: Option<(NaiveDate, NaiveDate)>,
    /// Free-form metadata (parameters, timings, embedding model, ...).
    pub metadata: serde_json::Value,
}

impl NewModel {
    /// The row for `model`, with its topic and document counts and date range.
    pub fn for_model(
        tenant: TenantId,
        version: Version,
        kind: ModelKind,
        storage_path: StoragePath,
        model: &TopicModel,
        metadata: serde_json::Value,
    ) -> Self {
        NewModel {
            tenant,
            version,
            kind,
            storage_path,
            total_topics: model.visible_topics().count() as u64,
            total_documents: model.n_documents,
            date_range: model.date_range,
            metadata,
        }
    }
}

/// A recorded model version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRecord {
    /// Database id.
    pub id: i64,
    /// Owner.
    pub tenant: TenantId,
    /// Version.
    pub version: Version,
    /// Day or merged model.
    pub kind: ModelKind,
    /// Where its files are in the model store.
    pub storage_path: StoragePath,
    /// Active, non-outlier topics.
    pub total_topics: u64,
    /// Documents behind the model.
    pub total_documents: u64,
    /// First and last day of its documents.
    pub date_range: Option<(NaiveDate, NaiveDate)>,
    /// True for the tenant's served model (at most one per tenant).
    pub is_active: bool,
    /// Free-form metadata.
    pub metadata: serde_json::Value,
    /// When the row was inserted.
    pub created_at: DateTime<Utc>,
    /// When the row last changed (activation, deactivation).
    pub updated_at: DateTime<Utc>,
}

pub(super) fn insert_sql() -> String {
    format!(
        "INSERT INTO models (tenant_id, version, kind, storage_path, total_topics, total_documents, \
         date_range_start, date_range_end, is_active, metadata, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING {MODEL_COLUMNS}"
    )
}

pub(super) fn insert_err(e: sqlx::Error, m: &NewModel) -> StoreError {
    match db_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "tenant {} already has a model version {}",
            m.tenant, m.version
        )),
        e => e,
    }
}

/// Bind a [`NewModel`] to the parameters of [`insert_sql`] (counts checked first).
macro_rules! bind_new_model {
    ($q:expr, $m:expr, $now:expr) => {
        match (
            to_i64($m.total_topics, "total_topics"),
            to_i64($m.total_documents, "total_documents"),
        ) {
            (Ok(topics), Ok(documents)) => Ok($q
                .bind($m.tenant.as_str())
                .bind($m.version.to_string())
                .bind($m.kind.as_str())
                .bind($m.storage_path.to_string())
                .bind(topics)
                .bind(documents)
                .bind($m.date_range.map(|r| r.0))
                .bind($m.date_range.map(|r| r.1))
                .bind(false)
                .bind(sqlx::types::Json(&$m.metadata))
                .bind($now)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    };
}
pub(super) use bind_new_model;

#[derive(sqlx::FromRow)]
pub(super) struct ModelRow {
    id: i64,
    tenant_id: String,
    version: String,
    kind: String,
    storage_path: String,
    total_topics: i64,
    total_documents: i64,
    date_range_start: Option<NaiveDate>,
    date_range_end: Option<NaiveDate>,
    pub(super) is_active: bool,
    metadata: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub(super) const MODEL_COLUMNS: &str =
    "id, tenant_id, version, kind, storage_path, total_topics, total_documents, \
     date_range_start, date_range_end, is_active, metadata, created_at, updated_at";

impl TryFrom<ModelRow> for ModelRecord {
    type Error = StoreError;
    fn try_from(r: ModelRow) -> Result<Self> {
        let date_range = match (r.date_range_start, r.date_range_end) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        Ok(ModelRecord {
            id: r.id,
            tenant: stored_tenant(&r.tenant_id)?,
            version: stored_version(&r.version)?,
            kind: r.kind.parse()?,
            storage_path: stored_path(&r.storage_path)?,
            total_topics: to_u64(r.total_topics, "total_topics")?,
            total_documents: to_u64(r.total_documents, "total_documents")?,
            date_range,
            is_active: r.is_active,
            metadata: r.metadata.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl MetaStore {
    /// Record a model version (inactive). Fails with [`StoreError::Conflict`] when the tenant
    /// already has this version.
    pub async fn insert_model(&self, m: &NewModel) -> Result<ModelRecord> {
        let now = Utc::now();
        let sql = insert_sql();
        let row: ModelRow = with_pool!(self, p => {
            bind_new_model!(sqlx::query_as(&sql), m, now)?.fetch_one(p).await.map_err(|e| insert_err(e, m))?
        });
        row.try_into()
    }

    /// The tenant's active model, if any.
    pub async fn active(&self, tenant: &TenantId) -> Result<Option<ModelRecord>> {
        let sql = format!("SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 AND is_active");
        let row: Option<ModelRow> =
            with_pool!(self, p => sqlx::query_as(&sql).bind(tenant.as_str()).fetch_optional(p).await).map_err(db_err)?;
        row.map(TryInto::try_into).transpose()
    }

    /// Every tenant's active model, by tenant id (one indexed scan: at most one active row
    /// per tenant).
    pub async fn active_models(&self) -> Result<Vec<ModelRecord>> {
        let sql = format!("SELECT {MODEL_COLUMNS} FROM models WHERE is_active ORDER BY tenant_id");
        let rows: Vec<ModelRow> =
            with_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await).map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// One version of the tenant's models, if it exists.
    pub async fn get(&self, tenant: &TenantId, version: &Version) -> Result<Option<ModelRecord>> {
        let sql =
            format!("SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 AND version = $2");
        let row: Option<ModelRow> = with_pool!(self, p => sqlx::query_as(&sql)
            .bind(tenant.as_str())
            .bind(version.to_string())
            .fetch_optional(p)
            .await)
        .map_err(db_err)?;
        row.map(TryInto::try_into).transpose()
    }

    /// All versions of one tenant, or of every tenant, by tenant then version (oldest first).
    pub async fn list(&self, tenant: Option<&TenantId>) -> Result<Vec<ModelRecord>> {
        let rows: Vec<ModelRow> = match tenant {
            Some(t) => {
                let sql = format!(
                    "SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 ORDER BY version"
                );
                with_pool!(self, p => sqlx::query_as(&sql).bind(t.as_str()).fetch_all(p).await)
            }
            None => {
                let sql = format!("SELECT {MODEL_COLUMNS} FROM models ORDER BY tenant_id, version");
                with_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await)
            }
        }
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The tenant's newest version (for [`Version::now_after`]).
    pub async fn latest_version(&self, tenant: &TenantId) -> Result<Option<Version>> {
        let row: Option<(Option<String>,)> = with_pool!(self, p => sqlx::query_as(
            "SELECT MAX(version) FROM models WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(p)
            .await)
        .map_err(db_err)?;
        row.and_then(|r| r.0).map(|v| stored_version(&v)).transpose()
    }

    /// Tenant ids that have at least one model, sorted.
    pub async fn tenants(&self) -> Result<Vec<TenantId>> {
        let rows: Vec<(String,)> =
            with_pool!(self, p => sqlx::query_as("SELECT DISTINCT tenant_id FROM models ORDER BY tenant_id")
                .fetch_all(p)
                .await)
            .map_err(db_err)?;
        rows.iter().map(|(t,)| stored_tenant(t)).collect()
    }

    /// Delete one inactive version's row (and its merged-window row). Fails with
    /// [`StoreError::Conflict`] for the active version and [`StoreError::NotFound`] for an
    /// unknown one. Returns the deleted record (its files are the caller's to delete).
    pub async fn delete_model(&self, tenant: &TenantId, version: &Version) -> Result<ModelRecord> {
        let t = tenant.as_str();
        let v = version.to_string();
        let select =
            format!("SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 AND version = $2");
        let row: ModelRow = with_pool!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await.map_err(db_err)?;
            let row: Option<ModelRow> = sqlx::query_as(&select).bind(t).bind(&v).fetch_optional(&mut *tx).await.map_err(db_err)?;
            let Some(row) = row else {
                return Err(StoreError::NotFound(format!("tenant {tenant} has no model version {version}")));
            };
            if row.is_active {
                return Err(StoreError::Conflict(format!(
                    "model {version} is tenant {tenant}'s active model; activate another version first"
                )));
            }
            WindowWrites::delete_window(&mut *tx, t, &v).await?;
            sqlx::query("DELETE FROM models WHERE tenant_id = $1 AND version = $2")
                .bind(t)
                .bind(&v)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            row
        });
        row.try_into()
    }

    /// Retention, in one transaction: delete the rows of the tenant's oldest versions (and
    /// their merged-window rows) so that at most `keep` remain, never the active one. Returns
    /// the deleted records (their files are the caller's to delete; a crash in between leaves
    /// orphans that [`cleanup_orphans`](crate::store::cleanup_orphans) removes).
    pub async fn prune_versions(&self, tenant: &TenantId, keep: usize) -> Result<Vec<ModelRecord>> {
        let t = tenant.as_str();
        let select =
            format!("SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 ORDER BY version");
        let doomed: Vec<ModelRow> = with_pool!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await.map_err(db_err)?;
            let all: Vec<ModelRow> = sqlx::query_as(&select).bind(t).fetch_all(&mut *tx).await.map_err(db_err)?;
            let excess = all.len().saturating_sub(keep);
            let doomed: Vec<ModelRow> = all.into_iter().filter(|m| !m.is_active).take(excess).collect();
            for row in &doomed {
                WindowWrites::delete_window(&mut *tx, t, &row.version).await?;
                sqlx::query("DELETE FROM models WHERE tenant_id = $1 AND version = $2")
                    .bind(t)
                    .bind(&row.version)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
            doomed
        });
        doomed.into_iter().map(TryInto::try_into).collect()
    }
}
