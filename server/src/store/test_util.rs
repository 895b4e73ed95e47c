//! Small hand-made models for the store tests.

use chrono::NaiveDate;
use topic_engine::model::{DailyCount, LabelSource, TopicStatus};
use topic_engine::{FitParams, Keyword, MergeParams, Topic, TopicModel};

use super::{TenantId, Version};

/// A tenant id the test knows is valid.
pub fn tid(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

/// A version the test knows is valid.
pub fn ver(s: &str) -> Version {
    Version::parse(s).unwrap()
}

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
}

fn topic(id: i64, size: u64, dim: usize) -> Topic {
    let mut embedding = vec![0.0; dim];
    embedding[(id.unsigned_abs() as usize) % dim] = 1.0;
    Topic {
        id,
        label: format!("topic {id}"),
        label_source: LabelSource::Keywords,
        label_override: None,
        keywords: vec![
            Keyword { word: format!("w{id}"), weight: 0.5 },
            Keyword { word: "common".into(), weight: 0.1 },
        ],
        size,
        embedding,
        term_counts: vec![(0, 1), (1, size as u32)],
        samples: (0..7).map(|i| format!("message {i} of topic {id}")).collect(),
        first_seen: day(1),
        last_seen: day(2),
        status: if id == 3 { TopicStatus::Retired } else { TopicStatus::Active },
        memory: Default::default(),
        faq: Default::default(),
        daily_counts: vec![
            DailyCount { date: day(1), count: size / 2 },
            DailyCount { date: day(2), count: size - size / 2 },
        ],
    }
}

/// Outliers, four active topics (sizes 10, 40, 40, 5) and one retired topic (id 3).
pub fn model() -> TopicModel {
    let dim = 8;
    let topics = vec![
        topic(-1, 7, dim),
        topic(0, 10, dim),
        topic(1, 40, dim),
        topic(2, 40, dim),
        topic(3, 99, dim),
        topic(4, 5, dim),
    ];
    TopicModel {
        embedding_model: "test-encoder".into(),
        dim,
        fit_params: FitParams::default(),
        merge_params: MergeParams::default(),
        vocabulary: vec!["common".into(), "w".into()],
        next_topic_id: 5,
        n_documents: topics.iter().map(|t| t.size).sum(),
        topics,
        date_range: Some((day(1), day(2))),
    }
}
