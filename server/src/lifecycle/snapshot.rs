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
    /// The topics' documents per day that the database does not have yet: all of them, or,
    /// when the base model's counts are stored (a Merge into the active model), only the new
    /// or changed ones.
    pub daily_counts: Vec<DailyCountRow>,
    /// First and last day merged into the model (recorded by Merge; `None` for a rollback).
    pub merged_window: Option<(NaiveDate, NaiveDate)>,
}

impl Activation {
    /// The activation of `model` as `version`. `stored_base`: the model whose daily counts the
    /// database already holds (the active model a Merge started from), if any.
    pub fn of(
        model: &TopicModel,
        stored_base: Option<&TopicModel>,
        version: Version,
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Self {
        Activation {
            snapshot: top(model, SNAPSHOT_SIZE, Utc::now().date_naive(), version),
            daily_counts: DailyCountRow::changed(stored_base, model),
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
