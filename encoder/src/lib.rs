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

mod cpu;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
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
}

/// A BERT-family sentence encoder producing L2-normalised, mean-pooled embeddings.
pub struct LocalEncoder {
    backend: Backend,
    tokenizer: Tokenizer,
    device: Device,
    dim: usize,
    name: String,
    options: EncoderOptions,
}

impl std::fmt::Debug for LocalEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEncoder")
            .field("name", &self.name)
            .field("dim", &self.dim)
            .field("device", &topic_engine::device::name(&self.device))
            .field("backend", &self.backend_name())
            .field("options", &self.options)
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
        let max_tokens = options.max_tokens.min(max_positions);

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
            match cpu::CpuBert::load(&config, &weights, &weights_path.display().to_string())? {
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
                Backend::Candle(BertModel::load(vb, &config).map_err(|e| {
                    EngineError::Encoder(format!(
                        "{}: not a BERT model: {e}",
                        weights_path.display()
                    ))
                })?)
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
        };
        tracing::info!(model = %encoder.name, dim, max_tokens, batch_size = options.batch_size,
            device = %topic_engine::device::name(device), backend = encoder.backend_name(),
            "loaded local encoder");
        Ok(encoder)
    }

    /// Which forward pass runs: `"cpu-packed"` (the encoder's own) or `"candle"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Cpu(_) => "cpu-packed",
            Backend::Candle(_) => "candle",
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

    /// Embeds `texts` in order: a `texts.len() × dim()` matrix of unit-length rows.
    pub fn encode(&self, texts: &[String]) -> Result<Matrix> {
        let n = texts.len();
        let mut out = Matrix::zeros(n, self.dim);
        if n == 0 {
            return Ok(out);
        }
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
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
            Backend::Candle(model) => {
                for chunk in order.chunks(self.options.batch_size) {
                    let rows = self.encode_batch(model, chunk.iter().map(|&i| &encodings[i]))?;
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
        model: &BertModel,
        batch: impl Iterator<Item = &'a tokenizers::Encoding>,
    ) -> Result<Vec<f32>> {
        let batch: Vec<&tokenizers::Encoding> = batch.collect();
        let b = batch.len();
        let t = batch.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0u32; b * t];
        let mut mask = vec![0u32; b * t];
        for (r, enc) in batch.iter().enumerate() {
            let len = enc.get_ids().len();
            ids[r * t..r * t + len].copy_from_slice(enc.get_ids());
            mask[r * t..r * t + len].copy_from_slice(enc.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (b, t), &self.device)?;
        let mask = Tensor::from_vec(mask, (b, t), &self.device)?;
        let type_ids = ids.zeros_like()?;
        let hidden = model.forward(&ids, &type_ids, Some(&mask))?; // b × t × h

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

    #[test]
    fn hub_snapshot_layout() {
        let dir = hub_snapshot_dir(Path::new("/c"), "org/name", "abc");
        assert_eq!(dir, PathBuf::from("/c/models--org--name/snapshots/abc"));
    }
}
