//! `topics models list|show|activate|rollback`.

use std::process::ExitCode;

use anyhow::bail;
use serde_json::json;
use topicd_proto as proto;

use super::output::{print_json, table, truncate, Align};
use crate::connect::{Client, ServerOptions};

/// `topics models …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ModelsCommand {
    /// List a tenant's model versions (newest first); without --tenant, every tenant's (admin).
    List {
        /// The tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// At most this many (0 = the server's default).
        #[arg(long, default_value_t = 0)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one model (default: the active one) and its topics.
    Show {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The version (YYYYMMDD_HHMMSS); default the active one.
        #[arg(long)]
        version: Option<String>,
        /// Include retired topics.
        #[arg(long)]
        include_retired: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a version the active one.
    Activate {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The version to activate.
        #[arg(long)]
        version: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Re-activate the previous merged version (or --version).
    Rollback {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The version to go back to; default the newest merged version older than the active one.
        #[arg(long)]
        version: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

async fn list(
    client: &mut Client,
    tenant: Option<&str>,
    limit: u32,
) -> anyhow::Result<Vec<proto::ModelInfo>> {
    let request =
        proto::ListModelsRequest { tenant_id: tenant.unwrap_or_default().to_string(), limit };
    let mut models = client
        .list_models(request)
        .await
        .map_err(|s| super::status_error("ListModels", tenant, s))?
        .into_inner()
        .models;
    models.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id).then_with(|| b.version.cmp(&a.version)));
    Ok(models)
}

/// The version a rollback goes to: the newest merged version older than the active one.
pub fn rollback_target(models: &[proto::ModelInfo]) -> anyhow::Result<&proto::ModelInfo> {
    let Some(active) = models.iter().find(|m| m.is_active) else {
        bail!("the tenant has no active model to roll back from");
    };
    models
        .iter()
        .filter(|m| m.kind == "merged" && !m.is_active && m.version < active.version)
        .max_by(|a, b| a.version.cmp(&b.version))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no merged version older than the active {}; pass --version to choose one",
                active.version
            )
        })
}

async fn activate(
    client: &mut Client,
    tenant: &str,
    version: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let request =
        proto::ActivateModelRequest { tenant_id: tenant.to_string(), version: version.to_string() };
    let response = client
        .activate_model(request)
        .await
        .map_err(|s| super::status_error("ActivateModel", Some(tenant), s))?
        .into_inner();
    if json {
        print_json(&json!({
            "tenant_id": response.tenant_id,
            "version": response.version,
            "previous_version": response.previous_version,
        }));
    } else {
        let previous =
            if response.previous_version.is_empty() { "none" } else { &response.previous_version };
        println!(
            "tenant {}: active version {} (was {previous})",
            response.tenant_id, response.version
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn render_list(models: &[proto::ModelInfo]) -> String {
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.tenant_id.clone(),
                m.version.clone(),
                if m.is_active { "*".into() } else { String::new() },
                m.kind.clone(),
                m.total_topics.to_string(),
                m.total_documents.to_string(),
                format!("{} .. {}", m.date_range_start, m.date_range_end),
                m.created_at.clone(),
            ]
        })
        .collect();
    table(
        &[
            ("TENANT", Align::Left),
            ("VERSION", Align::Left),
            ("ACTIVE", Align::Left),
            ("KIND", Align::Left),
            ("TOPICS", Align::Right),
            ("DOCUMENTS", Align::Right),
            ("DATES", Align::Left),
            ("CREATED", Align::Left),
        ],
        &rows,
    )
}

fn render_model(model: &proto::GetModelResponse) -> String {
    let mut out = String::new();
    if let Some(info) = &model.info {
        out.push_str(&format!(
            "tenant {}: version {} ({}{}), {} topics, {} documents, {} .. {}, embeddings {} ({}-d)\n",
            info.tenant_id,
            info.version,
            info.kind,
            if info.is_active { ", active" } else { "" },
            info.total_topics,
            info.total_documents,
            info.date_range_start,
            info.date_range_end,
            model.embedding_model,
            model.embedding_dim,
        ));
    }
    let rows: Vec<Vec<String>> = model
        .topics
        .iter()
        .map(|t| {
            vec![
                t.topic_id.to_string(),
                t.size.to_string(),
                t.status.clone(),
                truncate(&t.label, 36),
                truncate(
                    &super::json::keyword_words(&t.keywords)
                        .iter()
                        .take(5)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", "),
                    44,
                ),
                format!("{} .. {}", t.first_seen, t.last_seen),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            ("ID", Align::Right),
            ("SIZE", Align::Right),
            ("STATUS", Align::Left),
            ("LABEL", Align::Left),
            ("KEYWORDS", Align::Left),
            ("SEEN", Align::Left),
        ],
        &rows,
    ));
    out.push('\n');
    out
}

/// Runs `topics models …`.
pub async fn run(command: ModelsCommand, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let mut client = server.client()?;
    match command {
        ModelsCommand::List { tenant, limit, json } => {
            let models = list(&mut client, tenant.as_deref(), limit).await?;
            if json {
                print_json(
                    &json!({ "models": models.iter().map(super::json::model_info).collect::<Vec<_>>() }),
                );
            } else if models.is_empty() {
                println!("no models");
            } else {
                println!("{}", render_list(&models));
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Show { tenant, version, include_retired, json } => {
            let request =
                proto::GetModelRequest { tenant_id: tenant.clone(), version, include_retired };
            let model = client
                .get_model(request)
                .await
                .map_err(|s| super::status_error("GetModel", Some(&tenant), s))?
                .into_inner();
            if json {
                print_json(&json!({
                    "info": model.info.as_ref().map(super::json::model_info),
                    "embedding_model": model.embedding_model,
                    "embedding_dim": model.embedding_dim,
                    "topics": model.topics.iter().map(super::json::topic).collect::<Vec<_>>(),
                }));
            } else {
                print!("{}", render_model(&model));
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Activate { tenant, version, json } => {
            activate(&mut client, &tenant, &version, json).await
        }
        ModelsCommand::Rollback { tenant, version, json } => {
            let target = match version {
                Some(version) => version,
                None => {
                    let models = list(&mut client, Some(&tenant), 0).await?;
                    rollback_target(&models)?.version.clone()
                }
            };
            activate(&mut client, &tenant, &target, json).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(version: &str, kind: &str, active: bool) -> proto::ModelInfo {
        proto::ModelInfo {
            version: version.into(),
            kind: kind.into(),
            is_active: active,
            ..Default::default()
        }
    }

    #[test]
    fn rollback_picks_the_newest_older_merged_version() {
        let models = vec![
            model("20261123_030000", "merged", false),
            model("20261124_030000", "merged", false),
            model("20261124_030001", "candidate", false),
            model("20261125_030000", "merged", true),
            model("20261126_030000", "merged", false),
        ];
        assert_eq!(rollback_target(&models).unwrap().version, "20261124_030000");
    }

    #[test]
    fn rollback_needs_an_active_and_an_older_merged_model() {
        assert!(rollback_target(&[model("20261123_030000", "merged", false)]).is_err());
        let only_first = [
            model("20261123_030000", "candidate", false),
            model("20261123_030001", "merged", true),
        ];
        let err = rollback_target(&only_first).unwrap_err().to_string();
        assert!(err.contains("--version"), "{err}");
    }
}
