//! `topic-encoder`: the local sentence encoder (BERT / MiniLM on candle), the offline default
//! embedding provider. Its own crate so that a `topic-engine` user who brings embeddings does
//! not compile a transformer stack (tokenizers, candle-nn, candle-transformers, gemm).
//!
//! [`LocalEncoder`] reproduces `sentence-transformers` for BERT-family models such as
//! `all-MiniLM-L6-v2`: WordPiece tokenisation with the model's own `tokenizer.json`, truncation at
//! [`DEFAULT_MAX_TOKENS`] tokens, a BERT forward pass, mean pooling over the attention mask and L2
//! normalisation. Texts are sorted by token count and encoded in batches of similar length, then
//! put back in input order.
//!
//! On the CPU the forward pass is the encoder's own ([`cpu`]): weights in plain `f32` buffers,
//! the tokens of a batch packed without padding, `gemm` matrix products, batches spread over the
//! cores with rayon. On CUDA (or for a model the CPU path does not implement) it is candle's
//! `BertModel` on padded batches.
//!
//! Weights come from a directory holding `config.json`, `tokenizer.json` and `model.safetensors`
//! (what `scripts/fetch-model.sh` installs), or from a model-hub id (`org/name`) already present in
//! the local Hugging Face cache. The encoder itself never touches the network: the server's local
//! provider downloads a hub id into that cache first when it is allowed to.
//!
//! Any BERT-family sentence model runs: the tokenizer is whatever `tokenizer.json` describes
//! (WordPiece, or the SentencePiece Unigram of XLM-R-based multilingual models), BERT models
//! (`model_type` `bert`, e.g. multilingual-e5-small: `scripts/fetch-multilingual-model.sh`)
//! number positions from 0, and the RoBERTa family (`xlm-roberta`, `roberta`, `camembert`, e.g.
//! paraphrase-multilingual-MiniLM-L12-v2) from `pad_token_id + 1`, as `transformers` does. A
//! directory may hold sentence-transformers' `config_sentence_transformers.json`: its
//! `default_prompt_name` prompt (e.g. E5's `"query: "`) is put before every text.

mod cpu;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use candle_transformers::models::xlm_roberta::{Config as XlmRobertaConfig, XLMRobertaModel};
use rayon::prelude::*;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use topic_engine::{EngineError, Matrix, Result};

/// Longest input in tokens (special tokens included); longer texts are truncated, as
/// `sentence-transformers` does with `max_seq_length = 256` for all-MiniLM-L6-v2.
pub const DEFAULT_MAX_TOKENS: usize = 256;
/// Texts per forward pass.
pub const DEFAULT_BATCH_SIZE: usize = 64;
/// The three files a model directory must hold.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Tuning knobs of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderOptions {
    /// Truncation length in tokens (capped by the model's `max_position_embeddings`).
    pub max_tokens: usize,
    /// Texts per forward pass (≥ 1).
    pub batch_size: usize,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        Self { max_tokens: DEFAULT_MAX_TOKENS, batch_size: DEFAULT_BATCH_SIZE }
    }
}

/// Which forward pass runs the model.
enum Backend {
    /// The packed CPU forward pass ([`cpu::CpuBert`]).
    Cpu(cpu::CpuBert),
    /// candle's `BertModel` on padded batches (CUDA, or what the CPU path does not implement).
    Candle(BertModel),
    /// candle's `XLMRobertaModel` (the RoBERTa family) on batches padded with `pad` (its
    /// position ids skip padding tokens).
    CandleRoberta {
        /// The model.
        model: XLMRobertaModel,
        /// The padding token id.
        pad: u32,
    },
}

/// The `model_type`s whose position ids start at `pad_token_id + 1` (RoBERTa's numbering).
pub const ROBERTA_MODEL_TYPES: [&str; 3] = ["xlm-roberta", "roberta", "camembert"];

/// The optional sentence-transformers file naming the prompt put before every text.
pub const SENTENCE_TRANSFORMERS_CONFIG: &str = "config_sentence_transformers.json";

/// A BERT-family sentence encoder producing L2-normalised, mean-pooled embeddings.
pub struct LocalEncoder {
    backend: Backend,
    tokenizer: Tokenizer,
    device: Device,
    dim: usize,
    name: String,
    options: EncoderOptions,
    /// Put before every text (sentence-transformers' default prompt; empty for most models).
    prompt: String,
}

impl std::fmt::Debug for LocalEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEncoder")
            .field("name", &self.name)
            .field("dim", &self.dim)
            .field("device", &topic_engine::device::name(&self.device))
            .field("backend", &self.backend_name())
            .field("options", &self.options)
            .field("prompt", &self.prompt)
            .finish()
    }
}

impl LocalEncoder {
    /// Loads the encoder from `source` with default options: a directory holding
    /// [`MODEL_FILES`], or a model-hub id (`sentence-transformers/all-MiniLM-L6-v2`) present in
    /// the local Hugging Face cache (see [`resolve_source`]).
    pub fn load(source: &str, device: &Device) -> Result<Self> {
        Self::load_with(source, device, EncoderOptions::default())
    }

    /// [`LocalEncoder::load`] with explicit options.
    pub fn load_with(source: &str, device: &Device, options: EncoderOptions) -> Result<Self> {
        let dir = resolve_source(source)?;
        let name = model_name(source, &dir);
        Self::from_dir(&dir, name, device, options)
    }

    /// Loads from a directory holding [`MODEL_FILES`]; `name` is what [`LocalEncoder::name`]
    /// reports.
    pub fn from_dir(
        dir: &Path,
        name: impl Into<String>,
        device: &Device,
        options: EncoderOptions,
    ) -> Result<Self> {
        Self::from_dir_with_backend(dir, name, device, options, false)
    }

    /// [`LocalEncoder::from_dir`]; `force_candle` keeps candle's `BertModel` even on the CPU.
    fn from_dir_with_backend(
        dir: &Path,
        name: impl Into<String>,
        device: &Device,
        options: EncoderOptions,
        force_candle: bool,
    ) -> Result<Self> {
        if options.batch_size == 0 {
            return Err(EngineError::param("batch_size", "must be at least 1"));
        }
        if options.max_tokens < 2 {
            return Err(EngineError::param(
                "max_tokens",
                "must be at least 2 (room for [CLS] and [SEP])",
            ));
        }
        check_model_dir(dir)?;

        let config_bytes = read(&dir.join("config.json"))?;
        let config: BertConfig = serde_json::from_slice(&config_bytes).map_err(|e| {
            EngineError::Encoder(format!(
                "{}: not a BERT config: {e}",
                dir.join("config.json").display()
            ))
        })?;
        let config_value: serde_json::Value =
            serde_json::from_slice(&config_bytes).map_err(|e| {
                EngineError::Encoder(format!("{}: {e}", dir.join("config.json").display()))
            })?;
        let dim = config_value.get("hidden_size").and_then(|v| v.as_u64()).ok_or_else(|| {
            EngineError::Encoder(format!("{}: no hidden_size", dir.join("config.json").display()))
        })? as usize;
        let max_positions = config_value
            .get("max_position_embeddings")
            .and_then(|v| v.as_u64())
            .map(|v| v as usize)
            .unwrap_or(512);
        // The RoBERTa family numbers positions from pad_token_id + 1 (XLM-R: 2), so two of its
        // 514 position rows are never used by text.
        let roberta = config_value
            .get("model_type")
            .and_then(|v| v.as_str())
            .is_some_and(|t| ROBERTA_MODEL_TYPES.contains(&t));
        let pad_token_id = config_value.get("pad_token_id").and_then(|v| v.as_u64()).unwrap_or(1);
        let position_offset = if roberta { pad_token_id as usize + 1 } else { 0 };
        let max_tokens = options.max_tokens.min(max_positions.saturating_sub(position_offset));
        if max_tokens < 2 {
            return Err(EngineError::Encoder(format!(
                "{}: max_position_embeddings {max_positions} leaves no room for text",
                dir.join("config.json").display()
            )));
        }
        let prompt = default_prompt(dir)?;

        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| EngineError::Encoder(format!("{}: {e}", tokenizer_path.display())))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| EngineError::Encoder(format!("tokenizer truncation: {e}")))?;
        // We pad each length-sorted batch ourselves.
        tokenizer.with_padding(None);

        let weights_path = dir.join("model.safetensors");
        let weights = read(&weights_path)?;
        let mut cpu_model = None;
        if matches!(device, Device::Cpu) && !force_candle {
            match cpu::CpuBert::load(
                &config,
                position_offset,
                &weights,
                &weights_path.display().to_string(),
            )? {
                Ok(m) => cpu_model = Some(m),
                Err(cpu::Unsupported(why)) => tracing::warn!(
                    model = %weights_path.display(), %why,
                    "the CPU forward pass does not support this model; using candle's BertModel"
                ),
            }
        }
        let backend = match cpu_model {
            Some(m) => {
                if m.dim() != dim {
                    return Err(EngineError::Encoder(format!(
                        "{}: model dimension {} differs from hidden_size {dim}",
                        weights_path.display(),
                        m.dim()
                    )));
                }
                Backend::Cpu(m)
            }
            None => {
                let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, device)
                    .map_err(|e| {
                        EngineError::Encoder(format!("{}: {e}", weights_path.display()))
                    })?;
                if roberta {
                    let rcfg: XlmRobertaConfig =
                        serde_json::from_slice(&config_bytes).map_err(|e| {
                            EngineError::Encoder(format!(
                                "{}: not an XLM-R config: {e}",
                                dir.join("config.json").display()
                            ))
                        })?;
                    let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") {
                        vb
                    } else {
                        vb.pp("roberta")
                    };
                    let model = XLMRobertaModel::new(&rcfg, vb).map_err(|e| {
                        EngineError::Encoder(format!(
                            "{}: not an XLM-R model: {e}",
                            weights_path.display()
                        ))
                    })?;
                    Backend::CandleRoberta { model, pad: rcfg.pad_token_id }
                } else {
                    Backend::Candle(BertModel::load(vb, &config).map_err(|e| {
                        EngineError::Encoder(format!(
                            "{}: not a BERT model: {e}",
                            weights_path.display()
                        ))
                    })?)
                }
            }
        };

        let name = name.into();
        let encoder = Self {
            backend,
            tokenizer,
            device: device.clone(),
            dim,
            name,
            options: EncoderOptions { max_tokens, batch_size: options.batch_size },
            prompt,
        };
        tracing::info!(model = %encoder.name, dim, max_tokens, batch_size = options.batch_size,
            device = %topic_engine::device::name(device), backend = encoder.backend_name(),
            prompt = %encoder.prompt, "loaded local encoder");
        Ok(encoder)
    }

    /// Which forward pass runs: `"cpu-packed"` (the encoder's own) or `"candle"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Cpu(_) => "cpu-packed",
            Backend::Candle(_) | Backend::CandleRoberta { .. } => "candle",
        }
    }

    /// Changes the number of texts per forward pass (≥ 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(EngineError::param("batch_size", "must be at least 1"));
        }
        self.options.batch_size = batch_size;
        Ok(self)
    }

    /// Embedding dimension (384 for all-MiniLM-L6-v2).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Model name: the hub id, or the directory's name for a local path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The options in force (`max_tokens` already capped by the model).
    pub fn options(&self) -> EncoderOptions {
        self.options
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Pieces in the tokenizer's vocabulary, special tokens included (30,522 for
    /// all-MiniLM-L6-v2, XLM-R's 250,002 for multilingual-e5-small).
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// The prompt put before every text (`""` unless the model directory's
    /// [`SENTENCE_TRANSFORMERS_CONFIG`] names a default prompt, e.g. E5's `"query: "`).
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Embeds `texts` in order: a `texts.len() × dim()` matrix of unit-length rows.
    pub fn encode(&self, texts: &[String]) -> Result<Matrix> {
        let n = texts.len();
        let mut out = Matrix::zeros(n, self.dim);
        if n == 0 {
            return Ok(out);
        }
        let prompted: Vec<String>;
        let inputs: Vec<&str> = if self.prompt.is_empty() {
            texts.iter().map(String::as_str).collect()
        } else {
            prompted = texts.iter().map(|t| format!("{}{t}", self.prompt)).collect();
            prompted.iter().map(String::as_str).collect()
        };
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| EngineError::Encoder(format!("tokenisation failed: {e}")))?;

        // Longest first (stable, so ties keep input order): similar lengths share a batch.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].get_ids().len()));

        match &self.backend {
            Backend::Cpu(model) => {
                // Each batch is one packed, single-threaded forward pass; batches run in
                // parallel, so a text's embedding does not depend on the thread count.
                let chunks: Vec<&[usize]> = order.chunks(self.options.batch_size).collect();
                let rows: Vec<Result<Vec<f32>>> = chunks
                    .par_iter()
                    .map(|chunk| {
                        let seqs: Vec<&[u32]> =
                            chunk.iter().map(|&i| encodings[i].get_ids()).collect();
                        let mut rows = vec![0.0f32; chunk.len() * self.dim];
                        cpu::with_workspace(|ws| model.encode_packed(&seqs, ws, &mut rows))?;
                        Ok(rows)
                    })
                    .collect();
                for (chunk, rows) in chunks.iter().zip(rows) {
                    let rows = rows?;
                    for (k, &i) in chunk.iter().enumerate() {
                        out.row_mut(i).copy_from_slice(&rows[k * self.dim..(k + 1) * self.dim]);
                    }
                }
            }
            Backend::Candle(_) | Backend::CandleRoberta { .. } => {
                for chunk in order.chunks(self.options.batch_size) {
                    let rows = self.encode_batch(chunk.iter().map(|&i| &encodings[i]))?;
                    for (k, &i) in chunk.iter().enumerate() {
                        out.row_mut(i).copy_from_slice(&rows[k * self.dim..(k + 1) * self.dim]);
                    }
                }
            }
        }
        Ok(out)
    }

    /// One padded forward pass; returns `batch × dim` pooled, normalised values, row-major.
    fn encode_batch<'a>(
        &self,
        batch: impl Iterator<Item = &'a tokenizers::Encoding>,
    ) -> Result<Vec<f32>> {
        let batch: Vec<&tokenizers::Encoding> = batch.collect();
        let b = batch.len();
        let t = batch.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let pad = match &self.backend {
            Backend::CandleRoberta { pad, .. } => *pad,
            _ => 0,
        };
        let mut ids = vec![pad; b * t];
        let mut mask = vec![0u32; b * t];
        for (r, enc) in batch.iter().enumerate() {
            let len = enc.get_ids().len();
            ids[r * t..r * t + len].copy_from_slice(enc.get_ids());
            mask[r * t..r * t + len].copy_from_slice(enc.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (b, t), &self.device)?;
        let mask = Tensor::from_vec(mask, (b, t), &self.device)?;
        let type_ids = ids.zeros_like()?;
        let hidden = match &self.backend {
            Backend::Candle(model) => model.forward(&ids, &type_ids, Some(&mask))?, // b × t × h
            Backend::CandleRoberta { model, .. } => {
                model.forward(&ids, &mask, &type_ids, None, None, None)?
            }
            Backend::Cpu(_) => {
                return Err(EngineError::Encoder(
                    "internal: padded batch on the packed CPU backend".into(),
                ))
            }
        };

        let mask_f = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // b × t × 1
        let summed = hidden.broadcast_mul(&mask_f)?.sum(1)?; // b × h
        let counts = mask_f.sum(1)?.clamp(1e-9, f64::MAX)?; // b × 1
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        let normed = mean.broadcast_div(&norms)?;
        let values = normed.flatten_all()?.to_vec1::<f32>()?;
        if values.len() != b * self.dim {
            return Err(EngineError::Encoder(format!(
                "model produced {} values for {b} texts, expected dimension {}",
                values.len(),
                self.dim
            )));
        }
        Ok(values)
    }
}

/// Where the model files for `source` live: `source` itself when it is a directory, else the
/// snapshot of hub id `source` in the local Hugging Face cache ([`hub_cache_dir`]). Errors say
/// which files are missing and how to get them.
pub fn resolve_source(source: &str) -> Result<PathBuf> {
    let source = source.trim();
    if source.is_empty() {
        return Err(EngineError::Encoder(
            "empty model source: give a directory or a model-hub id".into(),
        ));
    }
    let path = Path::new(source);
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    if looks_like_hub_id(source) {
        if let Some(dir) = cached_hub_snapshot(source) {
            return Ok(dir);
        }
        return Err(EngineError::Encoder(format!(
            "model {source:?} is neither a directory nor in the local model-hub cache ({}); \
             run scripts/fetch-model.sh or point TOPICD_EMBED_MODEL at a directory with {}",
            hub_cache_dir().display(),
            MODEL_FILES.join(", ")
        )));
    }
    Err(EngineError::Encoder(format!(
        "model directory {source:?} does not exist; run scripts/fetch-model.sh or point \
         TOPICD_EMBED_MODEL at a directory with {}",
        MODEL_FILES.join(", ")
    )))
}

/// `org/name` (or `name`) with the characters the model hub allows, and not an existing path.
pub fn looks_like_hub_id(source: &str) -> bool {
    let parts: Vec<&str> = source.split('/').collect();
    (1..=2).contains(&parts.len())
        && !source.starts_with('.')
        && parts.iter().all(|p| {
            !p.is_empty()
                && p != &"."
                && p != &".."
                && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

/// The Hugging Face hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub`.
pub fn hub_cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("HF_HUB_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("HF_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("hub");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("huggingface").join("hub")
}

/// The snapshot directory of `repo_id` at `revision` in the hub cache layout
/// (`models--org--name/snapshots/<revision>`), whether or not it exists.
pub fn hub_snapshot_dir(cache: &Path, repo_id: &str, revision: &str) -> PathBuf {
    cache.join(format!("models--{}", repo_id.replace('/', "--"))).join("snapshots").join(revision)
}

/// A snapshot of `repo_id` in the hub cache holding all [`MODEL_FILES`]: the one `refs/main`
/// names, else any complete one.
fn cached_hub_snapshot(repo_id: &str) -> Option<PathBuf> {
    let cache = hub_cache_dir();
    let repo_dir = cache.join(format!("models--{}", repo_id.replace('/', "--")));
    if let Ok(rev) = std::fs::read_to_string(repo_dir.join("refs").join("main")) {
        let dir = hub_snapshot_dir(&cache, repo_id, rev.trim());
        if has_model_files(&dir) {
            return Some(dir);
        }
    }
    let mut snaps: Vec<PathBuf> = std::fs::read_dir(repo_dir.join("snapshots"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| has_model_files(p))
        .collect();
    snaps.sort();
    snaps.pop()
}

/// Whether `dir` holds all [`MODEL_FILES`].
pub fn has_model_files(dir: &Path) -> bool {
    MODEL_FILES.iter().all(|f| dir.join(f).is_file())
}

/// The default prompt of a sentence-transformers model directory: the prompt that
/// [`SENTENCE_TRANSFORMERS_CONFIG`]'s `default_prompt_name` names in its `prompts`, else `""`
/// (no file, no default prompt). A file that does not read, or names a missing prompt, is an
/// error (the embeddings would silently differ from the model's).
pub fn default_prompt(dir: &Path) -> Result<String> {
    let path = dir.join(SENTENCE_TRANSFORMERS_CONFIG);
    if !path.is_file() {
        return Ok(String::new());
    }
    let value: serde_json::Value = serde_json::from_slice(&read(&path)?)
        .map_err(|e| EngineError::Encoder(format!("{}: {e}", path.display())))?;
    let Some(name) = value.get("default_prompt_name").and_then(|v| v.as_str()) else {
        return Ok(String::new());
    };
    value
        .get("prompts")
        .and_then(|p| p.get(name))
        .and_then(|p| p.as_str())
        .map(str::to_string)
        .ok_or_else(|| {
            EngineError::Encoder(format!(
                "{}: default_prompt_name {name:?} is not in \"prompts\"",
                path.display()
            ))
        })
}

fn check_model_dir(dir: &Path) -> Result<()> {
    let missing: Vec<&str> =
        MODEL_FILES.iter().copied().filter(|f| !dir.join(f).is_file()).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Encoder(format!(
            "{} lacks {}; run scripts/fetch-model.sh or use a directory with {}",
            dir.display(),
            missing.join(", "),
            MODEL_FILES.join(", ")
        )))
    }
}

fn model_name(source: &str, dir: &Path) -> String {
    let source = source.trim();
    if !Path::new(source).is_dir() && looks_like_hub_id(source) {
        return source.to_string();
    }
    let base = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| source.to_string());
    // The directory scripts/fetch-model.sh fills is named after the model; report the hub id so
    // stored topic models name their encoder the same way whichever way it was loaded.
    if base == "all-MiniLM-L6-v2" {
        "sentence-transformers/all-MiniLM-L6-v2".to_string()
    } else {
        base
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| EngineError::Io {
        context: format!("reading {}", path.display()),
        source,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hub_ids_are_recognised() {
        assert!(looks_like_hub_id("sentence-transformers/all-MiniLM-L6-v2"));
        assert!(looks_like_hub_id("bert-base-uncased"));
        assert!(!looks_like_hub_id("./models/x"));
        assert!(!looks_like_hub_id("/abs/path"));
        assert!(!looks_like_hub_id("a/b/c"));
        assert!(!looks_like_hub_id("a/.."));
        assert!(!looks_like_hub_id(""));
    }

    #[test]
    fn missing_model_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let err =
            LocalEncoder::load(tmp.path().to_str().unwrap(), &Device::Cpu).unwrap_err().to_string();
        assert!(err.contains("lacks config.json, tokenizer.json, model.safetensors"), "{err}");
        let err = LocalEncoder::load("/definitely/not/here", &Device::Cpu).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn cpu_forward_pass_matches_candle_bert() {
        // Fails with instructions when the weights are missing (scripts/fetch-model.sh).
        let dir = topicd_testing::locate::model_dir();
        let texts: Vec<String> = [
            "what expression would i use to say i love you if i were an italian",
            "how do i reset my pin",
            "",
            "tell me a joke about cats and dogs, please, and make it a long one with many words \
             so that this text is much longer than the others in its batch",
            "x",
            "What's the weather like in São Paulo today?",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let opts = EncoderOptions { batch_size: 4, ..Default::default() };
        let ours = LocalEncoder::from_dir(&dir, "m", &Device::Cpu, opts).unwrap();
        assert_eq!(ours.backend_name(), "cpu-packed");
        let candle =
            LocalEncoder::from_dir_with_backend(&dir, "m", &Device::Cpu, opts, true).unwrap();
        assert_eq!(candle.backend_name(), "candle");
        let a = ours.encode(&texts).unwrap();
        let b = candle.encode(&texts).unwrap();
        for (i, text) in texts.iter().enumerate() {
            let cos: f32 = a.row(i).iter().zip(b.row(i)).map(|(x, y)| x * y).sum();
            assert!(cos >= 0.99999, "text {i} {text:?}: cosine {cos}");
        }
        // Same text, different batch company and batch size: the same embedding.
        let one = ours.encode(&texts[1..2]).unwrap();
        let cos: f32 = one.row(0).iter().zip(a.row(1)).map(|(x, y)| x * y).sum();
        assert!(cos >= 0.99999, "{cos}");
        // Deterministic: encoding twice, or on one thread instead of the pool, gives
        // bit-identical rows.
        assert_eq!(ours.encode(&texts).unwrap().as_slice(), a.as_slice());
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let single = pool.install(|| ours.encode(&texts)).unwrap();
        assert_eq!(single.as_slice(), a.as_slice());
    }

    #[test]
    fn bad_weights_are_errors_not_panics() {
        let dir = topicd_testing::locate::model_dir();
        let tmp = tempfile::tempdir().unwrap();
        for f in ["config.json", "tokenizer.json"] {
            std::fs::copy(dir.join(f), tmp.path().join(f)).unwrap();
        }
        // Not a safetensors file.
        std::fs::write(tmp.path().join("model.safetensors"), b"not weights").unwrap();
        assert!(LocalEncoder::from_dir(tmp.path(), "m", &Device::Cpu, Default::default()).is_err());
        // Real weights, but a config whose sizes disagree with them.
        std::fs::copy(dir.join("model.safetensors"), tmp.path().join("model.safetensors")).unwrap();
        let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap();
        for (from, to) in [
            ("\"num_attention_heads\": 12", "\"num_attention_heads\": 7"),
            ("\"intermediate_size\": 1536", "\"intermediate_size\": 1024"),
            ("\"num_attention_heads\": 12", "\"num_attention_heads\": 0"),
            ("\"num_hidden_layers\": 6", "\"num_hidden_layers\": 1000000000000"),
            ("\"hidden_size\": 384", "\"hidden_size\": 3840000000"),
            ("\"vocab_size\": 30522", "\"vocab_size\": 30000"),
        ] {
            assert!(cfg.contains(from), "{from}");
            std::fs::write(tmp.path().join("config.json"), cfg.replace(from, to)).unwrap();
            let err = LocalEncoder::from_dir(tmp.path(), "m", &Device::Cpu, Default::default())
                .unwrap_err()
                .to_string();
            assert!(!err.is_empty());
        }
    }

    /// A tiny random RoBERTa-family sentence model in `dir` (hidden 16, 2 layers, a word-level
    /// vocabulary, weights under `roberta.`), `model_type` as given. Deterministic.
    fn tiny_roberta(dir: &Path, model_type: &str) {
        use safetensors::tensor::{Dtype, TensorView};
        let (h, i, layers, max_pos) = (16usize, 32usize, 2usize, 24usize);
        let words = [
            "<s>",
            "<pad>",
            "</s>",
            "<unk>",
            "refund",
            "parcel",
            "late",
            "my",
            "where",
            "is",
            "the",
            "password",
            "query:",
            "remboursement",
            "colis",
        ];
        let config = serde_json::json!({
            "architectures": ["XLMRobertaModel"], "model_type": model_type,
            "hidden_size": h, "num_hidden_layers": layers, "num_attention_heads": 4,
            "intermediate_size": i, "hidden_act": "gelu", "vocab_size": words.len(),
            "max_position_embeddings": max_pos, "type_vocab_size": 1, "layer_norm_eps": 1e-5,
            "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "position_embedding_type": "absolute", "initializer_range": 0.02
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let vocab: serde_json::Map<String, serde_json::Value> =
            words.iter().enumerate().map(|(k, w)| (w.to_string(), k.into())).collect();
        let added: Vec<serde_json::Value> = (0..4)
            .map(|k| {
                serde_json::json!({"id": k, "content": words[k], "single_word": false,
                    "lstrip": false, "rstrip": false, "normalized": false, "special": true})
            })
            .collect();
        let tokenizer = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null,
            "added_tokens": added,
            "normalizer": {"type": "Lowercase"},
            "pre_tokenizer": {"type": "WhitespaceSplit"},
            "post_processor": {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 0}}],
                "special_tokens": {
                    "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                    "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
            "decoder": null,
            "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}
        });
        std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();

        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut random = |n: usize, scale: f32, base: f32| -> Vec<u8> {
            (0..n)
                .flat_map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let u = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                    (base + scale * u).to_le_bytes()
                })
                .collect()
        };
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut add = |name: String, shape: Vec<usize>, scale: f32, base: f32| {
            let n = shape.iter().product();
            tensors.push((format!("roberta.{name}"), shape, random(n, scale, base)));
        };
        add("embeddings.word_embeddings.weight".into(), vec![words.len(), h], 1.0, 0.0);
        add("embeddings.position_embeddings.weight".into(), vec![max_pos, h], 1.0, 0.0);
        add("embeddings.token_type_embeddings.weight".into(), vec![1, h], 0.2, 0.0);
        add("embeddings.LayerNorm.weight".into(), vec![h], 0.2, 1.0);
        add("embeddings.LayerNorm.bias".into(), vec![h], 0.2, 0.0);
        for l in 0..layers {
            let p = format!("encoder.layer.{l}.");
            for (name, rows, cols) in [
                ("attention.self.query", h, h),
                ("attention.self.key", h, h),
                ("attention.self.value", h, h),
                ("attention.output.dense", h, h),
                ("intermediate.dense", i, h),
                ("output.dense", h, i),
            ] {
                add(format!("{p}{name}.weight"), vec![rows, cols], 0.6, 0.0);
                add(format!("{p}{name}.bias"), vec![rows], 0.2, 0.0);
            }
            for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
                add(format!("{p}{name}.weight"), vec![h], 0.2, 1.0);
                add(format!("{p}{name}.bias"), vec![h], 0.2, 0.0);
            }
        }
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(n, shape, bytes)| {
                (n.clone(), TensorView::new(Dtype::F32, shape.clone(), bytes).unwrap())
            })
            .collect();
        let bytes = safetensors::tensor::serialize(views, &None).unwrap();
        std::fs::write(dir.join("model.safetensors"), bytes).unwrap();
    }

    fn cosine_rows(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn roberta_family_positions_match_candle_xlm_roberta() {
        let tmp = tempfile::tempdir().unwrap();
        tiny_roberta(tmp.path(), "xlm-roberta");
        let texts: Vec<String> = [
            "where is my refund",
            "colis",
            "",
            "the parcel is late where is the parcel my parcel is late is it late",
            "remboursement colis password",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let opts = EncoderOptions { batch_size: 3, ..Default::default() };
        let ours = LocalEncoder::from_dir(tmp.path(), "tiny", &Device::Cpu, opts).unwrap();
        assert_eq!(ours.backend_name(), "cpu-packed");
        // 24 positions, numbered from pad_token_id + 1 = 2: at most 22 tokens.
        assert_eq!(ours.options().max_tokens, 22);
        let candle =
            LocalEncoder::from_dir_with_backend(tmp.path(), "tiny", &Device::Cpu, opts, true)
                .unwrap();
        assert_eq!(candle.backend_name(), "candle");
        let a = ours.encode(&texts).unwrap();
        let b = candle.encode(&texts).unwrap();
        for (k, text) in texts.iter().enumerate() {
            let cos = cosine_rows(a.row(k), b.row(k));
            assert!(cos >= 0.99999, "text {k} {text:?}: cosine {cos}");
        }
        // A text longer than the positions is truncated, not an error.
        let long = vec!["refund ".repeat(40)];
        assert_eq!(ours.encode(&long).unwrap().rows(), 1);
        assert_eq!(candle.encode(&long).unwrap().rows(), 1);

        // The same weights read as BERT (positions from 0) give other embeddings: the offset
        // is in effect.
        let bert = tempfile::tempdir().unwrap();
        tiny_roberta(bert.path(), "bert");
        let as_bert = LocalEncoder::from_dir(bert.path(), "tiny", &Device::Cpu, opts).unwrap();
        assert_eq!(as_bert.options().max_tokens, 24);
        let c = as_bert.encode(&texts[..1]).unwrap();
        assert!(cosine_rows(c.row(0), a.row(0)) < 0.9999);
    }

    #[test]
    fn default_prompt_goes_before_every_text() {
        let tmp = tempfile::tempdir().unwrap();
        tiny_roberta(tmp.path(), "xlm-roberta");
        let plain =
            LocalEncoder::from_dir(tmp.path(), "t", &Device::Cpu, Default::default()).unwrap();
        assert_eq!(plain.prompt(), "");
        std::fs::write(
            tmp.path().join(SENTENCE_TRANSFORMERS_CONFIG),
            r#"{"prompts": {"query": "query: ", "passage": "passage: "},
                "default_prompt_name": "query"}"#,
        )
        .unwrap();
        let prompted =
            LocalEncoder::from_dir(tmp.path(), "t", &Device::Cpu, Default::default()).unwrap();
        assert_eq!(prompted.prompt(), "query: ");
        let a = prompted.encode(&["where is my refund".to_string()]).unwrap();
        let b = plain.encode(&["query: where is my refund".to_string()]).unwrap();
        assert_eq!(a.as_slice(), b.as_slice());
        // No default prompt: nothing is added.
        std::fs::write(tmp.path().join(SENTENCE_TRANSFORMERS_CONFIG), r#"{"prompts": {}}"#)
            .unwrap();
        assert_eq!(default_prompt(tmp.path()).unwrap(), "");
        // A default that names no prompt, or a file that is not JSON: an error.
        std::fs::write(
            tmp.path().join(SENTENCE_TRANSFORMERS_CONFIG),
            r#"{"prompts": {}, "default_prompt_name": "query"}"#,
        )
        .unwrap();
        let err = default_prompt(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("\"query\" is not in \"prompts\""), "{err}");
        std::fs::write(tmp.path().join(SENTENCE_TRANSFORMERS_CONFIG), "{").unwrap();
        assert!(LocalEncoder::from_dir(tmp.path(), "t", &Device::Cpu, Default::default()).is_err());
    }

    #[test]
    fn hub_snapshot_layout() {
        let dir = hub_snapshot_dir(Path::new("/c"), "org/name", "abc");
        assert_eq!(dir, PathBuf::from("/c/models--org--name/snapshots/abc"));
    }
}
