//! One place that turns every library error into a gRPC [`Status`] with the right code.
//!
//! Rules: the caller's mistake → `INVALID_ARGUMENT` (or `NOT_FOUND` / `ALREADY_EXISTS` /
//! `FAILED_PRECONDITION` when the request is well-formed but the state does not allow it); a
//! backend outage → `UNAVAILABLE` (retry later); our own bug or corrupt data → `INTERNAL` with a
//! message that does not leak internals beyond what an operator needs.

use tonic::{Code, Status};
use topic_engine::EngineError;

use crate::auth::AuthError;
use crate::limits::{RateLimited, WriteBusy};
use crate::providers::ProviderError;
use crate::store::{IdError, StoreError};

/// An error from any layer the handlers call, mapped to a status by [`From`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Engine (fit, merge, transform, model files).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Model store or metadata store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Embedding or labeling provider.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A malformed tenant id or version.
    #[error(transparent)]
    Id(#[from] IdError),
    /// Authentication failure.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Rate limit.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Too many concurrent writes for a tenant.
    #[error(transparent)]
    WriteBusy(#[from] WriteBusy),
    /// Already a status.
    #[error("{}", .0.message())]
    Status(Status),
}

impl From<Status> for ApiError {
    fn from(s: Status) -> Self {
        ApiError::Status(s)
    }
}

/// Maps an engine error: bad input is the caller's, everything else ours.
pub fn engine_status(e: &EngineError) -> Status {
    match e {
        EngineError::InvalidParam { .. }
        | EngineError::InvalidInput(_)
        | EngineError::DimensionMismatch { .. } => Status::invalid_argument(e.to_string()),
        EngineError::InvalidModel(_) => Status::internal(format!("stored model is unusable: {e}")),
        EngineError::Cancelled => {
            Status::cancelled("the client cancelled or its deadline passed; work stopped")
        }
        // Encoder, Backend, Io, and whatever the engine adds later: ours, not the caller's.
        _ => Status::internal(format!("engine failure: {e}")),
    }
}

/// Maps a store error.
pub fn store_status(e: &StoreError) -> Status {
    match e {
        StoreError::InvalidId(_) => Status::invalid_argument(e.to_string()),
        StoreError::NotFound(_) => Status::not_found(e.to_string()),
        StoreError::Conflict(_) => Status::aborted(e.to_string()),
        StoreError::TooLarge { .. } => Status::failed_precondition(e.to_string()),
        StoreError::Unavailable(_) => Status::unavailable(e.to_string()),
        StoreError::Config(_) | StoreError::Corrupt(_) => Status::internal(e.to_string()),
    }
}

/// Maps a provider error: outages and timeouts are retryable.
pub fn provider_status(e: &ProviderError) -> Status {
    match e {
        ProviderError::Timeout { .. } => Status::unavailable(e.to_string()),
        ProviderError::Remote { .. } | ProviderError::Malformed { .. } => {
            Status::unavailable(e.to_string())
        }
        ProviderError::Config(_) => Status::failed_precondition(e.to_string()),
        ProviderError::Engine(inner) => engine_status(inner),
    }
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        match e {
            ApiError::Engine(e) => engine_status(&e),
            ApiError::Store(e) => store_status(&e),
            ApiError::Provider(e) => provider_status(&e),
            ApiError::Id(e) => Status::invalid_argument(e.to_string()),
            ApiError::Auth(e) => Status::unauthenticated(e.to_string()),
            ApiError::RateLimited(e) => Status::resource_exhausted(e.to_string()),
            ApiError::WriteBusy(e) => Status::resource_exhausted(e.to_string()),
            ApiError::Status(s) => s,
        }
    }
}

/// The metric label of a code (`"OK"`, `"INVALID_ARGUMENT"`, ...).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(
            Status::from(ApiError::from(EngineError::input("x"))).code(),
            Code::InvalidArgument
        );
        assert_eq!(
            Status::from(ApiError::from(EngineError::DimensionMismatch { expected: 3, got: 2 }))
                .code(),
            Code::InvalidArgument
        );
        assert_eq!(
            Status::from(ApiError::from(StoreError::NotFound("v".into()))).code(),
            Code::NotFound
        );
        assert_eq!(
            Status::from(ApiError::from(StoreError::Unavailable("db".into()))).code(),
            Code::Unavailable
        );
        assert_eq!(
            Status::from(ApiError::from(ProviderError::Timeout {
                provider: "gemini",
                attempts: 3
            }))
            .code(),
            Code::Unavailable
        );
        assert_eq!(Status::from(ApiError::from(AuthError::Missing)).code(), Code::Unauthenticated);
    }
}
