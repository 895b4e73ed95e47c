//! `topicd`: the gRPC topic-modeling server.
//!
//! Configuration: defaults, then `--config FILE` (TOML), then flags / `TOPICD_*` variables.
//! Logging: `RUST_LOG` (default `info`), `TOPICD_LOG_FORMAT=json|text` (default text).

use clap::Parser;
use tracing_subscriber::EnvFilter;

use topicd::config::{Config, Overrides};

/// topicd — multi-tenant topic modeling over gRPC (Fit, Merge, Transform, GetTopTopics, ...).
///
/// Without any authentication option the server listens on loopback only. With --tls-cert and
/// --tls-key the gRPC port speaks TLS only; add --tls-client-ca for mTLS. Health checking
/// (grpc.health.v1) and server reflection are always on; Prometheus metrics are served at
/// http://METRICS_LISTEN/metrics.
#[derive(Debug, Parser)]
#[command(name = "topicd", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    /// Log format: text or json.
    #[arg(long, env = "TOPICD_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

fn init_tracing(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    if format == "json" {
        builder.json().flatten_event(true).with_current_span(true).init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(&cli.log_format);
    let config = Config::load(&cli.overrides)?;
    let addr = config.listen_addr();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), %addr, data_dir = %config.data_dir.display(), "starting topicd");
    let app = topicd::app::App::build(config).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    topicd::app::serve(app, listener, shutdown_signal()).await
}
