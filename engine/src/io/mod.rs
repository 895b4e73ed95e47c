//! Model files: `model.safetensors` (tensors) + `config.json` (everything else), and import of
//! models saved by Python BERTopic ([`bertopic`]).
//!
//! # Format (version [`FORMAT_VERSION`])
//!
//! `config.json` (pretty JSON, fields in a fixed order, no maps):
//! `format_version`, `embedding_model`, `dim`, `fit_params`, `merge_params`, `next_topic_id`,
//! `n_documents`, `date_range`, `vocabulary` (words, indexed by the term ids), `topics` (one entry
//! per topic, ascending id: `id`, `label`, `label_source`, `label_override` (only when an
//! operator set one; files without it load with none), `status`, `size`, `first_seen`,
//! `last_seen`, `keywords` (words only), `samples`, `anchored` (whether the topic has an anchor
//! row in `topic_anchors`), and, only when an operator edited the topic (issue 30): `edits`
//! ([`TopicEdits`]: `aliases`, `hidden`, `split_requested`) and `edit_notes` (who made each
//! hand-edit lineage entry and when: `entry` = its index in the topic's lineage, `by`, `at`)).
//!
//! `model.safetensors` (little-endian, tensors in safetensors' canonical order, one metadata
//! entry `format = topicd-model`), with `T` = number of topics in `config.json`:
//!
//! | tensor                 | dtype | shape                    | content                                  |
//! |------------------------|-------|--------------------------|------------------------------------------|
//! | `topic_embeddings`     | F32   | `[T, dim]`               | row *i* = topic *i* of `config.topics`   |
//! | `keyword_weights`      | F32   | `[Σ keywords]`           | c-TF-IDF weights, topic after topic      |
//! | `term_counts.offsets`  | U64   | `[T + 1]`                | topic *i* owns entries `o[i]..o[i+1]`    |
//! | `term_counts.term`     | U32   | `[nnz]`                  | vocabulary index                         |
//! | `term_counts.count`    | U32   | `[nnz]`                  | count                                    |
//! | `daily_counts.offsets` | U64   | `[T + 1]`                | as above                                 |
//! | `daily_counts.day`     | I32   | `[m]`                    | days since 0001-01-01 (chrono, CE)       |
//! | `daily_counts.count`   | U64   | `[m]`                    | documents that day                       |
//! | `topic_anchors`        | F32   | `[A, dim]`               | anchors of the `anchored` topics, in order |
//! | `birth_members.offsets`| U64   | `[T + 1]`                | topic *i* owns rows `o[i]..o[i+1]`       |
//! | `birth_members`        | F16   | `[B, dim]`               | birth member embeddings ([`TopicMemory`]) |
//! | `members.offsets`      | U64   | `[T + 1]`                | as above                                 |
//! | `members`              | F16   | `[M, dim]`               | later member embeddings                  |
//! | `lineage.offsets`      | U64   | `[T + 1]`                | as for term counts                       |
//! | `lineage.day`          | I32   | `[L]`                    | date, days since 0001-01-01              |
//! | `lineage.event`        | U8    | `[L]`                    | 0 born, 1 folded, 2 split, hand edits: 3 merged in, 4 hidden, 5 unhidden, 6 split requested, 7 split cancelled; 8 split off |
//! | `lineage.day_topic`    | I64   | `[L]`                    | topic id in that day's model             |
//! | `lineage.documents`    | U64   | `[L]`                    | documents that went into the topic       |
//! | `lineage.similarity`   | F32   | `[L]`                    | cosine to the topic before the merge     |
//! | `lineage.vote_share`   | F32   | `[L]`                    | member vote share, NaN when not measured |
//!
//! Optional (issue 29; format version unchanged): each topic's `faq` in `config.json`
//! (`question`, `question_source`, `language`, `examples` texts; absent when it has none) and,
//! only when some topic has examples, `faq_examples.offsets` (U64 `[T + 1]`) and
//! `faq_examples` (F16 `[E, dim]`, the examples' embeddings in order). Files without them load
//! with empty FAQs.
//!
//! Version 1 (before issue 24) had no `anchored` field and only the first eight tensors; such
//! files still load, with an empty [`TopicMemory`] for every topic (merge falls back to the
//! centroid rule for them).
//!
//! Loading checks everything before building the model: the format version, every tensor's
//! dtype and exact shape against the config, offsets (monotone, in range), finite values, and
//! then [`TopicModel::validate`]. Allocations are bounded by the input's size: counts declared in
//! a file are compared with the bytes actually present before anything is allocated for them.
//! Writing is deterministic, so save → load → save is byte-identical.

pub mod bertopic;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::faq::{FaqExample, QuestionSource, TopicFaq};
use crate::model::{
    DailyCount, EditAuthor, Keyword, LabelSource, LineageEntry, LineageEvent, Topic, TopicEdits,
    TopicMemory, TopicModel, TopicStatus,
};
use crate::params::{FitParams, MergeParams};
use crate::text::TextOptions;

/// Version of the file format written by [`to_files`]; [`from_files`] reads it and
/// [`OLDEST_FORMAT_VERSION`].
pub const FORMAT_VERSION: u32 = 2;
/// The oldest version [`from_files`] still reads (1: no anchors, members nor lineage).
pub const OLDEST_FORMAT_VERSION: u32 = 1;
/// Name of the JSON part in a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// Name of the tensor part in a model directory.
pub const TENSORS_FILE: &str = "model.safetensors";
/// Largest `config.json` [`load`] reads.
pub const MAX_CONFIG_BYTES: u64 = 1 << 30;
/// Largest `model.safetensors` [`load`] reads.
pub const MAX_TENSORS_BYTES: u64 = 16 << 30;

const METADATA_KEY: &str = "format";
const METADATA_VALUE: &str = "topicd-model";

/// The two files of a model, as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    /// Content of [`CONFIG_FILE`].
    pub config_json: Vec<u8>,
    /// Content of [`TENSORS_FILE`].
    pub tensors: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    format_version: u32,
    embedding_model: String,
    dim: usize,
    #[serde(deserialize_with = "fit_params_of_file")]
    fit_params: FitParams,
    merge_params: MergeParams,
    next_topic_id: i64,
    n_documents: u64,
    date_range: Option<(NaiveDate, NaiveDate)>,
    vocabulary: Vec<String>,
    topics: Vec<TopicConfig>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicConfig {
    id: i64,
    label: String,
    label_source: LabelSource,
    /// An operator's label; absent (not `null`) when there is none, so files written before
    /// overrides existed load unchanged and a model without overrides saves byte for byte as
    /// before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label_override: Option<String>,
    status: TopicStatus,
    size: u64,
    first_seen: NaiveDate,
    last_seen: NaiveDate,
    keywords: Vec<String>,
    samples: Vec<String>,
    /// Version 2: the topic has a row in `topic_anchors`.
    #[serde(default)]
    anchored: bool,
    /// Issue 29: the topic's FAQ (its examples' embeddings are rows of `faq_examples`); absent
    /// when it has none, so older files load and models without FAQs save as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    faq: Option<FaqConfig>,
    /// Standing hand edits (issue 30); absent when there are none.
    #[serde(default, skip_serializing_if = "TopicEdits::is_empty")]
    edits: TopicEdits,
    /// Who made each hand-edit lineage entry, and when; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    edit_notes: Vec<EditNote>,
}

/// The author of lineage entry `entry` of a topic (a hand edit).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditNote {
    entry: usize,
    by: String,
    at: chrono::DateTime<chrono::Utc>,
}

/// A topic's FAQ in `config.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaqConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    question: Option<String>,
    #[serde(default)]
    question_source: QuestionSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    /// Example texts, one row of `faq_examples` each, in order.
    examples: Vec<String>,
}

/// The optional FAQ tensors (issue 29): written only when some topic has examples.
const FAQ_TENSORS: [&str; 2] = ["faq_examples.offsets", "faq_examples"];

/// `fit_params` of a model file; one written before issue 21 has no `text` and was fitted
/// with [`TextOptions::legacy`], which it keeps (an absent field would otherwise take the new
/// default).
fn fit_params_of_file<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<FitParams, D::Error> {
    let mut value = serde_json::Value::deserialize(d)?;
    if let serde_json::Value::Object(fields) = &mut value {
        if !fields.contains_key("text") {
            let legacy =
                serde_json::to_value(TextOptions::legacy()).map_err(serde::de::Error::custom)?;
            fields.insert("text".to_string(), legacy);
        }
    }
    serde_json::from_value(value).map_err(serde::de::Error::custom)
}

/// Only used to check the version before parsing the rest (so an old or future file gets a
/// version error rather than a confusing field error).
#[derive(Deserialize)]
struct VersionProbe {
    format_version: Option<serde_json::Value>,
}

/// A tensor to write: name, dtype, shape, little-endian bytes.
struct OwnedTensor {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl safetensors::View for &OwnedTensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn le_bytes<T, const N: usize>(
    values: impl IntoIterator<Item = T>,
    f: fn(T) -> [u8; N],
) -> Vec<u8> {
    values.into_iter().flat_map(f).collect()
}

/// Serialises a model (after [`TopicModel::validate`], so whatever is written can be loaded).
pub fn to_files(model: &TopicModel) -> Result<ModelFiles> {
    model.validate()?;
    let n = model.topics.len();
    let topics = model
        .topics
        .iter()
        .map(|t| TopicConfig {
            id: t.id,
            label: t.label.clone(),
            label_source: t.label_source,
            label_override: t.label_override.clone(),
            status: t.status,
            size: t.size,
            first_seen: t.first_seen,
            last_seen: t.last_seen,
            keywords: t.keywords.iter().map(|k| k.word.clone()).collect(),
            samples: t.samples.clone(),
            anchored: t.memory.anchor.is_some(),
            faq: (!t.faq.is_empty()).then(|| FaqConfig {
                question: t.faq.question.clone(),
                question_source: t.faq.question_source,
                language: t.faq.language.clone(),
                examples: t.faq.examples.iter().map(|e| e.text.clone()).collect(),
            }),
            edits: t.memory.edits.clone(),
            edit_notes: t
                .memory
                .lineage
                .iter()
                .enumerate()
                .filter_map(|(entry, e)| {
                    e.edit.as_ref().map(|a| EditNote { entry, by: a.by.clone(), at: a.at })
                })
                .collect(),
        })
        .collect();
    let config = ConfigFile {
        format_version: FORMAT_VERSION,
        embedding_model: model.embedding_model.clone(),
        dim: model.dim,
        fit_params: model.fit_params.clone(),
        merge_params: model.merge_params.clone(),
        next_topic_id: model.next_topic_id,
        n_documents: model.n_documents,
        date_range: model.date_range,
        vocabulary: model.vocabulary.clone(),
        topics,
    };
    let mut config_json = serde_json::to_vec_pretty(&config)
        .map_err(|e| EngineError::model(format!("cannot encode config.json: {e}")))?;
    config_json.push(b'\n');

    let mut tensors: Vec<(String, OwnedTensor)> = Vec::new();
    let mut add = |name: &str, dtype, shape: Vec<usize>, data: Vec<u8>| {
        tensors.push((name.to_string(), OwnedTensor { dtype, shape, data }));
    };
    add(
        "topic_embeddings",
        Dtype::F32,
        vec![n, model.dim],
        le_bytes(model.topics.iter().flat_map(|t| t.embedding.iter().copied()), f32::to_le_bytes),
    );
    let weights: Vec<f32> =
        model.topics.iter().flat_map(|t| t.keywords.iter().map(|k| k.weight)).collect();
    add("keyword_weights", Dtype::F32, vec![weights.len()], le_bytes(weights, f32::to_le_bytes));

    let offsets = |len: fn(&Topic) -> usize| -> Vec<u8> {
        let mut acc = 0u64;
        let mut o = vec![0u64];
        for t in &model.topics {
            acc += len(t) as u64;
            o.push(acc);
        }
        le_bytes(o, u64::to_le_bytes)
    };
    let nnz: usize = model.topics.iter().map(|t| t.term_counts.len()).sum();
    add("term_counts.offsets", Dtype::U64, vec![n + 1], offsets(|t| t.term_counts.len()));
    add(
        "term_counts.term",
        Dtype::U32,
        vec![nnz],
        le_bytes(
            model.topics.iter().flat_map(|t| t.term_counts.iter().map(|c| c.0)),
            u32::to_le_bytes,
        ),
    );
    add(
        "term_counts.count",
        Dtype::U32,
        vec![nnz],
        le_bytes(
            model.topics.iter().flat_map(|t| t.term_counts.iter().map(|c| c.1)),
            u32::to_le_bytes,
        ),
    );
    let m: usize = model.topics.iter().map(|t| t.daily_counts.len()).sum();
    add("daily_counts.offsets", Dtype::U64, vec![n + 1], offsets(|t| t.daily_counts.len()));
    add(
        "daily_counts.day",
        Dtype::I32,
        vec![m],
        le_bytes(
            model
                .topics
                .iter()
                .flat_map(|t| t.daily_counts.iter().map(|d| d.date.num_days_from_ce())),
            i32::to_le_bytes,
        ),
    );
    add(
        "daily_counts.count",
        Dtype::U64,
        vec![m],
        le_bytes(
            model.topics.iter().flat_map(|t| t.daily_counts.iter().map(|d| d.count)),
            u64::to_le_bytes,
        ),
    );
    let anchors: Vec<f32> =
        model.topics.iter().filter_map(|t| t.memory.anchor.as_ref()).flatten().copied().collect();
    add(
        "topic_anchors",
        Dtype::F32,
        vec![anchors.len() / model.dim, model.dim],
        le_bytes(anchors, f32::to_le_bytes),
    );
    let n_birth: usize = model.topics.iter().map(|t| t.memory.birth_members.len()).sum();
    add(
        "birth_members.offsets",
        Dtype::U64,
        vec![n + 1],
        offsets(|t| t.memory.birth_members.len()),
    );
    add(
        "birth_members",
        Dtype::F16,
        vec![n_birth, model.dim],
        le_bytes(
            model.topics.iter().flat_map(|t| t.memory.birth_members.iter().flatten().copied()),
            |v| half::f16::from_f32(v).to_le_bytes(),
        ),
    );
    let n_members: usize = model.topics.iter().map(|t| t.memory.members.len()).sum();
    add("members.offsets", Dtype::U64, vec![n + 1], offsets(|t| t.memory.members.len()));
    add(
        "members",
        Dtype::F16,
        vec![n_members, model.dim],
        le_bytes(
            model.topics.iter().flat_map(|t| t.memory.members.iter().flatten().copied()),
            |v| half::f16::from_f32(v).to_le_bytes(),
        ),
    );
    let lineage = || model.topics.iter().flat_map(|t| t.memory.lineage.iter());
    let l = lineage().count();
    add("lineage.offsets", Dtype::U64, vec![n + 1], offsets(|t| t.memory.lineage.len()));
    add(
        "lineage.day",
        Dtype::I32,
        vec![l],
        le_bytes(lineage().map(|e| e.date.num_days_from_ce()), i32::to_le_bytes),
    );
    add("lineage.event", Dtype::U8, vec![l], lineage().map(|e| event_code(e.event)).collect());
    add(
        "lineage.day_topic",
        Dtype::I64,
        vec![l],
        le_bytes(lineage().map(|e| e.day_topic), i64::to_le_bytes),
    );
    add(
        "lineage.documents",
        Dtype::U64,
        vec![l],
        le_bytes(lineage().map(|e| e.documents), u64::to_le_bytes),
    );
    add(
        "lineage.similarity",
        Dtype::F32,
        vec![l],
        le_bytes(lineage().map(|e| e.similarity), f32::to_le_bytes),
    );
    add(
        "lineage.vote_share",
        Dtype::F32,
        vec![l],
        le_bytes(lineage().map(|e| e.vote_share.unwrap_or(f32::NAN)), f32::to_le_bytes),
    );
    let n_faq: usize = model.topics.iter().map(|t| t.faq.examples.len()).sum();
    if n_faq > 0 {
        add(FAQ_TENSORS[0], Dtype::U64, vec![n + 1], offsets(|t| t.faq.examples.len()));
        add(
            FAQ_TENSORS[1],
            Dtype::F16,
            vec![n_faq, model.dim],
            le_bytes(
                model
                    .topics
                    .iter()
                    .flat_map(|t| t.faq.examples.iter().flat_map(|e| e.embedding.iter().copied())),
                |v| half::f16::from_f32(v).to_le_bytes(),
            ),
        );
    }
    // One metadata entry only: safetensors keeps metadata in a HashMap, whose order would make
    // the header (and so the file) nondeterministic with several keys.
    let metadata = Some(HashMap::from([(METADATA_KEY.to_string(), METADATA_VALUE.to_string())]));
    let tensors =
        safetensors::serialize(tensors.iter().map(|(k, v)| (k.as_str(), v)), &metadata)
            .map_err(|e| EngineError::model(format!("cannot encode model.safetensors: {e}")))?;
    Ok(ModelFiles { config_json, tensors })
}

/// Parses and validates a model from its two files. Any inconsistency is an
/// [`EngineError::InvalidModel`]; nothing here panics on hostile input.
pub fn from_files(config: &[u8], tensors: &[u8]) -> Result<TopicModel> {
    let probe: VersionProbe = serde_json::from_slice(config)
        .map_err(|e| EngineError::model(format!("config.json is not a JSON object: {e}")))?;
    let version = match probe.format_version {
        Some(serde_json::Value::Number(v))
            if v.as_u64().is_some_and(|v| {
                (u64::from(OLDEST_FORMAT_VERSION)..=u64::from(FORMAT_VERSION)).contains(&v)
            }) =>
        {
            v.as_u64().map_or(FORMAT_VERSION, |v| v as u32)
        }
        Some(v) => {
            return Err(EngineError::model(format!(
                "config.json has format_version {v}; this build reads versions \
                 {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}"
            )))
        }
        None => return Err(EngineError::model("config.json has no format_version")),
    };
    let cfg: ConfigFile = serde_json::from_slice(config)
        .map_err(|e| EngineError::model(format!("config.json: {e}")))?;
    if cfg.dim == 0 || cfg.dim > crate::model::limits::MAX_DIM {
        return Err(EngineError::model(format!(
            "dimension {} outside 1..={}",
            cfg.dim,
            crate::model::limits::MAX_DIM
        )));
    }
    let st = SafeTensors::deserialize(tensors)
        .map_err(|e| EngineError::model(format!("model.safetensors: {e:?}")))?;
    let n = cfg.topics.len();
    // Shapes are compared with what the config implies; byte lengths were checked against the
    // shapes by safetensors, so every count below is backed by real bytes.
    let emb = tensor(&st, "topic_embeddings", Dtype::F32, Some(vec![n, cfg.dim]))?;
    let n_keywords: usize = cfg.topics.iter().map(|t| t.keywords.len()).sum();
    let kw = tensor(&st, "keyword_weights", Dtype::F32, Some(vec![n_keywords]))?;
    let tc_off = tensor(&st, "term_counts.offsets", Dtype::U64, Some(vec![n + 1]))?;
    let tc_term = tensor(&st, "term_counts.term", Dtype::U32, None)?;
    let tc_count = tensor(&st, "term_counts.count", Dtype::U32, None)?;
    let dc_off = tensor(&st, "daily_counts.offsets", Dtype::U64, Some(vec![n + 1]))?;
    let dc_day = tensor(&st, "daily_counts.day", Dtype::I32, None)?;
    let dc_count = tensor(&st, "daily_counts.count", Dtype::U64, None)?;
    if version == 1 && cfg.topics.iter().any(|t| t.anchored) {
        return Err(EngineError::model("config.json: `anchored` needs format_version 2"));
    }
    let memories = if version >= 2 { read_memories(&st, &cfg)? } else { Vec::new() };
    let faqs = read_faqs(&st, &cfg)?;
    let has_faq = faqs.iter().any(|f| !f.examples.is_empty());
    let expected_names =
        if version >= 2 { 20 } else { 8 } + if has_faq { FAQ_TENSORS.len() } else { 0 };
    if st.len() != expected_names {
        return Err(EngineError::model(format!(
            "model.safetensors has {} tensors, expected {expected_names}",
            st.len()
        )));
    }
    match st_metadata_ok(tensors) {
        true => {}
        false => return Err(EngineError::model("model.safetensors is not a topicd model file")),
    }

    let emb: Vec<f32> = decode(emb.data(), f32::from_le_bytes);
    if emb.iter().any(|v| !v.is_finite()) {
        return Err(EngineError::model("topic embeddings contain NaN or infinity"));
    }
    let kw: Vec<f32> = decode(kw.data(), f32::from_le_bytes);
    let tc_off = offsets(decode(tc_off.data(), u64::from_le_bytes), "term_counts")?;
    let tc_term: Vec<u32> = decode(one_dim(&tc_term, "term_counts.term")?, u32::from_le_bytes);
    let tc_count: Vec<u32> = decode(one_dim(&tc_count, "term_counts.count")?, u32::from_le_bytes);
    check_len(&tc_off, tc_term.len(), "term_counts.term")?;
    check_len(&tc_off, tc_count.len(), "term_counts.count")?;
    let dc_off = offsets(decode(dc_off.data(), u64::from_le_bytes), "daily_counts")?;
    let dc_day: Vec<i32> = decode(one_dim(&dc_day, "daily_counts.day")?, i32::from_le_bytes);
    let dc_count: Vec<u64> = decode(one_dim(&dc_count, "daily_counts.count")?, u64::from_le_bytes);
    check_len(&dc_off, dc_day.len(), "daily_counts.day")?;
    check_len(&dc_off, dc_count.len(), "daily_counts.count")?;

    let mut topics = Vec::with_capacity(n);
    let mut kw_pos = 0usize;
    let mut memories = memories.into_iter();
    let mut faqs = faqs.into_iter();
    for (i, t) in cfg.topics.into_iter().enumerate() {
        let keywords: Vec<Keyword> = t
            .keywords
            .into_iter()
            .zip(&kw[kw_pos..])
            .map(|(word, &weight)| Keyword { word, weight })
            .collect();
        kw_pos += keywords.len();
        let term_counts =
            (tc_off[i]..tc_off[i + 1]).map(|j| (tc_term[j], tc_count[j])).collect::<Vec<_>>();
        let daily_counts = (dc_off[i]..dc_off[i + 1])
            .map(|j| {
                NaiveDate::from_num_days_from_ce_opt(dc_day[j])
                    .map(|date| DailyCount { date, count: dc_count[j] })
                    .ok_or_else(|| {
                        EngineError::model(format!(
                            "topic {}: day number {} is not a date",
                            t.id, dc_day[j]
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        topics.push(Topic {
            id: t.id,
            label: t.label,
            label_source: t.label_source,
            label_override: t.label_override,
            keywords,
            size: t.size,
            embedding: emb[i * cfg.dim..(i + 1) * cfg.dim].to_vec(),
            term_counts,
            samples: t.samples,
            first_seen: t.first_seen,
            last_seen: t.last_seen,
            status: t.status,
            daily_counts,
            memory: memories.next().unwrap_or_default(),
            faq: faqs.next().unwrap_or_default(),
        });
    }
    let model = TopicModel {
        embedding_model: cfg.embedding_model,
        dim: cfg.dim,
        fit_params: cfg.fit_params,
        merge_params: cfg.merge_params,
        vocabulary: cfg.vocabulary,
        topics,
        next_topic_id: cfg.next_topic_id,
        n_documents: cfg.n_documents,
        date_range: cfg.date_range,
    };
    model.validate()?;
    Ok(model)
}

fn event_code(e: LineageEvent) -> u8 {
    match e {
        LineageEvent::Born => 0,
        LineageEvent::Folded => 1,
        LineageEvent::Split => 2,
        LineageEvent::MergedIn => 3,
        LineageEvent::Hidden => 4,
        LineageEvent::Unhidden => 5,
        LineageEvent::SplitRequested => 6,
        LineageEvent::SplitCancelled => 7,
        LineageEvent::SplitOff => 8,
    }
}

/// The version-2 tensors (anchors, members, lineage), one [`TopicMemory`] per topic of `cfg`.
fn read_memories(st: &SafeTensors<'_>, cfg: &ConfigFile) -> Result<Vec<TopicMemory>> {
    let n = cfg.topics.len();
    let dim = cfg.dim;
    let n_anchored = cfg.topics.iter().filter(|t| t.anchored).count();
    let anchors = tensor(st, "topic_anchors", Dtype::F32, Some(vec![n_anchored, dim]))?;
    let anchors: Vec<f32> = decode(anchors.data(), f32::from_le_bytes);
    let (b_off, birth) = member_rows(st, "birth_members", n, dim)?;
    let (m_off, members) = member_rows(st, "members", n, dim)?;
    if anchors.iter().chain(&birth).chain(&members).any(|v| !v.is_finite()) {
        return Err(EngineError::model("anchors or members contain NaN or infinity"));
    }
    let l_off = tensor(st, "lineage.offsets", Dtype::U64, Some(vec![n + 1]))?;
    let l_off = offsets(decode(l_off.data(), u64::from_le_bytes), "lineage")?;
    let l = l_off.last().copied().unwrap_or(0);
    let day = tensor(st, "lineage.day", Dtype::I32, Some(vec![l]))?;
    let day: Vec<i32> = decode(day.data(), i32::from_le_bytes);
    let event = tensor(st, "lineage.event", Dtype::U8, Some(vec![l]))?;
    let event: Vec<u8> = event.data().to_vec();
    let day_topic = tensor(st, "lineage.day_topic", Dtype::I64, Some(vec![l]))?;
    let day_topic: Vec<i64> = decode(day_topic.data(), i64::from_le_bytes);
    let documents = tensor(st, "lineage.documents", Dtype::U64, Some(vec![l]))?;
    let documents: Vec<u64> = decode(documents.data(), u64::from_le_bytes);
    let similarity = tensor(st, "lineage.similarity", Dtype::F32, Some(vec![l]))?;
    let similarity: Vec<f32> = decode(similarity.data(), f32::from_le_bytes);
    let vote_share = tensor(st, "lineage.vote_share", Dtype::F32, Some(vec![l]))?;
    let vote_share: Vec<f32> = decode(vote_share.data(), f32::from_le_bytes);

    let mut out = Vec::with_capacity(n);
    let mut anchor_rows = anchors.chunks_exact(dim);
    for (i, t) in cfg.topics.iter().enumerate() {
        let anchor = if t.anchored { anchor_rows.next().map(<[f32]>::to_vec) } else { None };
        let rows = |o: &[usize], data: &[f32]| -> Vec<Vec<f32>> {
            (o[i]..o[i + 1]).map(|r| data[r * dim..(r + 1) * dim].to_vec()).collect()
        };
        let birth_members = rows(&b_off, &birth);
        let members = rows(&m_off, &members);
        let lineage = (l_off[i]..l_off[i + 1])
            .map(|j| {
                let date = NaiveDate::from_num_days_from_ce_opt(day[j]).ok_or_else(|| {
                    EngineError::model(format!(
                        "topic {}: lineage day number {} is not a date",
                        t.id, day[j]
                    ))
                })?;
                let event = match event[j] {
                    0 => LineageEvent::Born,
                    1 => LineageEvent::Folded,
                    2 => LineageEvent::Split,
                    3 => LineageEvent::MergedIn,
                    4 => LineageEvent::Hidden,
                    5 => LineageEvent::Unhidden,
                    6 => LineageEvent::SplitRequested,
                    7 => LineageEvent::SplitCancelled,
                    8 => LineageEvent::SplitOff,
                    e => {
                        return Err(EngineError::model(format!(
                            "topic {}: unknown lineage event {e}",
                            t.id
                        )))
                    }
                };
                let share = vote_share[j];
                Ok(LineageEntry {
                    date,
                    event,
                    day_topic: day_topic[j],
                    documents: documents[j],
                    similarity: similarity[j],
                    vote_share: (!share.is_nan()).then_some(share),
                    edit: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut lineage = lineage;
        for note in &t.edit_notes {
            let entry = lineage.get_mut(note.entry).ok_or_else(|| {
                EngineError::model(format!(
                    "topic {}: edit note for lineage entry {} of {}",
                    t.id,
                    note.entry,
                    l_off[i + 1] - l_off[i]
                ))
            })?;
            entry.edit = Some(EditAuthor { by: note.by.clone(), at: note.at });
        }
        out.push(TopicMemory { anchor, birth_members, members, lineage, edits: t.edits.clone() });
    }
    Ok(out)
}

/// Each topic's FAQ from `config.json` and the `faq_examples` tensors (absent: no topic has
/// examples). A topic's examples must match its rows one for one.
fn read_faqs(st: &SafeTensors<'_>, cfg: &ConfigFile) -> Result<Vec<TopicFaq>> {
    let n = cfg.topics.len();
    let dim = cfg.dim;
    let n_examples: usize =
        cfg.topics.iter().filter_map(|t| t.faq.as_ref()).map(|f| f.examples.len()).sum();
    let present = st.tensor(FAQ_TENSORS[1]).is_ok() || st.tensor(FAQ_TENSORS[0]).is_ok();
    if n_examples == 0 {
        if present {
            return Err(EngineError::model(
                "model.safetensors has FAQ example rows but config.json has no FAQ examples",
            ));
        }
        return Ok(cfg
            .topics
            .iter()
            .map(|t| {
                t.faq.as_ref().map_or_else(TopicFaq::default, |f| TopicFaq {
                    examples: Vec::new(),
                    question: f.question.clone(),
                    question_source: f.question_source,
                    language: f.language.clone(),
                })
            })
            .collect());
    }
    let (off, rows) = member_rows(st, "faq_examples", n, dim)?;
    if rows.iter().any(|v| !v.is_finite()) {
        return Err(EngineError::model("FAQ example embeddings contain NaN or infinity"));
    }
    let mut out = Vec::with_capacity(n);
    for (i, t) in cfg.topics.iter().enumerate() {
        let texts: &[String] = t.faq.as_ref().map_or(&[], |f| &f.examples);
        if off[i + 1] - off[i] != texts.len() {
            return Err(EngineError::model(format!(
                "topic {}: {} FAQ examples in config.json but {} rows in faq_examples",
                t.id,
                texts.len(),
                off[i + 1] - off[i]
            )));
        }
        let examples = texts
            .iter()
            .zip(off[i]..off[i + 1])
            .map(|(text, r)| FaqExample {
                text: text.clone(),
                embedding: rows[r * dim..(r + 1) * dim].to_vec(),
            })
            .collect();
        out.push(match &t.faq {
            Some(f) => TopicFaq {
                examples,
                question: f.question.clone(),
                question_source: f.question_source,
                language: f.language.clone(),
            },
            None => TopicFaq::default(),
        });
    }
    Ok(out)
}

/// `NAME.offsets` (`[n + 1]`, rows per topic) and `NAME` (`F16 [rows, dim]`, as `f32`).
fn member_rows(
    st: &SafeTensors<'_>,
    name: &str,
    n: usize,
    dim: usize,
) -> Result<(Vec<usize>, Vec<f32>)> {
    let off = tensor(st, &format!("{name}.offsets"), Dtype::U64, Some(vec![n + 1]))?;
    let off = offsets(decode(off.data(), u64::from_le_bytes), name)?;
    let rows = off.last().copied().unwrap_or(0);
    let data = tensor(st, name, Dtype::F16, Some(vec![rows, dim]))?;
    let data = decode(data.data(), |b: [u8; 2]| half::f16::from_le_bytes(b).to_f32());
    Ok((off, data))
}

fn st_metadata_ok(bytes: &[u8]) -> bool {
    match SafeTensors::read_metadata(bytes) {
        Ok((_, meta)) => meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get(METADATA_KEY))
            .is_some_and(|v| v == METADATA_VALUE),
        Err(_) => false,
    }
}

fn tensor<'a>(
    st: &SafeTensors<'a>,
    name: &str,
    dtype: Dtype,
    shape: Option<Vec<usize>>,
) -> Result<TensorView<'a>> {
    let t = st
        .tensor(name)
        .map_err(|_| EngineError::model(format!("model.safetensors has no tensor `{name}`")))?;
    if t.dtype() != dtype {
        return Err(EngineError::model(format!(
            "tensor `{name}` has dtype {:?}, expected {dtype:?}",
            t.dtype()
        )));
    }
    if let Some(shape) = shape {
        if t.shape() != shape.as_slice() {
            return Err(EngineError::model(format!(
                "tensor `{name}` has shape {:?}, expected {shape:?} (from config.json)",
                t.shape()
            )));
        }
    } else if t.shape().len() != 1 {
        return Err(EngineError::model(format!("tensor `{name}` must be one-dimensional")));
    }
    Ok(t)
}

fn one_dim<'a>(t: &'a TensorView<'_>, name: &str) -> Result<&'a [u8]> {
    if t.shape().len() != 1 {
        return Err(EngineError::model(format!("tensor `{name}` must be one-dimensional")));
    }
    Ok(t.data())
}

fn decode<T, const N: usize>(bytes: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            f(a)
        })
        .collect()
}

/// Offsets must start at 0 and never decrease; returned as usize.
fn offsets(raw: Vec<u64>, name: &str) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut prev = 0u64;
    for (i, &o) in raw.iter().enumerate() {
        if (i == 0 && o != 0) || o < prev {
            return Err(EngineError::model(format!("{name}.offsets are not monotone from 0")));
        }
        prev = o;
        out.push(
            usize::try_from(o)
                .map_err(|_| EngineError::model(format!("{name}.offsets overflow")))?,
        );
    }
    Ok(out)
}

fn check_len(offsets: &[usize], len: usize, name: &str) -> Result<()> {
    if offsets.last().copied() != Some(len) {
        return Err(EngineError::model(format!(
            "tensor `{name}` has {len} entries, offsets say {}",
            offsets.last().copied().unwrap_or(0)
        )));
    }
    Ok(())
}

/// Writes `model` to `dir` (created if missing) as [`CONFIG_FILE`] + [`TENSORS_FILE`]. Each file
/// is written to a temporary name, synced and renamed, so a crash never leaves a half-written
/// file under the final name (the tensors are renamed first, the config last).
pub fn save(model: &TopicModel, dir: &Path) -> Result<()> {
    let files = to_files(model)?;
    std::fs::create_dir_all(dir).map_err(|e| EngineError::Io {
        context: format!("creating {}", dir.display()),
        source: e,
    })?;
    write_atomic(&dir.join(TENSORS_FILE), &files.tensors)?;
    write_atomic(&dir.join(CONFIG_FILE), &files.config_json)?;
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = PathBuf::from(path);
    tmp.set_extension(format!(
        "{}.tmp{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    let io_err =
        |what: &str, e| EngineError::Io { context: format!("{what} {}", tmp.display()), source: e };
    let mut f = std::fs::File::create(&tmp).map_err(|e| io_err("creating", e))?;
    f.write_all(bytes).map_err(|e| io_err("writing", e))?;
    f.sync_all().map_err(|e| io_err("syncing", e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| EngineError::Io {
        context: format!("renaming {} to {}", tmp.display(), path.display()),
        source: e,
    })
}

/// Reads a model directory written by [`save`] (files larger than [`MAX_CONFIG_BYTES`] /
/// [`MAX_TENSORS_BYTES`] are refused before reading).
pub fn load(dir: &Path) -> Result<TopicModel> {
    let config = read_bounded(&dir.join(CONFIG_FILE), MAX_CONFIG_BYTES)?;
    let tensors = read_bounded(&dir.join(TENSORS_FILE), MAX_TENSORS_BYTES)?;
    from_files(&config, &tensors)
}

/// Reads a whole file, refusing files over `limit` bytes.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let io_err = |e| EngineError::Io { context: format!("reading {}", path.display()), source: e };
    let f = std::fs::File::open(path).map_err(io_err)?;
    let len = f.metadata().map_err(io_err)?.len();
    if len > limit {
        return Err(EngineError::model(format!(
            "{} is {len} bytes, more than the {limit} allowed",
            path.display()
        )));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(limit + 1).read_to_end(&mut buf).map_err(io_err)?;
    if buf.len() as u64 > limit {
        return Err(EngineError::model(format!(
            "{} grew past {limit} bytes while reading",
            path.display()
        )));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests;
