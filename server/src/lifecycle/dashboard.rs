//! The dashboard's reads: the tenants with an active model, the topic map, topic search, and
//! what changed between the active version and the one before it.
//!
//! - Map: [`topic_engine::layout::model_map`] (classical MDS on cosine distances,
//!   deterministic); the active version's map is computed once and kept with the hot model,
//!   other versions' are computed when asked.
//! - Search: the phrase is embedded by the server's provider exactly as Transform embeds texts
//!   and ranked against the active topics ([`topic_engine::TopicIndex::nearest`]); outliers and
//!   small talk are never topics, so never results.
//! - Changes: the previous version is the one the active version was made from, following
//!   label edits back to the merge they sit on (a label edit changes no topic); the lists are
//!   [`topic_engine::changes::change_lists`] (the rule the offline report uses too).

use std::collections::BTreeMap;
use std::sync::Arc;

use topic_engine::changes::{change_lists, Baseline};
pub use topic_engine::changes::{ChangeLists, TopicChange, CHANGE_DAYS};
use topic_engine::layout::MapPoint;
use topic_engine::TopicModel;

use super::contract::Lineage;
use super::error::Result;
use super::{blocking, Lifecycle};
use crate::store::{ModelKind, ModelRecord, TenantId, Version};

/// Keywords per map point.
pub const MAP_KEYWORDS: usize = 5;

/// One topic on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapTopic {
    /// Topic id.
    pub topic_id: i64,
    /// The label shown.
    pub label: String,
    /// Coordinates.
    pub x: f64,
    /// Coordinates.
    pub y: f64,
    /// Documents in the topic.
    pub size: u64,
    /// The top [`MAP_KEYWORDS`] keywords.
    pub keywords: Vec<String>,
}

/// GetTopicMap's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicMap {
    /// The version laid out.
    pub version: Version,
    /// One point per active topic, by id.
    pub points: Vec<MapTopic>,
}

/// A topic found by [`Lifecycle::find_topics`].
#[derive(Debug, Clone, PartialEq)]
pub struct FoundTopic {
    /// Topic id.
    pub topic_id: i64,
    /// The label shown.
    pub label: String,
    /// Cosine between the phrase and the topic.
    pub score: f64,
}

/// FindTopics' answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The active version searched.
    pub version: Version,
    /// Nearest first.
    pub topics: Vec<FoundTopic>,
}

/// GetTopicChanges' answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicChanges {
    /// The active version.
    pub version: Version,
    /// The version it is compared with (`None`: the tenant's first model).
    pub previous_version: Option<Version>,
    /// The lists.
    pub lists: ChangeLists,
}

impl Lifecycle {
    /// Every tenant's active model row, by tenant id (the caller filters what it may show).
    pub async fn list_tenants(&self) -> Result<Vec<ModelRecord>> {
        Ok(self.meta.active_models().await?)
    }

    /// The topic map of `version` (`None`: the active one).
    pub async fn topic_map(
        &self,
        tenant: &TenantId,
        version: Option<&Version>,
    ) -> Result<TopicMap> {
        let hot = self.active.get(tenant).await?;
        let hot = hot.filter(|h| version.is_none_or(|v| *v == h.version));
        let (version, model, points) = match hot {
            Some(hot) => {
                let points = if hot.has_map() {
                    hot.map()?
                } else {
                    let h = hot.clone();
                    blocking(move || Ok(h.map()?)).await?
                };
                (hot.version, hot.model.clone(), points)
            }
            None => {
                let rec = match version {
                    Some(v) => self.record(tenant, v).await?,
                    None => self.active_record(tenant).await?,
                };
                let model = self.load(&rec).await?;
                let m = model.clone();
                let points =
                    blocking(move || Ok(Arc::new(topic_engine::layout::model_map(&m)?))).await?;
                (rec.version, model, points)
            }
        };
        Ok(TopicMap { version, points: map_topics(&model, &points) })
    }

    /// The `limit` active topics nearest to `query` (embedded by the server's provider as
    /// Transform embeds texts). `NotFound` without an active model; `FailedPrecondition`
    /// without an embedding provider or when its vectors do not fit the model.
    pub async fn find_topics(&self, tenant: &TenantId, query: &str, limit: usize) -> Result<Found> {
        let hot = self.active.get(tenant).await?.ok_or_else(|| Self::no_active(tenant))?;
        let embedded = self.embed_for(&hot.model, &[query.to_string()]).await?;
        let nearest = hot.index.nearest(embedded.row(0), limit)?;
        let topics = nearest
            .into_iter()
            .map(|a| FoundTopic {
                topic_id: a.topic_id,
                label: hot.model.label_of(a.topic_id).unwrap_or_default().to_string(),
                score: f64::from(a.score),
            })
            .collect();
        Ok(Found { version: hot.version, topics })
    }

    /// What changed in the tenant's active model (see the module docs); each list at most
    /// `limit` long.
    pub async fn topic_changes(&self, tenant: &TenantId, limit: usize) -> Result<TopicChanges> {
        let active = self.active_record(tenant).await?;
        let model = self.load(&active).await?;
        let previous = self.previous_version(tenant, &active).await?;
        let previous_model = match &previous {
            Some(rec) => Some(self.load(rec).await?),
            None => None,
        };
        Ok(TopicChanges {
            version: active.version,
            previous_version: previous.map(|r| r.version),
            lists: change_lists(
                &model,
                previous_model.as_deref().map_or(Baseline::First, Baseline::Version),
                limit,
            ),
        })
    }

    /// The version `active` is compared with: the base of the merge it is (label edits are
    /// followed back to the merge they were made on). Where a row of that chain is gone
    /// (pruned) or does not record its base, the newest merged version older than it.
    async fn previous_version(
        &self,
        tenant: &TenantId,
        active: &ModelRecord,
    ) -> Result<Option<ModelRecord>> {
        let rows = self.meta.list(Some(tenant)).await?;
        let by_version: BTreeMap<Version, &ModelRecord> =
            rows.iter().map(|r| (r.version, r)).collect();
        let older_merged = |v: Version| {
            rows.iter()
                .filter(|r| r.kind == ModelKind::Merged && r.version < v)
                .max_by_key(|r| r.version)
                .cloned()
        };
        let mut current = active;
        // Each step goes to an older version, so the walk ends; the bound guards against a
        // hand-edited cycle.
        for _ in 0..=rows.len() {
            let base = match Lineage::of_record(current) {
                Lineage::First => return Ok(None),
                Lineage::Unknown => return Ok(older_merged(current.version)),
                Lineage::From(v) => v,
            };
            let Some(base) = by_version.get(&base).copied().filter(|b| b.version < current.version)
            else {
                return Ok(older_merged(current.version));
            };
            if !Lineage::is_label_edit(current) {
                return Ok(Some(base.clone()));
            }
            current = base;
        }
        Ok(older_merged(current.version))
    }
}

/// The map's points with their topics' labels, sizes and keywords.
fn map_topics(model: &TopicModel, points: &[MapPoint]) -> Vec<MapTopic> {
    points
        .iter()
        .filter_map(|p| {
            let t = model.topic(p.topic_id)?;
            Some(MapTopic {
                topic_id: t.id,
                label: t.display_label().to_string(),
                x: p.x,
                y: p.y,
                size: t.size,
                keywords: t.keywords.iter().take(MAP_KEYWORDS).map(|k| k.word.clone()).collect(),
            })
        })
        .collect()
}
