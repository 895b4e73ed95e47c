//! Operator commands against a running `topicd`: models, top topics, tagging, label editing, help-centre articles,
//! tenant deletion, health. Human output by default, `--json` for scripts.

pub mod define;
pub mod edit;
pub mod faq;
pub mod health;
pub mod json;
pub mod kb;
pub mod label;
pub mod models;
pub mod output;
pub mod tag;
pub mod tenant;
pub mod top;

/// Turns a gRPC status into an error that reads well on a terminal.
pub fn status_error(call: &str, tenant: Option<&str>, status: tonic::Status) -> anyhow::Error {
    let who = tenant.map(|t| format!(" for tenant {t:?}")).unwrap_or_default();
    let hint = match status.code() {
        tonic::Code::Unavailable => " (is topicd running at --server / TOPICS_SERVER?)",
        tonic::Code::Unauthenticated => " (pass --token or set TOPICS_TOKEN)",
        tonic::Code::PermissionDenied => " (this token does not allow that tenant or role)",
        _ => "",
    };
    anyhow::anyhow!("{call}{who} failed: {}{hint}", crate::connect::describe_status(&status))
}
