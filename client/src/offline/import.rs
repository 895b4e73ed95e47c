//! `topics import`: convert a model saved by Python BERTopic into a topicd model directory.
//!
//! ```text
//! topics import --bertopic DIR --out DIR [--day YYYY-MM-DD]
//! ```
//! `DIR` is what BERTopic writes with `save(path, serialization="safetensors",
//! save_ctfidf=True)`. Topic ids, keywords and topic embeddings are kept, so transform gives
//! BERTopic's results (see `topic_engine::io::bertopic`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;

use super::files;

/// Arguments of `topics import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Directory of a BERTopic model saved with safetensors serialization and c-TF-IDF.
    #[arg(long)]
    pub bertopic: PathBuf,
    /// Output directory for the topicd model.
    #[arg(long)]
    pub out: PathBuf,
    /// The day the imported topics were first and last seen (default today, UTC).
    #[arg(long)]
    pub day: Option<NaiveDate>,
}

/// Runs `topics import`.
pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let day = args.day.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let model = topic_engine::io::bertopic::import_as_of(&args.bertopic, day)
        .with_context(|| format!("importing the BERTopic model in {}", args.bertopic.display()))?;
    files::print_topics(&model, 20);
    let dir = files::write_model(&model, &args.out)?;
    println!("model: {}", dir.display());
    Ok(ExitCode::SUCCESS)
}
