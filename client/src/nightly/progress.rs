//! Progress reporting: an `indicatif` bar on a terminal, plain `tracing` lines otherwise
//! (cron, systemd and Kubernetes capture stderr as logs).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::summary::{TenantResult, TenantStatus};

/// Where progress goes.
#[derive(Debug)]
pub enum Progress {
    /// A progress bar on stderr.
    Bar(ProgressBar),
    /// One log line per tenant.
    Log,
}

impl Progress {
    /// A bar when stderr is a terminal, log lines otherwise.
    pub fn auto() -> Self {
        if std::io::stderr().is_terminal() {
            Self::Bar(ProgressBar::hidden())
        } else {
            Self::Log
        }
    }

    /// Starts reporting on `total` tenants.
    pub fn start(&mut self, total: u64) {
        if let Self::Bar(bar) = self {
            let fresh = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} tenants ({eta} left) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            fresh.set_style(style);
            *bar = fresh;
        }
        tracing::info!(tenants = total, "nightly run started");
    }

    /// Reports one finished tenant.
    pub fn tenant_done(&self, result: &TenantResult) {
        match self {
            Self::Bar(bar) => {
                bar.inc(1);
                if matches!(result.status, TenantStatus::Failed) {
                    bar.println(format!(
                        "failed: {} — {}",
                        result.tenant_id,
                        result.reason.as_deref().unwrap_or("unknown error")
                    ));
                }
                bar.set_message(result.tenant_id.clone());
            }
            Self::Log => match result.status {
                TenantStatus::Failed => tracing::warn!(
                    tenant = %result.tenant_id,
                    messages = result.messages,
                    attempts = result.attempts,
                    reason = result.reason.as_deref().unwrap_or(""),
                    "tenant failed"
                ),
                status => tracing::info!(
                    tenant = %result.tenant_id,
                    status = ?status,
                    messages = result.messages,
                    version = result.version.as_deref().unwrap_or(""),
                    new_topics = result.new_topics.unwrap_or(0),
                    small_talk = result.small_talk.unwrap_or(0),
                    outliers = result.outliers.unwrap_or(0),
                    seconds = format!("{:.2}", result.duration_seconds),
                    "tenant done"
                ),
            },
        }
    }

    /// A warning shown above the bar, or logged.
    pub fn warn(&self, message: &str) {
        match self {
            Self::Bar(bar) => bar.println(format!("warning: {message}")),
            Self::Log => tracing::warn!("{message}"),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
