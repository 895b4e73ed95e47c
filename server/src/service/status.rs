//! One place that turns every error into a gRPC [`Status`] with the right code: domain errors
//! ([`lifecycle::Error`], whose [`ErrorKind`] already classifies engine, store and provider
//! failures) by [`code`], and the service's own (authentication, rate limits).
//!
//! Rules: the caller's mistake → `INVALID_ARGUMENT` (or `NOT_FOUND` / `ALREADY_EXISTS` /
//! `FAILED_PRECONDITION` when the request is well-formed but the state does not allow it); a
//! backend outage → `UNAVAILABLE` (retry later); our own bug or corrupt data → `INTERNAL` with a
//! message that does not leak internals beyond what an operator needs.

use tonic::{Code, Status};
use topic_engine::EngineError;

use crate::auth::AuthError;
use crate::lifecycle::{self, ErrorKind};
use crate::limits::{RateLimited, WriteBusy};
use crate::providers::ProviderError;
use crate::store::{IdError, StoreError};

/// An error a handler returns: a domain error from the lifecycle, or a status it made itself
/// (validation, authorisation). Converted by [`From`] into the RPC's [`Status`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// From the domain layer (which classifies engine, store and provider errors).
    #[error(transparent)]
    Lifecycle(#[from] lifecycle::Error),
    /// Authentication failure.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Rate limit.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Already a status.
    #[error("{}", .0.message())]
    Status(Status),
}

impl From<Status> for ApiError {
    fn from(s: Status) -> Self {
        ApiError::Status(s)
    }
}

macro_rules! via_lifecycle {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                ApiError::Lifecycle(e.into())
            }
        }
    )*};
}
via_lifecycle!(EngineError, StoreError, ProviderError, IdError, WriteBusy);

/// The gRPC code of a lifecycle error kind: the one mapping from domain to transport.
pub fn code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::FailedPrecondition => Code::FailedPrecondition,
        ErrorKind::ResourceExhausted => Code::ResourceExhausted,
        ErrorKind::Aborted => Code::Aborted,
        ErrorKind::Unavailable => Code::Unavailable,
        ErrorKind::Cancelled => Code::Cancelled,
        ErrorKind::Internal => Code::Internal,
    }
}

/// The status of a lifecycle error (its message unchanged).
pub fn lifecycle_status(e: &lifecycle::Error) -> Status {
    Status::new(code(e.kind()), e.message())
}

impl From<lifecycle::Error> for Status {
    fn from(e: lifecycle::Error) -> Status {
        lifecycle_status(&e)
    }
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        match e {
            ApiError::Lifecycle(e) => lifecycle_status(&e),
            ApiError::Auth(e) => Status::unauthenticated(e.to_string()),
            ApiError::RateLimited(e) => Status::resource_exhausted(e.to_string()),
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
