//! `longrun`: a year of nightly merges for one tenant, to check that a model stays bounded.
//!
//! ```text
//! longrun --out result.json [--days 365] [--docs-per-day 1000] [--evergreen 10]
//!         [--id-share 0.3] [--seed 42] [--max-terms-per-topic N] [--merge-rule members|centroid]
//!         [--start 2026-01-01]
//!         [--device auto|cpu|cuda:N] [--model-out DIR]
//! ```
//!
//! `--evergreen` intents (drawn with the seed) are active every day, as a support inbox's
//! perennial subjects are; every other CLINC150 in-scope intent comes and goes in seasons: active
//! for 20–120 days, then quiet for 60–240 days (uniform draws, random phase), so it retires and
//! returns several times a year. Each day
//! draws `--docs-per-day` documents evenly from the active intents (a uniformly drawn CLINC150
//! row of that intent, its reference embedding plus Gaussian noise of std 0.01 per dimension,
//! re-normalised). A share `--id-share` of the documents gets an order number appended (`order
//! #k3x9q2`, six random letters and digits), as messages in a support inbox do: every such token
//! is a new vocabulary word. Each day is fitted (default `FitParams`) and merged into the
//! long-lived model (default `MergeParams`, or `--max-terms-per-topic` / `--merge-rule`).
//!
//! result.json: `{"params", "days": [{"day", "n_docs", "active_intents", "day_topics",
//! "active_topics", "retired_topics" (retired, still kept), "vocabulary", "term_entries" (stored
//! (topic, term) counts), "max_topic_terms" (largest of one non-outlier topic), "outlier_terms",
//! "member_rows" (member embeddings kept, birth and later), "lineage_entries",
//! "max_topic_lineage", "heap_bytes" (`TopicModel::heap_bytes`), "config_bytes",
//! "tensor_bytes", "fit_s", "merge_s"}], "total_s"}`; one line per 30 days on stderr.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use topic_benches::{fit_and_merge, Night};
use topic_engine::device::{self, DevicePreference};
use topic_engine::{FitParams, Matrix, MergeParams, TopicModel};

#[derive(Debug, Parser)]
#[command(name = "longrun", about = "A year of nightly fits and merges: model size over time")]
struct Cli {
    /// Result JSON.
    #[arg(long)]
    out: PathBuf,
    /// Nights to simulate.
    #[arg(long, default_value_t = 365)]
    days: usize,
    /// Documents per day.
    #[arg(long, default_value_t = 1000)]
    docs_per_day: usize,
    /// Intents active every day.
    #[arg(long, default_value_t = 10)]
    evergreen: usize,
    /// Share of documents with an order number appended.
    #[arg(long, default_value_t = 0.3)]
    id_share: f64,
    /// Seed of the schedule, the draws and every fit.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Merge: most term counts kept per topic (default: MergeParams' default).
    #[arg(long)]
    max_terms_per_topic: Option<usize>,
    /// Merge rule: `members` (the default) or `centroid` (BERTopic's cosine rule).
    #[arg(long, default_value = "members")]
    merge_rule: String,
    /// Date of day 1.
    #[arg(long, default_value = "2026-01-01")]
    start: NaiveDate,
    /// auto, cpu or cuda:N.
    #[arg(long, default_value = "auto", env = "TOPICD_DEVICE")]
    device: String,
    /// Also save the last merged model here.
    #[arg(long)]
    model_out: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    topic_benches::exit_code(run(Cli::parse()))
}

/// Active (start, end) day ranges of one intent over `days` days.
fn seasons(rng: &mut ChaCha8Rng, days: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    // Random phase: start somewhere inside a first quiet or active period.
    let mut t: i64 = -rng.random_range(0..240i64);
    while t < days as i64 {
        let on = rng.random_range(20..=120i64);
        let (a, b) = (t.max(0), (t + on).min(days as i64));
        if a < b {
            out.push((a as usize, b as usize));
        }
        t += on + rng.random_range(60..=240i64);
    }
    out
}

fn order_number(rng: &mut ChaCha8Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..6).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

fn run(cli: Cli) -> Result<()> {
    anyhow::ensure!(cli.days > 0 && cli.docs_per_day > 0, "--days and --docs-per-day must be > 0");
    anyhow::ensure!((0.0..=1.0).contains(&cli.id_share), "--id-share must be in [0, 1]");
    let t_all = Instant::now();
    let corpus = topic_benches::clinc150(22_500).context("loading CLINC150")?;
    let mut intents: Vec<&str> = corpus.labels.iter().map(String::as_str).collect();
    intents.sort_unstable();
    intents.dedup();
    let rows_of: Vec<Vec<usize>> = intents
        .iter()
        .map(|name| (0..corpus.len()).filter(|&i| corpus.labels[i] == *name).collect())
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(cli.seed);
    let mut schedule: Vec<Vec<(usize, usize)>> =
        intents.iter().map(|_| seasons(&mut rng, cli.days)).collect();
    for _ in 0..cli.evergreen.min(intents.len()) {
        let k = loop {
            let k = rng.random_range(0..intents.len());
            if schedule[k] != [(0, cli.days)] {
                break k;
            }
        };
        schedule[k] = vec![(0, cli.days)];
    }
    let noise = Normal::new(0.0f32, 0.01).context("noise")?;

    let dev = device::select(cli.device.parse::<DevicePreference>().context("--device")?)?;
    let mut fit_params = FitParams::default();
    // Side by side with BERTopic: its English preprocessing, and no small-talk filtering
    // (BERTopic clusters "thanks" like any other message).
    fit_params.text = topic_engine::text::TextOptions::legacy();
    fit_params.seed = cli.seed;
    let mut merge_params = MergeParams::default();
    if let Some(n) = cli.max_terms_per_topic {
        merge_params.max_terms_per_topic = n;
    }
    merge_params.rule = match cli.merge_rule.as_str() {
        "members" => topic_engine::MergeRule::Members,
        "centroid" => topic_engine::MergeRule::Centroid,
        other => anyhow::bail!("--merge-rule {other}: expected members or centroid"),
    };
    let dim = corpus.embeddings.cols();

    let mut base: Option<TopicModel> = None;
    let mut days = Vec::with_capacity(cli.days);
    for d in 0..cli.days {
        let date = cli.start + chrono::Days::new(d as u64);
        let active: Vec<usize> = (0..intents.len())
            .filter(|&k| schedule[k].iter().any(|&(a, b)| (a..b).contains(&d)))
            .collect();
        if active.is_empty() {
            continue;
        }
        let mut texts = Vec::with_capacity(cli.docs_per_day);
        let mut data = Vec::with_capacity(cli.docs_per_day * dim);
        for i in 0..cli.docs_per_day {
            let rows = &rows_of[active[i % active.len()]];
            let r = rows[rng.random_range(0..rows.len())];
            let mut text = corpus.texts[r].clone();
            if rng.random_bool(cli.id_share) {
                text.push_str(" order #");
                text.push_str(&order_number(&mut rng));
            }
            texts.push(text);
            data.extend(corpus.embeddings.row(r).iter().map(|v| v + noise.sample(&mut rng)));
        }
        let mut embeddings = Matrix::new(data, texts.len(), dim)?;
        embeddings.normalize_rows();
        let Night { fitted, outcome, fit_s, merge_s } = fit_and_merge(
            &texts,
            &embeddings,
            date,
            base.as_ref(),
            &fit_params,
            &merge_params,
            topic_engine::Device::of(&dev),
        )
        .with_context(|| format!("day {}", d + 1))?;
        let m = &outcome.model;
        let files = topic_engine::io::to_files(m)?;
        let non_outlier = || m.topics.iter().filter(|t| !t.is_outlier());
        let info = serde_json::json!({
            "day": d + 1,
            "n_docs": texts.len(),
            "active_intents": active.len(),
            "day_topics": fitted.model.active_topics().filter(|t| !t.is_outlier()).count(),
            "active_topics": non_outlier().filter(|t| t.is_active()).count(),
            "retired_topics": non_outlier().filter(|t| !t.is_active()).count(),
            "vocabulary": m.vocabulary.len(),
            "term_entries": m.topics.iter().map(|t| t.term_counts.len()).sum::<usize>(),
            "max_topic_terms": non_outlier().map(|t| t.term_counts.len()).max(),
            "outlier_terms": m.outlier_topic().map(|t| t.term_counts.len()),
            "member_rows": m.topics.iter().map(|t| t.memory.all_members().count()).sum::<usize>(),
            "lineage_entries": m.topics.iter().map(|t| t.memory.lineage.len()).sum::<usize>(),
            "max_topic_lineage": non_outlier().map(|t| t.memory.lineage.len()).max(),
            "heap_bytes": m.heap_bytes(),
            "config_bytes": files.config_json.len(),
            "tensor_bytes": files.tensors.len(),
            "fit_s": fit_s,
            "merge_s": merge_s,
        });
        if (d + 1) % 30 == 0 || d + 1 == cli.days {
            eprintln!("{info}");
        }
        days.push(info);
        base = Some(outcome.model);
    }
    let out = serde_json::json!({
        "params": {
            "days": cli.days,
            "docs_per_day": cli.docs_per_day,
            "evergreen": cli.evergreen,
            "id_share": cli.id_share,
            "seed": cli.seed,
            "max_terms_per_topic": merge_params.max_terms_per_topic,
            "merge_rule": cli.merge_rule,
            "device": device::name(&dev),
        },
        "days": days,
        "total_s": t_all.elapsed().as_secs_f64(),
    });
    std::fs::write(&cli.out, serde_json::to_vec(&out)?)
        .with_context(|| format!("writing {}", cli.out.display()))?;
    if let (Some(dir), Some(model)) = (&cli.model_out, &base) {
        topic_engine::io::save(model, dir)?;
    }
    Ok(())
}
