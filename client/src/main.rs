//! `topics`: the nightly scheduler, operator commands against `topicd`, and offline engine
//! commands that run `topic-engine` in-process.
//!
//! Errors from every command end up here and become one message and a non-zero exit code.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use topics::{connect, demo, nightly, ops, providers};

mod offline;

/// topics — nightly topic modeling and operations for topicd.
#[derive(Debug, Parser)]
#[command(name = "topics", version, about, long_about = None)]
struct Cli {
    /// topicd address: http://HOST:PORT, or https://HOST:PORT for TLS.
    #[arg(long, global = true, env = "TOPICS_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Bearer token sent as `authorization: Bearer …`.
    #[arg(long, global = true, env = "TOPICS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// CA bundle (PEM) to verify an https:// server with, instead of the public web roots.
    #[arg(long, global = true, env = "TOPICS_TLS_CA", value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for servers that require mTLS (with --tls-key).
    #[arg(long, global = true, env = "TOPICS_TLS_CERT", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, global = true, env = "TOPICS_TLS_KEY", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Name the server certificate must carry, when it differs from the --server host.
    #[arg(long, global = true, env = "TOPICS_TLS_DOMAIN", value_name = "NAME")]
    tls_domain: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fit a topic model offline (no server) from a JSONL file and optional embeddings.
    Fit(offline::fit::FitArgs),
    /// Merge a day model into a long-lived model offline (stable topic ids).
    Merge(offline::merge::MergeArgs),
    /// Tag documents with a saved model offline (precomputed embeddings or the local encoder).
    Transform(offline::transform::TransformArgs),
    /// Embed the texts of a JSONL file into a float32 .npy (local encoder, Gemini or OpenAI).
    Embed(offline::embed::EmbedArgs),
    /// Convert a model saved by Python BERTopic (safetensors + c-TF-IDF) into a topicd model.
    Import(offline::import::ImportArgs),
    /// Write the dashboard's views of a saved model as one self-contained HTML file (offline).
    Report(offline::report::ReportArgs),
    /// Fit and merge every tenant's messages of a window (the nightly job); JSON summary on stdout.
    Nightly(nightly::NightlyArgs),
    /// Run the nightly job in-process on a cron schedule (UTC), until stopped.
    Schedule(nightly::schedule::ScheduleArgs),
    /// List, show, activate or roll back a tenant's models.
    #[command(subcommand)]
    Models(ops::models::ModelsCommand),
    /// A tenant's current top topics.
    Top(ops::top::TopArgs),
    /// A tenant's FAQ: the questions its customers ask, most asked first (json, markdown, csv).
    Faq(ops::faq::FaqArgs),
    /// Tag texts with a tenant's active model.
    Tag(ops::tag::TagArgs),
    /// Give a topic an operator's label (kept across merges), or --clear it.
    Label(ops::label::LabelArgs),
    /// Set a tenant's defined topics from a JSONL file (used from its next fit), or --show them.
    Define(ops::define::DefineArgs),
    /// Hand edits (admin): merge two topics, hide/unhide a topic, split it at the next merge.
    Edit(ops::edit::EditArgs),
    /// Tenant administration.
    #[command(subcommand)]
    Tenant(ops::tenant::TenantCommand),
    /// A tenant's help-centre articles (knowledge gaps): `import FILE.jsonl`, `list`.
    #[command(subcommand)]
    Kb(ops::kb::KbCommand),
    /// Check the server's gRPC health.
    Health(ops::health::HealthArgs),
    /// Embedding and labeling providers: `check` runs a live smoke test of the configured ones.
    #[command(subcommand)]
    Providers(providers::ProvidersCommand),
    /// Write the multi-tenant CLINC150 demo JSONL.
    DemoData(demo::DemoDataArgs),
}

async fn run_async(
    command: Command,
    server: connect::ServerOptions,
) -> anyhow::Result<std::process::ExitCode> {
    match command {
        Command::Nightly(args) => nightly::run(args, server).await,
        Command::Schedule(args) => nightly::schedule::run(args, server).await,
        Command::Models(command) => ops::models::run(command, server).await,
        Command::Top(args) => ops::top::run(args, server).await,
        Command::Faq(args) => ops::faq::run(args, server).await,
        Command::Tag(args) => ops::tag::run(args, server).await,
        Command::Label(args) => ops::label::run(args, server).await,
        Command::Define(args) => ops::define::run(args, server).await,
        Command::Edit(args) => ops::edit::run(args, server).await,
        Command::Tenant(command) => ops::tenant::run(command, server).await,
        Command::Kb(command) => ops::kb::run(command, server).await,
        Command::Health(args) => ops::health::run(args, server).await,
        Command::Embed(args) => offline::embed::run(args).await,
        Command::Providers(command) => providers::run(command).await,
        Command::Fit(_)
        | Command::Merge(_)
        | Command::Transform(_)
        | Command::Import(_)
        | Command::Report(_)
        | Command::DemoData(_) => {
            unreachable!("synchronous commands are run directly")
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,topics=info")),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: cron, systemd and Kubernetes keep stderr as plain logs.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let server = connect::ServerOptions {
        server: cli.server,
        token: cli.token,
        tls: connect::TlsOptions {
            ca: cli.tls_ca,
            cert: cli.tls_cert,
            key: cli.tls_key,
            domain: cli.tls_domain,
        },
    };
    let result = match cli.command {
        Command::Fit(args) => offline::fit::run(args),
        Command::Merge(args) => offline::merge::run(args),
        Command::Transform(args) => offline::transform::run(args),
        Command::Import(args) => offline::import::run(args),
        Command::Report(args) => offline::report::run(args),
        Command::DemoData(args) => demo::run(args),
        command => match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
            Ok(runtime) => runtime.block_on(run_async(command, server)),
            Err(err) => Err(anyhow::Error::new(err).context("starting the async runtime")),
        },
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
