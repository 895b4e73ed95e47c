//! Merging a day model into a long-lived model with stable topic ids.
//!
//! BERTopic's `merge_models` is the reference (BERTOPIC_NOTES.md §6); its weaknesses are fixed:
//!
//! | BERTopic `merge_models`                              | [`merge`]                                             |
//! |------------------------------------------------------|-------------------------------------------------------|
//! | matched topic keeps first-day vector, size, keywords (#2431) | sizes add, embedding = size-weighted mean, keywords recomputed by c-TF-IDF over the merged term counts |
//! | a day topic can be matched to the base `-1` centroid | `-1` is never a match candidate                        |
//! | new id = max id in the document list + 1             | new id = `next_topic_id`, which only grows: ids are never reused |
//! | the model only grows                                 | topics unseen for `retire_after_days` retire; retired topics are forgotten after `history_days` |
//! | no history                                           | `first_seen`, `last_seen`, daily counts (bounded to `history_days`) |
//!
//! # Rules
//!
//! - **Matching.** Each active, non-outlier day topic is compared (cosine of topic embeddings)
//!   with every *active*, non-outlier base topic, using the base embeddings as they were before
//!   this merge (so the result does not depend on day-topic order). The best base topic (ties:
//!   smaller id) is a match when the cosine is `≥ min_similarity`. Several day topics may fold
//!   into one base topic (as in BERTopic) when they are one topic with each other: when a day's
//!   clustering splits a known topic in two, both halves (cosine `≥ min_similarity` to each
//!   other) belong to the long-lived topic instead of creating a near-duplicate. A day topic
//!   below `min_similarity` to every day topic already folded into that base topic (best match
//!   first) is a different topic the base embedding is merely close to (a day-1 cluster mixing
//!   two intents, a new intent beside an old one) and becomes a new topic; BERTopic folds it.
//! - **Matched.** The base id, label and `first_seen` stay; sizes add; the embedding becomes the
//!   size-weighted mean of the base and day embeddings, re-normalised; term counts add (the
//!   vocabularies are united and re-indexed); daily counts add per date; `last_seen` extends;
//!   samples are the day's newest first, then the older ones, at most `n_samples`.
//! - **New.** An unmatched day topic gets `next_topic_id` (then incremented), in ascending day-id
//!   order, and keeps its own label, keywords, samples, `first_seen` (= the day) and counts.
//! - **Outliers (`-1`).** Never matched and never a candidate; the day's outlier counts, term
//!   counts and samples accumulate into the base `-1` (created if the base has none). Its
//!   embedding is maintained but [`crate::transform`] ignores it by default.
//! - **Keywords.** After merging, the c-TF-IDF keywords of every active topic (`-1` included, as in
//!   BERTopic) are recomputed over the active classes' term counts ([`class_keywords`]), so a
//!   matched topic's keywords follow its documents. Labels do not change (ids and labels are what
//!   users see; re-labelling is the labeler's job).
//! - **Retention.** With `now` = the last day of the merged model: an active topic with
//!   `now − last_seen ≥ retire_after_days` is retired (kept, not matched, not served) and its
//!   term counts are dropped; daily counts older than `history_days` days are dropped; a retired
//!   topic whose `last_seen` is `history_days` or more in the past is removed (its id stays
//!   reserved forever by `next_topic_id`). Every topic keeps only its `max_terms_per_topic`
//!   most frequent term counts (ties: alphabetically first), so a topic seen every night — and
//!   the outlier topic — does not collect every order number, name and typo ever written. The
//!   vocabulary keeps only words still counted by some topic. So a model's size is bounded by
//!   the topics seen in the last `history_days` days, `max_terms_per_topic` terms each.
//! - **First day** (`base = None`): the day model becomes the base with its ids unchanged (a fit
//!   numbers topics 0, 1, … by size); retention is applied.
//! - Both models must use the same embedding model name and dimension.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::ctfidf::class_keywords;
use crate::error::{EngineError, Result};
use crate::model::{DailyCount, Topic, TopicModel, TopicStatus, OUTLIER_TOPIC};
use crate::params::MergeParams;
use crate::simd::Isa;

/// What [`merge`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MergeOutcome {
    /// The merged model.
    pub model: TopicModel,
    /// Ids given to day topics that matched nothing (ascending).
    pub new_topic_ids: Vec<i64>,
    /// `(day topic id, base topic id, cosine)` for every matched day topic, by day id.
    pub matched: Vec<(i64, i64, f32)>,
    /// Ids retired by this merge (ascending).
    pub retired: Vec<i64>,
}

/// Merges `day` into `base` (see the module docs for the rules). Deterministic.
pub fn merge(
    base: Option<&TopicModel>,
    day: &TopicModel,
    params: &MergeParams,
) -> Result<MergeOutcome> {
    params.check()?;
    day.validate().map_err(|e| EngineError::input(format!("day model: {e}")))?;
    let _span = tracing::info_span!(
        "merge",
        base_topics = base.map(|b| b.topics.len()),
        day_topics = day.topics.len()
    )
    .entered();
    let Some(base) = base else {
        return first_day(day, params);
    };
    base.validate().map_err(|e| EngineError::input(format!("base model: {e}")))?;
    if base.dim != day.dim {
        return Err(EngineError::DimensionMismatch { expected: base.dim, got: day.dim });
    }
    if base.embedding_model != day.embedding_model {
        return Err(EngineError::input(format!(
            "the day model was fitted on embeddings of {:?} but the base model uses {:?}; \
             topics from different embedding models cannot be matched",
            day.embedding_model, base.embedding_model
        )));
    }

    // Union vocabulary, sorted (as scikit-learn's), with both models' term ids remapped.
    let (vocabulary, base_map, day_map) = unite_vocabularies(&base.vocabulary, &day.vocabulary);
    let remap = |tc: &[(u32, u32)], map: &[u32]| -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = tc.iter().map(|&(t, c)| (map[t as usize], c)).collect();
        v.sort_unstable_by_key(|p| p.0);
        v
    };

    let isa = Isa::detect();
    // Match against the base as it was before this merge.
    let candidates: Vec<&Topic> = base.active_topics().collect();
    let mut matched = Vec::new();
    // Day topics matched to each base topic, with their cosine to it.
    let mut folds: BTreeMap<i64, Vec<(&Topic, f32)>> = BTreeMap::new();
    let mut unmatched: Vec<&Topic> = Vec::new();
    for d in day.active_topics() {
        let mut best: Option<(i64, f32)> = None;
        for b in &candidates {
            let s = isa.dot(&d.embedding, &b.embedding);
            if best.is_none_or(|(_, bs)| s > bs) {
                best = Some((b.id, s));
            }
        }
        match best {
            Some((bid, s)) if s >= params.min_similarity => {
                matched.push((d.id, bid, s));
                folds.entry(bid).or_default().push((d, s));
            }
            _ => unmatched.push(d),
        }
    }
    // A base topic matched by several day topics keeps those that are one topic with each
    // other: taken best match first (cosine to the base topic, then day id), a day topic below
    // `min_similarity` to every one already kept is a different topic that the base topic's
    // embedding is merely close to (a day-1 cluster that mixed two intents, a new intent next
    // to an old one) and becomes a new topic instead of being absorbed.
    let mut separated: Vec<&Topic> = Vec::new();
    for parts in folds.values_mut() {
        if parts.len() < 2 {
            continue;
        }
        parts.sort_by(|(a, sa), (b, sb)| sb.total_cmp(sa).then(a.id.cmp(&b.id)));
        let mut kept: Vec<(&Topic, f32)> = Vec::with_capacity(parts.len());
        for &(t, s) in parts.iter() {
            if kept.is_empty()
                || kept
                    .iter()
                    .any(|(k, _)| isa.dot(&k.embedding, &t.embedding) >= params.min_similarity)
            {
                kept.push((t, s));
            } else {
                separated.push(t);
            }
        }
        kept.sort_by_key(|(t, _)| t.id);
        *parts = kept;
    }
    if !separated.is_empty() {
        matched.retain(|m| !separated.iter().any(|t| t.id == m.0));
        unmatched.extend(separated);
        unmatched.sort_by_key(|t| t.id);
    }
    let n_retired_day = day.topics.iter().filter(|t| !t.is_active() && !t.is_outlier()).count();
    if n_retired_day > 0 {
        tracing::debug!(n_retired_day, "retired topics of the day model are not merged");
    }

    let n_samples = day.fit_params.n_samples;
    let mut topics: Vec<Topic> = Vec::with_capacity(base.topics.len() + unmatched.len() + 1);
    for b in &base.topics {
        let mut t = b.clone();
        t.term_counts = remap(&b.term_counts, &base_map);
        let day_parts: Vec<&Topic> = if b.is_outlier() {
            day.outlier_topic().into_iter().collect()
        } else {
            folds.get(&b.id).map(|v| v.iter().map(|&(t, _)| t).collect()).unwrap_or_default()
        };
        for d in day_parts {
            fold_into(&mut t, d, &remap(&d.term_counts, &day_map), n_samples);
        }
        topics.push(t);
    }
    if base.outlier_topic().is_none() {
        if let Some(o) = day.outlier_topic() {
            let mut t = o.clone();
            t.term_counts = remap(&o.term_counts, &day_map);
            topics.insert(0, t);
        }
    }
    let mut next_topic_id = base.next_topic_id;
    let mut new_topic_ids = Vec::with_capacity(unmatched.len());
    for d in unmatched {
        let mut t = d.clone();
        t.id = next_topic_id;
        t.term_counts = remap(&d.term_counts, &day_map);
        t.samples.truncate(n_samples);
        new_topic_ids.push(next_topic_id);
        next_topic_id += 1;
        topics.push(t);
    }
    topics.sort_by_key(|t| t.id);

    let date_range = match (base.date_range, day.date_range) {
        (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        (x, None) | (None, x) => x,
    };
    let mut model = TopicModel {
        embedding_model: base.embedding_model.clone(),
        dim: base.dim,
        fit_params: day.fit_params.clone(),
        merge_params: params.clone(),
        vocabulary,
        topics,
        next_topic_id,
        n_documents: base.n_documents.saturating_add(day.n_documents),
        date_range,
    };
    let retired = apply_retention(&mut model, params);
    recompute_keywords(&mut model)?;
    model.validate()?;
    tracing::info!(
        matched = matched.len(),
        new = new_topic_ids.len(),
        retired = retired.len(),
        topics = model.topics.len(),
        "merged"
    );
    Ok(MergeOutcome { model, new_topic_ids, matched, retired })
}

fn first_day(day: &TopicModel, params: &MergeParams) -> Result<MergeOutcome> {
    let mut model = day.clone();
    model.merge_params = params.clone();
    let max_id = model.topics.iter().map(|t| t.id).max().unwrap_or(OUTLIER_TOPIC);
    model.next_topic_id = model.next_topic_id.max(max_id + 1);
    let new_topic_ids = model.active_topics().map(|t| t.id).collect();
    let retired = apply_retention(&mut model, params);
    model.validate()?;
    Ok(MergeOutcome { model, new_topic_ids, matched: Vec::new(), retired })
}

/// Adds day topic `d` (whose term counts are already remapped to the merged vocabulary) into `t`.
fn fold_into(t: &mut Topic, d: &Topic, d_terms: &[(u32, u32)], n_samples: usize) {
    // Size-weighted mean of the two (unit) embeddings, re-normalised. Sizes of 0 (imported
    // topics without sizes) count as 1 so the embedding stays defined.
    let (wa, wb) = (t.size.max(1) as f64, d.size.max(1) as f64);
    let mut e: Vec<f64> = t
        .embedding
        .iter()
        .zip(&d.embedding)
        .map(|(&a, &b)| a as f64 * wa + b as f64 * wb)
        .collect();
    let norm = e.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        e.iter_mut().for_each(|v| *v /= norm);
    }
    t.embedding = e.into_iter().map(|v| v as f32).collect();
    t.size = t.size.saturating_add(d.size);
    t.term_counts = add_sparse(&t.term_counts, d_terms);
    t.daily_counts = add_daily(&t.daily_counts, &d.daily_counts);
    t.first_seen = t.first_seen.min(d.first_seen);
    t.last_seen = t.last_seen.max(d.last_seen);
    let mut samples: Vec<String> = Vec::with_capacity(n_samples);
    for s in d.samples.iter().chain(&t.samples) {
        if samples.len() >= n_samples {
            break;
        }
        if !samples.contains(s) {
            samples.push(s.clone());
        }
    }
    t.samples = samples;
}

/// Sum of two sparse count vectors sorted by index (counts saturate at `u32::MAX`).
fn add_sparse(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x.0 == y.0 => {
                out.push((x.0, x.1.saturating_add(y.1)));
                i += 1;
                j += 1;
            }
            (Some(&x), Some(&y)) if x.0 < y.0 => {
                out.push(x);
                i += 1;
            }
            (Some(_), Some(&y)) => {
                out.push(y);
                j += 1;
            }
            (Some(&x), None) => {
                out.push(x);
                i += 1;
            }
            (None, Some(&y)) => {
                out.push(y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

fn add_daily(a: &[DailyCount], b: &[DailyCount]) -> Vec<DailyCount> {
    let mut m: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for d in a.iter().chain(b) {
        let c = m.entry(d.date).or_default();
        *c = c.saturating_add(d.count);
    }
    m.into_iter().map(|(date, count)| DailyCount { date, count }).collect()
}

/// The sorted union of two vocabularies and, for each input, old index → new index.
fn unite_vocabularies(a: &[String], b: &[String]) -> (Vec<String>, Vec<u32>, Vec<u32>) {
    let words: BTreeSet<&str> = a.iter().chain(b).map(String::as_str).collect();
    let index: BTreeMap<&str, u32> =
        words.iter().enumerate().map(|(i, w)| (*w, i as u32)).collect();
    let map = |v: &[String]| v.iter().map(|w| index[w.as_str()]).collect::<Vec<u32>>();
    let (ma, mb) = (map(a), map(b));
    (words.into_iter().map(str::to_string).collect(), ma, mb)
}

/// Retires, trims and forgets (module docs, "Retention"); returns the newly retired ids.
fn apply_retention(model: &mut TopicModel, params: &MergeParams) -> Vec<i64> {
    let Some((_, now)) = model.date_range.or_else(|| {
        let last = model.topics.iter().map(|t| t.last_seen).max()?;
        Some((last, last))
    }) else {
        return Vec::new();
    };
    let mut retired = Vec::new();
    let history = i64::from(params.history_days);
    for t in &mut model.topics {
        let unseen = (now - t.last_seen).num_days();
        if t.is_active() && !t.is_outlier() && unseen >= i64::from(params.retire_after_days) {
            t.status = TopicStatus::Retired;
            t.term_counts = Vec::new();
            retired.push(t.id);
        }
        t.daily_counts.retain(|d| (now - d.date).num_days() < history);
    }
    model.topics.retain(|t| t.is_active() || (now - t.last_seen).num_days() < history);
    for t in &mut model.topics {
        keep_most_frequent_terms(&mut t.term_counts, params.max_terms_per_topic);
    }
    compact_vocabulary(model);
    retired
}

/// Keeps the `max` largest counts of a sparse count vector sorted by index (ties: the smaller
/// index, i.e. the alphabetically first word), still sorted by index.
fn keep_most_frequent_terms(counts: &mut Vec<(u32, u32)>, max: usize) {
    if counts.len() <= max {
        return;
    }
    let by_frequency = |a: &(u32, u32), b: &(u32, u32)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
    counts.select_nth_unstable_by(max, by_frequency);
    counts.truncate(max);
    counts.sort_unstable_by_key(|p| p.0);
}

/// Drops vocabulary words no topic counts any more, re-indexing the term counts.
fn compact_vocabulary(model: &mut TopicModel) {
    let mut used = vec![false; model.vocabulary.len()];
    for t in &model.topics {
        for &(w, _) in &t.term_counts {
            used[w as usize] = true;
        }
    }
    if used.iter().all(|&u| u) {
        return;
    }
    let mut map = vec![u32::MAX; used.len()];
    let mut vocabulary = Vec::with_capacity(used.iter().filter(|&&u| u).count());
    for (i, word) in std::mem::take(&mut model.vocabulary).into_iter().enumerate() {
        if used[i] {
            map[i] = vocabulary.len() as u32;
            vocabulary.push(word);
        }
    }
    model.vocabulary = vocabulary;
    for t in &mut model.topics {
        // Order-preserving map, so term counts stay sorted.
        t.term_counts.iter_mut().for_each(|p| p.0 = map[p.0 as usize]);
    }
}

/// Recomputes the keywords of every active topic that has term counts, with the engine's one
/// c-TF-IDF ([`class_keywords`]).
fn recompute_keywords(model: &mut TopicModel) -> Result<()> {
    let top_n = model.fit_params.top_n_words;
    let idx: Vec<usize> = (0..model.topics.len())
        .filter(|&i| model.topics[i].is_active() && !model.topics[i].term_counts.is_empty())
        .collect();
    if idx.is_empty() {
        return Ok(());
    }
    let classes: Vec<&[(u32, u32)]> =
        idx.iter().map(|&i| model.topics[i].term_counts.as_slice()).collect();
    let keywords = class_keywords(&classes, &model.vocabulary, top_n)?;
    for (i, kw) in idx.into_iter().zip(keywords) {
        model.topics[i].keywords = kw;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
