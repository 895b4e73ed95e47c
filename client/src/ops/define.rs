//! `topics define --tenant T file.jsonl`: set a tenant's defined topics (issue 30; the
//! SetDefinedTopics call), one JSON object a line: `{"name": "Refund request", "description":
//! "...", "examples": ["where is my money", ...]}` (description and examples optional). Without
//! a file, `--show` prints the current list with the topics' ids. The list takes effect at the
//! tenant's next Fit.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde_json::json;
use topic_engine::DefinedTopicSpec;
use topicd_proto as proto;

use super::output::print_json;
use crate::connect::ServerOptions;

/// Arguments of `topics define`.
#[derive(Debug, Clone, clap::Args)]
pub struct DefineArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// Print the tenant's current defined topics instead of setting them.
    #[arg(long, conflicts_with = "file")]
    pub show: bool,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// JSONL file: one defined topic a line (`{"name", "description"?, "examples"?}`).
    #[arg(required_unless_present = "show")]
    pub file: Option<PathBuf>,
}

/// Reads a defined-topics JSONL file (blank lines skipped) and checks it as the server will
/// ([`topic_engine::defined::normalize_specs`]), so mistakes are reported with line numbers
/// before anything is sent.
pub fn read_specs(path: &Path) -> anyhow::Result<Vec<DefinedTopicSpec>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut specs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let spec: DefinedTopicSpec = serde_json::from_str(line).with_context(|| {
            format!(
                "{} line {}: not a defined topic {{\"name\", \"description\"?, \"examples\"?}}",
                path.display(),
                i + 1
            )
        })?;
        specs.push(spec);
    }
    if specs.is_empty() {
        bail!("{} has no defined topics (one JSON object a line)", path.display());
    }
    topic_engine::defined::normalize_specs(&specs)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn to_proto(s: DefinedTopicSpec) -> proto::DefinedTopic {
    proto::DefinedTopic {
        name: s.name,
        description: s.description.unwrap_or_default(),
        examples: s.examples,
    }
}

fn print(
    json_out: bool,
    tenant: &str,
    topics: &[proto::DefinedTopicState],
    leaving: &[proto::DefinedTopicState],
    model: &str,
    active: &str,
) {
    let name =
        |s: &proto::DefinedTopicState| s.topic.as_ref().map_or("", |t| t.name.as_str()).to_string();
    if json_out {
        let list = |v: &[proto::DefinedTopicState]| -> Vec<serde_json::Value> {
            v.iter()
                .map(|s| json!({"name": name(s), "topic_id": s.topic_id, "size": s.size}))
                .collect()
        };
        print_json(&json!({
            "tenant_id": tenant,
            "embedding_model": model,
            "active_version": active,
            "topics": list(topics),
            "leaving": list(leaving),
        }));
        return;
    }
    println!("tenant {tenant}: {} defined topics (embedded with {model})", topics.len());
    for s in topics {
        match s.topic_id {
            Some(id) => println!("  {id:>6}  {}  ({} messages)", name(s), s.size),
            None => println!("       -  {}  (gets its id at the next fit + merge)", name(s)),
        }
    }
    for s in leaving {
        println!(
            "  {:>6}  {}  (removed: retires at the next merge)",
            s.topic_id.unwrap_or(-1),
            name(s)
        );
    }
}

/// Runs `topics define`.
pub async fn run(args: DefineArgs, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let mut client = server.client()?;
    if args.show {
        let r = client
            .get_defined_topics(proto::GetDefinedTopicsRequest { tenant_id: args.tenant.clone() })
            .await
            .map_err(|s| super::status_error("GetDefinedTopics", Some(&args.tenant), s))?
            .into_inner();
        print(
            args.json,
            &r.tenant_id,
            &r.topics,
            &r.leaving,
            &r.embedding_model,
            &r.active_version,
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(file) = &args.file else { bail!("pass a JSONL file of defined topics, or --show") };
    let specs = read_specs(file)?;
    let request = proto::SetDefinedTopicsRequest {
        tenant_id: args.tenant.clone(),
        topics: specs.into_iter().map(to_proto).collect(),
    };
    let r = client
        .set_defined_topics(request)
        .await
        .map_err(|s| super::status_error("SetDefinedTopics", Some(&args.tenant), s))?
        .into_inner();
    print(args.json, &r.tenant_id, &r.topics, &r.leaving, &r.embedding_model, &r.active_version);
    if !args.json {
        println!("used from the tenant's next fit");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_jsonl_and_reports_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.jsonl");
        std::fs::write(
            &p,
            "{\"name\": \" Refund request \", \"examples\": [\"where is my money\"]}\n\n{\"name\": \"Login problem\", \"description\": \"cannot sign in\"}\n",
        )
        .unwrap();
        let specs = read_specs(&p).unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].name, "Refund request");
        assert_eq!(specs[1].description.as_deref(), Some("cannot sign in"));
        std::fs::write(&p, "{\"name\": \"A\"}\n{\"nam\": \"B\"}\n").unwrap();
        let e = format!("{:#}", read_specs(&p).unwrap_err());
        assert!(e.contains("line 2"), "{e}");
        std::fs::write(&p, "{\"name\": \"A\"}\n{\"name\": \"a\"}\n").unwrap();
        let e = format!("{:#}", read_specs(&p).unwrap_err());
        assert!(e.contains("ignoring case"), "{e}");
        std::fs::write(&p, "\n").unwrap();
        assert!(read_specs(&p).is_err());
    }
}
