//! `fit`: the stages in order (kNN → UMAP → HDBSCAN → c-TF-IDF → reduction), one span each,
//! following BERTopic's `fit_transform` with precomputed embeddings
//! (`../../shared/docs/BERTOPIC_NOTES.md` §1):
//! 1. kNN (cosine) and UMAP to `n_components` dimensions; NaN coordinates become 0.
//! 2. HDBSCAN (`min_cluster_size = min_topic_size`, EOM); `-1` = outliers.
//! 3. Optional reduction (`nr_topics`) on the mean input embedding of each topic.
//! 4. Topics renumbered by size (descending; ties by first appearance), `-1` kept.
//! 5. Vectorizer + c-TF-IDF on the per-topic documents (outliers are a class too), keywords,
//!    representative documents, topic embeddings (mean input embedding, L2-normalised).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::cancel::{Cancel, Stage};
use crate::ctfidf::TopicTerms;
use crate::defined::DefinedTopic;
use crate::device::{self, Device};
use crate::error::{EngineError, Result};
use crate::faq::{majority_language, topic_faq, TopicFaq};
use crate::hdbscan::{self, HdbscanParams};
use crate::knn;
use crate::label::keyword_label;
use crate::matrix::Matrix;
use crate::merge::members::{bottom_k, quantize};
use crate::model::{
    DailyCount, LabelSource, Topic, TopicMemory, TopicModel, TopicStatus, OUTLIER_TOPIC,
    SMALL_TALK_TOPIC,
};
use crate::params::{FitParams, MergeParams, NrTopics, TransformParams};
use crate::reduce;
use crate::representative::representative_docs;
use crate::text::TextAnalyzer;
use crate::transform::TopicIndex;
use crate::umap::{self, UmapParams};
use crate::vectorize::{DocTerms, Tokenizer};

/// What `fit` needs besides parameters.
#[derive(Debug, Clone, Copy)]
pub struct FitInput<'a> {
    /// Document texts (non-empty after trimming).
    pub texts: &'a [String],
    /// One embedding per text, `texts.len() × dim`, finite.
    pub embeddings: &'a Matrix,
    /// Day of each document (for daily counts); `None` = every document on `day`.
    pub dates: Option<&'a [NaiveDate]>,
    /// The day the model describes (`first_seen`/`last_seen` of its topics).
    pub day: NaiveDate,
    /// Name of the embedding model (stored in the model).
    pub embedding_model: &'a str,
}

/// Wall-clock time per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct StageTimings {
    /// The kNN graph.
    pub knn: Duration,
    /// UMAP (fuzzy graph, spectral init, layout).
    pub umap: Duration,
    /// HDBSCAN.
    pub hdbscan: Duration,
    /// Vectorizer, c-TF-IDF, keywords, representative documents and topic embeddings.
    pub ctfidf: Duration,
    /// Topic reduction (`nr_topics`), zero when none was asked for.
    pub reduction: Duration,
    /// The whole fit.
    pub total: Duration,
}

impl StageTimings {
    /// Every stage with its stable name (`knn`, `umap`, `hdbscan`, `ctfidf`, `reduction`,
    /// `total`), in pipeline order: the one list that metrics, logs and reports iterate over.
    pub fn stages(&self) -> [(&'static str, Duration); 6] {
        [
            ("knn", self.knn),
            ("umap", self.umap),
            ("hdbscan", self.hdbscan),
            ("ctfidf", self.ctfidf),
            ("reduction", self.reduction),
            ("total", self.total),
        ]
    }
}

/// A fitted day model plus the per-document assignments, scores and probabilities.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FitResult {
    /// The fitted day model.
    pub model: TopicModel,
    /// Topic id per input document (`-1` = outlier, `-2` = [`SMALL_TALK_TOPIC`]), in input
    /// order.
    pub assignments: Vec<i64>,
    /// Per document, the cosine of its input embedding with its topic's embedding, computed
    /// by [`TopicIndex::score`] (the same SIMD dot as Transform, so a training document's
    /// Transform score equals this bit for bit when Transform picks the same topic); 0 for
    /// outliers and small talk.
    pub scores: Vec<f32>,
    /// Per document, HDBSCAN's membership strength in `[0, 1]` (0 for outliers), as
    /// BERTopic's `probabilities_` with `calculate_probabilities=False` (0 for small talk). A topic reduction
    /// keeps them, as BERTopic does for 1-D probabilities.
    pub probabilities: Vec<f32>,
    /// Documents recognised as small talk ([`crate::text::TextAnalyzer::is_small_talk`]) and
    /// left out of topic discovery (assigned [`SMALL_TALK_TOPIC`]); 0 when
    /// [`crate::text::TextOptions::small_talk`] is off.
    pub small_talk: u64,
    /// Wall time per stage.
    pub timings: StageTimings,
    /// `Some` when the input was larger than [`FitParams::max_fit_documents`]: how many
    /// documents were fitted and how many assigned by transform.
    pub sampled: Option<Sampled>,
}

/// How a fit larger than [`FitParams::max_fit_documents`] was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampled {
    /// Documents in the seeded, day-stratified sample that was fitted.
    pub fitted: u64,
    /// The other documents, assigned to the fitted topics by transform.
    pub assigned: u64,
}

/// Rejects input that can never give a model, with a message naming the problem.
fn validate(input: &FitInput<'_>, params: &FitParams) -> Result<()> {
    params.check()?;
    let n = input.texts.len();
    if n == 0 {
        return Err(EngineError::input("no documents to fit"));
    }
    if input.embeddings.rows() != n {
        return Err(EngineError::input(format!(
            "{n} documents but {} embeddings; they must be the same length and order",
            input.embeddings.rows()
        )));
    }
    if input.embeddings.cols() == 0 {
        return Err(EngineError::input("embeddings have 0 dimensions"));
    }
    input.embeddings.check_finite()?;
    if let Some(i) = input.texts.iter().position(|t| t.trim().is_empty()) {
        return Err(EngineError::input(format!("document {i} is empty")));
    }
    if let Some(dates) = input.dates {
        if dates.len() != n {
            return Err(EngineError::input(format!("{n} documents but {} dates", dates.len())));
        }
    }
    if n < params.min_topic_size {
        return Err(EngineError::input(format!(
            "{n} documents are fewer than min_topic_size = {}: no topic could be formed; \
             pass more documents or lower min_topic_size",
            params.min_topic_size
        )));
    }
    Ok(())
}

/// Runs `f` inside the stage's `tracing` span, adding its wall time to `slot`.
fn timed<T>(slot: &mut Duration, span: tracing::Span, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let _entered = span.entered();
    let start = Instant::now();
    let out = f();
    *slot += start.elapsed();
    tracing::debug!(elapsed_ms = start.elapsed().as_millis() as u64, "stage done");
    out
}

/// Fits a topic model on `device` (only the exact kNN uses a GPU). Deterministic for a given
/// input and `params.seed`.
pub fn fit(input: &FitInput<'_>, params: &FitParams, device: Device) -> Result<FitResult> {
    fit_cancellable(input, params, device, &Cancel::never())
}

/// [`fit`] that gives up with [`EngineError::Cancelled`] soon after `cancel` is cancelled
/// (e.g. when the client that asked for the fit is gone), returning no partial result.
///
/// The token is checked before every stage and inside the long loops: every exact-kNN tile,
/// the random-projection trees and every NN-descent iteration and join block, the spectral
/// initialisation (each Lanczos basis vector and restart, the dense eigensolver's steps), every
/// UMAP SGD epoch and every HDBSCAN MST round. Reduction and c-TF-IDF (well under a second)
/// are checked before they start. The checks only read the flag: a fit that is not cancelled
/// returns exactly what [`fit`] returns.
pub fn fit_cancellable(
    input: &FitInput<'_>,
    params: &FitParams,
    device: Device,
    cancel: &Cancel,
) -> Result<FitResult> {
    fit_with_defined(input, params, device, cancel, &[])
}

/// [`fit_cancellable`] with tenant-defined topics ([`crate::defined`]): all documents are
/// clustered as without them, then the discovered topics that are a defined topic (by their
/// documents' vote, documents at or above [`FitParams::defined_min_similarity`] to it, or by
/// their centroid) fold into it, and the other documents at or above the threshold join it
/// unless they sit in a topic of another intent. Without defined topics it is exactly
/// [`fit_cancellable`].
pub fn fit_with_defined(
    input: &FitInput<'_>,
    params: &FitParams,
    device: Device,
    cancel: &Cancel,
    defined: &[DefinedTopic],
) -> Result<FitResult> {
    cancel.check()?;
    crate::defined::check(defined, input.embeddings.cols())?;
    let fit_topics = |input: &FitInput<'_>,
                      params: &FitParams,
                      device: Device,
                      cancel: &Cancel,
                      started: Instant| {
        if defined.is_empty() {
            fit_topics(input, params, device, cancel, started)
        } else {
            crate::defined::fit_topics(input, params, device, cancel, started, defined)
        }
    };
    validate(input, params)?;
    let started = Instant::now();
    if let Some(max) = params.max_fit_documents.filter(|&m| input.texts.len() > m) {
        // The sample's fit applies the outlier policy; the rest is assigned with its threshold.
        return fit_sampled(input, params, max, device, cancel, started, defined);
    }
    let mut result = fit_all(input, params, device, cancel, started, &fit_topics)?;
    crate::outliers::reduce(input, params, &mut result)?;
    result.timings.total = started.elapsed();
    Ok(result)
}

/// The fit proper of a set of documents (with or without defined topics).
type FitTopics<'f> =
    dyn Fn(&FitInput<'_>, &FitParams, Device, &Cancel, Instant) -> Result<FitResult> + 'f;

/// Every document of `input` fitted by `fit_topics`, small talk left out first when
/// [`crate::text::TextOptions::small_talk`] is on.
fn fit_all(
    input: &FitInput<'_>,
    params: &FitParams,
    device: Device,
    cancel: &Cancel,
    started: Instant,
    fit_topics: &FitTopics<'_>,
) -> Result<FitResult> {
    if !params.text.small_talk {
        return fit_topics(input, params, device, cancel, started);
    }
    // Small talk ("hi", "thanks!", "ok", emoji only) says nothing about a topic: it is left
    // out of kNN, UMAP, HDBSCAN and c-TF-IDF and comes back as SMALL_TALK_TOPIC.
    let analyzer = TextAnalyzer::new(&params.text)?;
    let small: Vec<bool> = input.texts.iter().map(|t| analyzer.is_small_talk(t)).collect();
    let n_small = small.iter().filter(|&&s| s).count();
    if n_small == 0 {
        return fit_topics(input, params, device, cancel, started);
    }
    let kept: Vec<usize> = (0..input.texts.len()).filter(|&i| !small[i]).collect();
    if kept.len() < params.min_topic_size {
        return Err(EngineError::input(format!(
            "{} documents, {n_small} of them small talk: the {} left are fewer than \
             min_topic_size = {}: no topic could be formed; pass more documents or lower \
             min_topic_size",
            input.texts.len(),
            kept.len(),
            params.min_topic_size
        )));
    }
    let subset = Subset::of(input, &kept);
    let inner = fit_topics(&subset.input(input), params, device, cancel, started)?;
    // Back to input order: small talk gets SMALL_TALK_TOPIC, score and probability 0.
    let n = input.texts.len();
    let mut assignments = vec![SMALL_TALK_TOPIC; n];
    let mut scores = vec![0.0; n];
    let mut probabilities = vec![0.0; n];
    for (j, &i) in kept.iter().enumerate() {
        assignments[i] = inner.assignments[j];
        scores[i] = inner.scores[j];
        probabilities[i] = inner.probabilities[j];
    }
    let mut timings = inner.timings;
    timings.total = started.elapsed();
    tracing::info!(small_talk = n_small, "small talk left out of the fit");
    Ok(FitResult {
        model: inner.model,
        assignments,
        scores,
        probabilities,
        small_talk: n_small as u64,
        timings,
        sampled: None,
    })
}

/// [`fit_cancellable`] on a seeded, day-stratified sample of `max` documents, the rest assigned
/// by transform (small talk among them to [`SMALL_TALK_TOPIC`] when that is on); sizes and daily
/// counts of the model then cover every document.
fn fit_sampled(
    input: &FitInput<'_>,
    params: &FitParams,
    max: usize,
    device: Device,
    cancel: &Cancel,
    started: Instant,
    defined: &[DefinedTopic],
) -> Result<FitResult> {
    let n = input.texts.len();
    let picked = crate::sample::stratified_sample(input.dates, n, max, params.seed);
    tracing::info!(
        documents = n,
        fitted = picked.len(),
        "input larger than max_fit_documents: fitting a sample"
    );
    let subset = Subset::of(input, &picked);
    let whole = FitParams { max_fit_documents: None, ..params.clone() };
    let inner = fit_with_defined(&subset.input(input), &whole, device, cancel, defined)?;
    drop(subset);

    let mut assignments = vec![OUTLIER_TOPIC; n];
    let mut scores = vec![0.0; n];
    let mut probabilities = vec![0.0; n];
    let mut in_sample = vec![false; n];
    for (j, &i) in picked.iter().enumerate() {
        in_sample[i] = true;
        assignments[i] = inner.assignments[j];
        scores[i] = inner.scores[j];
        probabilities[i] = inner.probabilities[j];
    }
    let analyzer =
        if params.text.small_talk { Some(TextAnalyzer::new(&params.text)?) } else { None };
    let rest: Vec<usize> = (0..n).filter(|&i| !in_sample[i]).collect();
    let mut small_talk = inner.small_talk;
    let mut model = inner.model;
    let index = TopicIndex::new(&model);
    let transform_params = params.transform_params(TransformParams::default());
    let mut added: BTreeMap<i64, BTreeMap<NaiveDate, u64>> = BTreeMap::new();
    const BATCH: usize = 8192;
    for (b, chunk) in rest.chunks(BATCH).enumerate() {
        cancel.step(Stage::Assign, (b * BATCH) as u64, rest.len() as u64)?;
        let topical: Vec<usize> = chunk
            .iter()
            .copied()
            .filter(|&i| {
                let small = analyzer.as_ref().is_some_and(|a| a.is_small_talk(&input.texts[i]));
                if small {
                    assignments[i] = SMALL_TALK_TOPIC;
                }
                !small
            })
            .collect();
        small_talk += (chunk.len() - topical.len()) as u64;
        let rows = input.embeddings.select_rows(&topical);
        for (&i, a) in topical.iter().zip(index.assign_batch(&rows, &transform_params)?) {
            assignments[i] = a.topic_id;
            scores[i] = a.score;
            let date = input.dates.map_or(input.day, |d| d[i]);
            *added.entry(a.topic_id).or_default().entry(date).or_default() += 1;
        }
    }
    for t in &mut model.topics {
        let Some(days) = added.remove(&t.id) else { continue };
        let days: Vec<DailyCount> =
            days.into_iter().map(|(date, count)| DailyCount { date, count }).collect();
        if let (Some(first), Some(last)) = (days.first(), days.last()) {
            t.first_seen = t.first_seen.min(first.date);
            t.last_seen = t.last_seen.max(last.date);
        }
        t.size += days.iter().map(|d| d.count).sum::<u64>();
        t.daily_counts = crate::merge::add_daily(&t.daily_counts, &days);
    }
    if let Some(outliers) = added.remove(&OUTLIER_TOPIC) {
        tracing::debug!(
            outliers = outliers.values().sum::<u64>(),
            "assigned outliers with no outlier topic in the sample's model"
        );
    }
    model.n_documents = (n as u64).saturating_sub(small_talk);
    if let Some(ds) = input.dates {
        model.date_range = ds.iter().min().copied().zip(ds.iter().max().copied());
    }
    let mut timings = inner.timings;
    timings.total = started.elapsed();
    Ok(FitResult {
        model,
        assignments,
        scores,
        probabilities,
        small_talk,
        timings,
        sampled: Some(Sampled { fitted: picked.len() as u64, assigned: rest.len() as u64 }),
    })
}

/// The documents `rows` of a fit's input, owned: what a fit of a subset runs on (small talk
/// left out, a `max_fit_documents` sample, the documents no defined topic took).
pub(crate) struct Subset {
    texts: Vec<String>,
    embeddings: Matrix,
    dates: Option<Vec<NaiveDate>>,
}

impl Subset {
    /// Copies the rows `rows` (indices into `input`) of the texts, embeddings and dates.
    pub(crate) fn of(input: &FitInput<'_>, rows: &[usize]) -> Self {
        Self {
            texts: rows.iter().map(|&i| input.texts[i].clone()).collect(),
            embeddings: input.embeddings.select_rows(rows),
            dates: input.dates.map(|ds| rows.iter().map(|&i| ds[i]).collect()),
        }
    }

    /// `like` (its day and embedding model) with this subset's documents.
    pub(crate) fn input<'a>(&'a self, like: &FitInput<'a>) -> FitInput<'a> {
        FitInput {
            texts: &self.texts,
            embeddings: &self.embeddings,
            dates: self.dates.as_deref(),
            ..*like
        }
    }
}

/// The fit proper on documents that are all kept (validated, small talk already removed).
pub(crate) fn fit_topics(
    input: &FitInput<'_>,
    params: &FitParams,
    device: Device,
    cancel: &Cancel,
    started: Instant,
) -> Result<FitResult> {
    let device = device::select(device)?;
    let mut timings = StageTimings::default();
    let n = input.texts.len();

    // Every row L2-normalised here, whoever calls (the server with precomputed or provider
    // embeddings, `topics fit --embeddings`, a library user): kNN, UMAP's init, the reduction
    // and the topic embeddings all see unit rows. Scores below use the caller's rows, as
    // Transform does (it normalises each document itself).
    let caller_embeddings = input.embeddings;
    let unit_rows = unit_rows(input.embeddings);
    let input = &FitInput { embeddings: &unit_rows, ..*input };

    // umap-learn truncates n_neighbors to n − 1 on tiny inputs (self included in the k).
    let k = if n <= params.n_neighbors { n - 1 } else { params.n_neighbors };
    let layout = if k >= 2 {
        cancel.report(Stage::Neighbors, 0, 0);
        let graph = timed(
            &mut timings.knn,
            tracing::info_span!("knn", n, k, method = ?params.knn),
            || {
                knn::knn_cancellable(
                    input.embeddings,
                    k,
                    params.knn,
                    params.exact_knn_max,
                    params.seed,
                    &device,
                    cancel,
                )
            },
        )?;
        cancel.step(Stage::Reduce, 0, 0)?;
        let mut layout = timed(
            &mut timings.umap,
            tracing::info_span!("umap", n, n_components = params.n_components),
            || {
                umap::fit_with_data_cancellable(
                    &graph,
                    Some(input.embeddings),
                    &UmapParams::from(params),
                    cancel,
                )
            },
        )?;
        // BERTopic: `np.nan_to_num` on the UMAP output (isolated vertices come back as NaN).
        for v in layout.as_mut_slice() {
            if !v.is_finite() {
                *v = if v.is_nan() { 0.0 } else { v.signum() * f32::MAX };
            }
        }
        layout
    } else {
        // Two or three documents: nothing to embed; cluster the input directly.
        input.embeddings.clone()
    };

    cancel.step(Stage::Cluster, 0, 0)?;
    let clustering = timed(
        &mut timings.hdbscan,
        tracing::info_span!("hdbscan", n, min_cluster_size = params.min_topic_size),
        || {
            hdbscan::fit_cancellable(
                &layout,
                &HdbscanParams {
                    min_cluster_size: params.min_topic_size,
                    min_samples: params.min_samples,
                    allow_single_cluster: false,
                },
                cancel,
            )
        },
    )?;
    let raw_topics = clustering.n_clusters();
    let probabilities = clustering.probabilities;

    cancel.step(Stage::Topics, 0, 0)?;
    let labels = if params.nr_topics == NrTopics::None {
        clustering.labels
    } else {
        timed(
            &mut timings.reduction,
            tracing::info_span!("reduction", nr_topics = %params.nr_topics, topics = raw_topics),
            || reduce::reduce(&clustering.labels, input.embeddings, params.nr_topics),
        )?
    };
    let assignments = reduce::renumber_by_size(&labels);
    cancel.check()?;

    let model = timed(
        &mut timings.ctfidf,
        tracing::info_span!("ctfidf", n, topics = assignments.iter().max().map_or(0, |m| m + 1)),
        || build_model(input, params, &assignments),
    )?;
    let index = TopicIndex::new(&model);
    let scores = caller_embeddings
        .iter_rows()
        .zip(&assignments)
        .map(|(row, &topic)| index.score(row, topic).unwrap_or(0.0))
        .collect();
    timings.total = started.elapsed();
    tracing::info!(
        documents = n,
        raw_topics,
        topics = model.active_topics().count(),
        outliers = assignments.iter().filter(|&&t| t == OUTLIER_TOPIC).count(),
        total_ms = timings.total.as_millis() as u64,
        "fit done"
    );
    Ok(FitResult {
        model,
        assignments,
        scores,
        probabilities,
        small_talk: 0,
        timings,
        sampled: None,
    })
}

/// A row whose norm is within this of 1 is already unit length (an encoder's or numpy's
/// normalisation, rounded to `f32`) and is kept bit for bit: normalising it again would only
/// move its last bits, and UMAP's SGD turns last-bit differences into a different layout.
const UNIT_NORM_TOLERANCE: f32 = 1e-5;

/// `embeddings` with every row L2-normalised (all-zero rows stay zero); rows already unit
/// length ([`UNIT_NORM_TOLERANCE`]) are left as they are, and so is the whole matrix, without a
/// copy, when every row is.
pub(crate) fn unit_rows(embeddings: &Matrix) -> Cow<'_, Matrix> {
    let norm = |r: &[f32]| r.iter().map(|v| v * v).sum::<f32>().sqrt();
    let is_unit = |r: &[f32]| (norm(r) - 1.0).abs() <= UNIT_NORM_TOLERANCE;
    if embeddings.iter_rows().all(is_unit) {
        return Cow::Borrowed(embeddings);
    }
    let mut out = embeddings.clone();
    for i in 0..out.rows() {
        let row = out.row_mut(i);
        let n = norm(row);
        if n > 0.0 && (n - 1.0).abs() > UNIT_NORM_TOLERANCE {
            row.iter_mut().for_each(|v| *v /= n);
        }
    }
    Cow::Owned(out)
}

/// A topic embedding: the mean of `rows` of `embeddings` (unit rows), L2-normalised (all zeros
/// for no rows or a zero mean).
pub(crate) fn topic_embedding(embeddings: &Matrix, rows: &[usize]) -> Vec<f32> {
    let mut sum = vec![0.0f64; embeddings.cols()];
    for &d in rows {
        for (e, &v) in sum.iter_mut().zip(embeddings.row(d)) {
            *e += f64::from(v);
        }
    }
    let norm = sum.iter().map(|v| v * v).sum::<f64>().sqrt();
    sum.iter().map(|&v| if norm > 0.0 { (v / norm) as f32 } else { 0.0 }).collect()
}

/// The strings in order, each kept once (two samples can mask to the same text).
fn unique(strings: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in strings {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Keywords, term counts, samples, embeddings and daily counts for the final topics.
fn build_model(
    input: &FitInput<'_>,
    params: &FitParams,
    assignments: &[i64],
) -> Result<TopicModel> {
    build_model_with(input, params, assignments, 0)
}

/// [`build_model`] with at least `min_topics` topics (ids `0..min_topics` exist even without
/// documents: defined topics nobody mentioned).
pub(crate) fn build_model_with(
    input: &FitInput<'_>,
    params: &FitParams,
    assignments: &[i64],
    min_topics: usize,
) -> Result<TopicModel> {
    let n = input.texts.len();
    let dim = input.embeddings.cols();
    // Classes in ascending id order: -1 first when present, then 0..k.
    let has_outliers = assignments.contains(&OUTLIER_TOPIC);
    let n_topics = assignments.iter().max().map_or(0, |&m| (m + 1).max(0) as usize).max(min_topics);
    let offset = usize::from(has_outliers);
    let n_classes = n_topics + offset;
    let class_of: Vec<usize> = assignments.iter().map(|&t| (t + offset as i64) as usize).collect();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (d, &c) in class_of.iter().enumerate() {
        members[c].push(d);
    }

    // Compat mode: BERTopic's English preprocessing, exactly; else Unicode terms per language,
    // personal data left out of the vocabulary when masking is on.
    let tokenizer = Tokenizer::with_options(params.english_stop_words, &params.text)?;
    let analyzer = TextAnalyzer::new(&params.text)?;
    let masker = if params.text.mask { Some(analyzer.clone()) } else { None };
    let sample_text = |d: usize| match &masker {
        Some(a) => a.mask(&input.texts[d]).into_owned(),
        None => input.texts[d].clone(),
    };
    // BERTopic strips non-[A-Za-z0-9 ] characters when its language is "english" (the default).
    let terms = DocTerms::count(input.texts, true, &tokenizer);
    let topic_terms = TopicTerms::extract(&terms, &class_of, n_classes)?;
    let samples = representative_docs(
        input.texts,
        &members,
        &topic_terms,
        &tokenizer,
        params.n_samples,
        params.seed,
    );

    let dates = |d: usize| input.dates.map_or(input.day, |ds| ds[d]);
    // Topic embeddings first: each topic's FAQ examples are measured against the others.
    let embeddings: Vec<Vec<f32>> =
        members.iter().map(|m| topic_embedding(input.embeddings, m)).collect();
    let mut topics = Vec::with_capacity(n_classes);
    for c in 0..n_classes {
        let id = c as i64 - offset as i64;
        let keywords = topic_terms.keywords(c, params.top_n_words);
        let mut daily: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for &d in &members[c] {
            *daily.entry(dates(d)).or_insert(0) += 1;
        }
        let embedding = embeddings[c].clone();
        // What merges remember (issue 24): the birth anchor and a bottom-k sample of the
        // members' embeddings; none for the outlier topic, which is never matched.
        let memory = if id == OUTLIER_TOPIC {
            TopicMemory::default()
        } else {
            let rows: Vec<Vec<f32>> =
                members[c].iter().map(|&d| quantize(input.embeddings.row(d))).collect();
            TopicMemory {
                anchor: Some(embedding.clone()),
                birth_members: bottom_k(rows.iter().map(Vec::as_slice), params.n_members),
                members: Vec::new(),
                lineage: Vec::new(),
                ..TopicMemory::default()
            }
        };
        // Representative questions (issue 29), masked; none for the outlier topic.
        let faq = if id == OUTLIER_TOPIC {
            TopicFaq::default()
        } else {
            topic_faq(
                &members[c],
                input.texts,
                |d| input.embeddings.row(d).to_vec(),
                |t| match &masker {
                    Some(a) => a.mask(t).into_owned(),
                    None => t.to_string(),
                },
                &embedding,
                &(0..n_classes)
                    .filter(|&o| o != c && o as i64 - offset as i64 != OUTLIER_TOPIC)
                    .map(|o| embeddings[o].as_slice())
                    .collect::<Vec<_>>(),
                majority_language(&analyzer, members[c].iter().map(|&d| &input.texts[d])),
            )
        };
        topics.push(Topic {
            id,
            label: keyword_label(id, &keywords),
            label_source: LabelSource::Keywords,
            label_override: None,
            keywords,
            size: members[c].len() as u64,
            embedding,
            term_counts: topic_terms.counts.rows[c].clone(),
            samples: unique(samples[c].iter().map(|&d| sample_text(d))),
            first_seen: input.day,
            last_seen: input.day,
            status: TopicStatus::Active,
            daily_counts: daily
                .into_iter()
                .map(|(date, count)| DailyCount { date, count })
                .collect(),
            memory,
            faq,
        });
    }
    let date_range = match input.dates {
        Some(ds) => ds.iter().min().copied().zip(ds.iter().max().copied()),
        None => Some((input.day, input.day)),
    };
    Ok(TopicModel {
        embedding_model: input.embedding_model.to_string(),
        dim,
        fit_params: params.clone(),
        merge_params: MergeParams::default(),
        vocabulary: topic_terms.counts.vocabulary,
        topics,
        next_topic_id: n_topics as i64,
        n_documents: n as u64,
        date_range,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()
    }

    fn input<'a>(texts: &'a [String], emb: &'a Matrix) -> FitInput<'a> {
        FitInput { texts, embeddings: emb, dates: None, day: day(), embedding_model: "test" }
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let p = FitParams::default();
        let texts: Vec<String> = (0..20).map(|i| format!("doc {i}")).collect();
        let emb = Matrix::zeros(19, 4);
        let e = fit(&input(&texts, &emb), &p, Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("20 documents but 19 embeddings"), "{e}");

        let mut emb = Matrix::zeros(20, 4);
        emb.row_mut(3)[1] = f32::NAN;
        let e = fit(&input(&texts, &emb), &p, Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("row 3"), "{e}");

        let emb = Matrix::zeros(20, 4);
        let mut bad = texts.clone();
        bad[7] = "  ".into();
        let e = fit(&input(&bad, &emb), &p, Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("document 7 is empty"), "{e}");

        let few: Vec<String> = texts[..5].to_vec();
        let emb = Matrix::zeros(5, 4);
        let e = fit(&input(&few, &emb), &p, Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("min_topic_size"), "{e}");

        let e = fit(&input(&[], &Matrix::zeros(0, 4)), &p, Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("no documents"), "{e}");

        let dates = vec![day(); 3];
        let emb = Matrix::zeros(20, 4);
        let inp = FitInput { dates: Some(&dates), ..input(&texts, &emb) };
        let e = fit(&inp, &p, Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("3 dates"), "{e}");

        let bad_params = FitParams { min_topic_size: 1, ..FitParams::default() };
        assert!(fit(&input(&texts, &emb), &bad_params, Device::Cpu).is_err());
    }

    #[test]
    fn unit_rows_normalises_only_rows_that_are_not_unit() {
        let unit = [0.6f32, 0.8, 0.0];
        let m = Matrix::from_rows(&[unit, [3.0, 4.0, 0.0], [0.0; 3]]).unwrap();
        let u = unit_rows(&m);
        assert_eq!(u.row(0), unit);
        assert_eq!(u.row(1), [0.6, 0.8, 0.0]);
        assert_eq!(u.row(2), [0.0; 3]);
        // Already unit to f32 rounding: no copy, not a bit changed.
        let nearly = Matrix::from_rows(&[[0.6f32, 0.800_000_1, 0.0], unit]).unwrap();
        assert!(matches!(unit_rows(&nearly), Cow::Borrowed(_)));
    }

    /// The model-building stage on its own: three hand-made topics plus outliers.
    #[test]
    fn build_model_fills_every_field() {
        let texts: Vec<String> = [
            "refund my order",
            "I want a refund",
            "card was declined",
            "my card is declined again",
            "hello there",
            "refund for the order please",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows: Vec<[f32; 2]> =
            vec![[1.0, 0.0], [1.0, 0.2], [0.0, 1.0], [0.1, 1.0], [1.0, 1.0], [1.0, 0.1]];
        let emb = Matrix::from_rows(&rows).unwrap();
        let assignments = vec![0, 0, 1, 1, -1, 0];
        let d2 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let dates = vec![day(), d2, day(), day(), day(), day()];
        let inp = FitInput { dates: Some(&dates), ..input(&texts, &emb) };
        let p = FitParams::default();
        let m = build_model(&inp, &p, &assignments).unwrap();
        assert_eq!(m.topics.iter().map(|t| t.id).collect::<Vec<_>>(), vec![-1, 0, 1]);
        assert_eq!(m.next_topic_id, 2);
        assert_eq!(m.n_documents, 6);
        assert_eq!(m.date_range, Some((d2, day())));
        let t0 = m.topic(0).unwrap();
        assert_eq!(t0.size, 3);
        assert_eq!(t0.keywords[0].word, "refund");
        assert_eq!(t0.label, keyword_label(0, &t0.keywords));
        assert!(t0.samples.len() == 3 && t0.samples.iter().all(|s| s.contains("refund")));
        assert_eq!(
            t0.daily_counts,
            vec![DailyCount { date: d2, count: 1 }, DailyCount { date: day(), count: 2 }]
        );
        let norm: f32 = t0.embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        // "card" and "declined" tie (same counts): vocabulary order decides.
        assert_eq!(m.topic(1).unwrap().keywords[0].word, "card");
        assert!(m.topic(-1).unwrap().is_outlier());
        for t in &m.topics {
            assert!(t.term_counts.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(t.term_counts.iter().all(|&(i, _)| (i as usize) < m.vocabulary.len()));
        }
        assert!(m.vocabulary.windows(2).all(|w| w[0] < w[1]));
        m.validate().unwrap();
    }
}
