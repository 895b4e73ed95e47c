//! `topics fit`: fit a model from a JSONL file (+ optional `.npy` embeddings).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `topics fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// JSONL file, one object with a `text` field per line.
    #[arg(long)]
    pub docs: PathBuf,
    /// float32 `[n, d]` NumPy array of embeddings in the same order as the docs.
    #[arg(long)]
    pub embeddings: Option<PathBuf>,
    /// Output directory for the model files.
    #[arg(long)]
    pub out: PathBuf,
    /// Write `{"assignments": [...], "topic_words": {...}}` here.
    #[arg(long)]
    pub assignments: Option<PathBuf>,
    /// HDBSCAN min_cluster_size.
    #[arg(long, default_value_t = 10)]
    pub min_topic_size: usize,
    /// none, auto or N.
    #[arg(long, default_value = "none")]
    pub nr_topics: String,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Runs `topics fit`.
pub fn run(args: FitArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("topics fit: not implemented yet")
}
