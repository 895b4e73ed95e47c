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
//!   label edits back to the merge they sit on (a label edit changes no topic); counts come from
//!   the active model's daily counts, the last [`CHANGE_DAYS`] days of its history window (ending
//!   on its last day of documents) against the [`CHANGE_DAYS`] before.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use topic_engine::layout::MapPoint;
use topic_engine::{Topic, TopicModel};

use super::contract::Lineage;
use super::error::Result;
use super::{blocking, Lifecycle};
use crate::store::{ModelKind, ModelRecord, TenantId, Version};

/// Keywords per map point.
pub const MAP_KEYWORDS: usize = 5;

/// Days in each of the two periods GetTopicChanges compares.
pub const CHANGE_DAYS: i64 = 7;

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

/// A topic's counts in the two periods compared.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicChange {
    /// Topic id.
    pub topic_id: i64,
    /// The label shown.
    pub label: String,
    /// Documents in the last [`CHANGE_DAYS`] days of the history window.
    pub recent_count: u64,
    /// Documents in the [`CHANGE_DAYS`] days before those.
    pub previous_count: u64,
    /// `(recent − previous) / max(previous, 1)`.
    pub relative_change: f64,
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

/// The four lists of [`TopicChanges`], each at most `limit` long.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeLists {
    /// Active topics that the previous version did not have (every topic of a first model),
    /// most recent documents first.
    pub new_topics: Vec<TopicChange>,
    /// Topics active in the previous version and retired (or gone) in this one.
    pub retired_topics: Vec<TopicChange>,
    /// Active topics whose count grew, largest relative change first.
    pub rising: Vec<TopicChange>,
    /// Active topics whose count fell, most negative relative change first.
    pub falling: Vec<TopicChange>,
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
            lists: change_lists(&model, previous_model.as_deref(), limit),
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

/// The last day of `model`'s history window: its last day of documents (else the latest
/// `last_seen`, else today).
fn window_end(model: &TopicModel) -> NaiveDate {
    model
        .date_range
        .map(|(_, end)| end)
        .or_else(|| model.topics.iter().map(|t| t.last_seen).max())
        .unwrap_or_else(|| Utc::now().date_naive())
}

/// A topic's counts in the two periods ending on `end`.
fn change_of(topic: &Topic, end: NaiveDate) -> TopicChange {
    let recent_start = end - Duration::days(CHANGE_DAYS - 1);
    let previous_start = recent_start - Duration::days(CHANGE_DAYS);
    let mut recent = 0u64;
    let mut previous = 0u64;
    for d in &topic.daily_counts {
        if d.date >= recent_start && d.date <= end {
            recent = recent.saturating_add(d.count);
        } else if d.date >= previous_start && d.date < recent_start {
            previous = previous.saturating_add(d.count);
        }
    }
    TopicChange {
        topic_id: topic.id,
        label: topic.display_label().to_string(),
        recent_count: recent,
        previous_count: previous,
        relative_change: (recent as f64 - previous as f64) / previous.max(1) as f64,
    }
}

/// The four lists for `model` against `previous` (`None`: every active topic is new).
pub fn change_lists(
    model: &TopicModel,
    previous: Option<&TopicModel>,
    limit: usize,
) -> ChangeLists {
    let end = window_end(model);
    let active: Vec<TopicChange> = model.active_topics().map(|t| change_of(t, end)).collect();
    let by_recent = |a: &TopicChange, b: &TopicChange| {
        b.recent_count
            .cmp(&a.recent_count)
            .then(b.previous_count.cmp(&a.previous_count))
            .then(a.topic_id.cmp(&b.topic_id))
    };
    let mut new_topics: Vec<TopicChange> = active
        .iter()
        .filter(|c| previous.is_none_or(|p| p.topic(c.topic_id).is_none()))
        .cloned()
        .collect();
    new_topics.sort_by(by_recent);
    let mut retired_topics: Vec<TopicChange> = previous
        .map(|p| {
            p.active_topics()
                .filter(|t| model.topic(t.id).is_none_or(|now| !now.is_active()))
                // The current model's copy when it still holds the topic (its label may have
                // been edited since), else the previous one's.
                .map(|t| change_of(model.topic(t.id).unwrap_or(t), end))
                .collect()
        })
        .unwrap_or_default();
    retired_topics.sort_by(by_recent);
    let mut rising: Vec<TopicChange> =
        active.iter().filter(|c| c.relative_change > 0.0).cloned().collect();
    rising.sort_by(|a, b| {
        b.relative_change.total_cmp(&a.relative_change).then_with(|| by_recent(a, b))
    });
    let mut falling: Vec<TopicChange> =
        active.iter().filter(|c| c.relative_change < 0.0).cloned().collect();
    falling.sort_by(|a, b| {
        a.relative_change
            .total_cmp(&b.relative_change)
            .then(b.previous_count.cmp(&a.previous_count))
            .then(a.topic_id.cmp(&b.topic_id))
    });
    for list in [&mut new_topics, &mut retired_topics, &mut rising, &mut falling] {
        list.truncate(limit);
    }
    ChangeLists { new_topics, retired_topics, rising, falling }
}

#[cfg(test)]
mod tests {
    use super::*;
    use topic_engine::model::{DailyCount, LabelSource, TopicStatus};
    use topic_engine::{FitParams, MergeParams};

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + Duration::days(n)
    }

    /// A topic with `counts[i]` documents on day `i`.
    fn topic(id: i64, counts: &[u64], status: TopicStatus) -> Topic {
        let daily_counts: Vec<DailyCount> = counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &count)| DailyCount { date: day(i as i64), count })
            .collect();
        Topic {
            id,
            label: format!("topic {id}"),
            label_source: LabelSource::Keywords,
            label_override: None,
            keywords: vec![],
            size: counts.iter().sum(),
            embedding: vec![1.0, 0.0],
            term_counts: vec![],
            samples: vec![],
            first_seen: daily_counts.first().map_or(day(0), |d| d.date),
            last_seen: daily_counts.last().map_or(day(0), |d| d.date),
            status,
            daily_counts,
        }
    }

    fn model(topics: Vec<Topic>, last_day: i64) -> TopicModel {
        TopicModel {
            embedding_model: "test".into(),
            dim: 2,
            fit_params: FitParams::default(),
            merge_params: MergeParams::default(),
            vocabulary: vec![],
            next_topic_id: topics.iter().map(|t| t.id + 1).max().unwrap_or(0),
            topics,
            n_documents: 0,
            date_range: Some((day(0), day(last_day))),
        }
    }

    fn ids(list: &[TopicChange]) -> Vec<i64> {
        list.iter().map(|c| c.topic_id).collect()
    }

    #[test]
    fn new_retired_rising_and_falling() {
        use TopicStatus::{Active, Retired};
        // 14 days: days 0..=6 are the previous period, 7..=13 the recent one.
        let flat = [2u64; 14];
        let mut up = [1u64; 14];
        up[7..].fill(3); // 7 → 21: +2.0
        let mut down = [4u64; 14];
        down[7..].fill(1); // 28 → 7: −0.75
        let mut fresh = [0u64; 14];
        fresh[12] = 5; // 0 → 5: +5.0 (new)
        let old = model(
            vec![
                topic(0, &flat, Active),
                topic(1, &up, Active),
                topic(2, &down, Active),
                topic(3, &[1; 3], Active),
            ],
            13,
        );
        let mut now = model(
            vec![
                topic(0, &flat, Active),
                topic(1, &up, Active),
                topic(2, &down, Active),
                topic(3, &[1; 3], Retired),
                topic(4, &fresh, Active),
            ],
            13,
        );
        now.topics[1].label_override = Some("Growing".into());
        let lists = change_lists(&now, Some(&old), 5);
        assert_eq!(ids(&lists.new_topics), vec![4]);
        assert_eq!(ids(&lists.retired_topics), vec![3]);
        assert_eq!(ids(&lists.rising), vec![4, 1], "largest relative change first");
        assert_eq!(ids(&lists.falling), vec![2]);
        let grow = &lists.rising[1];
        assert_eq!((grow.recent_count, grow.previous_count), (21, 7));
        assert!((grow.relative_change - 2.0).abs() < 1e-12);
        assert_eq!(grow.label, "Growing", "the operator's label is shown");
        assert!((lists.falling[0].relative_change + 0.75).abs() < 1e-12);
        assert_eq!(lists.new_topics[0].relative_change, 5.0, "previous 0 counts as 1");
        // Limits apply per list; a first model has only new topics.
        let first = change_lists(&now, None, 2);
        assert_eq!(ids(&first.new_topics), vec![1, 0], "most recent documents first (21, 14)");
        assert!(first.retired_topics.is_empty());
        assert_eq!(change_lists(&now, Some(&old), 1).rising.len(), 1);
    }
}
