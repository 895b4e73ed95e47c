//! The outlier policy: what happens to the documents HDBSCAN leaves as outliers (`-1`).
//!
//! - [`OutlierMode::Keep`] (default): they stay outliers, as in BERTopic without
//!   `reduce_outliers`. Transform uses the server's `transform.outlier_threshold`, so a training
//!   outlier can get a topic from Transform (on CLINC150, 86.5 % of the documents get the same
//!   outlier/non-outlier answer from both).
//! - [`OutlierMode::Reduce`]: HDBSCAN *discovers* the topics; each document then gets the topic
//!   Transform gives it: the nearest topic embedding when its cosine is at or above `t`
//!   ([`FitParams::outlier_threshold`]), else `-1`. For HDBSCAN's outliers this is BERTopic's
//!   `reduce_outliers(strategy="embeddings", threshold=t)` + `update_topics`; a member whose
//!   nearest topic embedding is another topic's (or none above `t`) moves too, so that **Fit and
//!   Transform agree on every training document**. A moved document's words move to its new
//!   topic's c-TF-IDF counts (keywords and keyword labels are recomputed) and it counts in its
//!   size and daily counts. Topic embeddings, member samples, samples and FAQ examples stay
//!   those of the members HDBSCAN found: a topic means what its dense core means, and the
//!   decision is made against exactly the embeddings Transform will use. A discovered topic
//!   left with no document is dropped (its id is not reused); a defined topic stays.
//!
//! **One rule in Fit, Merge and Transform.** The decision is [`TopicIndex::assign_batch`] with
//! `outlier_threshold = t`, which is what Transform computes for a model whose policy is
//! `Reduce` ([`FitParams::transform_params`]); the fit's assignments and scores are
//! Transform's, bit for bit. A nightly Merge takes the day model as fitted with the policy
//! (its counts are the reduced ones) and the merged model keeps the policy (it carries the day's
//! fit parameters). A fit larger than `max_fit_documents` assigns the documents outside its
//! sample with the same parameters.
//!
//! Measured by `benches/outliers.sh` (benches/RESULTS.md, "Outlier policy"): on CLINC150,
//! `keep` leaves 13.2 % outliers at NMI 0.764; `reduce` at 0.35 leaves 1.7 % and at 0.5 6.9 %,
//! with NMI about 0.82 at both, beside BERTopic's `reduce_outliers` on its own fit.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::label::keyword_label;
use crate::model::{DailyCount, LabelSource, Topic, TopicStatus, OUTLIER_TOPIC};
use crate::params::{FitParams, TransformParams};
use crate::pipeline::{FitInput, FitResult};
use crate::transform::TopicIndex;
use crate::vectorize::Tokenizer;

/// What a fit does with HDBSCAN's outliers (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutlierMode {
    /// Outliers stay outliers (BERTopic's default).
    #[default]
    Keep,
    /// An outlier at or above [`FitParams::outlier_threshold`] to its nearest topic joins it.
    Reduce,
}

impl OutlierMode {
    /// `"keep"` or `"reduce"`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutlierMode::Keep => "keep",
            OutlierMode::Reduce => "reduce",
        }
    }
}

impl std::str::FromStr for OutlierMode {
    type Err = crate::error::EngineError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keep" => Ok(OutlierMode::Keep),
            "reduce" => Ok(OutlierMode::Reduce),
            other => Err(crate::error::EngineError::param(
                "outliers",
                format!("{other:?} is not an outlier policy; use \"keep\" or \"reduce\""),
            )),
        }
    }
}

impl std::fmt::Display for OutlierMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`reduce`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reduced {
    /// Outliers HDBSCAN left.
    pub before: u64,
    /// Outliers after the policy.
    pub after: u64,
    /// Documents whose topic changed (outliers that joined a topic, and members whose nearest
    /// topic embedding is another topic's or below the threshold).
    pub moved: u64,
}

/// Signed changes to one topic: documents, documents per day, term counts.
#[derive(Default)]
struct Delta {
    size: i64,
    days: BTreeMap<NaiveDate, i64>,
    terms: BTreeMap<u32, i64>,
}

/// Rows scored per batch (bounds the copy of the embeddings).
const BATCH: usize = 8192;

/// Applies `params`' outlier policy to a finished fit of `input` (same rows, same order; small
/// talk is left alone). A no-op under [`OutlierMode::Keep`] or when the model has no topic.
pub(crate) fn reduce(
    input: &FitInput<'_>,
    params: &FitParams,
    result: &mut FitResult,
) -> Result<Reduced> {
    let before = result.assignments.iter().filter(|&&a| a == OUTLIER_TOPIC).count() as u64;
    let mut done = Reduced { before, after: before, moved: 0 };
    if params.outliers == OutlierMode::Keep {
        return Ok(done);
    }
    let index = TopicIndex::new(&result.model);
    if index.is_empty() {
        return Ok(done);
    }
    let tp = params.transform_params(TransformParams::default());
    // Every topical document (not small talk) as Transform tags it with the final embeddings.
    let docs: Vec<usize> =
        (0..result.assignments.len()).filter(|&i| result.assignments[i] >= OUTLIER_TOPIC).collect();
    let mut moves: Vec<(usize, i64, i64)> = Vec::new();
    for chunk in docs.chunks(BATCH) {
        let rows = input.embeddings.select_rows(chunk);
        for (&i, a) in chunk.iter().zip(index.assign_batch(&rows, &tp)?) {
            let old = result.assignments[i];
            result.scores[i] = if a.topic_id == OUTLIER_TOPIC { 0.0 } else { a.score };
            if a.topic_id != old {
                moves.push((i, old, a.topic_id));
            }
        }
    }
    if moves.is_empty() {
        return Ok(done);
    }

    let tokenizer = Tokenizer::with_options(params.english_stop_words, &params.text)?;
    let vocabulary = &result.model.vocabulary;
    let vocab = |term: &str| vocabulary.binary_search_by(|v| v.as_str().cmp(term)).ok();
    let mut deltas: BTreeMap<i64, Delta> = BTreeMap::new();
    for &(i, from, to) in &moves {
        let (_, tokens) = tokenizer.document(&input.texts[i], true);
        let ids: Vec<u32> = tokens.iter().filter_map(|t| vocab(t)).map(|v| v as u32).collect();
        let day = input.dates.map_or(input.day, |d| d[i]);
        for (topic, sign) in [(from, -1i64), (to, 1)] {
            let d = deltas.entry(topic).or_default();
            d.size += sign;
            *d.days.entry(day).or_default() += sign;
            for &v in &ids {
                *d.terms.entry(v).or_default() += sign;
            }
        }
        result.assignments[i] = to;
        result.probabilities[i] = 0.0;
    }
    done.moved = moves.len() as u64;
    let model = &mut result.model;
    if model.outlier_topic().is_none() && deltas.contains_key(&OUTLIER_TOPIC) {
        model.topics.insert(0, empty_outlier_topic(input.day, model.dim));
    }
    for t in &mut model.topics {
        let Some(d) = deltas.remove(&t.id) else { continue };
        t.size = (t.size as i64 + d.size).max(0) as u64;
        t.daily_counts = apply_daily(&t.daily_counts, &d.days);
        t.term_counts = apply_terms(&t.term_counts, &d.terms);
        if let (Some(first), Some(last)) = (t.daily_counts.first(), t.daily_counts.last()) {
            t.first_seen = t.first_seen.min(first.date);
            t.last_seen = t.last_seen.max(last.date);
        }
    }
    // A topic none of whose documents is nearest to it would never be served: it goes (its id
    // is not reused). The outlier topic goes when no outlier is left.
    model.topics.retain(|t| t.size > 0 || t.is_defined());
    let outliers: Vec<usize> =
        docs.iter().copied().filter(|&i| result.assignments[i] == OUTLIER_TOPIC).collect();
    done.after = outliers.len() as u64;
    if let Some(o) = model.topics.iter_mut().find(|t| t.is_outlier()) {
        // What BERTopic's outlier row is: the mean of the documents that are outliers.
        let rows = input.embeddings.select_rows(&outliers);
        let unit = crate::pipeline::unit_rows(&rows);
        o.embedding =
            crate::pipeline::topic_embedding(&unit, &(0..outliers.len()).collect::<Vec<_>>());
    }
    crate::merge::recompute_keywords(model)?;
    for t in &mut model.topics {
        if t.label_source == LabelSource::Keywords {
            t.label = keyword_label(t.id, &t.keywords);
        }
    }
    tracing::info!(
        outliers_before = done.before,
        outliers_after = done.after,
        moved = done.moved,
        threshold = params.outlier_threshold,
        "outliers reduced"
    );
    Ok(done)
}

/// An outlier topic with no document yet (a fit where HDBSCAN left none, but some member is
/// below the threshold to every topic).
fn empty_outlier_topic(day: NaiveDate, dim: usize) -> Topic {
    Topic {
        id: OUTLIER_TOPIC,
        label: keyword_label::<&str>(OUTLIER_TOPIC, &[]),
        label_source: LabelSource::Keywords,
        label_override: None,
        keywords: Vec::new(),
        size: 0,
        embedding: vec![0.0; dim],
        term_counts: Vec::new(),
        samples: Vec::new(),
        first_seen: day,
        last_seen: day,
        status: TopicStatus::Active,
        daily_counts: Vec::new(),
        memory: Default::default(),
        faq: Default::default(),
    }
}

/// `a + b` per day (`b` signed), days at zero dropped.
fn apply_daily(a: &[DailyCount], b: &BTreeMap<NaiveDate, i64>) -> Vec<DailyCount> {
    let mut m: BTreeMap<NaiveDate, i64> = a.iter().map(|d| (d.date, d.count as i64)).collect();
    for (&date, &c) in b {
        *m.entry(date).or_default() += c;
    }
    m.into_iter()
        .filter(|&(_, c)| c > 0)
        .map(|(date, count)| DailyCount { date, count: count as u64 })
        .collect()
}

/// `a + b` per term (`b` signed), terms at zero dropped; sorted by term like `a`.
fn apply_terms(a: &[(u32, u32)], b: &BTreeMap<u32, i64>) -> Vec<(u32, u32)> {
    let mut m: BTreeMap<u32, i64> = a.iter().map(|&(t, c)| (t, i64::from(c))).collect();
    for (&t, &c) in b {
        *m.entry(t).or_default() += c;
    }
    m.into_iter()
        .filter(|&(_, c)| c > 0)
        .map(|(t, c)| (t, c.min(i64::from(u32::MAX)) as u32))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    /// Three Gaussian clusters of 40 points (each with its own words) and 20 points of noise
    /// anywhere, in 16 dimensions.
    fn data() -> (Vec<String>, Matrix) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let normal = Normal::new(0.0f32, 1.0).unwrap();
        let words = ["refund money back", "parcel late delivery", "password reset login"];
        let (mut texts, mut rows) = (Vec::new(), Vec::new());
        for (c, w) in words.iter().enumerate() {
            let centre: Vec<f32> = (0..16).map(|_| normal.sample(&mut rng)).collect();
            for i in 0..40 {
                rows.push(centre.iter().map(|x| x + 0.3 * normal.sample(&mut rng)).collect());
                texts.push(format!("{w} {c} {i}"));
            }
        }
        for i in 0..12 {
            rows.push((0..16).map(|_| rng.random_range(-3.0f32..3.0)).collect::<Vec<f32>>());
            texts.push(format!("noise words {i}"));
        }
        (texts, Matrix::from_rows(&rows).unwrap())
    }

    /// The fit of [`data`] as HDBSCAN would leave it: the clusters as topics, the noise as
    /// outliers; then `mode`'s policy applied.
    fn fit_with(mode: OutlierMode, threshold: f32) -> (Vec<String>, Matrix, FitResult) {
        let (texts, emb) = data();
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let input =
            FitInput { texts: &texts, embeddings: &emb, dates: None, day, embedding_model: "test" };
        let params = FitParams {
            outliers: mode,
            outlier_threshold: threshold,
            min_topic_size: 10,
            ..FitParams::default()
        };
        let assignments: Vec<i64> = (0..texts.len())
            .map(|i| if i < 120 { (i / 40) as i64 } else { OUTLIER_TOPIC })
            .collect();
        let model = crate::pipeline::build_model_with(&input, &params, &assignments, 0).unwrap();
        let index = TopicIndex::new(&model);
        let scores = emb
            .iter_rows()
            .zip(&assignments)
            .map(|(r, &t)| index.score(r, t).unwrap_or(0.0))
            .collect();
        let mut r = FitResult {
            model,
            assignments,
            scores,
            probabilities: vec![0.0; texts.len()],
            small_talk: 0,
            timings: Default::default(),
            sampled: None,
        };
        reduce(&input, &params, &mut r).unwrap();
        (texts, emb, r)
    }

    #[test]
    fn keep_leaves_hdbscan_outliers_and_reduce_moves_them_as_transform_would() {
        let (_, emb, keep) = fit_with(OutlierMode::Keep, 0.0);
        let before = keep.assignments.iter().filter(|&&a| a == OUTLIER_TOPIC).count();
        assert_eq!(before, 12);
        let (_, _, reduced) = fit_with(OutlierMode::Reduce, -1.0);
        // Threshold -1: every outlier joins its nearest topic; the outlier topic is gone.
        assert!(reduced.assignments.iter().all(|&a| a != OUTLIER_TOPIC));
        assert!(reduced.model.outlier_topic().is_none());
        // The clusters' members stay (each is nearest its own centroid) and the topic
        // embeddings are unchanged.
        for (k, r) in keep.assignments.iter().zip(&reduced.assignments) {
            if *k != OUTLIER_TOPIC {
                assert_eq!(k, r);
            }
        }
        // Term counts moved, none lost.
        let terms = |m: &crate::model::TopicModel| -> u64 {
            m.topics.iter().flat_map(|t| &t.term_counts).map(|&(_, c)| u64::from(c)).sum()
        };
        assert_eq!(terms(&keep.model), terms(&reduced.model));
        for (a, b) in keep.model.active_topics().zip(reduced.model.active_topics()) {
            assert_eq!(a.id, b.id);
            assert_eq!(a.embedding, b.embedding);
        }
        // Sizes and daily counts cover every document.
        let total: u64 = reduced.model.topics.iter().map(|t| t.size).sum();
        assert_eq!(total, emb.rows() as u64);
        for t in reduced.model.active_topics() {
            assert_eq!(t.daily_counts.iter().map(|d| d.count).sum::<u64>(), t.size);
        }
        // Transform with the model's own parameters agrees on every training document.
        let tp = reduced.model.fit_params.transform_params(TransformParams::default());
        let tagged = crate::transform::transform(&reduced.model, &emb, &tp).unwrap();
        for (i, t) in tagged.iter().enumerate() {
            assert_eq!(t.topic_id, reduced.assignments[i], "doc {i}");
            assert_eq!(t.score, reduced.scores[i], "doc {i}");
        }
    }

    #[test]
    fn a_member_nearer_another_topic_moves_with_its_words() {
        let (texts, emb) = data();
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let input =
            FitInput { texts: &texts, embeddings: &emb, dates: None, day, embedding_model: "t" };
        let params = FitParams { outliers: OutlierMode::Reduce, ..FitParams::default() };
        // HDBSCAN (say) put document 0, of cluster 0, in topic 1.
        let mut assignments: Vec<i64> = (0..texts.len())
            .map(|i| if i < 120 { (i / 40) as i64 } else { OUTLIER_TOPIC })
            .collect();
        assignments[0] = 1;
        let model = crate::pipeline::build_model_with(&input, &params, &assignments, 0).unwrap();
        let sizes = |m: &crate::model::TopicModel| -> Vec<u64> {
            m.active_topics().map(|t| t.size).collect()
        };
        assert_eq!(sizes(&model), vec![39, 41, 40]);
        let n = texts.len();
        let mut r = FitResult {
            model,
            assignments,
            scores: vec![0.0; n],
            probabilities: vec![0.5; n],
            small_talk: 0,
            timings: Default::default(),
            sampled: None,
        };
        let done = reduce(&input, &params, &mut r).unwrap();
        assert_eq!(r.assignments[0], 0);
        assert_eq!(r.probabilities[0], 0.0);
        assert!(done.moved >= 1 && done.after < done.before, "{done:?}");
        // Topic 0 has its document back (outliers of the noise may join any topic).
        let moved_in_0 = r.assignments.iter().filter(|&&a| a == 0).count() as u64;
        assert_eq!(sizes(&r.model)[0], moved_in_0);
        assert!(moved_in_0 >= 40);
        let refund = r.model.vocabulary.iter().position(|w| w == "refund").unwrap() as u32;
        let count = |t: usize| {
            r.model
                .topics
                .iter()
                .find(|x| x.id == t as i64)
                .unwrap()
                .term_counts
                .iter()
                .find(|p| p.0 == refund)
                .map_or(0, |p| p.1)
        };
        assert_eq!((count(0), count(1)), (40, 0));
    }

    #[test]
    fn a_high_threshold_keeps_far_outliers_and_agrees_with_transform() {
        let (_, emb, keep) = fit_with(OutlierMode::Keep, 0.0);
        let (_, _, r) = fit_with(OutlierMode::Reduce, 0.999);
        let tp = r.model.fit_params.transform_params(TransformParams::default());
        assert_eq!(tp.outlier_threshold, 0.999);
        let tagged = crate::transform::transform(&r.model, &emb, &tp).unwrap();
        for (i, t) in tagged.iter().enumerate() {
            assert_eq!(t.topic_id, r.assignments[i], "doc {i}");
        }
        let still = r.assignments.iter().filter(|&&a| a == OUTLIER_TOPIC).count();
        assert!(still > keep.assignments.iter().filter(|&&a| a == OUTLIER_TOPIC).count());
        let o = r.model.outlier_topic().unwrap();
        assert_eq!(o.size, still as u64);
        assert_eq!(r.model.topics.iter().map(|t| t.size).sum::<u64>(), emb.rows() as u64);
    }

    #[test]
    fn mode_parses_and_rejects_unknown_words() {
        assert_eq!("Reduce".parse::<OutlierMode>().unwrap(), OutlierMode::Reduce);
        assert_eq!("keep".parse::<OutlierMode>().unwrap(), OutlierMode::Keep);
        let e = "drop".parse::<OutlierMode>().unwrap_err().to_string();
        assert!(e.contains("keep") && e.contains("reduce"), "{e}");
    }
}
