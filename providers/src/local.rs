//! The local encoder as an [`Embedder`]: runs on the blocking thread pool, one batch job at a
//! time (the encoder already uses every core), and can fetch a model-hub id into the local cache.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use topic_encoder::{self as embed, EncoderOptions, LocalEncoder, MODEL_FILES};
use topic_engine::Matrix;

use super::config::{EmbedProvider, EmbeddingConfig};
use super::{Embedder, ProviderError};

/// Default model hub.
pub const DEFAULT_HUB_ENDPOINT: &str = "https://huggingface.co";

/// [`Embedder`] over the engine's [`LocalEncoder`].
#[derive(Debug, Clone)]
pub struct LocalEmbedder {
    encoder: Arc<LocalEncoder>,
    /// One encode job at a time: concurrent jobs would only fight over the same cores.
    gate: Arc<Semaphore>,
}

impl LocalEmbedder {
    /// Wraps a loaded encoder.
    pub fn new(encoder: LocalEncoder) -> Self {
        Self { encoder: Arc::new(encoder), gate: Arc::new(Semaphore::new(1)) }
    }

    /// Loads the encoder `cfg` names (directory or cached hub id) on the device it asks for.
    pub fn from_config(cfg: &EmbeddingConfig) -> Result<Self, ProviderError> {
        let pref: topic_engine::device::DevicePreference = cfg.device.parse()?;
        let device = topic_engine::device::select(pref)?;
        let options = EncoderOptions {
            batch_size: cfg.batch_size.unwrap_or(embed::DEFAULT_BATCH_SIZE),
            ..Default::default()
        };
        let model = cfg.model_or_default();
        let encoder = LocalEncoder::load_with(&model, &device, options)?;
        Ok(Self::new(encoder))
    }

    /// The wrapped encoder.
    pub fn encoder(&self) -> &LocalEncoder {
        &self.encoder
    }
}

#[async_trait]
impl Embedder for LocalEmbedder {
    fn model_name(&self) -> &str {
        self.encoder.name()
    }

    fn dimension(&self) -> usize {
        self.encoder.dim()
    }

    /// English-only unless the model's name says otherwise ("multilingual", LaBSE, XLM-R,
    /// distiluse, mE5, BGE-M3): sentence-transformers' English models (all-MiniLM-L6-v2, the
    /// default) carry no such marker.
    fn english_only(&self) -> bool {
        !is_multilingual_name(self.encoder.name())
            && self.encoder.vocab_size() < MULTILINGUAL_VOCAB_SIZE
    }

    fn max_batch(&self) -> usize {
        self.encoder.options().batch_size
    }

    async fn embed(&self, texts: &[String]) -> Result<Matrix, ProviderError> {
        if texts.is_empty() {
            return Ok(Matrix::zeros(0, self.dimension()));
        }
        let _permit = self
            .gate
            .acquire()
            .await
            .map_err(|_| ProviderError::Config("local encoder shut down".into()))?;
        let encoder = Arc::clone(&self.encoder);
        let texts = texts.to_vec();
        let n = texts.len();
        let started = std::time::Instant::now();
        let out = tokio::task::spawn_blocking(move || encoder.encode(&texts))
            .await
            .map_err(|e| ProviderError::Config(format!("local encoder task failed: {e}")))??;
        metrics::counter!("topicd_provider_calls_total", "provider" => "local", "op" => "embed")
            .increment(1);
        metrics::counter!("topicd_provider_texts_total", "provider" => "local").increment(n as u64);
        tracing::debug!(
            texts = n,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "local embeddings"
        );
        Ok(out)
    }
}

/// Makes sure the local model `cfg` names is on disk: a directory is used as it is; a model-hub
/// id missing from the cache is downloaded (when `allow_download`) from `$HF_ENDPOINT` (default
/// [`DEFAULT_HUB_ENDPOINT`]) with `$HF_TOKEN` if set. Returns the model directory. A no-op for
/// remote providers.
pub async fn ensure_model(cfg: &EmbeddingConfig) -> Result<Option<PathBuf>, ProviderError> {
    if cfg.provider != EmbedProvider::Local {
        return Ok(None);
    }
    let model = cfg.model_or_default();
    match embed::resolve_source(&model) {
        Ok(dir) => return Ok(Some(dir)),
        Err(e)
            if !cfg.allow_download
                || !embed::looks_like_hub_id(&model)
                || Path::new(&model).exists() =>
        {
            return Err(e.into())
        }
        Err(_) => {}
    }
    let endpoint = std::env::var("HF_ENDPOINT").ok().filter(|s| !s.trim().is_empty());
    let token = std::env::var("HF_TOKEN").ok().filter(|s| !s.trim().is_empty());
    let dir = download_hub_model(
        endpoint.as_deref().unwrap_or(DEFAULT_HUB_ENDPOINT),
        &embed::hub_cache_dir(),
        &model,
        token.as_deref(),
    )
    .await?;
    Ok(Some(dir))
}

/// Downloads [`MODEL_FILES`] of `repo_id` from `endpoint` (`<endpoint>/<id>/resolve/main/<file>`)
/// into the Hugging Face cache layout under `cache` and returns the snapshot directory.
pub async fn download_hub_model(
    endpoint: &str,
    cache: &Path,
    repo_id: &str,
    token: Option<&str>,
) -> Result<PathBuf, ProviderError> {
    if !embed::looks_like_hub_id(repo_id) {
        return Err(ProviderError::Config(format!("{repo_id:?} is not a model-hub id (org/name)")));
    }
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| ProviderError::Config(format!("building the HTTP client: {e}")))?;
    let base = endpoint.trim_end_matches('/');
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut revision = String::from("main");
    for (k, file) in MODEL_FILES.iter().enumerate() {
        let url = format!("{base}/{repo_id}/resolve/main/{file}");
        let mut req = http.get(&url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let remote = |message: String| ProviderError::Remote { provider: "model-hub", message };
        let resp =
            req.send().await.map_err(|e| remote(format!("downloading {repo_id}/{file}: {e}")))?;
        if !resp.status().is_success() {
            return Err(remote(format!(
                "downloading {repo_id}/{file}: HTTP {}",
                resp.status().as_u16()
            )));
        }
        if k == 0 {
            if let Some(rev) = resp.headers().get("x-repo-commit").and_then(|v| v.to_str().ok()) {
                if !rev.is_empty() && rev.chars().all(|c| c.is_ascii_alphanumeric()) {
                    revision = rev.to_string();
                }
            }
        }
        let body =
            resp.bytes().await.map_err(|e| remote(format!("downloading {repo_id}/{file}: {e}")))?;
        files.push((file, body.to_vec()));
    }
    let dir = embed::hub_snapshot_dir(cache, repo_id, &revision);
    let io = |what: String| move |e: std::io::Error| ProviderError::Config(format!("{what}: {e}"));
    tokio::fs::create_dir_all(&dir).await.map_err(io(format!("creating {}", dir.display())))?;
    for (file, body) in files {
        let part = dir.join(format!("{file}.part"));
        tokio::fs::write(&part, &body).await.map_err(io(format!("writing {}", part.display())))?;
        tokio::fs::rename(&part, dir.join(file))
            .await
            .map_err(io(format!("writing {}", dir.join(file).display())))?;
    }
    let refs = cache.join(format!("models--{}", repo_id.replace('/', "--"))).join("refs");
    tokio::fs::create_dir_all(&refs).await.map_err(io(format!("creating {}", refs.display())))?;
    tokio::fs::write(refs.join("main"), &revision)
        .await
        .map_err(io(format!("writing {}", refs.display())))?;
    tracing::info!(model = repo_id, dir = %dir.display(), "downloaded local encoder model");
    Ok(dir)
}

/// A tokenizer vocabulary at least this large marks a multilingual model whatever its name
/// (mBERT has 119,547 pieces, XLM-R 250,002; English BERT 30,522).
pub const MULTILINGUAL_VOCAB_SIZE: usize = 100_000;

/// Whether a sentence-model name marks a multilingual model.
pub fn is_multilingual_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["multilingual", "labse", "xlm", "distiluse", "multilingual-e5", "bge-m3", "mbert"]
        .iter()
        .any(|m| name.contains(m))
}
