//! `topics providers check`: a live smoke test of the embedding and labeling providers the
//! environment configures, so a user can see that a key, a model name and a base URL work before
//! the nightly job depends on them.
//!
//! ```text
//! topics providers check [--provider all|local|gemini|openai] [--json]
//! ```
//! Each provider is checked the way the server uses it: three short texts are embedded (the
//! answer must have the advertised dimension, unit-length finite rows, and put the two texts
//! about refunds closer to each other than to the one about the weather), and two sample topics
//! are labelled in one LLM call (every topic must get an LLM label, not a keyword fallback).
//! A remote provider without its key (`GEMINI_API_KEY`, `OPENAI_API_KEY`) and a local encoder
//! without weights are reported as skipped, not failed; the exit status is non-zero only when
//! a check that ran failed.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use topicd_providers::{
    build_embedder, build_labeler, EmbedProvider, EmbeddingConfig, EnvOverrides, LabelConfig,
    LabelProvider, ProviderError, TopicToLabel,
};

/// Which providers `topics providers check` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Which {
    /// Every provider: local, Gemini and OpenAI-compatible.
    #[default]
    All,
    /// The local encoder only.
    Local,
    /// Gemini only.
    Gemini,
    /// The OpenAI-compatible endpoint only.
    Openai,
}

/// `topics providers …`.
#[derive(Debug, clap::Subcommand)]
pub enum ProvidersCommand {
    /// Live smoke test of the configured providers (skipped where no key or model is set).
    Check(CheckArgs),
}

/// Arguments of `topics providers check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Which providers to check.
    #[arg(long, value_enum, default_value_t = Which::All)]
    pub provider: Which,
    /// One JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The provider answered correctly.
    Ok,
    /// Not configured here (no key, no model files); not an error.
    Skipped,
    /// Configured, but the call or its answer was wrong.
    Failed,
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// `local`, `gemini`, `openai`.
    pub provider: &'static str,
    /// `embed` or `labels`.
    pub kind: &'static str,
    /// The model the check used.
    pub model: String,
    pub status: Status,
    /// What was seen (dimension and similarities, labels) or why it failed or was skipped.
    pub detail: String,
    /// Wall time of the call, in milliseconds.
    pub millis: u64,
}

/// Texts embedded by the check: the first two mean the same, the third does not.
pub const PROBE_TEXTS: [&str; 3] = [
    "I want a refund for the order I returned last week",
    "please give me my money back for the returned purchase",
    "what will the weather be like in Paris tomorrow",
];

/// The two topics labelled by the check.
pub fn probe_topics() -> Vec<TopicToLabel> {
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        TopicToLabel {
            topic_id: 0,
            keywords: words(&["refund", "money", "back", "returned", "order"]),
            samples: words(&["I want a refund for my order", "when do I get my money back"]),
            ..Default::default()
        },
        TopicToLabel {
            topic_id: 1,
            keywords: words(&["password", "reset", "login", "account", "locked"]),
            samples: words(&["I forgot my password", "my account is locked after a reset"]),
            ..Default::default()
        },
    ]
}

/// The embedding configuration to check `provider` with: the environment's own settings when it
/// configures that provider (`TOPICD_EMBED_PROVIDER`), else that provider's defaults with the
/// key from the environment. `var` reads a variable (the process environment in the command).
pub fn embed_config(
    provider: EmbedProvider,
    var: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<EmbeddingConfig> {
    settings(
        var,
        |c: &mut EmbeddingConfig, v| c.apply_vars(v),
        |c| c.provider == provider,
        EmbeddingConfig { provider, ..Default::default() },
    )
}

/// [`embed_config`] for labels (`TOPICD_LABEL_*`).
pub fn label_config(
    provider: LabelProvider,
    var: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<LabelConfig> {
    settings(
        var,
        |c: &mut LabelConfig, v| c.apply_vars(v),
        |c| c.provider == provider,
        LabelConfig { provider, ..Default::default() },
    )
}

/// The environment's settings (`apply` over `var`) when `is_checked` says they configure the
/// provider being checked, else `fresh` with only the key variables (and the device) applied.
fn settings<C: Default>(
    var: &dyn Fn(&str) -> Option<String>,
    apply: impl Fn(&mut C, &dyn Fn(&str) -> Option<String>) -> Result<(), ProviderError>,
    is_checked: impl Fn(&C) -> bool,
    fresh: C,
) -> anyhow::Result<C> {
    let mut env = C::default();
    apply(&mut env, var).context("provider settings in the environment")?;
    if is_checked(&env) {
        return Ok(env);
    }
    let mut cfg = fresh;
    let keys_only = |k: &str| match k {
        "GEMINI_API_KEY" | "OPENAI_API_KEY" | "TOPICD_DEVICE" => var(k),
        _ => None,
    };
    apply(&mut cfg, &keys_only).context("provider settings in the environment")?;
    Ok(cfg)
}

fn provider_name(p: EmbedProvider) -> &'static str {
    match p {
        EmbedProvider::Local => "local",
        EmbedProvider::Gemini => "gemini",
        EmbedProvider::Openai => "openai",
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Embeds [`PROBE_TEXTS`] with `cfg` and judges the answer.
pub async fn check_embedder(cfg: &EmbeddingConfig) -> CheckResult {
    let provider = provider_name(cfg.provider);
    let model = cfg.model_or_default();
    let result = |status, detail: String, millis| CheckResult {
        provider,
        kind: "embed",
        model: model.clone(),
        status,
        detail,
        millis,
    };
    if let Some(var) = cfg.provider.key_var() {
        if cfg.api_key.as_ref().is_none_or(|k| k.is_empty()) {
            return result(Status::Skipped, format!("{var} is not set"), 0);
        }
    } else {
        let source = cfg.model_or_default();
        let present = topic_encoder::resolve_source(&source)
            .is_ok_and(|dir| topic_encoder::has_model_files(&dir));
        if !present {
            return result(
                Status::Skipped,
                format!(
                    "no model at {source:?} (run scripts/fetch-model.sh or set TOPICD_EMBED_MODEL)"
                ),
                0,
            );
        }
    }
    let started = Instant::now();
    let embedder = match build_embedder(cfg) {
        Ok(e) => e,
        Err(e) => return result(Status::Failed, e.to_string(), elapsed_ms(started)),
    };
    let texts: Vec<String> = PROBE_TEXTS.iter().map(|s| s.to_string()).collect();
    let m = match embedder.embed(&texts).await {
        Ok(m) => m,
        Err(e) => return result(Status::Failed, e.to_string(), elapsed_ms(started)),
    };
    let millis = elapsed_ms(started);
    let model = embedder.model_name().to_string();
    let result = |status, detail: String| CheckResult {
        provider,
        kind: "embed",
        model: model.clone(),
        status,
        detail,
        millis,
    };
    if m.rows() != texts.len() || m.cols() != embedder.dimension() {
        return result(
            Status::Failed,
            format!(
                "answered {}×{} for {} texts of dimension {}",
                m.rows(),
                m.cols(),
                texts.len(),
                embedder.dimension()
            ),
        );
    }
    if let Some(i) = (0..m.rows()).find(|&i| {
        let n = m.row(i).iter().map(|x| x * x).sum::<f32>().sqrt();
        !n.is_finite() || (n - 1.0).abs() > 1e-3
    }) {
        return result(Status::Failed, format!("vector {i} is not unit length"));
    }
    let related = cosine(m.row(0), m.row(1));
    let unrelated = cosine(m.row(0), m.row(2)).max(cosine(m.row(1), m.row(2)));
    let detail = format!(
        "{} dims; cosine related {related:.3}, unrelated {unrelated:.3}",
        embedder.dimension()
    );
    if related > unrelated {
        result(Status::Ok, detail)
    } else {
        result(Status::Failed, format!("{detail}: related texts are not closer"))
    }
}

/// Labels [`probe_topics`] with `cfg` in one call and judges the answer.
pub async fn check_labeler(cfg: &LabelConfig) -> CheckResult {
    let provider = match cfg.provider {
        LabelProvider::Keywords => "keywords",
        LabelProvider::Gemini => "gemini",
        LabelProvider::Openai => "openai",
    };
    let var = cfg.provider.key_var();
    let model = cfg.model_or_default();
    let started = Instant::now();
    let result = |status, detail: String, millis| CheckResult {
        provider,
        kind: "labels",
        model: model.clone(),
        status,
        detail,
        millis,
    };
    if let Some(var) = var {
        if cfg.api_key.as_ref().is_none_or(|k| k.is_empty()) {
            return result(Status::Skipped, format!("{var} is not set"), 0);
        }
    }
    let labeler = match build_labeler(cfg) {
        Ok(l) => l,
        Err(e) => return result(Status::Failed, e.to_string(), elapsed_ms(started)),
    };
    let topics = probe_topics();
    let out = match labeler.label(&topics).await {
        Ok(o) => o,
        Err(e) => return result(Status::Failed, e.to_string(), elapsed_ms(started)),
    };
    let millis = elapsed_ms(started);
    let labels: Vec<String> = topics
        .iter()
        .map(|t| {
            format!("{} → {:?}", t.topic_id, out.labels.get(&t.topic_id).map_or("", String::as_str))
        })
        .collect();
    let detail = labels.join(", ");
    if out.fallbacks.is_empty() && out.labels.len() == topics.len() {
        result(Status::Ok, detail, millis)
    } else {
        result(
            Status::Failed,
            format!("keyword fallback for topics {:?} ({detail})", out.fallbacks),
            millis,
        )
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Runs every check `which` selects, reading settings through `var`.
pub async fn check(
    which: Which,
    var: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<CheckResult>> {
    let mut results = Vec::new();
    let selected = |p: Which| which == Which::All || which == p;
    if selected(Which::Local) {
        results.push(check_embedder(&embed_config(EmbedProvider::Local, var)?).await);
    }
    for (w, e, l) in [
        (Which::Gemini, EmbedProvider::Gemini, LabelProvider::Gemini),
        (Which::Openai, EmbedProvider::Openai, LabelProvider::Openai),
    ] {
        if selected(w) {
            results.push(check_embedder(&embed_config(e, var)?).await);
            results.push(check_labeler(&label_config(l, var)?).await);
        }
    }
    Ok(results)
}

/// Runs `topics providers …`.
pub async fn run(command: ProvidersCommand) -> anyhow::Result<ExitCode> {
    let ProvidersCommand::Check(args) = command;
    let results = check(args.provider, &|k| std::env::var(k).ok()).await?;
    let failed = results.iter().filter(|r| r.status == Status::Failed).count();
    if args.json {
        let body = serde_json::json!({ "checks": results, "failed": failed });
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else {
        println!(
            "{:<8} {:<7} {:<8} {:>7}  {:<40} detail",
            "provider", "kind", "status", "ms", "model"
        );
        for r in &results {
            let status = match r.status {
                Status::Ok => "ok",
                Status::Skipped => "skipped",
                Status::Failed => "FAILED",
            };
            println!(
                "{:<8} {:<7} {:<8} {:>7}  {:<40} {}",
                r.provider, r.kind, status, r.millis, r.model, r.detail
            );
        }
    }
    Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
