//! Parameters of every stage, with BERTopic's / umap-learn's / hdbscan's defaults.
//!
//! Construct with `Default` and override fields; call [`FitParams::check`] (done by
//! [`crate::pipeline::fit`]) to reject values that can never work. We never clamp silently.

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::outliers::OutlierMode;
use crate::text::TextOptions;

/// How many topics to keep after clustering (BERTopic's `nr_topics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum NrTopics {
    /// Keep every HDBSCAN cluster (BERTopic's `nr_topics=None`).
    #[default]
    None,
    /// Merge topics that cluster together (HDBSCAN over topic embeddings), as BERTopic's "auto".
    Auto,
    /// Merge the most similar topics (average linkage on the topic embeddings) until this many
    /// remain, counting the outlier topic `-1` as BERTopic does: with outliers, `N − 1` topics +
    /// `-1`. Nothing is merged when `N` ≥ the current count.
    Fixed(usize),
}

impl std::str::FromStr for NrTopics {
    type Err = EngineError;
    /// Parses `none`, `auto` or a positive integer.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Ok(NrTopics::None),
            "auto" => Ok(NrTopics::Auto),
            n => match n.parse::<usize>() {
                Ok(v) if v >= 1 => Ok(NrTopics::Fixed(v)),
                _ => Err(EngineError::param(
                    "nr_topics",
                    format!("expected none, auto or a positive integer, got {s:?}"),
                )),
            },
        }
    }
}

impl std::fmt::Display for NrTopics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NrTopics::None => f.write_str("none"),
            NrTopics::Auto => f.write_str("auto"),
            NrTopics::Fixed(n) => write!(f, "{n}"),
        }
    }
}

/// Which kNN algorithm to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KnnMethod {
    /// Exact below [`FitParams::exact_knn_max`] points, approximate above.
    #[default]
    Auto,
    /// Exact cosine kNN by tiled matrix products on the candle device.
    Exact,
    /// Approximate cosine kNN (NN-descent), recall ≥ 0.95 against exact.
    Approximate,
}

/// Everything `fit` needs. Defaults are BERTopic 0.17's
/// (`BERTopic(min_topic_size=10, top_n_words=10)` with its default UMAP and HDBSCAN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FitParams {
    /// UMAP `n_neighbors` (default 15); also k of the kNN graph.
    pub n_neighbors: usize,
    /// UMAP output dimension (default 5).
    pub n_components: usize,
    /// UMAP `min_dist` (default 0.0).
    pub min_dist: f32,
    /// UMAP `spread` (default 1.0).
    pub spread: f32,
    /// UMAP epochs; `None` = umap-learn's rule (500 if n ≤ 10,000 else 200).
    pub n_epochs: Option<usize>,
    /// UMAP negative samples per positive edge (default 5).
    pub negative_sample_rate: usize,
    /// HDBSCAN `min_cluster_size` = BERTopic `min_topic_size` (default 10).
    pub min_topic_size: usize,
    /// HDBSCAN `min_samples`; `None` = `min_topic_size` (hdbscan's default).
    pub min_samples: Option<usize>,
    /// Topic reduction after clustering (default none).
    pub nr_topics: NrTopics,
    /// Keywords kept per topic (default 10).
    pub top_n_words: usize,
    /// Representative sample messages kept per topic (default 5).
    pub n_samples: usize,
    /// Member embeddings sampled per topic (default 32; [`crate::model::TopicMemory`]): a fit
    /// keeps this many of each topic's documents, and a merged topic this many of the documents
    /// it was born with plus this many of those folded in later (at most 2 × 32 × dim `f16`
    /// values, 48 KiB a topic at 384 dimensions). What the member rule of [`crate::merge::merge`]
    /// compares to decide whether a day topic is a known topic; 0 keeps none (merges then use
    /// the centroid rule only). 16, 24 and 32 were measured on the drift benchmark
    /// (benches/RESULTS.md): 32 was the only one at or above BERTopic's id stability on all four
    /// CLINC150 seeds, by one or two ids.
    pub n_members: usize,
    /// kNN algorithm (default auto).
    pub knn: KnnMethod,
    /// Largest input for which `KnnMethod::Auto` uses exact kNN (default 4,096, umap-learn's
    /// switch to NN-descent; on CLINC150's 22.5k × 384 NN-descent is ~5× faster than exact
    /// on 2 CPU cores at recall 0.98, while on a GPU exact kNN pays off to larger sizes).
    pub exact_knn_max: usize,
    /// Remove scikit-learn's English stop words (default true, as `CountVectorizer(stop_words="english")`).
    pub english_stop_words: bool,
    /// Seed for every random step (default 42).
    pub seed: u64,
    /// Text handling (issue 21): tokenisation and stop words per language, small talk left
    /// out of topic discovery, personal data masked in samples and keywords. Default
    /// [`TextOptions::default`] (Unicode mode); a model file written before this field existed
    /// loads with [`TextOptions::legacy`], the behaviour it was fitted with.
    /// With [`TextOptions::bertopic_compat`], `english_stop_words` applies as before.
    pub text: TextOptions,
    /// Largest number of documents fitted at once (default `None`: all of them). A larger input
    /// is fitted on a seeded sample of this many, stratified by day, and the other documents
    /// are assigned by [`crate::transform`] (BERTopic's advice for large corpora); topic sizes
    /// and daily counts then cover every document, keywords and samples the fitted ones
    /// ([`crate::FitResult::sampled`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fit_documents: Option<usize>,
    /// Tenant-defined topics ([`crate::defined`]): a document whose cosine to its nearest
    /// defined topic's embedding is at or above this is that topic's zero-shot candidate
    /// (BERTopic's `zeroshot_min_similarity` rule); candidates decide which discovered topics
    /// fold into a defined topic (a member vote; also each defined topic's nearest discovered
    /// topic when its centroid reaches this) and join it themselves unless they sit in a
    /// discovered topic of another intent. Default 0.7, BERTopic's: the threshold at which
    /// topicd's defined topics beat BERTopic's zero-shot topics on precision and recall on
    /// both benchmark data sets (benches/RESULTS.md, "Defined topics"). Unused without defined
    /// topics.
    #[serde(skip_serializing_if = "is_default_defined_min_similarity")]
    pub defined_min_similarity: f32,
    /// The outlier policy ([`crate::outliers`]): `keep` (default) leaves HDBSCAN's outliers
    /// as `-1`; `reduce` gives each outlier whose cosine to its nearest topic is at or above
    /// [`FitParams::outlier_threshold`] to that topic, and Transform then uses the same
    /// threshold ([`FitParams::transform_params`]).
    #[serde(skip_serializing_if = "is_keep")]
    pub outliers: OutlierMode,
    /// The cosine at or above which `outliers = reduce` moves an outlier into its nearest
    /// topic (BERTopic's `reduce_outliers(threshold=…)`); the default is Transform's
    /// ([`crate::transform::DEFAULT_OUTLIER_THRESHOLD`], measured in benches/RESULTS.md,
    /// "Outlier policy"). Unused with `keep`.
    #[serde(skip_serializing_if = "is_default_outlier_threshold")]
    pub outlier_threshold: f32,
}

fn is_keep(m: &OutlierMode) -> bool {
    *m == OutlierMode::Keep
}

fn is_default_outlier_threshold(v: &f32) -> bool {
    *v == crate::transform::DEFAULT_OUTLIER_THRESHOLD
}

/// Default of [`FitParams::defined_min_similarity`].
pub const DEFAULT_DEFINED_MIN_SIMILARITY: f32 = 0.7;

// Not written when default, so model files without defined topics stay as they were.
fn is_default_defined_min_similarity(v: &f32) -> bool {
    *v == DEFAULT_DEFINED_MIN_SIMILARITY
}

impl Default for FitParams {
    fn default() -> Self {
        Self {
            n_neighbors: 15,
            n_components: 5,
            min_dist: 0.0,
            spread: 1.0,
            n_epochs: None,
            negative_sample_rate: 5,
            min_topic_size: 10,
            min_samples: None,
            nr_topics: NrTopics::None,
            top_n_words: 10,
            n_samples: 5,
            n_members: 32,
            knn: KnnMethod::Auto,
            exact_knn_max: 4096,
            english_stop_words: true,
            seed: 42,
            text: TextOptions::default(),
            max_fit_documents: None,
            defined_min_similarity: DEFAULT_DEFINED_MIN_SIMILARITY,
            outliers: OutlierMode::Keep,
            outlier_threshold: crate::transform::DEFAULT_OUTLIER_THRESHOLD,
        }
    }
}

impl FitParams {
    /// Rejects parameters that can never work.
    pub fn check(&self) -> Result<()> {
        if let Some(max) = self.max_fit_documents {
            if max < self.min_topic_size.max(2) {
                return Err(EngineError::param(
                    "max_fit_documents",
                    format!("must be at least min_topic_size ({})", self.min_topic_size.max(2)),
                ));
            }
        }
        if self.n_neighbors < 2 {
            return Err(EngineError::param("n_neighbors", "must be at least 2"));
        }
        if self.n_components == 0 {
            return Err(EngineError::param("n_components", "must be at least 1"));
        }
        if !(self.min_dist >= 0.0 && self.min_dist.is_finite()) {
            return Err(EngineError::param("min_dist", "must be a finite number ≥ 0"));
        }
        if !(self.spread > 0.0 && self.spread.is_finite()) || self.min_dist > self.spread {
            return Err(EngineError::param("spread", "must be finite, > 0 and ≥ min_dist"));
        }
        if self.min_topic_size < 2 {
            return Err(EngineError::param("min_topic_size", "must be at least 2"));
        }
        if self.min_samples == Some(0) {
            return Err(EngineError::param("min_samples", "must be at least 1"));
        }
        if self.top_n_words == 0 {
            return Err(EngineError::param("top_n_words", "must be at least 1"));
        }
        if let NrTopics::Fixed(0) = self.nr_topics {
            return Err(EngineError::param("nr_topics", "must be at least 1"));
        }
        if self.n_epochs == Some(0) {
            return Err(EngineError::param("n_epochs", "must be at least 1"));
        }
        if self.n_members > crate::model::limits::MAX_MEMBERS {
            return Err(EngineError::param(
                "n_members",
                format!("must be at most {}", crate::model::limits::MAX_MEMBERS),
            ));
        }
        if !(self.defined_min_similarity.is_finite()
            && (-1.0..=1.0).contains(&self.defined_min_similarity))
        {
            return Err(EngineError::param(
                "defined_min_similarity",
                "must be a cosine in [-1, 1]",
            ));
        }
        if !(self.outlier_threshold.is_finite() && (-1.0..=1.0).contains(&self.outlier_threshold)) {
            return Err(EngineError::param("outlier_threshold", "must be a cosine in [-1, 1]"));
        }
        self.text.validate()
    }

    /// The Transform parameters that agree with this fit's outlier policy: `base` itself under
    /// [`OutlierMode::Keep`]; under [`OutlierMode::Reduce`], `base` with
    /// [`FitParams::outlier_threshold`] as its outlier threshold, so that a training document
    /// the fit gave a topic gets it from Transform too ([`crate::outliers`]).
    pub fn transform_params(&self, base: TransformParams) -> TransformParams {
        match self.outliers {
            OutlierMode::Keep => base,
            OutlierMode::Reduce => {
                TransformParams { outlier_threshold: self.outlier_threshold, ..base }
            }
        }
    }
}

/// How [`crate::merge::merge`] decides that a day topic is a known topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MergeRule {
    /// Issue 24 (default): the cosine of topic embeddings and of the birth anchor is only a
    /// gate; the decision comes from where the topics' member samples fall (nearest-neighbour
    /// votes both ways), a day topic whose members divide between two known topics is split
    /// between them, and a topic's embedding stays near its anchor. Topics without members
    /// (models from before issue 24) are judged by the centroid rule.
    #[default]
    Members,
    /// BERTopic's `merge_models` rule (cosine of topic embeddings `≥ min_similarity`, best
    /// match) with topicd's earlier fixes (no match to `-1`, day topics that are not one topic
    /// with each other are not folded together, size-weighted embedding). Kept for the parity
    /// benchmark and for comparison.
    Centroid,
}

/// Parameters of [`crate::merge::merge`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MergeParams {
    /// Cosine similarity of topic embeddings at or above which a day topic can be a base
    /// topic (default 0.7, BERTopic's): the whole rule for [`MergeRule::Centroid`], the gate
    /// (to the topic's embedding and to its anchor) for [`MergeRule::Members`].
    pub min_similarity: f32,
    /// Topics not seen for this many days are retired (default 30).
    pub retire_after_days: u32,
    /// Days of per-topic daily counts and lineage kept (default 90).
    pub history_days: u32,
    /// Most term counts a topic keeps after a merge (default 2,000): the most frequent ones, so
    /// the stored counts of a topic seen every day (and of the outlier topic) stop growing
    /// with every new word (order numbers, names, typos) over years of merges. Keywords come
    /// from the kept counts.
    pub max_terms_per_topic: usize,
    /// The merge rule (default [`MergeRule::Members`]).
    pub rule: MergeRule,
    /// Member rule: neighbours each member looks at (default 5).
    pub member_neighbors: usize,
    /// Member rule: a day topic is inside a known topic when its members' neighbours fall there
    /// at least this fraction as often as if the two were one topic (default 0.5); the same
    /// threshold says when several day topics are one topic, and when the day topics inside a
    /// known topic cover it.
    pub min_member_overlap: f32,
    /// Member rule: a topic's embedding keeps at least this cosine to its anchor (default 0.9);
    /// a fold that would move it further is rotated back to this cosine.
    pub anchor_similarity: f32,
}

impl Default for MergeParams {
    fn default() -> Self {
        Self {
            min_similarity: 0.7,
            retire_after_days: 30,
            history_days: 90,
            max_terms_per_topic: 2_000,
            rule: MergeRule::Members,
            member_neighbors: 5,
            min_member_overlap: 0.5,
            anchor_similarity: 0.9,
        }
    }
}

impl MergeParams {
    /// Rejects parameters that can never work.
    pub fn check(&self) -> Result<()> {
        if !(self.min_similarity.is_finite() && (-1.0..=1.0).contains(&self.min_similarity)) {
            return Err(EngineError::param("min_similarity", "must be a cosine in [-1, 1]"));
        }
        if self.retire_after_days == 0 {
            return Err(EngineError::param("retire_after_days", "must be at least 1"));
        }
        if self.history_days == 0 {
            return Err(EngineError::param("history_days", "must be at least 1"));
        }
        if self.max_terms_per_topic == 0 {
            return Err(EngineError::param("max_terms_per_topic", "must be at least 1"));
        }
        if self.member_neighbors == 0 {
            return Err(EngineError::param("member_neighbors", "must be at least 1"));
        }
        if !(self.min_member_overlap.is_finite() && self.min_member_overlap > 0.0) {
            return Err(EngineError::param("min_member_overlap", "must be a number > 0"));
        }
        if !(self.anchor_similarity.is_finite() && (-1.0..=1.0).contains(&self.anchor_similarity)) {
            return Err(EngineError::param("anchor_similarity", "must be a cosine in [-1, 1]"));
        }
        Ok(())
    }
}

/// Parameters of [`crate::transform::transform`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TransformParams {
    /// A document whose best cosine to any active topic is below this is an outlier (-1).
    /// The default is measured on CLINC150 (see [`crate::transform`]).
    pub outlier_threshold: f32,
    /// BERTopic compatibility: also compare documents with the outlier topic's centroid and
    /// return -1 when it is the nearest (what BERTopic's `transform` does for merged or
    /// safetensors-loaded models). Off by default: the centroid of "everything else" attracts
    /// ordinary documents.
    pub outlier_centroid: bool,
}

impl Default for TransformParams {
    fn default() -> Self {
        Self {
            outlier_threshold: crate::transform::DEFAULT_OUTLIER_THRESHOLD,
            outlier_centroid: false,
        }
    }
}

impl TransformParams {
    /// Rejects parameters that can never work.
    pub fn check(&self) -> Result<()> {
        if !self.outlier_threshold.is_finite() {
            return Err(EngineError::param("outlier_threshold", "must be a finite number"));
        }
        Ok(())
    }
}
