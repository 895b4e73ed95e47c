//! `topics edit`: hand edits of a tenant's active model (the EditTopics call, issue 30): merge
//! a topic into another (`merge A B`: B into A, B's id then answers as A), hide or show a
//! topic, ask for a topic to be split at the next merge (or cancel that). Each edit is stored
//! as a new active version (`topics models rollback` undoes it) and kept across merges. Needs
//! an admin token.

use std::process::ExitCode;

use serde_json::json;
use topicd_proto as proto;

use super::output::print_json;
use crate::connect::ServerOptions;

/// Arguments of `topics edit`.
#[derive(Debug, Clone, clap::Args)]
pub struct EditArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// The edit.
    #[command(subcommand)]
    pub edit: EditCommand,
}

/// One hand edit.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum EditCommand {
    /// Merge topic B into topic A (A stays; B's id answers as A from now on).
    Merge {
        /// The topic that stays.
        #[arg(allow_negative_numbers = true)]
        a: i64,
        /// The topic merged into A.
        #[arg(allow_negative_numbers = true)]
        b: i64,
    },
    /// Hide a topic (spam, internal tests): absent from the ranking; its messages tag as -1.
    Hide {
        /// The topic.
        #[arg(allow_negative_numbers = true)]
        topic: i64,
    },
    /// Show a hidden topic again.
    Unhide {
        /// The topic.
        #[arg(allow_negative_numbers = true)]
        topic: i64,
    },
    /// Split a topic at the next merge where its documents divide.
    Split {
        /// The topic.
        #[arg(allow_negative_numbers = true)]
        topic: i64,
    },
    /// Withdraw a split request.
    CancelSplit {
        /// The topic.
        #[arg(allow_negative_numbers = true)]
        topic: i64,
    },
}

/// The request for `edit` on `tenant`.
pub fn request(tenant: &str, edit: &EditCommand) -> proto::EditTopicsRequest {
    let (action, topic_id, into_topic_id) = match *edit {
        EditCommand::Merge { a, b } => ("merge", b, Some(a)),
        EditCommand::Hide { topic } => ("hide", topic, None),
        EditCommand::Unhide { topic } => ("unhide", topic, None),
        EditCommand::Split { topic } => ("split", topic, None),
        EditCommand::CancelSplit { topic } => ("cancel_split", topic, None),
    };
    proto::EditTopicsRequest {
        tenant_id: tenant.to_string(),
        action: action.to_string(),
        topic_id,
        into_topic_id,
    }
}

/// Runs `topics edit`.
pub async fn run(args: EditArgs, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let mut client = server.client()?;
    let req = request(&args.tenant, &args.edit);
    let action = req.action.clone();
    let r = client
        .edit_topics(req)
        .await
        .map_err(|s| super::status_error("EditTopics", Some(&args.tenant), s))?
        .into_inner();
    if args.json {
        print_json(&json!({
            "tenant_id": r.tenant_id,
            "version": r.version,
            "action": action,
            "changed": r.changed,
            "resolved_topic_ids": r.resolved_topic_ids,
        }));
    } else if r.changed {
        println!(
            "tenant {}: {action} {:?} done; active version {}",
            r.tenant_id, r.resolved_topic_ids, r.version
        );
    } else {
        println!(
            "tenant {}: {action} {:?} was already in effect; active version {} unchanged",
            r.tenant_id, r.resolved_topic_ids, r.version
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
        args: EditArgs,
    }

    fn parse(argv: &[&str]) -> Result<EditArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("edit").chain(argv.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn edits_parse_into_requests() {
        let a = parse(&["--tenant", "acme", "merge", "3", "7"]).unwrap();
        let r = request(&a.tenant, &a.edit);
        assert_eq!((r.action.as_str(), r.topic_id, r.into_topic_id), ("merge", 7, Some(3)));
        let h = parse(&["--tenant", "acme", "hide", "4"]).unwrap();
        let r = request(&h.tenant, &h.edit);
        assert_eq!((r.action.as_str(), r.topic_id, r.into_topic_id), ("hide", 4, None));
        let s = parse(&["--tenant", "acme", "cancel-split", "4"]).unwrap();
        assert_eq!(request(&s.tenant, &s.edit).action, "cancel_split");
        assert!(parse(&["--tenant", "acme", "merge", "3"]).is_err(), "merge needs two topics");
        assert!(parse(&["--tenant", "acme", "explode", "3"]).is_err());
    }
}
