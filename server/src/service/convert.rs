//! Conversions from engine and store values to `topics.v1` messages.

use chrono::{DateTime, NaiveDate, Utc};
use topic_engine::model::TopicStatus;
use topic_engine::{Keyword, Topic};

use crate::proto;
use crate::store::{ModelKind, ModelRecord, SnapshotTopic};

/// `YYYY-MM-DD`.
pub fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// RFC 3339 in UTC with a `Z`.
pub fn timestamp(t: DateTime<Utc>) -> String {
    crate::lifecycle::contract::rfc3339(t)
}

/// Midnight UTC of a day, RFC 3339.
pub fn day_start(d: NaiveDate) -> String {
    timestamp(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// Keywords.
pub fn keywords(k: &[Keyword]) -> Vec<proto::Keyword> {
    k.iter().map(|k| proto::Keyword { word: k.word.clone(), weight: k.weight }).collect()
}

/// A model topic (its label: the operator's when there is one).
pub fn topic(t: &Topic) -> proto::Topic {
    proto::Topic {
        topic_id: t.id,
        label: t.display_label().to_string(),
        label_overridden: t.is_label_overridden(),
        keywords: keywords(&t.keywords),
        size: t.size,
        sample_messages: t.samples.clone(),
        first_seen: date(t.first_seen),
        last_seen: date(t.last_seen),
        status: match t.status {
            TopicStatus::Active => "active".into(),
            TopicStatus::Retired => "retired".into(),
        },
        hidden: t.is_hidden(),
        aliases: t.memory.edits.aliases.iter().map(|a| a.id).collect(),
    }
}

/// A snapshot entry (trend filled by the caller).
pub fn top_topic(s: &SnapshotTopic) -> proto::TopTopic {
    proto::TopTopic {
        topic_id: s.topic_id,
        label: s.label.clone(),
        keywords: keywords(&s.keywords),
        message_count: s.message_count,
        sample_messages: s.samples.clone(),
        first_seen: date(s.first_seen),
        last_seen: date(s.last_seen),
        rank: s.rank,
        trend: Vec::new(),
        label_overridden: s.label_overridden,
        aliases: s.aliases.clone(),
    }
}

/// A model row. Day models are "candidate"s (the API's name for them).
pub fn model_info(r: &ModelRecord) -> proto::ModelInfo {
    let (start, end) = r.date_range.map(|(a, b)| (date(a), date(b))).unwrap_or_default();
    proto::ModelInfo {
        tenant_id: r.tenant.to_string(),
        version: r.version.to_string(),
        storage_path: r.storage_path.to_string(),
        total_topics: r.total_topics,
        total_documents: r.total_documents,
        date_range_start: start,
        date_range_end: end,
        is_active: r.is_active,
        kind: match r.kind {
            ModelKind::Day => "candidate".into(),
            ModelKind::Merged => "merged".into(),
        },
        created_at: timestamp(r.created_at),
        metadata_json: r.metadata.to_string(),
    }
}

/// A Fit's timings.
pub fn fit_timings(t: &crate::lifecycle::fit::FitTimings) -> proto::StageTimings {
    proto::StageTimings {
        embed_seconds: t.embed.as_secs_f64(),
        knn_seconds: t.stages.knn.as_secs_f64(),
        umap_seconds: t.stages.umap.as_secs_f64(),
        hdbscan_seconds: t.stages.hdbscan.as_secs_f64(),
        ctfidf_seconds: t.stages.ctfidf.as_secs_f64(),
        reduction_seconds: t.stages.reduction.as_secs_f64(),
        total_seconds: t.total.as_secs_f64(),
    }
}

/// A top topic with its trend.
pub fn ranked_topic(t: &crate::lifecycle::query::RankedTopic) -> proto::TopTopic {
    proto::TopTopic {
        trend: t
            .trend
            .iter()
            .map(|row| proto::DailyCount { date: date(row.day), count: row.count })
            .collect(),
        ..top_topic(&t.topic)
    }
}

/// A merged window (`[start, end)` in whole days) with its version.
pub fn merged_window(w: &crate::lifecycle::query::MergedWindowInfo) -> proto::MergedWindow {
    let end = w.window.window_end;
    proto::MergedWindow {
        window: Some(proto::Window {
            start: day_start(w.window.window_start),
            end: day_start(end.succ_opt().unwrap_or(end)),
        }),
        version: w.window.model_version.to_string(),
        merged_at: w.merged_at.map(timestamp).unwrap_or_default(),
    }
}
