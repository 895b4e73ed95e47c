//! Small seeded model builders shared by the unit tests.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::merge::members::quantize;
use crate::model::{
    DailyCount, Keyword, LabelSource, LineageEntry, LineageEvent, Topic, TopicMemory, TopicModel,
    TopicStatus,
};
use crate::params::{FitParams, MergeParams};

pub fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(n)
}

pub fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

/// A random but valid model: `n_topics` topics (plus -1), dimension `dim`.
pub fn random_model(seed: u64, n_topics: usize, dim: usize) -> TopicModel {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let vocabulary: Vec<String> = (0..40).map(|i| format!("wörd{i:02}")).collect();
    let mut topics = Vec::new();
    for id in -1..n_topics as i64 {
        let emb = unit((0..dim).map(|_| rng.random_range(-1.0f32..1.0)).collect());
        let mut term_counts: Vec<(u32, u32)> = Vec::new();
        for t in 0..vocabulary.len() as u32 {
            if rng.random_bool(0.3) {
                term_counts.push((t, rng.random_range(1..20)));
            }
        }
        let keywords = term_counts
            .iter()
            .take(5)
            .map(|&(t, c)| Keyword {
                word: vocabulary[t as usize].clone(),
                weight: c as f32 * 0.01,
            })
            .collect();
        let first = rng.random_range(0..5);
        let daily_counts: Vec<DailyCount> = (first..first + 3)
            .map(|d| DailyCount { date: day(d), count: rng.random_range(1..9) })
            .collect();
        // Every kind of memory: none (the outlier topic, and topic 1 as from an old model),
        // birth members only, birth and later members with a lineage.
        let mut sample = |n: usize| -> Vec<Vec<f32>> {
            (0..n)
                .map(|_| {
                    quantize(&unit((0..dim).map(|_| rng.random_range(-1.0f32..1.0)).collect()))
                })
                .collect()
        };
        let memory = match id {
            -1 | 1 => TopicMemory::default(),
            _ => TopicMemory {
                anchor: Some(emb.clone()),
                birth_members: sample(3),
                members: sample(id as usize % 3),
                lineage: (0..id % 4)
                    .map(|k| LineageEntry {
                        date: day(first + k),
                        event: [LineageEvent::Born, LineageEvent::Folded, LineageEvent::Split]
                            [k as usize],
                        day_topic: k + 4,
                        documents: 3 + k as u64,
                        similarity: 0.5 + 0.1 * k as f32,
                        vote_share: (k > 0).then_some(0.25 * k as f32),
                        edit: None,
                    })
                    .collect(),
                ..TopicMemory::default()
            },
        };
        topics.push(Topic {
            id,
            label: format!("label \"{id}\" ✓"),
            label_source: if id % 2 == 0 { LabelSource::Keywords } else { LabelSource::Llm },
            label_override: None,
            keywords,
            size: daily_counts.iter().map(|d| d.count).sum(),
            embedding: emb,
            term_counts,
            samples: vec![format!("sample a of {id}"), "line\nbreak".into()],
            first_seen: day(first),
            last_seen: day(first + 2),
            status: if id == 3 { TopicStatus::Retired } else { TopicStatus::Active },
            memory,
            faq: Default::default(),
            daily_counts,
        });
    }
    TopicModel {
        embedding_model: "sentence-transformers/all-MiniLM-L6-v2".into(),
        dim,
        fit_params: FitParams::default(),
        merge_params: MergeParams::default(),
        vocabulary,
        n_documents: topics.iter().map(|t| t.size).sum(),
        next_topic_id: n_topics as i64 + 2,
        topics,
        date_range: Some((day(0), day(7))),
    }
}

/// `(embedding direction, [(word, count)], size)` of one topic for [`day_model`].
pub type TopicSpec<'a> = (Vec<f32>, Vec<(&'a str, u32)>, u64);

/// A one-day model like `fit` produces: topic `i` of `specs` gets id `i`; each spec is
/// `(embedding direction, [(word, count)], size)`. An optional outlier topic comes from
/// `outlier`.
pub fn day_model(
    date: NaiveDate,
    specs: &[TopicSpec<'_>],
    outlier: Option<TopicSpec<'_>>,
) -> TopicModel {
    let mut words: Vec<String> = specs
        .iter()
        .chain(outlier.iter())
        .flat_map(|s| s.1.iter().map(|(w, _)| w.to_string()))
        .collect();
    words.sort();
    words.dedup();
    let mut topics = Vec::new();
    let all: Vec<(i64, &TopicSpec<'_>)> = outlier
        .iter()
        .map(|o| (-1i64, o))
        .chain(specs.iter().enumerate().map(|(i, s)| (i as i64, s)))
        .collect();
    for (id, (emb, counts, size)) in all {
        let mut term_counts: Vec<(u32, u32)> = counts
            .iter()
            .map(|(w, c)| (words.iter().position(|x| x == w).unwrap() as u32, *c))
            .collect();
        term_counts.sort();
        topics.push(Topic {
            id,
            label: format!("{id}_{}", counts.first().map(|c| c.0).unwrap_or("")),
            label_source: LabelSource::Keywords,
            label_override: None,
            keywords: counts
                .iter()
                .map(|(w, c)| Keyword { word: w.to_string(), weight: *c as f32 })
                .collect(),
            size: *size,
            embedding: unit(emb.clone()),
            term_counts,
            samples: vec![format!("doc of {id} on {date}")],
            first_seen: date,
            last_seen: date,
            status: TopicStatus::Active,
            memory: Default::default(),
            faq: Default::default(),
            daily_counts: vec![DailyCount { date, count: *size }],
        });
    }
    TopicModel {
        embedding_model: "mini".into(),
        dim: specs.first().map(|s| s.0.len()).unwrap_or(4),
        fit_params: FitParams::default(),
        merge_params: MergeParams::default(),
        vocabulary: words,
        n_documents: topics.iter().map(|t| t.size).sum(),
        next_topic_id: specs.len() as i64,
        topics,
        date_range: Some((date, date)),
    }
}
