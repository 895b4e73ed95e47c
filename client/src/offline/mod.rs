//! Offline commands: run `topic-engine` in-process, no server needed.

pub mod embed;
pub mod files;
pub mod fit;
pub mod import;
pub mod merge;
pub mod report;
pub mod transform;
