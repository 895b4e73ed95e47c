//! `drift`: the Rust side of the 7-day drift simulation (`benches/drift.sh`).
//!
//! ```text
//! drift --split split.json --out result.json [--seed 42] [--min-topic-size 10]
//!       [--min-similarity 0.7] [--merge-rule members|centroid] [--outlier-threshold 0.35]
//!       [--start 2026-11-01]
//!       [--device auto|cpu|cuda:N] [--models DIR] [--docs D.jsonl --embeddings E.npy]
//! ```
//!
//! Reads the in-scope CLINC150 docs and their reference embeddings (`TOPICD_DATASETS`, see
//! `topic_benches::datasets_dir`), or another dataset in the same layout (`--docs` +
//! `--embeddings`, e.g. Banking77 from `benches/datasets/prepare_banking77.sh`), and the day
//! split written by `python/drift_split.py`. Each day:
//! `topic_engine::fit` on that day's docs (default `FitParams`, the given seed and
//! min_topic_size), then `topic_engine::merge::merge` into the long-lived model (day 1 becomes
//! the base). After the last day every in-scope doc is transformed with the final model.
//! `--models DIR` also saves every day model and merged model (`DIR/day-N`, `DIR/merged-N`).
//!
//! result.json (the format `python/drift_table.py` reads, the same as the Python side's):
//! `{"system", "params", "days": [{"day", "n_docs", "assignments" (that day's fit, in split
//! order), "matches" ([day topic, base topic, cosine] per matched day topic or part of a split
//! one), "born" ([day topic, new id] per new topic), "split", "day_topics",
//! "merged_topics", "matched", "new", "retired", "fit_s", "merge_s"}], "day1_assignments":
//! [topic per doc of split day 1, in split order], "final_assignments": [topic per in-scope
//! doc], "transform_s", "total_s"}`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Parser;
use serde::Deserialize;
use topic_benches::{fit_and_merge, Night};
use topic_engine::device::{self, DevicePreference};
use topic_engine::{FitParams, MergeParams, MergeRule, TopicModel, TransformParams};

#[derive(Debug, Parser)]
#[command(name = "drift", about = "7-day drift simulation: fit each day, merge nightly, transform")]
struct Cli {
    /// Day split from python/drift_split.py.
    #[arg(long)]
    split: PathBuf,
    /// Result JSON.
    #[arg(long)]
    out: PathBuf,
    /// Seed of every fit.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// HDBSCAN min_cluster_size.
    #[arg(long, default_value_t = 10)]
    min_topic_size: usize,
    /// Merge: cosine at or above which a day topic is a base topic.
    #[arg(long, default_value_t = 0.7)]
    min_similarity: f32,
    /// Merge rule: `members` (issue 24, the default) or `centroid` (BERTopic's cosine rule).
    #[arg(long, default_value = "members")]
    merge_rule: String,
    /// Fit: member embeddings sampled per topic (default: FitParams' default).
    #[arg(long)]
    n_members: Option<usize>,
    /// Merge: neighbours per member vote (default: MergeParams' default).
    #[arg(long)]
    member_neighbors: Option<usize>,
    /// Merge: member overlap threshold (default: MergeParams' default).
    #[arg(long)]
    min_member_overlap: Option<f32>,
    /// Merge: least cosine of a topic's embedding to its anchor (default: MergeParams' default).
    #[arg(long)]
    anchor_similarity: Option<f32>,
    /// Transform: best cosine below this is an outlier.
    #[arg(long, default_value_t = topic_engine::transform::DEFAULT_OUTLIER_THRESHOLD)]
    outlier_threshold: f32,
    /// Date of day 1.
    #[arg(long, default_value = "2026-11-01")]
    start: NaiveDate,
    /// auto, cpu or cuda:N.
    #[arg(long, default_value = "auto", env = "TOPICD_DEVICE")]
    device: String,
    /// Save every day model and merged model under this directory.
    #[arg(long)]
    models: Option<PathBuf>,
    /// Documents (JSONL in CLINC150's layout) instead of CLINC150; needs `--embeddings`.
    #[arg(long, requires = "embeddings")]
    docs: Option<PathBuf>,
    /// Float32 `.npy` embeddings of `--docs`, one row per document.
    #[arg(long, requires = "docs")]
    embeddings: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Split {
    days: Vec<Vec<usize>>,
    n_docs: usize,
}

fn main() -> std::process::ExitCode {
    // RUST_LOG=topic_engine::merge=debug shows every merge decision.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    topic_benches::exit_code(run(Cli::parse()))
}

fn active_topics(m: &TopicModel) -> usize {
    m.active_topics().filter(|t| !t.is_outlier()).count()
}

fn run(cli: Cli) -> Result<()> {
    let t_all = Instant::now();
    let split: Split = serde_json::from_slice(
        &std::fs::read(&cli.split).with_context(|| format!("reading {}", cli.split.display()))?,
    )
    .with_context(|| format!("{}: not a drift split", cli.split.display()))?;
    let corpus = match (&cli.docs, &cli.embeddings) {
        (Some(docs), Some(emb)) => topic_benches::corpus_files(docs, emb, split.n_docs)
            .with_context(|| format!("loading {}", docs.display()))?,
        _ => topic_benches::clinc150(split.n_docs).context("loading CLINC150")?,
    };
    if corpus.len() != split.n_docs {
        bail!("the split has {} docs but the dataset gave {}", split.n_docs, corpus.len());
    }
    if let Some(bad) = split.days.iter().flatten().find(|&&i| i >= corpus.len()) {
        bail!("split row {bad} is out of range ({} docs)", corpus.len());
    }
    let dev = device::select(cli.device.parse::<DevicePreference>().context("--device")?)?;
    let mut fit_params = FitParams::default();
    // Side by side with BERTopic: its English preprocessing, and no small-talk filtering
    // (BERTopic clusters "thanks" like any other message).
    fit_params.text = topic_engine::text::TextOptions::legacy();
    fit_params.seed = cli.seed;
    fit_params.min_topic_size = cli.min_topic_size;
    let mut merge_params = MergeParams::default();
    merge_params.min_similarity = cli.min_similarity;
    merge_params.rule = match cli.merge_rule.as_str() {
        "members" => MergeRule::Members,
        "centroid" => MergeRule::Centroid,
        other => bail!("--merge-rule {other}: expected members or centroid"),
    };
    if let Some(n) = cli.n_members {
        fit_params.n_members = n;
    }
    if let Some(k) = cli.member_neighbors {
        merge_params.member_neighbors = k;
    }
    if let Some(o) = cli.min_member_overlap {
        merge_params.min_member_overlap = o;
    }
    if let Some(a) = cli.anchor_similarity {
        merge_params.anchor_similarity = a;
    }
    let mut transform_params = TransformParams::default();
    transform_params.outlier_threshold = cli.outlier_threshold;

    let mut base: Option<TopicModel> = None;
    let mut days = Vec::new();
    let mut day1 = Vec::new();
    for (d, rows) in split.days.iter().enumerate() {
        let day_no = d + 1;
        let date = cli.start + chrono::Days::new(d as u64);
        let texts: Vec<String> = rows.iter().map(|&i| corpus.texts[i].clone()).collect();
        let embeddings = corpus.embeddings.select_rows(rows);
        let Night { fitted, outcome, fit_s, merge_s } = fit_and_merge(
            &texts,
            &embeddings,
            date,
            base.as_ref(),
            &fit_params,
            &merge_params,
            topic_engine::Device::of(&dev),
        )
        .with_context(|| format!("day {day_no}"))?;
        if day_no == 1 {
            day1 = fitted.assignments.clone();
        }
        if let Some(dir) = &cli.models {
            topic_engine::io::save(&fitted.model, &dir.join(format!("day-{day_no}")))?;
            topic_engine::io::save(&outcome.model, &dir.join(format!("merged-{day_no}")))?;
        }
        // (day topic, id) of the topics born tonight, from their lineage.
        let born: Vec<(i64, i64)> = outcome
            .new_topic_ids
            .iter()
            .filter_map(|&id| {
                let first = outcome.model.topic(id)?.memory.lineage.first()?;
                Some((first.day_topic, id))
            })
            .collect();
        let info = serde_json::json!({
            "day": day_no,
            "born": born,
            "assignments": fitted.assignments,
            "matches": outcome.matched,
            "n_docs": rows.len(),
            "day_topics": active_topics(&fitted.model),
            "merged_topics": active_topics(&outcome.model),
            "matched": outcome.matched.len(),
            "split": outcome.split.len(),
            "new": outcome.new_topic_ids.len(),
            "retired": outcome.retired.len(),
            "fit_s": fit_s,
            "merge_s": merge_s,
        });
        eprintln!(
            "day {day_no}: {} docs, {} day topics, {} merged ({} matched, {} new) (fit {fit_s:.1} s, \
             merge {merge_s:.3} s)",
            rows.len(),
            info["day_topics"],
            info["merged_topics"],
            outcome.matched.len(),
            outcome.new_topic_ids.len()
        );
        days.push(info);
        base = Some(outcome.model);
    }
    let Some(model) = base else { bail!("the split has no days") };

    let t = Instant::now();
    let assigned = topic_engine::transform(&model, &corpus.embeddings, &transform_params)?;
    let transform_s = t.elapsed().as_secs_f64();
    let final_ids: Vec<i64> = assigned.iter().map(|a| a.topic_id).collect();
    let out = serde_json::json!({
        "system": "topic-engine",
        "params": {
            "seed": cli.seed,
            "min_similarity": cli.min_similarity,
            "merge_rule": cli.merge_rule,
            "n_members": fit_params.n_members,
            "member_neighbors": merge_params.member_neighbors,
            "min_member_overlap": merge_params.min_member_overlap,
            "anchor_similarity": merge_params.anchor_similarity,
            "min_topic_size": cli.min_topic_size,
            "outlier_threshold": cli.outlier_threshold,
            "device": device::name(&dev),
        },
        "days": days,
        "day1_assignments": day1,
        "final_assignments": final_ids,
        "transform_s": transform_s,
        "total_s": t_all.elapsed().as_secs_f64(),
    });
    std::fs::write(&cli.out, serde_json::to_vec(&out)?)
        .with_context(|| format!("writing {}", cli.out.display()))?;
    eprintln!(
        "transform of {} docs: {transform_s:.3} s; total {:.1} s",
        corpus.len(),
        t_all.elapsed().as_secs_f64()
    );
    Ok(())
}
