//! `topics tenant delete`: remove every model, snapshot and file of a tenant.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde_json::json;
use topicd_proto as proto;

use crate::connect::ServerOptions;

/// `topics tenant …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TenantCommand {
    /// Delete every model, snapshot and stored file of a tenant (irreversible).
    Delete {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Asks the operator to type the tenant id back.
fn confirm(tenant: &str) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("refusing to delete tenant {tenant:?} without --yes (stdin is not a terminal)");
    }
    eprint!("Delete every model and file of tenant {tenant:?}? Type the tenant id to confirm: ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).context("reading the confirmation")?;
    Ok(answer.trim() == tenant)
}

/// Runs `topics tenant …`.
pub async fn run(command: TenantCommand, server: ServerOptions) -> anyhow::Result<ExitCode> {
    match command {
        TenantCommand::Delete { tenant, yes, json } => {
            if !yes && !confirm(&tenant)? {
                eprintln!("not deleted");
                return Ok(ExitCode::FAILURE);
            }
            let mut client = server.client()?;
            let response = client
                .delete_tenant(proto::DeleteTenantRequest { tenant_id: tenant.clone() })
                .await
                .map_err(|s| super::status_error("DeleteTenant", Some(&tenant), s))?
                .into_inner();
            if json {
                super::output::print_json(&json!({
                    "tenant_id": response.tenant_id,
                    "models_deleted": response.models_deleted,
                    "files_deleted": response.files_deleted,
                }));
            } else {
                println!(
                    "tenant {}: deleted {} models and {} files",
                    response.tenant_id, response.models_deleted, response.files_deleted
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
