//! Offline commands: run `topic-engine` in-process, no server needed.

pub mod fit;
