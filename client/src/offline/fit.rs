//! `topics fit`: fit a model from a JSONL file (+ optional `.npy` embeddings), in-process.
//!
//! ```text
//! topics fit --docs D.jsonl [--embeddings E.npy] --out DIR [--assignments A.json]
//!            [--limit N] [--min-topic-size 10] [--nr-topics none|auto|N] [--seed 42]
//!            [--day YYYY-MM-DD] [--encoder DIR|HUB-ID] [--device auto|cpu|cuda:N]
//!            [--language auto|en|fr|de|es|it|pt|nl] [--no-small-talk] [--no-mask]
//!            [--bertopic-compat] [--max-fit-documents N]
//!            [--defined DEFINED.jsonl [--defined-min-similarity S]]
//! ```
//! On a terminal, each stage (neighbours, UMAP, HDBSCAN, topics, assigning the documents left
//! out of a `--max-fit-documents` sample) shows a progress bar on stderr.
//! Small talk is assigned `-2` in `A.json` (see `topic_engine::SMALL_TALK_TOPIC`).
//! Without `--embeddings` the documents are encoded in-process by the local encoder
//! (`--encoder`, default `./models/all-MiniLM-L6-v2`), whose name the model then records.
//! `A.json` is `{"assignments": [topic per doc, -1 = outlier], "topic_words": {"<id>": [...]}}`,
//! the format `shared/tools/score.py` reads.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use topic_engine::device;
use topic_engine::text::{LanguageSetting, TextOptions};
use topic_engine::{Cancel, FitInput, FitParams, NrTopics, Progress, Stage, TopicModel};

use super::files::{self, DocsArgs, EncoderArgs};

/// Arguments of `topics fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    #[command(flatten)]
    pub input: DocsArgs,
    /// Output directory for the model files.
    #[arg(long)]
    pub out: PathBuf,
    /// Write `{"assignments": [...], "topic_words": {...}}` here.
    #[arg(long)]
    pub assignments: Option<PathBuf>,
    /// HDBSCAN min_cluster_size.
    #[arg(long, default_value_t = 10)]
    pub min_topic_size: usize,
    /// none, auto or N (N counts the outlier topic, as BERTopic: N − 1 topics + -1).
    #[arg(long, default_value = "none")]
    pub nr_topics: String,
    /// Seed for every random step.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The day the model describes (YYYY-MM-DD; default today, UTC).
    #[arg(long)]
    pub day: Option<NaiveDate>,
    /// Name of the embedding model recorded in the model when `--embeddings` is given (without
    /// it, the local encoder's name is recorded).
    #[arg(long, default_value = "sentence-transformers/all-MiniLM-L6-v2")]
    pub embedding_model: String,
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Document language: auto (detected per document) or en, fr, de, es, it, pt, nl.
    #[arg(long, default_value = "auto")]
    pub language: String,
    /// Keep small talk ("hi", "thanks!") in topic discovery instead of assigning it -2.
    #[arg(long)]
    pub no_small_talk: bool,
    /// Do not mask personal data in samples and keywords.
    #[arg(long)]
    pub no_mask: bool,
    /// BERTopic's exact English preprocessing (ASCII-only tokens, scikit-learn stop words).
    #[arg(long)]
    pub bertopic_compat: bool,
    /// Fit at most N documents: a larger input is fitted on a seeded sample of N (stratified
    /// by day) and the rest assigned to its topics by transform.
    #[arg(long)]
    pub max_fit_documents: Option<usize>,
    /// Tenant-defined topics (issue 30): a JSONL file as `topics define` reads, embedded with
    /// the local encoder (`--encoder`); documents at or above `--defined-min-similarity` are their
    /// candidates (topic_engine::defined, "Fit").
    #[arg(long)]
    pub defined: Option<PathBuf>,
    /// Cosine at or above which a document is a defined topic's candidate (default: the
    /// engine's, 0.7).
    #[arg(long)]
    pub defined_min_similarity: Option<f32>,
    /// Outlier policy: keep (HDBSCAN's outliers stay -1) or reduce (an outlier at or above
    /// `--outlier-threshold` to its nearest topic joins it; Transform then uses that threshold).
    #[arg(long, default_value = "keep")]
    pub outliers: String,
    /// The cosine for `--outliers reduce` (default: the engine's, 0.35).
    #[arg(long)]
    pub outlier_threshold: Option<f32>,
}

/// Runs `topics fit`.
pub fn run(args: FitArgs) -> anyhow::Result<ExitCode> {
    let nr_topics: NrTopics = args.nr_topics.parse().context("--nr-topics")?;
    let dev = args.encoder.device()?;
    let (texts, embeddings, encoder_name) = args.input.read(&args.encoder, &dev)?;
    let embedding_model = encoder_name.unwrap_or(args.embedding_model);
    let mut params = FitParams::default();
    params.min_topic_size = args.min_topic_size;
    params.nr_topics = nr_topics;
    params.seed = args.seed;
    params.max_fit_documents = args.max_fit_documents;
    params.outliers = args.outliers.parse().context("--outliers")?;
    if let Some(t) = args.outlier_threshold {
        params.outlier_threshold = t;
    }
    let language = LanguageSetting::try_from(args.language.clone())
        .map_err(anyhow::Error::msg)
        .context("--language")?;
    let mut text =
        if args.bertopic_compat { TextOptions::compat() } else { TextOptions::default() };
    text =
        text.with_language(language).with_small_talk(!args.no_small_talk).with_mask(!args.no_mask);
    params.text = text;
    let day = args.day.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let input = FitInput {
        texts: &texts,
        embeddings: &embeddings,
        dates: None,
        day,
        embedding_model: &embedding_model,
    };
    eprintln!(
        "fitting {} documents ({} dims, min_topic_size {}, nr_topics {}, seed {}, device {})",
        texts.len(),
        embeddings.cols(),
        params.min_topic_size,
        params.nr_topics,
        params.seed,
        device::name(&dev)
    );
    if let Some(s) = args.defined_min_similarity {
        params.defined_min_similarity = s;
    }
    let defined = match &args.defined {
        Some(path) => defined_topics(path, &args.encoder, &dev)?,
        None => Vec::new(),
    };
    let bars = StageBars::new();
    let cancel = bars.token();
    let result = topic_engine::fit_with_defined(
        &input,
        &params,
        topic_engine::Device::of(&dev),
        &cancel,
        &defined,
    );
    bars.finish();
    let result = result?;
    if let Some(s) = result.sampled {
        println!(
            "sampled: fitted {} documents, assigned the other {} by transform \
             (--max-fit-documents {})",
            s.fitted,
            s.assigned,
            params.max_fit_documents.unwrap_or_default()
        );
    }
    if result.small_talk > 0 {
        println!("small talk: {} documents (topic -2)", result.small_talk);
    }

    print_timings(&result.timings);
    files::print_topics(&result.model, 20);

    let model_path = files::write_model(&result.model, &args.out)?;
    println!("model: {}", model_path.display());
    if let Some(path) = &args.assignments {
        write_assignments(path, &result.assignments, &result.model)?;
        println!("assignments: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The defined topics of `path` (`topics define`'s JSONL), embedded with the local encoder as
/// the server embeds them ([`topic_engine::defined::combine_embeddings`]).
fn defined_topics(
    path: &Path,
    encoder: &EncoderArgs,
    dev: &topic_engine::device::TensorDevice,
) -> anyhow::Result<Vec<topic_engine::DefinedTopic>> {
    let specs = crate::ops::define::read_specs(path)?;
    let texts: Vec<Vec<String>> =
        specs.iter().map(topic_engine::DefinedTopicSpec::embedding_texts).collect();
    let flat: Vec<String> = texts.iter().flatten().cloned().collect();
    let (m, _) = files::embeddings_for(&flat, None, false, encoder, dev)
        .context("embedding the defined topics")?;
    let mut row = 0;
    let mut out = Vec::with_capacity(specs.len());
    for (spec, t) in specs.into_iter().zip(&texts) {
        let rows: Vec<&[f32]> = (row..row + t.len()).map(|i| m.row(i)).collect();
        row += t.len();
        let embedding = topic_engine::defined::combine_embeddings(&rows)?;
        out.push(topic_engine::DefinedTopic { name: spec.name, embedding });
    }
    eprintln!("defined topics: {}", out.len());
    Ok(out)
}

/// One `indicatif` bar per fit stage on a terminal (stderr); nothing otherwise (the stage
/// timings are printed at the end either way).
struct StageBars {
    bar: Option<ProgressBar>,
}

impl StageBars {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Self { bar }
    }

    /// A token that moves the bar: a new stage resets it, a stage with an unknown total spins.
    fn token(&self) -> Cancel {
        let Some(bar) = self.bar.clone() else { return Cancel::new() };
        let current = Mutex::new(None::<Stage>);
        Cancel::new().with_progress(move |p: Progress| {
            let Ok(mut cur) = current.lock() else { return };
            if *cur != Some(p.stage) {
                *cur = Some(p.stage);
                bar.reset();
                bar.set_message(p.stage.name());
            }
            bar.set_length(p.total.max(p.done));
            bar.set_position(p.done);
            if p.total == 0 {
                bar.tick();
            }
        })
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn print_timings(t: &topic_engine::StageTimings) {
    println!("stage        seconds");
    for (name, d) in t.stages() {
        println!("{name:<12} {:>8}", secs(d));
    }
}

/// Writes score.py's `{"assignments": [...], "topic_words": {"id": [...]}}`.
fn write_assignments(path: &Path, assignments: &[i64], model: &TopicModel) -> anyhow::Result<()> {
    let body = serde_json::json!({
        "assignments": assignments,
        "topic_words": files::topic_words(model),
    });
    files::write_json(path, &body)
}
