//! `topics transform`: tag documents with a saved model, in-process.
//!
//! ```text
//! topics transform --model DIR --docs D.jsonl [--embeddings E.npy] --out A.json [--limit N]
//!                  [--outlier-threshold 0.35] [--outlier-centroid] [--encoder DIR|HUB-ID]
//! ```
//! Without `--embeddings` the documents are encoded by the local encoder (`--encoder`), which
//! must be the embedding model the topic model was fitted with. `A.json` is
//! `{"assignments": [topic id per doc, -1 = outlier], "scores": [cosine per doc],
//! "labels": {"<id>": label}, "topic_words": {"<id>": [...]}}`, which `shared/tools/score.py`
//! reads as it is.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use topic_engine::{TopicModel, TransformParams};

use super::files::{self, DocsArgs, EncoderArgs};

/// Arguments of `topics transform`.
#[derive(Debug, clap::Args)]
pub struct TransformArgs {
    /// The model directory.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub input: DocsArgs,
    /// Write the assignments here (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// A document whose best cosine is below this is an outlier (-1). Default: the model's
    /// own threshold when it was fitted with `--outliers reduce`, else 0.35.
    #[arg(long)]
    pub outlier_threshold: Option<f32>,
    /// BERTopic compatibility: the outlier topic's centroid is a candidate too.
    #[arg(long)]
    pub outlier_centroid: bool,
    #[command(flatten)]
    pub encoder: EncoderArgs,
}

/// Runs `topics transform`.
pub fn run(args: TransformArgs) -> anyhow::Result<ExitCode> {
    let model = files::load_model(&args.model)?;
    let mut params = model.fit_params.transform_params(TransformParams::default());
    if let Some(t) = args.outlier_threshold {
        params.outlier_threshold = t;
    }
    params.outlier_centroid = args.outlier_centroid;
    params.check().context("--outlier-threshold")?;
    let dev = args.encoder.device()?;
    let (_, embeddings, encoder_name) = args.input.read(&args.encoder, &dev)?;
    if let Some(name) = encoder_name {
        if name != model.embedding_model {
            bail!(
                "the model was fitted on embeddings of {:?} but the encoder is {:?}; pass the \
                 right --encoder or precomputed --embeddings",
                model.embedding_model,
                name
            );
        }
    }
    if embeddings.cols() != model.dim {
        bail!(
            "the embeddings have {} dimensions but the model has {}",
            embeddings.cols(),
            model.dim
        );
    }
    let assigned = topic_engine::transform(&model, &embeddings, &params).context("transform")?;
    let ids: Vec<i64> = assigned.iter().map(|a| a.topic_id).collect();
    let scores: Vec<f32> = assigned.iter().map(|a| a.score).collect();
    print_summary(&model, &ids);
    let labels: BTreeMap<String, &str> =
        model.topics.iter().map(|t| (t.id.to_string(), t.display_label())).collect();
    let body = serde_json::json!({
        "assignments": ids,
        "scores": scores,
        "labels": labels,
        "topic_words": files::topic_words(&model),
    });
    files::write_json(&args.out, &body)?;
    println!("assignments: {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn print_summary(model: &TopicModel, ids: &[i64]) {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for &id in ids {
        *counts.entry(id).or_default() += 1;
    }
    let outliers = counts.get(&topic_engine::OUTLIER_TOPIC).copied().unwrap_or(0);
    let used = counts.keys().filter(|&&id| id >= 0).count();
    println!(
        "{} documents: {} topics used of {} active, {} outliers ({:.1} %)",
        ids.len(),
        used,
        model.active_topics().filter(|t| !t.is_outlier()).count(),
        outliers,
        100.0 * outliers as f64 / ids.len().max(1) as f64
    );
    let mut top: Vec<(i64, usize)> = counts.into_iter().filter(|&(id, _)| id >= 0).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (id, n) in top.into_iter().take(10) {
        println!("{id:>6} {n:>7}  {}", model.label_of(id).unwrap_or(""));
    }
}
