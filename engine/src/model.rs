//! The [`TopicModel`] value: what a fit produces, what merge combines, what transform serves and
//! what `io` writes as `model.safetensors` + `config.json`.
//!
//! Invariants (checked by `io` on load):
//! - `topics` are sorted by ascending `id`; the outlier topic `-1`, when present, comes first.
//! - ids are unique, `< next_topic_id`, and never reused once given (merge only adds new ids).
//! - every `embedding` has length `dim`, is finite and L2-normalised (or all zero).
//! - every `term_counts` index is `< vocabulary.len()`, sorted ascending, without duplicates.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::params::{FitParams, MergeParams};

/// Topic id of outliers (documents in no topic), as in BERTopic.
pub const OUTLIER_TOPIC: i64 = -1;

/// Whether a topic is still matched and served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TopicStatus {
    /// Matched by merges and returned by transform.
    #[default]
    Active,
    /// Not seen for `retire_after_days`: kept for history, never matched or served.
    Retired,
}

/// Where a topic's label came from (only keyword labels are replaced by an LLM later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LabelSource {
    /// Made from the top keywords by the offline keyword labeler.
    #[default]
    Keywords,
    /// Written by an LLM labeler.
    Llm,
    /// Imported from a BERTopic model.
    Imported,
    /// Set by an operator.
    Custom,
}

/// One keyword of a topic with its c-TF-IDF weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyword {
    pub word: String,
    pub weight: f32,
}

/// Documents of a topic on one day (for trends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCount {
    pub date: NaiveDate,
    pub count: u64,
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    /// Stable id (`-1` = outliers).
    pub id: i64,
    /// Human-readable label.
    pub label: String,
    pub label_source: LabelSource,
    /// Top keywords, best first, with c-TF-IDF weights.
    pub keywords: Vec<Keyword>,
    /// Number of documents assigned to the topic, over all merged days.
    pub size: u64,
    /// Topic embedding: mean of its documents' input embeddings, L2-normalised.
    pub embedding: Vec<f32>,
    /// Per-topic term counts `(vocabulary index, count)`, sorted by index, so c-TF-IDF can be
    /// recomputed over merged classes.
    pub term_counts: Vec<(u32, u32)>,
    /// Up to `n_samples` representative messages, most representative first.
    pub samples: Vec<String>,
    pub first_seen: NaiveDate,
    pub last_seen: NaiveDate,
    pub status: TopicStatus,
    /// Daily document counts, ascending by date, at most `history_days` long.
    pub daily_counts: Vec<DailyCount>,
}

impl Topic {
    /// True for the outlier pseudo-topic `-1`.
    pub fn is_outlier(&self) -> bool {
        self.id == OUTLIER_TOPIC
    }
    /// True when the topic is matched and served.
    pub fn is_active(&self) -> bool {
        self.status == TopicStatus::Active
    }
}

/// A fitted or merged topic model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicModel {
    /// Name of the embedding model whose vectors the topic embeddings live in.
    pub embedding_model: String,
    /// Embedding dimension.
    pub dim: usize,
    /// Parameters of the (latest) fit.
    pub fit_params: FitParams,
    /// Parameters used by merges into this model.
    pub merge_params: MergeParams,
    /// Vocabulary for `Topic::term_counts`.
    pub vocabulary: Vec<String>,
    /// All topics, ascending by id (outliers first when present), retired ones included.
    pub topics: Vec<Topic>,
    /// The next id to give a new topic; ids are never reused.
    pub next_topic_id: i64,
    /// Documents behind the model, over all merged days.
    pub n_documents: u64,
    /// First and last day of the documents behind the model.
    pub date_range: Option<(NaiveDate, NaiveDate)>,
}

impl TopicModel {
    /// The topic with this id, if any (retired included).
    pub fn topic(&self, id: i64) -> Option<&Topic> {
        self.topics.binary_search_by_key(&id, |t| t.id).ok().map(|i| &self.topics[i])
    }
    /// Active, non-outlier topics.
    pub fn active_topics(&self) -> impl Iterator<Item = &Topic> {
        self.topics.iter().filter(|t| t.is_active() && !t.is_outlier())
    }
}

/// One document's topic from [`TopicModel::transform`](crate::transform).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TopicAssignment {
    /// Best topic, or [`OUTLIER_TOPIC`].
    pub topic_id: i64,
    /// Cosine similarity to that topic's embedding.
    pub score: f32,
}
