//! `topics health`: the server's gRPC health check.

use std::process::ExitCode;

use serde_json::json;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::connect::{BearerAuth, ServerOptions};

/// Arguments of `topics health`.
#[derive(Debug, Clone, clap::Args)]
pub struct HealthArgs {
    /// Service to check ("" = the whole server; e.g. topics.v1.Topics).
    #[arg(long, default_value = "")]
    pub service: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `topics health`: exit code 0 only when the server reports SERVING.
pub async fn run(args: HealthArgs, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let channel = server.channel()?;
    let mut client =
        HealthClient::with_interceptor(channel, BearerAuth::new(server.token.as_deref())?);
    let status = match client.check(HealthCheckRequest { service: args.service.clone() }).await {
        Ok(response) => {
            ServingStatus::try_from(response.into_inner().status).unwrap_or(ServingStatus::Unknown)
        }
        Err(status) => {
            if args.json {
                super::output::print_json(&json!({
                    "server": server.server, "service": args.service, "status": "UNREACHABLE",
                    "error": crate::connect::describe_status(&status),
                }));
                return Ok(ExitCode::FAILURE);
            }
            return Err(super::status_error("health check", None, status));
        }
    };
    let name = status.as_str_name();
    if args.json {
        super::output::print_json(
            &json!({ "server": server.server, "service": args.service, "status": name }),
        );
    } else {
        println!("{}: {name}", server.server);
    }
    Ok(if status == ServingStatus::Serving { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
