//! Embedding and labeling providers behind two traits, so the server does not care whether
//! vectors come from the local encoder, Gemini or an OpenAI-compatible endpoint.

use std::collections::BTreeMap;

use async_trait::async_trait;
use topic_engine::Matrix;

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
    /// Largest batch sent in one call (the provider splits bigger inputs itself).
    fn max_batch(&self) -> usize;
    /// Embeds `texts` in order: a `texts.len() × dimension()` matrix with unit-length rows.
    async fn embed(&self, texts: &[String]) -> Result<Matrix, ProviderError>;
}

/// What a labeler sees of one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicToLabel {
    pub topic_id: i64,
    /// Top keywords, best first.
    pub keywords: Vec<String>,
    /// Representative messages.
    pub samples: Vec<String>,
}

/// Labels for a batch of topics. Every requested topic gets a label: those the LLM did not
/// answer for (missing id, invalid JSON) get keyword labels and are listed in `fallbacks`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelOutcome {
    pub labels: BTreeMap<i64, String>,
    pub fallbacks: Vec<i64>,
}

/// Names topics, all topics of one tenant in one call.
#[async_trait]
pub trait Labeler: Send + Sync {
    /// "keywords", "gemini:<model>", "openai:<model>".
    fn name(&self) -> &str;
    async fn label(&self, topics: &[TopicToLabel]) -> Result<LabelOutcome, ProviderError>;
}
