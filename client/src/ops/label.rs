//! `topics label`: give a topic an operator's label, or clear it (the SetTopicLabel call). The
//! label overrides the generated one everywhere, is kept across merges, and is stored as a new
//! active version (`topics models rollback` undoes it).

use std::process::ExitCode;

use anyhow::bail;
use serde_json::json;
use topicd_proto as proto;

use super::output::print_json;
use crate::connect::ServerOptions;

/// Arguments of `topics label`.
#[derive(Debug, Clone, clap::Args)]
pub struct LabelArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// The topic's id (from `topics top` or `topics models show`).
    #[arg(long, allow_negative_numbers = true)]
    pub topic: i64,
    /// Remove the operator's label: the generated label shows again.
    #[arg(long, conflicts_with = "label")]
    pub clear: bool,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// The new label (one line, 1..=200 characters).
    #[arg(required_unless_present = "clear")]
    pub label: Option<String>,
}

/// The label to send: `""` clears; a blank label is refused here rather than clearing by
/// accident.
fn label_to_send(args: &LabelArgs) -> anyhow::Result<String> {
    match (&args.label, args.clear) {
        (_, true) => Ok(String::new()),
        (Some(l), false) if !l.trim().is_empty() => Ok(l.clone()),
        _ => bail!("the label is empty; pass a label, or --clear to remove the operator's label"),
    }
}

/// Runs `topics label`.
pub async fn run(args: LabelArgs, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let label = label_to_send(&args)?;
    let mut client = server.client()?;
    let request =
        proto::SetTopicLabelRequest { tenant_id: args.tenant.clone(), topic_id: args.topic, label };
    let r = client
        .set_topic_label(request)
        .await
        .map_err(|s| super::status_error("SetTopicLabel", Some(&args.tenant), s))?
        .into_inner();
    if args.json {
        print_json(&json!({
            "tenant_id": r.tenant_id,
            "version": r.version,
            "topic_id": r.topic_id,
            "label": r.label,
            "generated_label": r.generated_label,
            "overridden": r.overridden,
        }));
    } else if r.overridden {
        println!(
            "tenant {}: topic {} is now {:?} (generated label {:?}); active version {}",
            r.tenant_id, r.topic_id, r.label, r.generated_label, r.version
        );
    } else {
        println!(
            "tenant {}: topic {} shows its generated label {:?}; active version {}",
            r.tenant_id, r.topic_id, r.label, r.version
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: LabelArgs,
    }

    fn parse(argv: &[&str]) -> Result<LabelArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("label").chain(argv.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn label_or_clear() {
        let a = parse(&["--tenant", "acme", "--topic", "4", "Refunds"]).unwrap();
        assert_eq!((a.topic, label_to_send(&a).unwrap()), (4, "Refunds".to_string()));
        let c = parse(&["--tenant", "acme", "--topic", "4", "--clear"]).unwrap();
        assert_eq!(label_to_send(&c).unwrap(), "");
        assert!(parse(&["--tenant", "acme", "--topic", "4"]).is_err(), "a label or --clear");
        assert!(parse(&["--tenant", "acme", "--topic", "4", "--clear", "x"]).is_err());
        let blank = parse(&["--tenant", "acme", "--topic", "4", "  "]).unwrap();
        assert!(label_to_send(&blank).unwrap_err().to_string().contains("--clear"));
    }
}
