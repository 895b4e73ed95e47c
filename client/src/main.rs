//! `topics`: the nightly scheduler, operator commands against `topicd`, and offline engine
//! commands that run `topic-engine` in-process.
//!
//! Errors from every command end up here and become one message and a non-zero exit code.

use clap::{Parser, Subcommand};

mod offline;

/// topics — nightly topic modeling and operations for topicd.
#[derive(Debug, Parser)]
#[command(name = "topics", version, about, long_about = None)]
struct Cli {
    /// topicd address.
    #[arg(long, global = true, env = "TOPICS_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Bearer token sent as `authorization: Bearer …`.
    #[arg(long, global = true, env = "TOPICS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fit a topic model offline (no server) from a JSONL file and optional embeddings.
    Fit(offline::fit::FitArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Fit(args) => offline::fit::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
