//! The `topics` client library: message sources, the nightly job, operator commands and the
//! demo-data generator behind the `topics` binary, exposed so integration tests (and other
//! programs) can drive them against an in-process `topicd`.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use topics::nightly::{progress::Progress, runner};
//! use topics::sources::{jsonl::JsonlSource, Window};
//!
//! let source = Arc::new(JsonlSource::open("examples/clinc150-demo.jsonl".as_ref())?);
//! let server = topics::connect::ServerOptions {
//!     server: "http://127.0.0.1:50051".into(),
//!     ..Default::default()
//! };
//! let window = Window::new("2026-11-16T00:00:00Z".parse()?, "2026-11-17T00:00:00Z".parse()?)?;
//! let settings = runner::Settings::new(window);
//! let summary = runner::run(source, Arc::new(server.client()?), &settings, &mut Progress::Log).await?;
//! println!("{} tenants merged", summary.processed_users);
//! # Ok(())
//! # }
//! ```

// Tests may unwrap: a panic there is a failed test, with its message.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod connect;
pub mod demo;
pub mod nightly;
pub mod ops;
pub mod providers;
pub mod sources;
