//! `topics schedule`: runs the nightly job in-process on a cron schedule (UTC), for single-box
//! installs without cron, systemd timers or Kubernetes.

use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::args::parse_duration;
use super::JobArgs;
use crate::connect::ServerOptions;
use crate::sources::Window;

/// Arguments of `topics schedule`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScheduleArgs {
    /// Cron expression in UTC: 5 fields (`min hour day month weekday`), or 6–7 with seconds
    /// (and year) first/last as the `cron` crate reads them.
    #[arg(long, default_value = "0 3 * * *")]
    pub cron: String,
    /// Window length: each run covers the `--window` before its scheduled time.
    #[arg(long = "window", default_value = "24h", value_parser = parse_duration)]
    pub length: Duration,
    #[command(flatten)]
    pub job: JobArgs,
}

/// Parses a cron expression; 5-field expressions get a leading `0` seconds field.
pub fn parse_cron(expression: &str) -> anyhow::Result<cron::Schedule> {
    let fields = expression.split_whitespace().count();
    let full = if fields == 5 {
        format!("0 {}", expression.trim())
    } else {
        expression.trim().to_string()
    };
    cron::Schedule::from_str(&full)
        .with_context(|| format!("invalid cron expression {expression:?}"))
}

/// The first scheduled time strictly after `after`.
pub fn next_run(schedule: &cron::Schedule, after: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    schedule.after(&after).next().context("the cron expression has no future run")
}

/// Runs `topics schedule` until interrupted (Ctrl-C / SIGTERM).
pub async fn run(args: ScheduleArgs, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let schedule = parse_cron(&args.cron)?;
    let length = chrono::Duration::from_std(args.length).context("--window is too long")?;
    // Validate every flag once before the first sleep, so mistakes show at start-up.
    args.job.settings(Window::new(Utc::now() - length, Utc::now())?)?;
    args.job.source.spec()?;
    args.job.source.pg_config()?;
    let mut after = Utc::now();
    loop {
        let at = next_run(&schedule, after)?;
        tracing::info!(next_run = %crate::sources::rfc3339(at), cron = %args.cron, "waiting for the next run");
        let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown_signal() => {
                tracing::info!("stopping the scheduler");
                return Ok(ExitCode::SUCCESS);
            }
        }
        let window = Window::new(at - length, at)?;
        tokio::select! {
            outcome = super::run_once(&args.job, &server, window) => match outcome {
                Ok(summary) => tracing::info!(
                    processed = summary.processed_users,
                    skipped = summary.skipped_users,
                    failed = summary.failed_users,
                    not_run = summary.not_run_users,
                    seconds = summary.duration_seconds,
                    "scheduled run finished"
                ),
                Err(err) => tracing::error!(error = format!("{err:#}"), "scheduled run failed"),
            },
            () = shutdown_signal() => {
                tracing::warn!("stopping the scheduler during a run");
                return Ok(ExitCode::FAILURE);
            }
        }
        after = at;
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn five_field_cron_runs_daily_at_three_utc() {
        let schedule = parse_cron("0 3 * * *").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap();
        assert_eq!(
            next_run(&schedule, now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 26, 3, 0, 0).unwrap()
        );
        let before = Utc.with_ymd_and_hms(2026, 11, 25, 2, 59, 59).unwrap();
        assert_eq!(next_run(&schedule, before).unwrap(), now);
    }

    #[test]
    fn six_field_cron_and_errors() {
        let schedule = parse_cron("30 */15 * * * *").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 3, 1, 0).unwrap();
        assert_eq!(
            next_run(&schedule, now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 25, 3, 15, 30).unwrap()
        );
        assert!(parse_cron("every night").is_err());
        assert!(parse_cron("61 3 * * *").is_err());
    }
}
