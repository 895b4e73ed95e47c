//! `faq_gaps`: the Rust side of the knowledge-gap benchmark (`benches/faq_gaps.sh`, issue 29).
//!
//! ```text
//! faq_gaps --out scores.json [--docs D.jsonl --embeddings E.npy] [--name clinc150]
//!          [--encoder models/all-MiniLM-L6-v2] [--days 3] [--seed 42] [--min-size 20]
//! ```
//!
//! 1. The dataset's in-scope documents (CLINC150 from `TOPICD_DATASETS` by default, or another
//!    set in its layout, e.g. Banking77) with their reference embeddings are shuffled (seed) and
//!    dealt over `--days` days; each day is fitted (`topic_engine::fit`, default `FitParams`, the
//!    seed) and merged into the long-lived model (`topic_engine::merge`), the nightly path.
//! 2. Every document is tagged with the final model (`topic_engine::transform`); a topic with at
//!    least `--min-size` documents is an FAQ entry whose intent is its documents' majority
//!    intent.
//! 3. Articles: half of the intents (a seeded shuffle, the first half), each an article whose
//!    title is the intent's name humanised (`card_arrival` → "Card arrival"), embedded with the
//!    local encoder (`topic_encoder::LocalEncoder`, the server's local provider).
//! 4. For each entry, the best article by cosine (`topic_engine::coverage::best_articles`, the
//!    function the server's coverage uses) for two representations of the entry: the topic's
//!    embedding (what the server compares) and the embedding of its most central document (the
//!    FAQ's canonical question without an LLM: the member nearest the topic embedding).
//!
//! scores.json: `{"dataset", "params", "articles": [{"intent", "title"}], "entries": [{"topic_id",
//! "size", "intent", "purity", "has_article", "topic": {"score", "intent", "all"},
//! "question": {"score", "intent", "text", "all"}, "examples": [[...], ...]}]}`: `all` is the
//! cosine with every article (in `articles` order), `examples` the same for each of the 8 most
//! central members. `python/faq_gaps_table.py` sweeps the threshold over it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Parser;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use topic_benches::{fit_and_merge, Night};
use topic_engine::coverage::best_articles;
use topic_engine::{FitParams, Matrix, MergeParams, TopicModel, TransformParams};

#[derive(Debug, Parser)]
#[command(
    name = "faq_gaps",
    about = "Knowledge gaps: FAQ entries vs articles from half the intents"
)]
struct Cli {
    /// Scores JSON.
    #[arg(long)]
    out: PathBuf,
    /// Dataset JSONL (CLINC150's layout); default: CLINC150.
    #[arg(long, requires = "embeddings")]
    docs: Option<PathBuf>,
    /// Its embeddings (float32 .npy, JSONL order).
    #[arg(long, requires = "docs")]
    embeddings: Option<PathBuf>,
    /// Dataset name in the output.
    #[arg(long, default_value = "clinc150")]
    name: String,
    /// The local encoder's weights (the model of the reference embeddings).
    #[arg(long, default_value = "models/all-MiniLM-L6-v2")]
    encoder: String,
    /// Nights the documents are dealt over.
    #[arg(long, default_value_t = 3)]
    days: usize,
    /// Seed of the deal, the fits and the choice of intents with articles.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Smallest topic (documents) that counts as an FAQ entry.
    #[arg(long, default_value_t = 20)]
    min_size: usize,
    /// First night.
    #[arg(long, default_value = "2026-11-01")]
    start: NaiveDate,
}

fn main() -> std::process::ExitCode {
    topic_benches::exit_code(run(Cli::parse()))
}

/// `card_arrival` → "Card arrival".
fn humanise(intent: &str) -> String {
    let words = intent.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn run(cli: Cli) -> Result<()> {
    let corpus = match (&cli.docs, &cli.embeddings) {
        (Some(docs), Some(emb)) => {
            let (texts, _) = topic_benches::load_jsonl(docs, None)?;
            topic_benches::corpus_files(docs, emb, texts.len())?
        }
        _ => topic_benches::clinc150(22_500).context("loading CLINC150")?,
    };
    let in_scope: Vec<usize> = (0..corpus.len()).filter(|&i| corpus.labels[i] != "oos").collect();
    if in_scope.len() < cli.days * 10 {
        bail!("{} in-scope documents: too few for {} days", in_scope.len(), cli.days);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cli.seed);
    let mut order = in_scope.clone();
    order.shuffle(&mut rng);
    let mut fit_params = FitParams::default();
    fit_params.seed = cli.seed;
    let merge_params = MergeParams::default();
    let mut base: Option<TopicModel> = None;
    let per_day = order.len().div_ceil(cli.days);
    for (d, rows) in order.chunks(per_day).enumerate() {
        let texts: Vec<String> = rows.iter().map(|&i| corpus.texts[i].clone()).collect();
        let embeddings = corpus.embeddings.select_rows(rows);
        let day = cli.start + chrono::Days::new(d as u64);
        let Night { outcome, .. } = fit_and_merge(
            &texts,
            &embeddings,
            day,
            base.as_ref(),
            &fit_params,
            &merge_params,
            topic_engine::Device::Cpu,
        )
        .with_context(|| format!("night {}", d + 1))?;
        eprintln!(
            "night {}: {} docs, {} topics after merge",
            d + 1,
            rows.len(),
            outcome.model.active_topics().count()
        );
        base = Some(outcome.model);
    }
    let model = base.context("no nights")?;

    // Every in-scope document tagged by the final model.
    let all = corpus.embeddings.select_rows(&in_scope);
    let tags = topic_engine::transform(&model, &all, &TransformParams::default())?;
    let mut members: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (k, a) in tags.iter().enumerate() {
        if a.topic_id >= 0 {
            members.entry(a.topic_id).or_default().push(in_scope[k]);
        }
    }

    // Articles from half of the intents.
    let intents: BTreeSet<&str> = in_scope.iter().map(|&i| corpus.labels[i].as_str()).collect();
    let mut shuffled: Vec<&str> = intents.into_iter().collect();
    shuffled.shuffle(&mut rng);
    let with_article: Vec<&str> = shuffled[..shuffled.len() / 2].to_vec();
    let titles: Vec<String> = with_article.iter().map(|i| humanise(i)).collect();
    let encoder = topic_encoder::LocalEncoder::load(&cli.encoder, &candle_core::Device::Cpu)
        .with_context(|| format!("loading the encoder {}", cli.encoder))?;
    let article_vectors = encoder.encode(&titles)?;

    let mut entries = Vec::new();
    let mut topic_rows: Vec<Vec<f32>> = Vec::new();
    let mut question_rows: Vec<Vec<f32>> = Vec::new();
    let mut kept = Vec::new();
    let mut examples: Vec<Vec<usize>> = Vec::new();
    for (&topic_id, docs) in &members {
        if docs.len() < cli.min_size {
            continue;
        }
        let Some(topic) = model.topic(topic_id) else { continue };
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in docs {
            *counts.entry(corpus.labels[i].as_str()).or_default() += 1;
        }
        let (intent, n) = counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(k, v)| (k.to_string(), *v))
            .context("a topic with members")?;
        // The most central member: the FAQ's canonical question without an LLM.
        let central = docs
            .iter()
            .copied()
            .max_by(|&a, &b| {
                let dot = |i: usize| -> f32 {
                    corpus.embeddings.row(i).iter().zip(&topic.embedding).map(|(x, y)| x * y).sum()
                };
                dot(a).total_cmp(&dot(b)).then(b.cmp(&a))
            })
            .context("a topic with members")?;
        // The 8 most central members (the FAQ keeps up to 8 examples per entry).
        let mut by_centrality: Vec<(f32, usize)> = docs
            .iter()
            .map(|&i| {
                let dot: f32 =
                    corpus.embeddings.row(i).iter().zip(&topic.embedding).map(|(x, y)| x * y).sum();
                (dot, i)
            })
            .collect();
        by_centrality.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        examples.push(by_centrality.iter().take(8).map(|&(_, i)| i).collect::<Vec<usize>>());
        topic_rows.push(topic.embedding.clone());
        question_rows.push(corpus.embeddings.row(central).to_vec());
        kept.push((topic_id, docs.len(), intent, n as f64 / docs.len() as f64, central));
    }
    let topic_matrix = Matrix::from_rows(&topic_rows)?;
    let question_matrix = Matrix::from_rows(&question_rows)?;
    let cosines = |m: &Matrix, k: usize| -> Vec<f32> {
        let mut q = m.row(k).to_vec();
        let norm = q.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
        q.iter_mut().for_each(|v| *v /= norm);
        article_vectors.iter_rows().map(|a| a.iter().zip(&q).map(|(x, y)| x * y).sum()).collect()
    };
    let by_topic = best_articles(&topic_matrix, &article_vectors)?;
    let by_question = best_articles(&Matrix::from_rows(&question_rows)?, &article_vectors)?;
    for (k, (topic_id, size, intent, purity, central)) in kept.into_iter().enumerate() {
        let describe = |m: Option<topic_engine::coverage::ArticleMatch>| match m {
            Some(m) => json!({"score": m.score, "intent": with_article[m.article]}),
            None => json!({"score": null, "intent": null}),
        };
        let mut topic_entry = describe(by_topic[k]);
        topic_entry["all"] = json!(cosines(&topic_matrix, k));
        let mut question = describe(by_question[k]);
        question["all"] = json!(cosines(&question_matrix, k));
        let example_rows = corpus.embeddings.select_rows(&examples[k]);
        let per_example: Vec<Vec<f32>> =
            (0..example_rows.rows()).map(|r| cosines(&example_rows, r)).collect();
        question["text"] = json!(corpus.texts[central]);
        entries.push(json!({
            "topic_id": topic_id,
            "size": size,
            "intent": intent,
            "purity": purity,
            "has_article": with_article.contains(&intent.as_str()),
            "topic": topic_entry,
            "question": question,
            "examples": per_example,
        }));
    }
    let out = json!({
        "dataset": cli.name,
        "params": {"days": cli.days, "seed": cli.seed, "min_size": cli.min_size,
                   "encoder": cli.encoder, "documents": in_scope.len()},
        "articles": with_article.iter().zip(&titles)
            .map(|(i, t)| json!({"intent": i, "title": t})).collect::<Vec<_>>(),
        "entries": entries,
    });
    std::fs::write(&cli.out, serde_json::to_vec_pretty(&out)?)
        .with_context(|| format!("writing {}", cli.out.display()))?;
    eprintln!(
        "{}: {} entries, {} articles -> {}",
        cli.name,
        entries.len(),
        titles.len(),
        cli.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::humanise;

    #[test]
    fn intent_names_read_as_titles() {
        assert_eq!(humanise("card_arrival"), "Card arrival");
        assert_eq!(humanise("pto_request_status"), "Pto request status");
        assert_eq!(humanise("Refund_not_showing_up"), "Refund not showing up");
    }
}
