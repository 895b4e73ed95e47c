//! The one builder of what an activation writes besides the version switch: the top-topics
//! snapshot, the per-topic daily counts and the merged window. Used by the Merge commit and by
//! ActivateModel alike, so both write the same thing for the same model.

use chrono::{NaiveDate, Utc};
use topic_engine::TopicModel;

use crate::store::{DailyCountRow, SnapshotTopic, Version};

/// Topics in the snapshot written at activation.
pub const SNAPSHOT_SIZE: usize = 10;

/// What activating a model writes in its transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    /// The top [`SNAPSHOT_SIZE`] topics, analysed today.
    pub snapshot: Vec<SnapshotTopic>,
    /// Every topic's documents per day.
    pub daily_counts: Vec<DailyCountRow>,
    /// First and last day merged into the model (recorded by Merge; `None` for a rollback).
    pub merged_window: Option<(NaiveDate, NaiveDate)>,
}

impl Activation {
    /// The activation of `model` as `version`.
    pub fn of(
        model: &TopicModel,
        version: Version,
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Self {
        Activation {
            snapshot: top(model, SNAPSHOT_SIZE, Utc::now().date_naive(), version),
            daily_counts: DailyCountRow::all_of(model),
            merged_window,
        }
    }
}

/// The `limit` largest active topics of `model`, ranked, as a snapshot taken on `day`.
pub fn top(
    model: &TopicModel,
    limit: usize,
    day: NaiveDate,
    version: Version,
) -> Vec<SnapshotTopic> {
    SnapshotTopic::top_of(model, limit, day, version)
}
