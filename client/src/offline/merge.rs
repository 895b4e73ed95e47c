//! `topics merge`: merge a day model into a long-lived model, in-process (the nightly merge,
//! offline).
//!
//! ```text
//! topics merge [--base DIR] --day DIR --out DIR [--min-similarity 0.7]
//!              [--retire-after-days 30] [--history-days 90] [--max-terms-per-topic 2000]
//!              [--report R.json]
//! ```
//! Topic ids of the base never change meaning; unmatched day topics get new ids (see
//! `topic_engine::merge`). Without `--base` the day model becomes the first long-lived model.
//! Merge parameters not given on the command line are the base model's own (its
//! `merge_params`), else the engine's defaults.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use topic_engine::merge::MergeOutcome;
use topic_engine::MergeParams;

use super::files;

/// Arguments of `topics merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The long-lived model directory (omit on the first day).
    #[arg(long)]
    pub base: Option<PathBuf>,
    /// The day model directory (from `topics fit`).
    #[arg(long)]
    pub day: PathBuf,
    /// Output directory for the merged model (may be the base directory itself).
    #[arg(long)]
    pub out: PathBuf,
    /// Cosine of topic embeddings at or above which a day topic is the same topic as a base
    /// topic.
    #[arg(long)]
    pub min_similarity: Option<f32>,
    /// Topics not seen for this many days are retired.
    #[arg(long)]
    pub retire_after_days: Option<u32>,
    /// Days of per-topic daily counts kept.
    #[arg(long)]
    pub history_days: Option<u32>,
    /// Most term counts (the most frequent) a topic keeps; its keywords come from these.
    #[arg(long)]
    pub max_terms_per_topic: Option<usize>,
    /// Write what the merge did as JSON here (matched, new and retired topic ids).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

impl MergeArgs {
    /// The merge parameters: flags first, then the base model's, then the defaults.
    fn params(&self, base: Option<&MergeParams>) -> MergeParams {
        let mut p = base.cloned().unwrap_or_default();
        if let Some(v) = self.min_similarity {
            p.min_similarity = v;
        }
        if let Some(v) = self.retire_after_days {
            p.retire_after_days = v;
        }
        if let Some(v) = self.history_days {
            p.history_days = v;
        }
        if let Some(v) = self.max_terms_per_topic {
            p.max_terms_per_topic = v;
        }
        p
    }
}

/// Runs `topics merge`.
pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let base = args.base.as_deref().map(files::load_model).transpose()?;
    let day = files::load_model(&args.day)?;
    let params = args.params(base.as_ref().map(|b| &b.merge_params));
    let outcome = topic_engine::merge::merge(base.as_ref(), &day, &params).context("merging")?;
    print_outcome(&outcome, &params);
    files::print_topics(&outcome.model, 20);
    let dir = files::write_model(&outcome.model, &args.out)?;
    println!("model: {}", dir.display());
    if let Some(path) = &args.report {
        files::write_json(path, &report(&outcome, &params))?;
        println!("report: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_outcome(o: &MergeOutcome, params: &MergeParams) {
    println!(
        "merged (rule {:?}, min_similarity {}, retire_after_days {}, history_days {}, \
         max_terms_per_topic {}): {} day topics matched ({} split between two topics), {} new, \
         {} retired; next topic id {}",
        params.rule,
        params.min_similarity,
        params.retire_after_days,
        params.history_days,
        params.max_terms_per_topic,
        o.matched.len(),
        o.split.len(),
        o.new_topic_ids.len(),
        o.retired.len(),
        o.model.next_topic_id
    );
}

fn report(o: &MergeOutcome, params: &MergeParams) -> serde_json::Value {
    let matched: Vec<serde_json::Value> = o
        .matched
        .iter()
        .map(|&(day, base, cos)| serde_json::json!({ "day": day, "base": base, "cosine": cos }))
        .collect();
    serde_json::json!({
        "params": params,
        "matched": matched,
        "split": o.split,
        "new_topic_ids": o.new_topic_ids,
        "retired": o.retired,
        "active_topics": o.model.active_topics().filter(|t| !t.is_outlier()).count(),
        "next_topic_id": o.model.next_topic_id,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_base_params() {
        let args = MergeArgs {
            base: None,
            day: PathBuf::new(),
            out: PathBuf::new(),
            min_similarity: Some(0.8),
            retire_after_days: None,
            history_days: None,
            max_terms_per_topic: Some(500),
            report: None,
        };
        let merge_params = |min_similarity, retire_after_days, history_days, max_terms| {
            let mut p = MergeParams::default();
            p.min_similarity = min_similarity;
            p.retire_after_days = retire_after_days;
            p.history_days = history_days;
            p.max_terms_per_topic = max_terms;
            p
        };
        let base = merge_params(0.6, 7, 30, 100);
        let p = args.params(Some(&base));
        assert_eq!(p, merge_params(0.8, 7, 30, 500));
        let d = MergeParams::default();
        let want = merge_params(0.8, d.retire_after_days, d.history_days, 500);
        assert_eq!(args.params(None), want);
    }
}
