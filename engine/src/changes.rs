//! What changed in a model: topics new since an earlier version, retired ones, and those rising
//! or falling most. One rule for the server's `GetTopicChanges` and the offline report.
//!
//! Counts come from the topics' daily counts: the last [`CHANGE_DAYS`] days of the model's
//! history window (ending on its last day of documents) against the [`CHANGE_DAYS`] before;
//! `relative_change = (recent − previous) / max(previous, 1)`. Labels are the ones shown
//! everywhere (an operator's when set).

use chrono::{Duration, NaiveDate};

use crate::model::{Topic, TopicModel, TopicStatus};

/// Days in each of the two periods compared.
pub const CHANGE_DAYS: i64 = 7;

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

/// The four lists of what changed, each at most `limit` long.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeLists {
    /// New active topics (see [`Baseline`]), most recent documents first.
    pub new_topics: Vec<TopicChange>,
    /// Retired topics (see [`Baseline`]), most recent documents first.
    pub retired_topics: Vec<TopicChange>,
    /// Active topics whose count grew, largest relative change first.
    pub rising: Vec<TopicChange>,
    /// Active topics whose count fell, most negative relative change first.
    pub falling: Vec<TopicChange>,
}

/// What "new" and "retired" are measured against.
#[derive(Debug, Clone, Copy)]
pub enum Baseline<'a> {
    /// An earlier version of the same model: new = active here and absent from it; retired =
    /// active there and retired (or gone) here.
    Version(&'a TopicModel),
    /// The tenant's first model: every active topic is new, none is retired.
    First,
    /// No earlier version at hand (a model file read on its own): new = first seen in the
    /// recent period; retired = the topics this model keeps as retired.
    ModelOnly,
}

/// The last day of `model`'s history window: its last day of documents, else the latest
/// `last_seen`; `None` for a model without topics or dates.
fn window_end(model: &TopicModel) -> Option<NaiveDate> {
    model.date_range.map(|(_, end)| end).or_else(|| model.topics.iter().map(|t| t.last_seen).max())
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

/// The four lists for `model` against `baseline`, each at most `limit` long.
pub fn change_lists(model: &TopicModel, baseline: Baseline<'_>, limit: usize) -> ChangeLists {
    let Some(end) = window_end(model) else {
        return ChangeLists::default();
    };
    let recent_start = end - Duration::days(CHANGE_DAYS - 1);
    let active: Vec<TopicChange> = model.visible_topics().map(|t| change_of(t, end)).collect();
    let by_recent = |a: &TopicChange, b: &TopicChange| {
        b.recent_count
            .cmp(&a.recent_count)
            .then(b.previous_count.cmp(&a.previous_count))
            .then(a.topic_id.cmp(&b.topic_id))
    };
    let is_new = |c: &TopicChange| match baseline {
        Baseline::Version(p) => p.topic(c.topic_id).is_none(),
        Baseline::First => true,
        Baseline::ModelOnly => {
            model.topic(c.topic_id).is_some_and(|t| t.first_seen >= recent_start)
        }
    };
    let mut new_topics: Vec<TopicChange> = active.iter().filter(|c| is_new(c)).cloned().collect();
    new_topics.sort_by(by_recent);
    let mut retired_topics: Vec<TopicChange> = match baseline {
        Baseline::Version(p) => p
            .visible_topics()
            .filter(|t| model.topic(t.id).is_none_or(|now| !now.is_active()))
            // The current model's copy when it still holds the topic (its label may have been
            // edited since), else the previous one's.
            .map(|t| change_of(model.topic(t.id).unwrap_or(t), end))
            .collect(),
        Baseline::First => Vec::new(),
        Baseline::ModelOnly => model
            .topics
            .iter()
            .filter(|t| t.status == TopicStatus::Retired)
            .map(|t| change_of(t, end))
            .collect(),
    };
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{DailyCount, LabelSource, TopicMemory};
    use crate::{FitParams, MergeParams};

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
            memory: TopicMemory::default(),
            faq: Default::default(),
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
        let lists = change_lists(&now, Baseline::Version(&old), 5);
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
        let first = change_lists(&now, Baseline::First, 2);
        assert_eq!(ids(&first.new_topics), vec![1, 0], "most recent documents first (21, 14)");
        assert!(first.retired_topics.is_empty());
        assert_eq!(change_lists(&now, Baseline::Version(&old), 1).rising.len(), 1);
    }

    #[test]
    fn a_model_on_its_own_calls_new_what_it_first_saw_recently() {
        use TopicStatus::{Active, Retired};
        let mut fresh = [0u64; 14];
        fresh[10] = 3;
        let now = model(
            vec![topic(0, &[2; 14], Active), topic(1, &fresh, Active), topic(2, &[1; 3], Retired)],
            13,
        );
        let lists = change_lists(&now, Baseline::ModelOnly, 5);
        assert_eq!(ids(&lists.new_topics), vec![1]);
        assert_eq!(ids(&lists.retired_topics), vec![2]);
        let empty = TopicModel { topics: vec![], date_range: None, ..now };
        assert_eq!(change_lists(&empty, Baseline::ModelOnly, 5), ChangeLists::default());
    }
}
