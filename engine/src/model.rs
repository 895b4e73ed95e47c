//! The [`TopicModel`] value: what a fit produces, what merge combines, what transform serves and
//! what `io` writes as `model.safetensors` + `config.json`.
//!
//! Invariants (checked by `io` on load):
//! - `topics` are sorted by ascending `id`; the outlier topic `-1`, when present, comes first.
//! - ids are unique, `< next_topic_id`, and never reused once given (merge only adds new ids).
//! - every `embedding` has length `dim`, is finite and L2-normalised (or all zero).
//! - every `term_counts` index is `< vocabulary.len()`, sorted ascending, without duplicates.
//! - a topic's memory ([`TopicMemory`]): the anchor, when present, has length `dim`, is finite and
//!   L2-normalised; every member has length `dim` and is finite; lineage entries are ascending by
//!   date; counts stay within [`limits`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::params::{FitParams, MergeParams};

/// Topic id of outliers (documents in no topic), as in BERTopic.
pub const OUTLIER_TOPIC: i64 = -1;

/// Topic id of small talk ("hi", "thanks!", "ok", emoji only): documents left out of topic
/// discovery when [`crate::text::TextOptions::small_talk`] is on. Never a topic of a model.
pub const SMALL_TALK_TOPIC: i64 = -2;

/// Label reported for [`SMALL_TALK_TOPIC`].
pub const SMALL_TALK_LABEL: &str = "small talk";

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
    /// A tenant-defined topic ([`crate::defined`]): the label is the name the tenant gave it,
    /// its identity across merges; never replaced by a labeller.
    Defined,
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

/// What happened to a topic in one merge (or at its birth), for the dashboard's "what changed"
/// view and for audits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineageEvent {
    /// The topic got its id from this day topic (a first day, or a day topic that matched nothing).
    Born,
    /// The whole day topic was the same topic and folded in.
    Folded,
    /// The day topic's documents divided between several known topics; this topic received its
    /// share (the day topic did not become a topic of its own).
    Split,
    /// Hand edit (issue 30): an operator merged topic `day_topic` into this one (its id answers
    /// as an alias of this topic from then on; `documents` = its size, `similarity` = the
    /// cosine of the two topic embeddings before the edit).
    MergedIn,
    /// Hand edit: an operator hid the topic (absent from snapshots and Transform answers).
    Hidden,
    /// Hand edit: an operator showed a hidden topic again.
    Unhidden,
    /// Hand edit: an operator asked for the topic to be split at the next merge where its
    /// documents divide.
    SplitRequested,
    /// Hand edit: an operator withdrew a split request.
    SplitCancelled,
    /// A merge honoured the split request: day topic `day_topic` (`documents` documents), which
    /// would have folded into this topic, became a topic of its own.
    SplitOff,
}

impl LineageEvent {
    /// True for the events an operator's edit records (they carry an [`EditAuthor`]).
    pub fn is_edit(self) -> bool {
        matches!(
            self,
            LineageEvent::MergedIn
                | LineageEvent::Hidden
                | LineageEvent::Unhidden
                | LineageEvent::SplitRequested
                | LineageEvent::SplitCancelled
        )
    }
}

/// Who made a hand edit and when (issue 30).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditAuthor {
    /// The caller's principal (token name, JWT subject, or `anonymous` without auth).
    pub by: String,
    /// When the edit was made.
    pub at: DateTime<Utc>,
}

/// One entry of a topic's lineage: which day topic went into it, when, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageEntry {
    /// Date of the merged day model (its last day).
    pub date: NaiveDate,
    /// What happened.
    pub event: LineageEvent,
    /// The topic's id in that day's model.
    pub day_topic: i64,
    /// Documents of the day topic that went into this topic (its share for [`LineageEvent::Split`]).
    pub documents: u64,
    /// Cosine between the day topic's embedding and this topic's embedding before the merge
    /// (1 at birth).
    pub similarity: f32,
    /// Share of the day topic's member sample that fell under this topic in the base model,
    /// `None` when the merge did not look at members (centroid rule, models without members).
    pub vote_share: Option<f32>,
    /// Who made the edit and when, for the hand-edit events ([`LineageEvent::is_edit`]);
    /// `None` for what merges record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<EditAuthor>,
}

/// An operator's standing edits of a topic (issue 30), kept by every merge.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TopicEdits {
    /// Topics merged into this one by hand, ascending by id: each id answers as an alias of
    /// this topic ([`TopicModel::resolve`]) and is never a topic id again; each anchor lets
    /// merges fold that topic's documents here ([`crate::merge`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<TopicAlias>,
    /// Hidden (spam, internal tests): merges still match it, so its documents keep folding
    /// into it, but snapshots, rankings and Transform never show it (Transform answers `-1`
    /// for a document nearest to it, see [`crate::transform`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// Split at the next merge where the day topics that fold into it are more than one: the
    /// best one continues it, the others become topics of their own ([`crate::merge`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub split_requested: bool,
}

/// A topic merged into another by hand: its id, and its anchor (its birth embedding, or its
/// embedding when it had none) at the time of the edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicAlias {
    /// The merged-away topic's id.
    pub id: i64,
    /// Its anchor, `dim` long, unit (or zero).
    pub anchor: Vec<f32>,
}

impl TopicEdits {
    /// True when `id` is one of the aliases.
    pub fn has_alias(&self, id: i64) -> bool {
        self.aliases.binary_search_by_key(&id, |a| a.id).is_ok()
    }
    /// True when no edit is standing (what models without edits have).
    pub fn is_empty(&self) -> bool {
        self.aliases.is_empty() && !self.hidden && !self.split_requested
    }
}

/// What merges remember of a topic besides its centroid (issue 24): what it meant when it was
/// named, bounded samples of its documents, and which day topics went into it.
///
/// No message text is kept here, only embeddings (rounded to `f16`, as saved). Models written
/// before this existed load with an empty memory; merge then falls back to the centroid rule for
/// those topics, anchors them at their embedding and starts sampling from their next merge.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TopicMemory {
    /// Birth embedding: the topic's embedding on the day it got its id. A merge never folds in a
    /// day topic far from it, and the topic's embedding never moves far from it, so a topic
    /// cannot drift away from what it meant when named. `None` only for topics of models
    /// written before issue 24 (set at their next merge).
    pub anchor: Option<Vec<f32>>,
    /// Up to [`FitParams::n_members`] embeddings of the documents the topic was born with: a
    /// bottom-k sample (the documents with the smallest sampling key, a hash of the embedding,
    /// in key order). Fixed once the topic has its id.
    pub birth_members: Vec<Vec<f32>>,
    /// Up to [`FitParams::n_members`] embeddings of the documents folded in after the birth, a
    /// bottom-k sample of all of them: the bottom-k of two such samples is the sample of the
    /// union, so it stays a uniform, deterministic draw over every merge.
    pub members: Vec<Vec<f32>>,
    /// What merges did to the topic, ascending by date: its birth and, within the last
    /// `history_days` days, every day topic folded or split into it.
    pub lineage: Vec<LineageEntry>,
    /// Standing hand edits (aliases, hidden, split requested).
    pub edits: TopicEdits,
}

impl TopicMemory {
    /// Birth and later members together: the sample the member rule votes with.
    pub fn all_members(&self) -> impl Iterator<Item = &Vec<f32>> {
        self.birth_members.iter().chain(&self.members)
    }
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    /// Stable id (`-1` = outliers).
    pub id: i64,
    /// The generated label (keywords, an LLM or an import; see `label_source`).
    pub label: String,
    /// Where `label` came from.
    pub label_source: LabelSource,
    /// A label an operator gave the topic, shown instead of `label` wherever a label is shown
    /// ([`Topic::display_label`]). Kept by merges; labellers never replace it. `None`: the
    /// generated label is shown. Valid values: see [`normalize_label_override`].
    pub label_override: Option<String>,
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
    /// Anchor, member sample and lineage, for merges (empty in models from before issue 24).
    pub memory: TopicMemory,
    /// Representative questions and the canonical question (issue 29; empty for outliers and
    /// in models from before it).
    pub faq: crate::faq::TopicFaq,
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
    /// True when an operator hid the topic ([`TopicEdits::hidden`]).
    pub fn is_hidden(&self) -> bool {
        self.memory.edits.hidden
    }
    /// Active, not the outlier topic and not hidden: what snapshots, rankings and Transform
    /// show.
    pub fn is_visible(&self) -> bool {
        self.is_active() && !self.is_outlier() && !self.is_hidden()
    }
    /// The label to show: the operator's override when there is one, else the generated label.
    pub fn display_label(&self) -> &str {
        self.label_override.as_deref().unwrap_or(&self.label)
    }
    /// True when an operator's label overrides the generated one.
    pub fn is_label_overridden(&self) -> bool {
        self.label_override.is_some()
    }
    /// True for a tenant-defined topic ([`crate::defined`]): `label` is its given name.
    pub fn is_defined(&self) -> bool {
        self.label_source == LabelSource::Defined
    }
}

/// Most characters (Unicode scalar values) in an operator's label.
pub const MAX_LABEL_OVERRIDE_CHARS: usize = 200;

/// An operator's label as stored: trimmed; `None` when it is empty (clears the override).
/// Errors ([`EngineError::InvalidInput`]) for more than [`MAX_LABEL_OVERRIDE_CHARS`]
/// characters or any control character (newlines and tabs included: a label is one line).
pub fn normalize_label_override(label: &str) -> Result<Option<String>> {
    let trimmed = label.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let n = trimmed.chars().count();
    if n > MAX_LABEL_OVERRIDE_CHARS {
        return Err(EngineError::input(format!(
            "the label has {n} characters, more than {MAX_LABEL_OVERRIDE_CHARS}; shorten it"
        )));
    }
    if let Some(c) = trimmed.chars().find(|c| c.is_control()) {
        return Err(EngineError::input(format!(
            "the label contains the control character {c:?}; a label is one line of text"
        )));
    }
    Ok(Some(trimmed.to_string()))
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

    /// Active, non-outlier topics that are not hidden ([`Topic::is_visible`]).
    pub fn visible_topics(&self) -> impl Iterator<Item = &Topic> {
        self.topics.iter().filter(|t| t.is_visible())
    }

    /// The id topic `id` answers as: `id` itself when the model has that topic, the topic it
    /// was merged into by hand when it is an alias ([`TopicEdits::aliases`]), else `None`.
    pub fn resolve(&self, id: i64) -> Option<i64> {
        if self.topic(id).is_some() {
            return Some(id);
        }
        self.topics.iter().find(|t| t.memory.edits.has_alias(id)).map(|t| t.id)
    }

    /// Up to `limit` visible topics ([`Topic::is_visible`]), largest first (ties: smaller id
    /// first): the one ranking behind the dashboard snapshot and `GetTopTopics`.
    pub fn top_topics(&self, limit: usize) -> Vec<&Topic> {
        let mut topics: Vec<&Topic> = self.visible_topics().collect();
        topics.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
        topics.truncate(limit);
        topics
    }

    /// Approximate heap size of the model in bytes (strings, embeddings, term and daily counts,
    /// plus a fixed overhead per model and per topic): what a cache of loaded models weighs.
    pub fn heap_bytes(&self) -> u64 {
        let mut b = 256u64;
        b += self.vocabulary.iter().map(|w| w.len() as u64 + 24).sum::<u64>();
        for t in &self.topics {
            b += 256;
            b += (t.embedding.len() as u64) * 4;
            b += (t.term_counts.len() as u64) * 8;
            b += t.keywords.iter().map(|k| k.word.len() as u64 + 32).sum::<u64>();
            b += t.samples.iter().map(|s| s.len() as u64 + 24).sum::<u64>();
            b += t.label.len() as u64 + (t.daily_counts.len() as u64) * 16;
            b += t.label_override.as_ref().map_or(0, |l| l.len() as u64);
            b += t.memory.anchor.as_ref().map_or(0, |a| a.len() as u64 * 4);
            b += t.memory.all_members().map(|m| m.len() as u64 * 4 + 24).sum::<u64>();
            b += (t.memory.lineage.len() as u64) * 40;
            b += t
                .faq
                .examples
                .iter()
                .map(|e| e.text.len() as u64 + e.embedding.len() as u64 * 4 + 48)
                .sum::<u64>();
            b += t.faq.question.as_ref().map_or(0, |q| q.len() as u64);
            b += t.memory.edits.aliases.iter().map(|a| a.anchor.len() as u64 * 4 + 16).sum::<u64>();
        }
        b
    }

    /// The label shown for topic `id` ([`Topic::display_label`]; `None` for unknown ids; the
    /// outlier topic has its own label when present in `topics`).
    pub fn label_of(&self, id: i64) -> Option<&str> {
        self.topic(id).map(Topic::display_label)
    }

    /// Sets (`Some`) or clears (`None`) the operator's label of topic `id`, after
    /// [`normalize_label_override`] (so `Some("")` clears too). Returns whether anything
    /// changed. Errors: [`EngineError::InvalidInput`] for an unknown id, the outlier topic or an
    /// invalid label.
    pub fn set_label_override(&mut self, id: i64, label: Option<&str>) -> Result<bool> {
        let label = match label {
            Some(l) => normalize_label_override(l)?,
            None => None,
        };
        if id == OUTLIER_TOPIC {
            return Err(EngineError::input("the outlier topic -1 has no label to override"));
        }
        let i = self
            .topics
            .binary_search_by_key(&id, |t| t.id)
            .map_err(|_| EngineError::input(format!("the model has no topic {id}")))?;
        let topic = &mut self.topics[i];
        if topic.label_override == label {
            return Ok(false);
        }
        topic.label_override = label;
        Ok(true)
    }

    /// Number of active, non-outlier topics (what transform can assign).
    pub fn n_active_topics(&self) -> usize {
        self.active_topics().count()
    }

    /// The outlier topic `-1`, if the model has one.
    pub fn outlier_topic(&self) -> Option<&Topic> {
        self.topics.first().filter(|t| t.is_outlier())
    }

    /// Checks every invariant listed in the module docs (and the bounds in [`limits`]); `io`
    /// runs it on load and save, `merge` on its inputs. Errors are [`EngineError::InvalidModel`].
    pub fn validate(&self) -> Result<()> {
        validate_model(self)
    }
}

/// Upper bounds a model must respect; a file declaring more is rejected before anything is
/// allocated for it.
pub mod limits {
    /// Largest embedding dimension accepted.
    pub const MAX_DIM: usize = 16_384;
    /// Most topics (active + retired + outlier) in one model.
    pub const MAX_TOPICS: usize = 1_000_000;
    /// Largest vocabulary.
    pub const MAX_VOCABULARY: usize = 50_000_000;
    /// Most keywords per topic.
    pub const MAX_KEYWORDS: usize = 1_000;
    /// Most samples per topic.
    pub const MAX_SAMPLES: usize = 100;
    /// Most member embeddings per topic, birth and later members each
    /// ([`super::TopicMemory`]).
    pub const MAX_MEMBERS: usize = 1_000;
    /// Most lineage entries per topic.
    pub const MAX_LINEAGE: usize = 100_000;
    /// Most FAQ examples per topic ([`crate::faq::TopicFaq`]).
    pub const MAX_FAQ_EXAMPLES: usize = 100;
    /// Tolerance on `|‖embedding‖ − 1|` for a non-zero topic embedding.
    pub const NORM_TOLERANCE: f32 = 1e-3;
}

fn validate_model(m: &TopicModel) -> Result<()> {
    let bad = |msg: String| Err(EngineError::model(msg));
    if m.dim == 0 || m.dim > limits::MAX_DIM {
        return bad(format!("dimension {} outside 1..={}", m.dim, limits::MAX_DIM));
    }
    if m.topics.len() > limits::MAX_TOPICS {
        return bad(format!("{} topics, more than {}", m.topics.len(), limits::MAX_TOPICS));
    }
    if m.vocabulary.len() > limits::MAX_VOCABULARY {
        return bad(format!(
            "vocabulary of {} words, more than {}",
            m.vocabulary.len(),
            limits::MAX_VOCABULARY
        ));
    }
    if m.next_topic_id < 0 {
        return bad(format!("next_topic_id {} is negative", m.next_topic_id));
    }
    m.fit_params.check().map_err(|e| EngineError::model(format!("fit_params: {e}")))?;
    m.merge_params.check().map_err(|e| EngineError::model(format!("merge_params: {e}")))?;
    if let Some((a, b)) = m.date_range {
        if a > b {
            return bad(format!("date range {a}..{b} ends before it starts"));
        }
    }
    let n_vocab = m.vocabulary.len();
    let mut prev: Option<i64> = None;
    for t in &m.topics {
        let id = t.id;
        if id < OUTLIER_TOPIC {
            return bad(format!("topic id {id} is below -1"));
        }
        if id >= m.next_topic_id {
            return bad(format!("topic id {id} is not below next_topic_id {}", m.next_topic_id));
        }
        if let Some(p) = prev {
            if id <= p {
                return bad(format!("topic ids not strictly ascending ({p} then {id})"));
            }
        }
        prev = Some(id);
        if t.embedding.len() != m.dim {
            return bad(format!(
                "topic {id}: embedding has {} values, expected {}",
                t.embedding.len(),
                m.dim
            ));
        }
        if t.embedding.iter().any(|v| !v.is_finite()) {
            return bad(format!("topic {id}: embedding contains NaN or infinity"));
        }
        let norm = t.embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm != 0.0 && (norm - 1.0).abs() > limits::NORM_TOLERANCE {
            return bad(format!("topic {id}: embedding norm {norm} is neither 0 nor 1"));
        }
        if t.keywords.len() > limits::MAX_KEYWORDS {
            return bad(format!(
                "topic {id}: {} keywords, more than {}",
                t.keywords.len(),
                limits::MAX_KEYWORDS
            ));
        }
        if t.keywords.iter().any(|k| !k.weight.is_finite()) {
            return bad(format!("topic {id}: keyword weight is NaN or infinite"));
        }
        if let Some(label) = &t.label_override {
            if normalize_label_override(label).ok().flatten().as_deref() != Some(label.as_str()) {
                return bad(format!(
                    "topic {id}: label override {label:?} is not a trimmed, non-empty line of at most {MAX_LABEL_OVERRIDE_CHARS} characters"
                ));
            }
        }
        if t.samples.len() > limits::MAX_SAMPLES {
            return bad(format!(
                "topic {id}: {} samples, more than {}",
                t.samples.len(),
                limits::MAX_SAMPLES
            ));
        }
        let mut prev_term: Option<u32> = None;
        for &(term, count) in &t.term_counts {
            if term as usize >= n_vocab {
                return bad(format!(
                    "topic {id}: term index {term} outside the vocabulary of {n_vocab}"
                ));
            }
            if prev_term.is_some_and(|p| term <= p) {
                return bad(format!("topic {id}: term indices not strictly ascending at {term}"));
            }
            if count == 0 {
                return bad(format!("topic {id}: zero count stored for term {term}"));
            }
            prev_term = Some(term);
        }
        if t.first_seen > t.last_seen {
            return bad(format!(
                "topic {id}: first_seen {} after last_seen {}",
                t.first_seen, t.last_seen
            ));
        }
        for w in t.daily_counts.windows(2) {
            if w[0].date >= w[1].date {
                return bad(format!(
                    "topic {id}: daily counts not strictly ascending by date at {}",
                    w[1].date
                ));
            }
        }
        validate_memory(id, &t.memory, m.dim)?;
        validate_faq(id, &t.faq, m.dim)?;
    }
    validate_aliases(m)
}

/// Aliases ([`TopicEdits::aliases`]): ascending, not `-1`, below `next_topic_id`, never a topic
/// id, never an alias of two topics.
fn validate_aliases(m: &TopicModel) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for t in &m.topics {
        let aliases = &t.memory.edits.aliases;
        if !aliases.is_empty() && t.is_outlier() {
            return Err(EngineError::model("the outlier topic -1 has aliases"));
        }
        for w in aliases.windows(2) {
            if w[0].id >= w[1].id {
                return Err(EngineError::model(format!(
                    "topic {}: aliases not strictly ascending at {}",
                    t.id, w[1].id
                )));
            }
        }
        for alias in aliases {
            if alias.anchor.len() != m.dim || alias.anchor.iter().any(|v| !v.is_finite()) {
                return Err(EngineError::model(format!(
                    "topic {}: the anchor of alias {} is not {} finite values",
                    t.id, alias.id, m.dim
                )));
            }
            let a = alias.id;
            if a < 0 || a >= m.next_topic_id || m.topic(a).is_some() || !seen.insert(a) {
                return Err(EngineError::model(format!(
                    "topic {}: alias {a} is negative, not below next_topic_id, a topic id or an alias of another topic",
                    t.id
                )));
            }
        }
    }
    Ok(())
}

fn validate_memory(id: i64, mem: &TopicMemory, dim: usize) -> Result<()> {
    let bad = |msg: String| Err(EngineError::model(msg));
    if let Some(a) = &mem.anchor {
        if a.len() != dim {
            return bad(format!("topic {id}: anchor has {} values, expected {dim}", a.len()));
        }
        if a.iter().any(|v| !v.is_finite()) {
            return bad(format!("topic {id}: anchor contains NaN or infinity"));
        }
        let norm = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm != 0.0 && (norm - 1.0).abs() > limits::NORM_TOLERANCE {
            return bad(format!("topic {id}: anchor norm {norm} is neither 0 nor 1"));
        }
    }
    for (what, rows) in [("birth members", &mem.birth_members), ("members", &mem.members)] {
        if rows.len() > limits::MAX_MEMBERS {
            return bad(format!(
                "topic {id}: {} {what}, more than {}",
                rows.len(),
                limits::MAX_MEMBERS
            ));
        }
    }
    for row in mem.all_members() {
        if row.len() != dim {
            return bad(format!("topic {id}: a member has {} values, expected {dim}", row.len()));
        }
        if row.iter().any(|v| !v.is_finite()) {
            return bad(format!("topic {id}: a member contains NaN or infinity"));
        }
    }
    if mem.lineage.len() > limits::MAX_LINEAGE {
        return bad(format!(
            "topic {id}: {} lineage entries, more than {}",
            mem.lineage.len(),
            limits::MAX_LINEAGE
        ));
    }
    for w in mem.lineage.windows(2) {
        if w[0].date > w[1].date {
            return bad(format!("topic {id}: lineage not ascending by date at {}", w[1].date));
        }
    }
    for e in &mem.lineage {
        if !e.similarity.is_finite() || e.vote_share.is_some_and(|v| !v.is_finite()) {
            return bad(format!("topic {id}: lineage entry of {} is not finite", e.date));
        }
    }
    Ok(())
}

fn validate_faq(id: i64, faq: &crate::faq::TopicFaq, dim: usize) -> Result<()> {
    let bad = |msg: String| Err(EngineError::model(msg));
    if faq.examples.len() > limits::MAX_FAQ_EXAMPLES {
        return bad(format!(
            "topic {id}: {} FAQ examples, more than {}",
            faq.examples.len(),
            limits::MAX_FAQ_EXAMPLES
        ));
    }
    for e in &faq.examples {
        if e.embedding.len() != dim {
            return bad(format!(
                "topic {id}: a FAQ example has {} values, expected {dim}",
                e.embedding.len()
            ));
        }
        if e.embedding.iter().any(|v| !v.is_finite()) {
            return bad(format!("topic {id}: a FAQ example contains NaN or infinity"));
        }
    }
    if id < 0 && !faq.is_empty() {
        return bad(format!("topic {id}: the outlier topic has no FAQ"));
    }
    Ok(())
}

/// One document's topic from [`TopicModel::transform`](crate::transform).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TopicAssignment {
    /// Best topic, or [`OUTLIER_TOPIC`].
    pub topic_id: i64,
    /// Cosine similarity to that topic's embedding.
    pub score: f32,
}
