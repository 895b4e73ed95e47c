//! `topicd`: the gRPC topic-modeling server.
//!
//! The binary (`src/main.rs`) only parses configuration and calls [`serve`]-style entry points
//! defined here, so integration tests can start a real server in-process.

/// The gRPC API's generated types (crate `topicd-proto`).
pub use topicd_proto as proto;
/// Embedding and labelling providers (crate `topicd-providers`).
pub use topicd_providers as providers;

/// Evaluate a failpoint (compiled only with the `failpoints` feature, for fault-injection
/// tests). When configured to `return`, the enclosing function fails with
/// [`StoreError::Unavailable`](store::StoreError::Unavailable) naming the failpoint, converted
/// into the function's error type.
macro_rules! failpoint {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name, |_| Err($crate::failpoint_error($name)));
    };
}

/// The error an injected failure returns (see `failpoint!`).
#[cfg(feature = "failpoints")]
#[doc(hidden)]
pub fn failpoint_error<E: From<store::StoreError>>(name: &str) -> E {
    E::from(store::StoreError::Unavailable(format!("injected failure at failpoint {name}")))
}

/// The `fail` crate, for tests that configure failpoints (feature `failpoints`).
#[cfg(feature = "failpoints")]
pub use fail;

pub mod app;
pub mod auth;
pub mod config;
pub mod hot;
pub mod http;
pub mod lifecycle;
pub mod limits;
pub mod metrics;
pub mod store;
// Handlers and validators return `tonic::Status` (176 bytes) by design: it is the RPC's error.
#[allow(clippy::result_large_err)]
pub mod service;
