//! The typed Fit → Merge contract: what Fit records in a day model's metadata and what Merge
//! reads back, as serde structs instead of free-form JSON. The stored JSON is unchanged (the
//! same keys as before this module existed), so rows written by earlier servers still read.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use topic_engine::FitParams;

use crate::store::ModelRecord;

/// A validated `[start, end)` window of documents, as a client fits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

impl Window {
    /// First and last day covered (the end is exclusive).
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        let last = self.end - chrono::Duration::nanoseconds(1);
        (self.start.date_naive(), last.date_naive().max(self.start.date_naive()))
    }
}

/// RFC 3339 in UTC, whole seconds, with a `Z` (the API's timestamp format).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The window a day model was fitted on, as recorded in its metadata. Merge reads
/// `first_day`/`last_day` to refuse merging one window twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayWindow {
    /// The window's start (RFC 3339), for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// The window's exclusive end (RFC 3339), for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// First day covered.
    pub first_day: NaiveDate,
    /// Last day covered.
    pub last_day: NaiveDate,
}

impl DayWindow {
    /// The recorded form of `w`.
    pub fn of(w: &Window) -> Self {
        let (first_day, last_day) = w.days();
        DayWindow { start: Some(rfc3339(w.start)), end: Some(rfc3339(w.end)), first_day, last_day }
    }

    /// `(first_day, last_day)`.
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        (self.first_day, self.last_day)
    }
}

/// The metadata of a day model (a Fit result, a merge candidate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayModelMetadata {
    /// The window the client fitted, if it sent one.
    #[serde(default)]
    pub window: Option<DayWindow>,
    /// The parameters of the fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_params: Option<FitParams>,
    /// The embedding model of the documents.
    #[serde(default)]
    pub embedding_model: String,
    /// Documents fitted.
    #[serde(default)]
    pub documents: u64,
    /// Documents left as outliers.
    #[serde(default)]
    pub outliers: u64,
    /// Documents recognised as small talk and left out of topic discovery.
    #[serde(default)]
    pub small_talk: u64,
    /// Seconds per stage (`embed`, then the engine's stages).
    #[serde(default)]
    pub timings_seconds: BTreeMap<String, f64>,
}

impl DayModelMetadata {
    /// The metadata of the day model in `rec`. A row whose metadata does not read (written by
    /// hand, or corrupt) yields `None` with a warning: Merge then uses the model's own date
    /// range, as for a Fit without a window.
    pub fn of_record(rec: &ModelRecord) -> Option<Self> {
        match serde_json::from_value(rec.metadata.clone()) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(tenant = %rec.tenant, version = %rec.version, error = %e,
                    "day model metadata does not read; merging without its window");
                None
            }
        }
    }

    /// As stored.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("plain strings, numbers and dates always serialise")
    }
}

/// The metadata of a merged model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedModelMetadata {
    /// The day model merged in.
    pub day_version: String,
    /// The model merged into (`None`: the tenant's first merge).
    pub base_version: Option<String>,
    /// Day topics that matched nothing and got new ids.
    pub new_topics: u64,
    /// Day topics matched to a known topic.
    pub matched_topics: u64,
    /// Topics retired by the merge.
    pub retired_topics: u64,
    /// The label provider that named the new topics (`keywords`: none).
    pub labeler: String,
    /// The embedding model of the merged model.
    pub embedding_model: String,
}

impl MergedModelMetadata {
    /// As stored.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("plain strings, numbers and dates always serialise")
    }
}

/// The `edit` value of a [`LabelEditMetadata`].
pub const LABEL_EDIT: &str = "label";

/// The metadata of a version made by SetTopicLabel: the version active before, with one
/// topic's operator label set or cleared (the topics, counts and embeddings are unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelEditMetadata {
    /// Always [`LABEL_EDIT`]: tells a label edit from a merge.
    pub edit: String,
    /// The version the edit was made on (the active one then).
    pub base_version: String,
    /// The topic.
    pub topic_id: i64,
    /// Its operator label now (`None`: cleared, the generated label shows again).
    pub label: Option<String>,
    /// Its operator label before.
    pub previous_label: Option<String>,
    /// The embedding model of the model.
    pub embedding_model: String,
}

impl LabelEditMetadata {
    /// As stored.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("plain strings and numbers always serialise")
    }
}

/// The `edit` value of a [`TopicEditMetadata`].
pub const TOPIC_EDIT: &str = "topics";

/// The metadata of a version made by a hand edit (EditTopics, issue 30): the version active
/// before with one edit applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicEditMetadata {
    /// Always [`TOPIC_EDIT`].
    pub edit: String,
    /// The version the edit was made on (the active one then).
    pub base_version: String,
    /// `merge`, `hide`, `unhide`, `split` or `cancel_split`.
    pub action: String,
    /// The topic ids as given.
    pub topic_ids: Vec<i64>,
    /// The topic ids as they resolved (aliases replaced by their topic).
    pub resolved_ids: Vec<i64>,
    /// Who made the edit (the caller's principal).
    pub by: String,
    /// The embedding model of the model.
    pub embedding_model: String,
}

impl TopicEditMetadata {
    /// As stored.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("plain strings and numbers always serialise")
    }
}

/// Where a merged version comes from, read from its metadata (merges and label edits both
/// record `base_version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lineage {
    /// `base_version` is `null`: the tenant's first model.
    First,
    /// Made from this version.
    From(crate::store::Version),
    /// No (readable) `base_version`: rows written by hand or by tools that do not record it.
    Unknown,
}

impl Lineage {
    /// The lineage of `rec`.
    pub fn of_record(rec: &ModelRecord) -> Self {
        match rec.metadata.get("base_version") {
            Some(serde_json::Value::Null) => Lineage::First,
            Some(serde_json::Value::String(v)) => {
                crate::store::Version::parse(v).map(Lineage::From).unwrap_or(Lineage::Unknown)
            }
            _ => Lineage::Unknown,
        }
    }

    /// True when `rec` was made by SetTopicLabel or a hand edit of topics (EditTopics): an
    /// edit of its base, not a merge.
    pub fn is_label_edit(rec: &ModelRecord) -> bool {
        matches!(
            rec.metadata.get("edit").and_then(serde_json::Value::as_str),
            Some(LABEL_EDIT | TOPIC_EDIT)
        )
    }
}

/// The day a fit describes: the window's first day, else the most common document date, else
/// today.
pub fn fit_day(window: Option<&Window>, dates: Option<&[NaiveDate]>) -> NaiveDate {
    window
        .map(|w| w.days().0)
        .or_else(|| dates.and_then(most_common))
        .unwrap_or_else(|| Utc::now().date_naive())
}

/// The most frequent date (ties: the earliest).
fn most_common(dates: &[NaiveDate]) -> Option<NaiveDate> {
    let mut counts: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for d in dates {
        *counts.entry(*d).or_default() += 1;
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, day).unwrap()
    }

    #[test]
    fn window_days() {
        let w = Window {
            start: d(1).and_hms_opt(0, 0, 0).unwrap().and_utc(),
            end: d(2).and_hms_opt(0, 0, 0).unwrap().and_utc(),
        };
        assert_eq!(w.days(), (d(1), d(1)));
    }

    #[test]
    fn day_metadata_keeps_its_json_shape() {
        let w = Window {
            start: d(1).and_hms_opt(3, 0, 0).unwrap().and_utc(),
            end: d(3).and_hms_opt(3, 0, 0).unwrap().and_utc(),
        };
        let m = DayModelMetadata {
            window: Some(DayWindow::of(&w)),
            fit_params: None,
            embedding_model: "e".into(),
            documents: 5,
            outliers: 1,
            small_talk: 2,
            timings_seconds: BTreeMap::from([("embed".to_string(), 0.5)]),
        };
        let j = m.to_json();
        assert_eq!(
            j["window"],
            serde_json::json!({"start": "2026-01-01T03:00:00Z", "end": "2026-01-03T03:00:00Z",
                "first_day": "2026-01-01", "last_day": "2026-01-03"})
        );
        assert_eq!(j["documents"], 5);
        let back: DayModelMetadata = serde_json::from_value(j).unwrap();
        assert_eq!(back, m);
        // What a minimal writer (the test seeder, an older server) stores still reads.
        let old: DayModelMetadata = serde_json::from_value(
            serde_json::json!({"window": {"first_day": "2026-01-04", "last_day": "2026-01-05"}}),
        )
        .unwrap();
        assert_eq!(old.window.unwrap().days(), (d(4), d(5)));
        let none: DayModelMetadata =
            serde_json::from_value(serde_json::json!({"window": null})).unwrap();
        assert_eq!(none.window, None);
    }

    #[test]
    fn most_common_date() {
        assert_eq!(most_common(&[d(2), d(1), d(2), d(1)]), Some(d(1)));
        assert_eq!(most_common(&[d(3), d(2), d(3)]), Some(d(3)));
        assert_eq!(most_common(&[]), None);
        assert_eq!(fit_day(None, Some(&[d(5)])), d(5));
    }
}
