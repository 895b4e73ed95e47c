//! `topics kb`: a tenant's help-centre articles, which the FAQ compares with its entries to
//! find the questions no article answers (knowledge gaps). `import` replaces the tenant's
//! articles with those of a JSONL file (SetArticles); `list` shows them (ListArticles).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::json;
use topicd_proto as proto;

use super::output::{print_json, table, truncate, Align};
use crate::connect::ServerOptions;

/// `topics kb …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum KbCommand {
    /// Replace a tenant's articles with those of a JSONL file, one
    /// `{"id", "title", "url"?, "summary"?}` per line.
    Import {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The JSONL file (`-`: standard input).
        file: PathBuf,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A tenant's articles as stored.
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// One line of the JSONL file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleLine {
    id: serde_json::Value,
    title: Option<String>,
    url: Option<String>,
    summary: Option<String>,
}

/// The articles of a JSONL file (blank lines skipped). Ids may be strings or integers; every
/// other check is the server's.
pub fn read_articles(reader: impl BufRead, name: &str) -> anyhow::Result<Vec<proto::Article>> {
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let a: ArticleLine = serde_json::from_str(&line).with_context(|| {
            format!(
                "{name}:{}: not an article object {{\"id\", \"title\", \"url\"?, \"summary\"?}}",
                n + 1
            )
        })?;
        let id = match a.id {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => bail!("{name}:{}: id must be a string or an integer, not {other}", n + 1),
        };
        out.push(proto::Article {
            id,
            title: a.title.unwrap_or_default(),
            url: a.url.unwrap_or_default(),
            summary: a.summary.unwrap_or_default(),
        });
    }
    Ok(out)
}

fn read_file(path: &Path) -> anyhow::Result<Vec<proto::Article>> {
    if path == Path::new("-") {
        return read_articles(std::io::stdin().lock(), "stdin");
    }
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    read_articles(std::io::BufReader::new(file), &path.display().to_string())
}

/// Runs `topics kb …`.
pub async fn run(command: KbCommand, server: ServerOptions) -> anyhow::Result<ExitCode> {
    match command {
        KbCommand::Import { tenant, file, json } => {
            let articles = read_file(&file)?;
            let mut client = server.client()?;
            let request = proto::SetArticlesRequest { tenant_id: tenant.clone(), articles };
            let r = client
                .set_articles(request)
                .await
                .map_err(|s| super::status_error("SetArticles", Some(&tenant), s))?
                .into_inner();
            if json {
                print_json(&json!({
                    "tenant_id": r.tenant_id,
                    "count": r.count,
                    "embedding_model": r.embedding_model,
                }));
            } else if r.embedding_model.is_empty() {
                println!(
                    "tenant {}: {} articles stored, not embedded (the server has no embedding provider)",
                    r.tenant_id, r.count
                );
            } else {
                println!(
                    "tenant {}: {} articles stored, embedded with {}",
                    r.tenant_id, r.count, r.embedding_model
                );
            }
        }
        KbCommand::List { tenant, json } => {
            let mut client = server.client()?;
            let r = client
                .list_articles(proto::ListArticlesRequest { tenant_id: tenant.clone() })
                .await
                .map_err(|s| super::status_error("ListArticles", Some(&tenant), s))?
                .into_inner();
            if json {
                let articles: Vec<_> = r
                    .articles
                    .iter()
                    .map(|a| {
                        json!({"id": a.id, "title": a.title,
                            "url": (!a.url.is_empty()).then_some(&a.url),
                            "summary": (!a.summary.is_empty()).then_some(&a.summary)})
                    })
                    .collect();
                print_json(&json!({
                    "tenant_id": r.tenant_id,
                    "embedding_model": r.embedding_model,
                    "updated_at": r.updated_at,
                    "articles": articles,
                }));
            } else if r.articles.is_empty() {
                println!(
                    "tenant {}: no articles (topics kb import --tenant {} FILE)",
                    r.tenant_id, r.tenant_id
                );
            } else {
                let rows: Vec<Vec<String>> = r
                    .articles
                    .iter()
                    .map(|a| {
                        vec![truncate(&a.id, 24), truncate(&a.title, 60), truncate(&a.url, 50)]
                    })
                    .collect();
                println!(
                    "tenant {}: {} articles, set {}{}",
                    r.tenant_id,
                    r.articles.len(),
                    r.updated_at,
                    if r.embedding_model.is_empty() {
                        String::new()
                    } else {
                        format!(", embedded with {}", r.embedding_model)
                    }
                );
                print!(
                    "{}",
                    table(
                        &[("id", Align::Left), ("title", Align::Left), ("url", Align::Left)],
                        &rows
                    )
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_jsonl_and_names_the_bad_line() {
        let ok = "{\"id\": \"a1\", \"title\": \"Card arrival\", \"url\": \"https://h/a1\"}\n\n{\"id\": 7, \"title\": \"Refunds\", \"summary\": \"How\"}\n";
        let a = read_articles(ok.as_bytes(), "f").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].id.as_str(), a[0].url.as_str()), ("a1", "https://h/a1"));
        assert_eq!((a[1].id.as_str(), a[1].summary.as_str()), ("7", "How"));
        let bad = "{\"id\": \"a\", \"title\": \"x\"}\n{not json\n";
        let e = read_articles(bad.as_bytes(), "f").unwrap_err();
        assert!(format!("{e:#}").contains("f:2"), "{e:#}");
        let typo = "{\"id\": \"a\", \"tittle\": \"x\"}\n";
        assert!(
            format!("{:#}", read_articles(typo.as_bytes(), "f").unwrap_err()).contains("tittle")
        );
        let bad_id = "{\"id\": [1], \"title\": \"x\"}\n";
        assert!(read_articles(bad_id.as_bytes(), "f").is_err());
    }
}
