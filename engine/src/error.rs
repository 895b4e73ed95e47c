//! The engine's error type. Every fallible public function returns [`Result`].

/// Errors from the topic engine. Messages are written for the person who passed the input.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Parameters that can never work (e.g. `n_components = 0`).
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    /// Input data that cannot be used (length mismatch, NaN, empty text, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Embedding dimension does not match the model's.
    #[error("dimension mismatch: expected {expected}, got {got}")]
    DimensionMismatch { expected: usize, got: usize },
    /// A model file (or a BERTopic export) is malformed, inconsistent or unsupported.
    #[error("invalid model file: {0}")]
    InvalidModel(String),
    /// The local sentence encoder failed to load or run.
    #[error("encoder: {0}")]
    Encoder(String),
    /// A tensor operation failed (device out of memory, CUDA error, ...).
    #[error("tensor backend: {0}")]
    Backend(#[from] candle_core::Error),
    /// The caller cancelled the work through its [`crate::Cancel`] token; nothing was produced.
    #[error("cancelled: the caller gave up before the work finished")]
    Cancelled,
    /// Reading or writing a local file (only in the small file helpers used by the CLI).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with [`EngineError`].
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// Shorthand for [`EngineError::InvalidParam`].
    pub fn param(name: &'static str, reason: impl Into<String>) -> Self {
        EngineError::InvalidParam { name, reason: reason.into() }
    }
    /// Shorthand for [`EngineError::InvalidInput`].
    pub fn input(msg: impl Into<String>) -> Self {
        EngineError::InvalidInput(msg.into())
    }
    /// Shorthand for [`EngineError::InvalidModel`].
    pub fn model(msg: impl Into<String>) -> Self {
        EngineError::InvalidModel(msg.into())
    }
}
