//! The `topics` client's integration tests, one module per area, linked into one test binary
//! (one link instead of five: faster builds, a fraction of the disk).

mod faq_cli;
mod kb;
mod nightly_acceptance;
mod offline;
mod pg_source;
mod providers_cli;
mod report;
mod tls;
