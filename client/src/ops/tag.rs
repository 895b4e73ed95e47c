//! `topics tag`: tag texts with the tenant's active model (the Transform call).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde_json::json;
use topicd_proto as proto;

use super::output::{print_json, table, truncate, Align};
use crate::connect::ServerOptions;

/// Arguments of `topics tag`.
#[derive(Debug, Clone, clap::Args)]
pub struct TagArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// Print `{"results": [{"topic_id", "label", "score"}]}` JSON.
    #[arg(long)]
    pub json: bool,
    /// Texts to tag; `-` reads one text per line from stdin.
    #[arg(required = true)]
    pub texts: Vec<String>,
}

fn collect_texts(args: &[String]) -> anyhow::Result<Vec<String>> {
    let mut texts = Vec::new();
    for text in args {
        if text == "-" {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                tracing::info!("reading texts from stdin, one per line");
            }
            for line in stdin.lock().lines() {
                let line = line.context("reading texts from stdin")?;
                if !line.trim().is_empty() {
                    texts.push(line);
                }
            }
        } else {
            texts.push(text.clone());
        }
    }
    if texts.iter().all(|t| t.trim().is_empty()) {
        bail!("nothing to tag: every text is empty");
    }
    Ok(texts)
}

/// Runs `topics tag`.
pub async fn run(args: TagArgs, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let texts = collect_texts(&args.texts)?;
    let mut client = server.client()?;
    let request = proto::TransformRequest {
        tenant_id: args.tenant.clone(),
        texts: texts.clone(),
        embeddings: vec![],
    };
    let response = client
        .transform(request)
        .await
        .map_err(|s| super::status_error("Transform", Some(&args.tenant), s))?
        .into_inner();
    if args.json {
        print_json(&json!({
            "tenant_id": response.tenant_id,
            "version": response.version,
            "results": response.results.iter().map(|r| json!({
                "topic_id": r.topic_id, "label": r.label, "score": r.score,
            })).collect::<Vec<_>>(),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = response
        .results
        .iter()
        .zip(&texts)
        .map(|(r, text)| {
            let label =
                if r.topic_id < 0 { "(no topic)".to_string() } else { truncate(&r.label, 40) };
            vec![r.topic_id.to_string(), label, format!("{:.3}", r.score), truncate(text, 60)]
        })
        .collect();
    println!("tenant {}: version {}", response.tenant_id, response.version);
    println!(
        "{}",
        table(
            &[
                ("TOPIC", Align::Right),
                ("LABEL", Align::Left),
                ("SCORE", Align::Right),
                ("TEXT", Align::Left)
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}
