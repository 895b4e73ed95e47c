//! How a merge honours the hand edits of the base model (issue 30, [`crate::edits`]):
//!
//! - **Aliases.** A day topic the rules would make new, or fold into a base topic at a cosine
//!   below its cosine to the anchor of a topic merged by hand into base topic `A`, folds into
//!   `A` when that cosine is `≥ min_similarity` (the best such anchor; ties: the smaller base
//!   id): the merged-away topic stays merged however far apart the two were, and its documents
//!   go where its id answers.
//! - **Split requests.** When two or more day topics fold whole into a base topic whose split
//!   was requested, the one with the highest cosine (ties: the smaller day id) continues it and
//!   the others become topics of their own (new ids). The base topic records a `SplitOff`
//!   lineage entry per day topic that left, forgets the member embeddings nearer to those, and
//!   its request is cleared. With fewer than two, the request stands for the next merge.
//! - **Hidden topics** need nothing here: they are matched like any topic, so their documents
//!   keep folding into them.

use chrono::NaiveDate;

use super::{Candidate, Fate};
use crate::model::{LineageEntry, LineageEvent, Topic, TopicModel};
use crate::simd::Isa;

/// A day topic split off a base topic whose split was requested.
#[derive(Debug, Clone)]
pub(super) struct SplitOff {
    /// The base topic.
    pub base: i64,
    /// The day topic's id in the day model.
    pub day_topic: i64,
    /// Its documents.
    pub documents: u64,
    /// Its cosine to the base topic.
    pub similarity: f32,
    /// Its embedding.
    pub embedding: Vec<f32>,
}

/// Rewrites `fates` (one per day topic) for the base model's edits (module docs); returns the
/// split-offs, by base id then day id.
pub(super) fn honour(
    isa: Isa,
    base: &TopicModel,
    candidates: &[Candidate<'_>],
    day_topics: &[&Topic],
    fates: &mut [Fate],
    min_similarity: f32,
) -> Vec<SplitOff> {
    // Aliases first, so what they fold counts for a split.
    let aliased: Vec<(i64, &[f32])> = candidates
        .iter()
        .filter_map(|c| base.topic(c.id))
        .flat_map(|t| t.memory.edits.aliases.iter().map(move |a| (t.id, a.anchor.as_slice())))
        .collect();
    if !aliased.is_empty() {
        for (d, fate) in day_topics.iter().zip(fates.iter_mut()) {
            // A new day topic, or one folding into a topic farther than an alias anchor.
            let mut best: Option<(i64, f32)> = match *fate {
                Fate::New => None,
                Fate::Fold { base, similarity, .. } => Some((base, similarity)),
                Fate::Split(_) => continue,
            };
            let current = best.map(|b| b.0);
            for &(id, anchor) in &aliased {
                let s = isa.dot(&d.embedding, anchor);
                if s >= min_similarity
                    && best.is_none_or(|(bid, bs)| s > bs || (s == bs && id < bid))
                {
                    best = Some((id, s));
                }
            }
            if let Some((id, s)) = best.filter(|b| Some(b.0) != current || current.is_none()) {
                let similarity = candidates
                    .iter()
                    .find(|c| c.id == id)
                    .map_or(s, |c| isa.dot(&d.embedding, c.embedding));
                *fate = Fate::Fold { base: id, similarity, share: None };
            }
        }
    }

    let mut out = Vec::new();
    for c in candidates {
        if !base.topic(c.id).is_some_and(|t| t.memory.edits.split_requested) {
            continue;
        }
        let mut folds: Vec<(usize, f32)> = fates
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match f {
                Fate::Fold { base, similarity, .. } if *base == c.id => Some((i, *similarity)),
                _ => None,
            })
            .collect();
        if folds.len() < 2 {
            continue;
        }
        folds.sort_by(|a, b| b.1.total_cmp(&a.1).then(day_topics[a.0].id.cmp(&day_topics[b.0].id)));
        for &(i, similarity) in &folds[1..] {
            fates[i] = Fate::New;
            let d = day_topics[i];
            out.push(SplitOff {
                base: c.id,
                day_topic: d.id,
                documents: d.size,
                similarity,
                embedding: d.embedding.clone(),
            });
        }
    }
    out.sort_by_key(|s| (s.base, s.day_topic));
    out
}

/// Records the split-offs in their base topics (of the merged `topics`): a lineage entry each,
/// the request cleared, the members nearer to a split-off day topic than to the topic's
/// embedding forgotten.
pub(super) fn record_splits(isa: Isa, topics: &mut [Topic], splits: &[SplitOff], date: NaiveDate) {
    for t in topics.iter_mut() {
        let mine: Vec<&SplitOff> = splits.iter().filter(|s| s.base == t.id).collect();
        if mine.is_empty() {
            continue;
        }
        let keep = |row: &Vec<f32>| {
            let own = isa.dot(row, &t.embedding);
            mine.iter().all(|s| isa.dot(row, &s.embedding) <= own)
        };
        let birth: Vec<Vec<f32>> =
            t.memory.birth_members.iter().filter(|r| keep(r)).cloned().collect();
        let later: Vec<Vec<f32>> = t.memory.members.iter().filter(|r| keep(r)).cloned().collect();
        t.memory.birth_members = birth;
        t.memory.members = later;
        for s in mine {
            t.memory.lineage.push(LineageEntry {
                date,
                event: LineageEvent::SplitOff,
                day_topic: s.day_topic,
                documents: s.documents,
                similarity: s.similarity,
                vote_share: None,
                edit: None,
            });
        }
        t.memory.edits.split_requested = false;
    }
}
