//! The server's integration tests, one module per area, linked into one test binary (one link of
//! the whole server instead of one per file: faster builds, a fraction of the disk). Each module
//! starts its own real `topicd` (and PostgreSQL / S3 where it needs them) through `common`.
//!
//! Two suites stay in binaries of their own because they touch process-wide state:
//! `tests/cancel.rs` (the metrics recorder) and `tests/merge_faults.rs` (failpoints).

#[path = "../common/mod.rs"]
mod common;

mod auth;
mod concurrent_merges;
mod dashboard;
mod defined;
mod e2e;
mod edits;
mod faq;
mod http;
mod isolation;
mod kb;
mod languages;
mod orphans;
mod outage;
mod outliers;
mod privacy;
mod providers;
mod replicas;
mod tls;
mod ui_pages;
mod validation;
