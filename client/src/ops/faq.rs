//! `topics faq`: a tenant's FAQ (issue 29) — the questions its customers ask, most asked first —
//! as JSON (default), Markdown or CSV. Markdown and CSV are rendered by the server (GetFaq), so
//! the command and `GET /v1/tenants/{tenant}/faq?format=` print the same document.

use std::process::ExitCode;

use serde_json::{json, Value};
use topicd_proto as proto;

use super::output::print_json;
use crate::connect::ServerOptions;

/// Output formats of `topics faq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaqFormat {
    /// `{"tenant_id", "version", "entries": [...]}`.
    Json,
    /// A Markdown document.
    Markdown,
    /// One CSV row per entry.
    Csv,
}

/// Arguments of `topics faq`.
#[derive(Debug, Clone, clap::Args)]
pub struct FaqArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FaqFormat::Json)]
    pub format: FaqFormat,
    /// Knowledge gaps only: the entries no help-centre article answers (`topics kb import`),
    /// most messages in the last 7 days first, then the largest rise.
    #[arg(long)]
    pub gaps: bool,
}

/// One entry as JSON (counts as numbers; `article` null when no article answers it).
pub fn entry_json(e: &proto::FaqEntry) -> Value {
    json!({
        "topic_id": e.topic_id,
        "label": e.label,
        "question": e.question,
        "examples": e.examples,
        "message_count": e.message_count,
        "last_7_days": e.last_7_days,
        "previous_7_days": e.previous_7_days,
        "language": (!e.language.is_empty()).then_some(&e.language),
        "article": e.article.as_ref().map(|a| json!({
            "id": a.id,
            "title": a.title,
            "url": (!a.url.is_empty()).then_some(&a.url),
            "score": a.score,
        })),
    })
}

/// Runs `topics faq`.
pub async fn run(args: FaqArgs, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let mut client = server.client()?;
    let format = match args.format {
        FaqFormat::Json => "json",
        FaqFormat::Markdown => "markdown",
        FaqFormat::Csv => "csv",
    };
    let request = proto::GetFaqRequest {
        tenant_id: args.tenant.clone(),
        format: format.into(),
        gaps_only: args.gaps,
    };
    let response = client
        .get_faq(request)
        .await
        .map_err(|s| super::status_error("GetFaq", Some(&args.tenant), s))?
        .into_inner();
    match args.format {
        FaqFormat::Json => print_json(&json!({
            "tenant_id": response.tenant_id,
            "version": response.version,
            "entries": response.entries.iter().map(entry_json).collect::<Vec<_>>(),
        })),
        FaqFormat::Markdown | FaqFormat::Csv => print!("{}", response.text),
    }
    Ok(ExitCode::SUCCESS)
}
