//! The topicd gRPC API, package `topics.v1`, generated from `proto/topics/v1/topics.proto`.
//!
//! One crate for the wire types so that the server (`topicd`), the CLI (`topics`), benchmarks and
//! any other Rust consumer share them without linking the server:
//!
//! - messages (`FitRequest`, `TopicSnapshot`, ...) and enums as prost types;
//! - [`topics_client::TopicsClient`] and [`topics_server::TopicsServer`] from tonic;
//! - [`FILE_DESCRIPTOR_SET`], the encoded descriptors for gRPC server reflection;
//! - with feature `serde`: `Serialize`/`Deserialize` in the proto3 JSON mapping (snake_case
//!   names out, both spellings in; 64-bit integers as strings), for the HTTP/JSON API.
#![allow(clippy::all, missing_docs)]

tonic::include_proto!("topics.v1");
#[cfg(feature = "serde")]
include!(concat!(env!("OUT_DIR"), "/topics.v1.serde.rs"));

/// Encoded file descriptor set of `topics.v1`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("topics_v1_descriptor");
