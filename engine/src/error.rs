//! The engine's error type. Every fallible public function returns [`Result`].

/// Errors from the topic engine. Messages are written for the person who passed the input.
///
/// Non-exhaustive: match the variants you handle and keep a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// A tensor operation failed (device out of memory, CUDA error, ...). The backend's own
    /// error type stays private to the engine; [`BackendError`] carries its message.
    #[error("tensor backend: {0}")]
    Backend(BackendError),
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

/// A failure inside the tensor backend, as an opaque message (the backend is an implementation
/// detail of the engine and may change without a breaking release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError {
    message: String,
}

impl BackendError {
    /// The backend's description of the failure.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BackendError {}

/// Lets the engine's own code use `?` on tensor operations; not part of the public contract.
#[doc(hidden)]
impl From<candle_core::Error> for EngineError {
    fn from(e: candle_core::Error) -> Self {
        EngineError::Backend(BackendError { message: e.to_string() })
    }
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
