//! Import of a model saved by Python BERTopic with
//! `save(path, serialization="safetensors", save_ctfidf=True)`, so a team running the Python
//! stack migrates without refitting.
//!
//! Files read: `topics.json` (sizes, labels, custom labels, keywords, `_outliers`),
//! `topic_embeddings.safetensors` (`topic_embeddings`, one row per topic in ascending id order,
//! `-1` first when present), `config.json` (`top_n_words`, `min_topic_size`, `nr_topics`,
//! `embedding_model`) and, when present, `ctfidf.safetensors` (the c-TF-IDF matrix as CSR
//! `indptr`/`indices`/`data`/`shape` plus the idf `diag`) with `ctfidf_config.json` (the
//! vocabulary).
//!
//! Mapping:
//! - Topic ids, sizes and keywords (`topic_representations`, without BERTopic's `("", 1e-5)`
//!   padding) are kept as they are; labels are the custom labels when set, else BERTopic's
//!   `"{id}_{w1}_{w2}_{w3}_{w4}"` labels (`LabelSource::Imported`).
//! - Topic embeddings are L2-normalised (BERTopic stores plain means; cosines are unchanged).
//! - **Term counts** are recovered from the c-TF-IDF rows: with `reduce_frequent_words` and
//!   `bm25_weighting` off, `data / diag` is each class's term frequency `count / tokens`, so the
//!   class's token total is the smallest multiplier that makes every frequency an integer
//!   (searched from `1 / min frequency`); the exact integer counts follow. When no exact
//!   multiplier exists (e.g. other c-TF-IDF options), counts are approximated as
//!   `round(tf × 1000)` and a warning is logged. Without `ctfidf.safetensors` topics have no term
//!   counts: merges keep their imported keywords.
//! - Dates: BERTopic keeps none, so every topic's `first_seen`/`last_seen` is the import day and
//!   no daily counts are invented; samples are empty (BERTopic's safetensors files have none).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::Deserialize;

use crate::error::{EngineError, Result};
use crate::model::{Keyword, LabelSource, Topic, TopicModel, TopicStatus, OUTLIER_TOPIC};
use crate::params::{FitParams, MergeParams, NrTopics};

use super::read_bounded;

/// Largest JSON file read from a BERTopic directory.
const MAX_JSON_BYTES: u64 = 1 << 30;
/// Largest safetensors file read from a BERTopic directory.
const MAX_TENSOR_BYTES: u64 = 8 << 30;
/// Name used when BERTopic's `config.json` does not say which embedding model was used.
pub const UNKNOWN_EMBEDDING_MODEL: &str = "unknown";

#[derive(Deserialize)]
struct TopicsJson {
    topic_representations: BTreeMap<String, Vec<(String, f64)>>,
    topic_sizes: BTreeMap<String, u64>,
    topic_labels: BTreeMap<String, String>,
    #[serde(default)]
    custom_labels: Option<Vec<String>>,
    #[serde(rename = "_outliers")]
    outliers: u8,
}

#[derive(Deserialize)]
struct ConfigJson {
    #[serde(default)]
    top_n_words: Option<usize>,
    #[serde(default)]
    min_topic_size: Option<usize>,
    #[serde(default)]
    nr_topics: Option<serde_json::Value>,
    #[serde(default)]
    embedding_model: Option<String>,
}

#[derive(Deserialize)]
struct CtfidfConfig {
    ctfidf_model: CtfidfOptions,
    vectorizer_model: VectorizerConfig,
}

#[derive(Deserialize)]
struct CtfidfOptions {
    #[serde(default)]
    bm25_weighting: bool,
    #[serde(default)]
    reduce_frequent_words: bool,
}

#[derive(Deserialize)]
struct VectorizerConfig {
    vocab: BTreeMap<String, u64>,
}

/// Imports a BERTopic safetensors directory, dating its topics today (UTC).
pub fn import(dir: &Path) -> Result<TopicModel> {
    import_as_of(dir, chrono::Utc::now().date_naive())
}

/// Imports a BERTopic safetensors directory; `day` becomes every topic's first and last day.
pub fn import_as_of(dir: &Path, day: NaiveDate) -> Result<TopicModel> {
    let json = |name: &str| -> Result<Vec<u8>> { read_bounded(&dir.join(name), MAX_JSON_BYTES) };
    let topics_json: TopicsJson = serde_json::from_slice(&json("topics.json")?)
        .map_err(|e| EngineError::model(format!("BERTopic topics.json: {e}")))?;
    let config: ConfigJson = serde_json::from_slice(&json("config.json")?)
        .map_err(|e| EngineError::model(format!("BERTopic config.json: {e}")))?;

    // Topic ids in ascending order; BERTopic's rows follow this order.
    let mut ids: Vec<i64> = topics_json
        .topic_sizes
        .keys()
        .map(|k| {
            k.parse::<i64>()
                .map_err(|_| EngineError::model(format!("topic id {k:?} is not an integer")))
        })
        .collect::<Result<_>>()?;
    ids.sort_unstable();
    let has_outliers = ids.first() == Some(&OUTLIER_TOPIC);
    if u8::from(has_outliers) != topics_json.outliers {
        return Err(EngineError::model(format!(
            "topics.json: _outliers = {} but the outlier topic is {}",
            topics_json.outliers,
            if has_outliers { "present" } else { "absent" }
        )));
    }
    let n = ids.len();

    let emb_bytes = read_bounded(&dir.join("topic_embeddings.safetensors"), MAX_TENSOR_BYTES)?;
    let st = SafeTensors::deserialize(&emb_bytes)
        .map_err(|e| EngineError::model(format!("topic_embeddings.safetensors: {e:?}")))?;
    let emb = st.tensor("topic_embeddings").map_err(|_| {
        EngineError::model("topic_embeddings.safetensors has no `topic_embeddings`")
    })?;
    let (rows, dim) = match emb.shape() {
        [r, d] => (*r, *d),
        s => {
            return Err(EngineError::model(format!(
                "topic_embeddings has shape {s:?}, expected 2-D"
            )))
        }
    };
    if rows != n {
        return Err(EngineError::model(format!("topic_embeddings has {rows} rows for {n} topics")));
    }
    if dim == 0 || dim > crate::model::limits::MAX_DIM {
        return Err(EngineError::model(format!("topic embedding dimension {dim} is out of range")));
    }
    let emb = floats(&emb, "topic_embeddings")?;

    // Vocabulary + exact term counts from the c-TF-IDF matrix, when saved.
    let (vocabulary, term_counts) = if dir.join("ctfidf.safetensors").exists() {
        let cfg: CtfidfConfig = serde_json::from_slice(&json("ctfidf_config.json")?)
            .map_err(|e| EngineError::model(format!("BERTopic ctfidf_config.json: {e}")))?;
        let bytes = read_bounded(&dir.join("ctfidf.safetensors"), MAX_TENSOR_BYTES)?;
        let vocabulary = vocabulary_from(cfg.vectorizer_model.vocab)?;
        let exact = !cfg.ctfidf_model.bm25_weighting && !cfg.ctfidf_model.reduce_frequent_words;
        let counts = term_counts_from(&bytes, n, vocabulary.len(), exact)?;
        (vocabulary, counts)
    } else {
        (Vec::new(), vec![Vec::new(); n])
    };

    // BERTopic's own preprocessing: what the imported topics were fitted with.
    let mut fit_params =
        FitParams { text: crate::text::TextOptions::legacy(), ..FitParams::default() };
    if let Some(v) = config.top_n_words {
        fit_params.top_n_words = v;
    }
    if let Some(v) = config.min_topic_size {
        fit_params.min_topic_size = v;
    }
    fit_params.nr_topics = match config.nr_topics {
        None | Some(serde_json::Value::Null) => NrTopics::None,
        Some(serde_json::Value::String(s)) => s.parse()?,
        Some(serde_json::Value::Number(v)) => match v.as_u64() {
            Some(v) if v >= 1 => NrTopics::Fixed(v as usize),
            _ => {
                return Err(EngineError::model(format!(
                    "config.json: nr_topics {v} is not a positive integer"
                )))
            }
        },
        Some(v) => {
            return Err(EngineError::model(format!("config.json: unsupported nr_topics {v}")))
        }
    };
    fit_params.check().map_err(|e| EngineError::model(format!("BERTopic config.json: {e}")))?;

    if let Some(custom) = &topics_json.custom_labels {
        if custom.len() != n {
            return Err(EngineError::model(format!(
                "{} custom labels for {n} topics",
                custom.len()
            )));
        }
    }
    let mut topics = Vec::with_capacity(n);
    for (row, (&id, counts)) in ids.iter().zip(term_counts).enumerate() {
        let key = id.to_string();
        let mut embedding = emb[row * dim..(row + 1) * dim].to_vec();
        let norm = embedding.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt();
        if norm > 0.0 {
            embedding.iter_mut().for_each(|v| *v = (f64::from(*v) / norm) as f32);
        }
        let keywords = topics_json
            .topic_representations
            .get(&key)
            .map(|ws| {
                ws.iter()
                    .filter(|(w, _)| !w.is_empty())
                    .map(|(w, weight)| Keyword { word: w.clone(), weight: *weight as f32 })
                    .collect()
            })
            .unwrap_or_default();
        let (label, label_source) = match &topics_json.custom_labels {
            Some(custom) => (custom[row].clone(), LabelSource::Custom),
            None => (
                topics_json.topic_labels.get(&key).cloned().unwrap_or_else(|| key.clone()),
                LabelSource::Imported,
            ),
        };
        topics.push(Topic {
            id,
            label,
            label_source,
            label_override: None,
            keywords,
            size: topics_json.topic_sizes[&key],
            embedding,
            term_counts: counts,
            samples: Vec::new(),
            first_seen: day,
            last_seen: day,
            status: TopicStatus::Active,
            memory: Default::default(),
            faq: Default::default(),
            daily_counts: Vec::new(),
        });
    }
    let model = TopicModel {
        embedding_model: config
            .embedding_model
            .unwrap_or_else(|| UNKNOWN_EMBEDDING_MODEL.to_string()),
        dim,
        fit_params,
        merge_params: MergeParams::default(),
        vocabulary,
        next_topic_id: ids.last().map_or(0, |&m| m + 1).max(0),
        n_documents: topics.iter().map(|t| t.size).fold(0u64, u64::saturating_add),
        topics,
        date_range: Some((day, day)),
    };
    model.validate()?;
    tracing::info!(topics = n, dim, vocabulary = model.vocabulary.len(), "imported BERTopic model");
    Ok(model)
}

/// `word → index` into a vector; the indices must be exactly `0..len`.
fn vocabulary_from(vocab: BTreeMap<String, u64>) -> Result<Vec<String>> {
    let len = vocab.len();
    let mut out: Vec<Option<String>> = vec![None; len];
    for (word, i) in vocab {
        let slot = usize::try_from(i).ok().and_then(|i| out.get_mut(i));
        match slot {
            Some(s @ None) => *s = Some(word),
            _ => {
                return Err(EngineError::model(format!(
                    "vocabulary index {i} of {word:?} is out of range or repeated"
                )))
            }
        }
    }
    Ok(out.into_iter().flatten().collect())
}

fn floats(t: &TensorView<'_>, name: &str) -> Result<Vec<f32>> {
    let v: Vec<f32> = match t.dtype() {
        Dtype::F32 => {
            t.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
        }
        Dtype::F64 => t
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect(),
        d => return Err(EngineError::model(format!("`{name}` has dtype {d:?}, expected a float"))),
    };
    if v.iter().any(|x| !x.is_finite()) {
        return Err(EngineError::model(format!("`{name}` contains NaN or infinity")));
    }
    Ok(v)
}

fn floats64(t: &TensorView<'_>, name: &str) -> Result<Vec<f64>> {
    let v: Vec<f64> = match t.dtype() {
        Dtype::F32 => t
            .data()
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        Dtype::F64 => t
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        d => return Err(EngineError::model(format!("`{name}` has dtype {d:?}, expected a float"))),
    };
    if v.iter().any(|x| !x.is_finite()) {
        return Err(EngineError::model(format!("`{name}` contains NaN or infinity")));
    }
    Ok(v)
}

fn ints(t: &TensorView<'_>, name: &str) -> Result<Vec<i64>> {
    Ok(match t.dtype() {
        Dtype::I32 => t
            .data()
            .chunks_exact(4)
            .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        Dtype::I64 => t
            .data()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        d => {
            return Err(EngineError::model(format!(
                "`{name}` has dtype {d:?}, expected an integer"
            )))
        }
    })
}

/// Per-topic `(term, count)` from BERTopic's CSR c-TF-IDF matrix (see the module docs).
fn term_counts_from(
    bytes: &[u8],
    n: usize,
    n_vocab: usize,
    exact: bool,
) -> Result<Vec<Vec<(u32, u32)>>> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| EngineError::model(format!("ctfidf.safetensors: {e:?}")))?;
    let get = |name: &str| {
        st.tensor(name)
            .map_err(|_| EngineError::model(format!("ctfidf.safetensors has no `{name}`")))
    };
    let shape = ints(&get("shape")?, "shape")?;
    if shape != [n as i64, n_vocab as i64] {
        return Err(EngineError::model(format!(
            "c-TF-IDF shape {shape:?}, expected [{n}, {n_vocab}]"
        )));
    }
    let indptr = ints(&get("indptr")?, "indptr")?;
    let indices = ints(&get("indices")?, "indices")?;
    let data = floats64(&get("data")?, "data")?;
    let diag = floats64(&get("diag")?, "diag")?;
    if indptr.len() != n + 1 || indices.len() != data.len() || diag.len() != n_vocab {
        return Err(EngineError::model("c-TF-IDF arrays have inconsistent lengths"));
    }
    if indptr[0] != 0 || indptr.windows(2).any(|w| w[1] < w[0]) || indptr[n] != data.len() as i64 {
        return Err(EngineError::model("c-TF-IDF indptr is not monotone from 0 to nnz"));
    }
    let mut out = Vec::with_capacity(n);
    let mut approximated = 0usize;
    for c in 0..n {
        let (s, e) = (indptr[c] as usize, indptr[c + 1] as usize);
        let mut tf: Vec<(u32, f64)> = Vec::with_capacity(e - s);
        for k in s..e {
            let t = usize::try_from(indices[k]).ok().filter(|&t| t < n_vocab).ok_or_else(|| {
                EngineError::model(format!("c-TF-IDF term index {} out of range", indices[k]))
            })?;
            if diag[t] > 0.0 && data[k] > 0.0 {
                tf.push((t as u32, data[k] / diag[t]));
            }
        }
        tf.sort_unstable_by_key(|p| p.0);
        tf.dedup_by_key(|p| p.0);
        let total = if exact { integer_total(&tf) } else { None };
        let scale = total.unwrap_or_else(|| {
            approximated += 1;
            1000.0
        });
        out.push(
            tf.into_iter()
                .map(|(t, f)| (t, (f * scale).round().clamp(0.0, f64::from(u32::MAX)) as u32))
                .filter(|&(_, c)| c > 0)
                .collect(),
        );
    }
    if approximated > 0 {
        tracing::warn!(approximated, "BERTopic import: term counts of some topics are approximate");
    }
    Ok(out)
}

/// The smallest token total `T` for which every `tf × T` is an integer (to 1e-4), if any ≤ 10⁷.
fn integer_total(tf: &[(u32, f64)]) -> Option<f64> {
    let min = tf.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    if !(min.is_finite() && min > 0.0) {
        return None;
    }
    for k in 1..=50u32 {
        let total = (f64::from(k) / min).round();
        if !(1.0..=1e7).contains(&total) {
            return None;
        }
        if tf
            .iter()
            .all(|&(_, f)| ((f * total) - (f * total).round()).abs() < 1e-4 * (f * total).max(1.0))
        {
            return Some(total);
        }
    }
    None
}
