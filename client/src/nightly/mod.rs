//! `topics nightly` and `topics schedule`: the job that replaces the Celery beat task.
//!
//! For each tenant with messages in the window (24 h before the run by default): read its
//! messages, skip it when it has fewer than `--min-messages`, skip it when the server says this
//! window is already merged (unless `--force`), else `Fit` then `Merge`. A JSON summary goes to
//! stdout (or `--summary FILE`).

pub mod args;
pub mod progress;
pub mod retry;
pub mod runner;
pub mod schedule;
pub mod shard;
pub mod summary;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::connect::ServerOptions;
use args::{parse_duration, SourceArgs, WindowArgs};
use retry::CallRetries;
use runner::Settings;
use summary::Summary;
use topicd_proto as proto;

/// Flags shared by `topics nightly` and `topics schedule`.
#[derive(Debug, Clone, clap::Args)]
pub struct JobArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Tenants with fewer messages in the window are skipped (and counted).
    #[arg(long, default_value_t = 10)]
    pub min_messages: usize,
    /// Tenants processed at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Longest time for one tenant, retries included (e.g. 300s, 5m).
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    pub tenant_timeout: Duration,
    /// Longest time for the whole run; tenants not started by then are reported as not run.
    #[arg(long, default_value = "2h", value_parser = parse_duration)]
    pub deadline: Duration,
    /// Retries per call on transient errors (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
    /// ABORTED).
    #[arg(long, default_value_t = 2)]
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one (±25 % jitter, at most 60 s).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub retry_backoff: Duration,
    /// Fit and merge even when the server has already merged this window for a tenant.
    #[arg(long)]
    pub force: bool,
    /// Only these tenants (repeatable).
    #[arg(long = "tenant")]
    pub tenants: Vec<String>,
    /// Run as worker i of n (e.g. 0/2 and 1/2): only the tenants whose stable hash is i modulo
    /// n, so n workers started with 0/n .. (n-1)/n split the tenants without overlap.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<shard::Shard>,
    /// Override the server's HDBSCAN min_cluster_size (BERTopic's min_topic_size).
    #[arg(long)]
    pub min_topic_size: Option<u32>,
    /// Override the server's topic reduction: none, auto or N.
    #[arg(long)]
    pub nr_topics: Option<String>,
    /// Override the server's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the JSON summary to this file instead of stdout.
    #[arg(long, visible_alias = "summary-out")]
    pub summary: Option<PathBuf>,
}

/// Arguments of `topics nightly`.
#[derive(Debug, Clone, clap::Args)]
pub struct NightlyArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    #[command(flatten)]
    pub job: JobArgs,
}

impl JobArgs {
    /// Validated settings for a run over `window`.
    pub fn settings(&self, window: crate::sources::Window) -> anyhow::Result<Settings> {
        if self.concurrency == 0 {
            bail!("--concurrency must be at least 1");
        }
        if self.min_messages == 0 {
            bail!("--min-messages must be at least 1");
        }
        if self.tenant_timeout.is_zero() || self.deadline.is_zero() {
            bail!("--tenant-timeout and --deadline must be positive");
        }
        if let Some(nr_topics) = &self.nr_topics {
            let valid = nr_topics == "none"
                || nr_topics == "auto"
                || nr_topics.parse::<u32>().is_ok_and(|n| n > 0);
            if !valid {
                bail!("--nr-topics must be none, auto or a positive integer, got {nr_topics:?}");
            }
        }
        let fit_params =
            (self.min_topic_size.is_some() || self.nr_topics.is_some() || self.seed.is_some())
                .then(|| proto::FitParams {
                    min_topic_size: self.min_topic_size,
                    nr_topics: self.nr_topics.clone(),
                    seed: self.seed,
                    ..Default::default()
                });
        Ok(Settings {
            window,
            min_messages: self.min_messages,
            concurrency: self.concurrency,
            tenant_timeout: self.tenant_timeout,
            deadline: self.deadline,
            retry: CallRetries {
                retries: self.retries,
                backoff: retry::Backoff {
                    initial: self.retry_backoff,
                    ..CallRetries::default().backoff
                },
            },
            force: self.force,
            fit_params,
            only_tenants: self.tenants.clone(),
            shard: self.shard,
        })
    }

    /// Writes the summary to `--summary` or stdout.
    pub fn write_summary(&self, summary: &Summary) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(summary).context("serialising the summary")?;
        match &self.summary {
            Some(path) => std::fs::write(path, json + "\n")
                .with_context(|| format!("writing the summary to {}", path.display())),
            None => {
                println!("{json}");
                Ok(())
            }
        }
    }
}

/// Runs one pass of the job over `window` and writes its summary.
pub async fn run_once(
    job: &JobArgs,
    server: &ServerOptions,
    window: crate::sources::Window,
) -> anyhow::Result<Summary> {
    let settings = job.settings(window)?;
    let spec = job.source.spec()?;
    let mut pg = job.source.pg_config()?;
    pg.max_connections = pg.max_connections.max(u32::try_from(job.concurrency).unwrap_or(u32::MAX));
    let source: Arc<dyn crate::sources::MessageSource> =
        Arc::from(crate::sources::open(&spec, &pg).await.context("opening the message source")?);
    let api: Arc<dyn runner::NightlyApi> = Arc::new(server.client()?);
    let mut progress = progress::Progress::auto();
    let summary = runner::run(source, api, &settings, &mut progress)
        .await
        .context("listing the tenants of the window")?;
    job.write_summary(&summary)?;
    if summary.deadline_warning {
        tracing::warn!(
            duration_seconds = summary.duration_seconds,
            deadline_seconds = summary.deadline_seconds,
            "the nightly run took more than 80 % of its deadline"
        );
    }
    if summary.failed {
        tracing::error!(
            failed = summary.failed_users,
            not_run = summary.not_run_users,
            rate = summary.failure_rate,
            "more than 20 % of the eligible tenants failed or did not run"
        );
    }
    Ok(summary)
}

/// Runs `topics nightly`.
pub async fn run(args: NightlyArgs, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let window = args.window.resolve(chrono::Utc::now())?;
    let summary = run_once(&args.job, &server, window).await?;
    Ok(summary.exit_code())
}
