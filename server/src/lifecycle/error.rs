//! The lifecycle's one error type: what went wrong ([`ErrorKind`], which an API maps to its own
//! status codes) and a message for the caller. No transport types here: the gRPC service maps
//! kinds to `tonic::Code` in `service/status.rs`, an HTTP API would map them to HTTP statuses.
//!
//! The classification of the layers below (engine, stores, providers, limits) lives here, in
//! one place: the caller's mistake → [`ErrorKind::InvalidArgument`] (or `NotFound` /
//! `AlreadyExists` / `FailedPrecondition` when the request is well-formed but the state does not
//! allow it); a backend outage → [`ErrorKind::Unavailable`] (retry later); our own bug or
//! corrupt data → [`ErrorKind::Internal`] with a message that does not leak internals beyond
//! what an operator needs.

use topic_engine::EngineError;

use crate::limits::WriteBusy;
use crate::providers::ProviderError;
use crate::store::{IdError, StoreError};

/// What kind of failure an [`Error`] is; each API maps it to its own status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed (bad id, bad parameter, bad vectors).
    InvalidArgument,
    /// The tenant, version or model does not exist.
    NotFound,
    /// The work was already done (a window merged twice without `force`).
    AlreadyExists,
    /// Well-formed, but the current state does not allow it (a candidate activated, no
    /// embedding provider, ...).
    FailedPrecondition,
    /// A limit was reached (concurrent writes of a tenant); retry later.
    ResourceExhausted,
    /// A write conflicted with another one.
    Aborted,
    /// A backend (database, object store, provider) is down; retry later.
    Unavailable,
    /// The caller gave up (cancelled, deadline passed) and the work stopped.
    Cancelled,
    /// Our bug or corrupt stored data.
    Internal,
}

/// A lifecycle failure: a [`ErrorKind`] and a message meant for the caller.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The message of a cancelled request.
pub const CANCELLED_MESSAGE: &str = "the client cancelled or its deadline passed; work stopped";

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }
    /// [`ErrorKind::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    /// [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// [`ErrorKind::AlreadyExists`].
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::AlreadyExists, message)
    }
    /// [`ErrorKind::FailedPrecondition`].
    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::FailedPrecondition, message)
    }
    /// [`ErrorKind::Unavailable`].
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }
    /// [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// [`ErrorKind::Cancelled`] with the standard message.
    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, CANCELLED_MESSAGE)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The message for the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Classifies an engine error: bad input is the caller's, everything else ours.
    pub fn from_engine(e: &EngineError) -> Self {
        match e {
            EngineError::InvalidParam { .. }
            | EngineError::InvalidInput(_)
            | EngineError::DimensionMismatch { .. } => Self::invalid_argument(e.to_string()),
            EngineError::InvalidModel(_) => {
                Self::internal(format!("stored model is unusable: {e}"))
            }
            EngineError::Cancelled => Self::cancelled(),
            // Encoder, Backend, Io, and whatever the engine adds later: ours, not the caller's.
            _ => Self::internal(format!("engine failure: {e}")),
        }
    }

    /// Classifies a store error.
    pub fn from_store(e: &StoreError) -> Self {
        let kind = match e {
            StoreError::InvalidId(_) => ErrorKind::InvalidArgument,
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::Conflict(_) => ErrorKind::Aborted,
            StoreError::TooLarge { .. } => ErrorKind::FailedPrecondition,
            StoreError::Unavailable(_) => ErrorKind::Unavailable,
            StoreError::Config(_) | StoreError::Corrupt(_) => ErrorKind::Internal,
        };
        Self::new(kind, e.to_string())
    }

    /// Classifies a provider error: outages and timeouts are retryable.
    pub fn from_provider(e: &ProviderError) -> Self {
        match e {
            ProviderError::Timeout { .. }
            | ProviderError::Remote { .. }
            | ProviderError::Malformed { .. } => Self::unavailable(e.to_string()),
            ProviderError::Config(_) => Self::failed_precondition(e.to_string()),
            ProviderError::Engine(inner) => Self::from_engine(inner),
        }
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        Self::from_engine(&e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::from_store(&e)
    }
}

impl From<ProviderError> for Error {
    fn from(e: ProviderError) -> Self {
        Self::from_provider(&e)
    }
}

impl From<IdError> for Error {
    fn from(e: IdError) -> Self {
        Self::invalid_argument(e.to_string())
    }
}

impl From<WriteBusy> for Error {
    fn from(e: WriteBusy) -> Self {
        Self::new(ErrorKind::ResourceExhausted, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(Error::from(EngineError::input("x")).kind(), ErrorKind::InvalidArgument);
        assert_eq!(
            Error::from(EngineError::DimensionMismatch { expected: 3, got: 2 }).kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(Error::from(EngineError::Cancelled).message(), CANCELLED_MESSAGE);
        assert_eq!(Error::from(StoreError::NotFound("v".into())).kind(), ErrorKind::NotFound);
        let e = Error::from(StoreError::Unavailable("db".into()));
        assert_eq!((e.kind(), e.message()), (ErrorKind::Unavailable, "storage unavailable: db"));
        assert_eq!(
            Error::from(ProviderError::Timeout { provider: "gemini", attempts: 3 }).kind(),
            ErrorKind::Unavailable
        );
    }
}
