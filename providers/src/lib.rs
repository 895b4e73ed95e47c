//! Embedding and labeling providers behind two traits, so the server does not care whether
//! vectors come from the local encoder, Gemini or an OpenAI-compatible endpoint.
//!
//! [`build_embedder`] and [`build_labeler`] turn an [`EmbeddingConfig`] / [`LabelConfig`] into a
//! provider. Remote calls go through [`retry::RemoteClient`] (timeouts, bounded concurrency,
//! backoff with jitter, `Retry-After`), and count calls, retries, failures and tokens with the
//! `metrics` crate (`topicd_provider_*`).

pub mod config;
pub mod gemini;
pub mod keywords;
pub mod labels;
pub mod local;
pub mod openai;
pub mod retry;

use std::collections::BTreeMap;
use std::future::Future;

use async_trait::async_trait;
use topic_engine::Matrix;

pub use config::{
    build_embedder, build_labeler, ApiKey, EmbedProvider, EmbeddingConfig, EnvOverrides,
    LabelConfig, LabelProvider,
};
pub use keywords::{keyword_label, KeywordLabeler};
pub use labels::label_or_keywords;
pub use local::LocalEmbedder;
pub use retry::RetryPolicy;

/// Errors from a provider, after retries.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Bad configuration (missing key, unknown provider, model path not found).
    #[error("provider configuration: {0}")]
    Config(String),
    /// The remote service answered with an error we do not retry, or kept failing.
    #[error("{provider}: {message}")]
    Remote { provider: &'static str, message: String },
    /// The remote answer did not match its documented format.
    #[error("{provider}: malformed response: {message}")]
    Malformed { provider: &'static str, message: String },
    /// The request took longer than the configured timeout on every try.
    #[error("{provider}: timed out after {attempts} attempt(s)")]
    Timeout { provider: &'static str, attempts: u32 },
    /// The local encoder failed.
    #[error(transparent)]
    Engine(#[from] topic_engine::EngineError),
}

/// Turns texts into L2-normalised vectors.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// Model name stored in topic models ("sentence-transformers/all-MiniLM-L6-v2", ...).
    fn model_name(&self) -> &str;
    /// Output dimension.
    fn dimension(&self) -> usize;
    /// Whether the model only understands English (then a mostly non-English tenant gets a
    /// warning from Fit). Default: no (remote providers are multilingual).
    fn english_only(&self) -> bool {
        false
    }
    /// Largest batch sent in one call (the provider splits bigger inputs itself).
    fn max_batch(&self) -> usize;
    /// Embeds `texts` in order: a `texts.len() × dimension()` matrix with unit-length rows.
    async fn embed(&self, texts: &[String]) -> Result<Matrix, ProviderError>;
}

/// What a labeler sees of one topic.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicToLabel {
    pub topic_id: i64,
    /// Top keywords, best first.
    pub keywords: Vec<String>,
    /// Representative messages.
    pub samples: Vec<String>,
    /// The topic's representative questions (issue 29, masked): when not empty, an LLM labeler
    /// also writes the topic's canonical question from them, in the same call. Empty: no
    /// question is asked for.
    pub questions: Vec<String>,
    /// Language code the question is to be written in (most of the topic's messages).
    pub language: Option<String>,
}

/// Labels for a batch of topics. Every requested topic gets a label: those the LLM did not
/// answer for (missing id, invalid JSON) get keyword labels and are listed in `fallbacks`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelOutcome {
    pub labels: BTreeMap<i64, String>,
    pub fallbacks: Vec<i64>,
    /// Canonical questions the LLM wrote, for topics sent with questions (issue 29). A topic
    /// missing here keeps the question made from its examples.
    pub questions: BTreeMap<i64, String>,
}

/// Names topics, all topics of one tenant in one call.
#[async_trait]
pub trait Labeler: Send + Sync {
    /// "keywords", "gemini:<model>", "openai:<model>".
    fn name(&self) -> &str;
    async fn label(&self, topics: &[TopicToLabel]) -> Result<LabelOutcome, ProviderError>;
}

/// Embeds `texts` in chunks of `batch` with `call` (chunks run concurrently, bounded by the
/// provider's client), checks each answer's shape and values, and re-normalises every row.
/// `dimension` 0 means "whatever the first row has".
pub(crate) async fn embed_in_chunks<'a, F, Fut>(
    provider: &'static str,
    texts: &'a [String],
    batch: usize,
    dimension: usize,
    call: F,
) -> Result<Matrix, ProviderError>
where
    F: Fn(&'a [String]) -> Fut,
    Fut: Future<Output = Result<Vec<Vec<f32>>, ProviderError>>,
{
    if texts.is_empty() {
        return Ok(Matrix::zeros(0, dimension));
    }
    let chunks = futures::future::try_join_all(texts.chunks(batch.max(1)).map(call)).await?;
    let rows: Vec<Vec<f32>> = chunks.into_iter().flatten().collect();
    if rows.len() != texts.len() {
        return Err(ProviderError::Malformed {
            provider,
            message: format!("{} vectors for {} texts", rows.len(), texts.len()),
        });
    }
    let dim = if dimension > 0 { dimension } else { rows[0].len() };
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != dim || dim == 0) {
        return Err(ProviderError::Malformed {
            provider,
            message: format!("vector {i} has {} values, expected {dim}", r.len()),
        });
    }
    let mut m = Matrix::from_rows(&rows)?;
    m.check_finite().map_err(|e| ProviderError::Malformed { provider, message: e.to_string() })?;
    // Remote vectors are not always unit length (Gemini's reduced-dimension ones are not).
    m.normalize_rows();
    metrics::counter!("topicd_provider_texts_total", "provider" => provider)
        .increment(texts.len() as u64);
    Ok(m)
}

/// Adds token counts an answer reported to the `topicd_provider_tokens_total` counter.
pub(crate) fn record_tokens(
    provider: &'static str,
    prompt: Option<&serde_json::Value>,
    completion: Option<&serde_json::Value>,
) {
    if let Some(n) = prompt.and_then(|v| v.as_u64()) {
        metrics::counter!("topicd_provider_tokens_total", "provider" => provider, "kind" => "prompt").increment(n);
    }
    if let Some(n) = completion.and_then(|v| v.as_u64()) {
        metrics::counter!("topicd_provider_tokens_total", "provider" => provider, "kind" => "completion").increment(n);
    }
}
