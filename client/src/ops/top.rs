//! `topics top`: a tenant's current top topics (the dashboard snapshot).

use std::process::ExitCode;

use serde_json::json;
use topicd_proto as proto;

use super::output::{print_json, sparkline, table, truncate, Align};
use crate::connect::ServerOptions;

/// Arguments of `topics top`.
#[derive(Debug, Clone, clap::Args)]
pub struct TopArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// How many topics (1..=100).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: u32,
    /// Include each topic's daily message counts.
    #[arg(long)]
    pub trend: bool,
    /// Print `{"topics": [...]}` JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Renders the response as a table.
pub fn render(response: &proto::GetTopTopicsResponse, trend: bool) -> String {
    let mut out = format!(
        "tenant {}: version {}, analysed {}, messages {} .. {}, outliers {} of {} ({:.1} %)\n",
        response.tenant_id,
        response.version,
        response.analysis_date,
        response.date_range_start,
        response.date_range_end,
        response.outliers,
        response.documents,
        100.0 * response.outlier_share
    );
    if response.topics.is_empty() {
        out.push_str("no topics yet\n");
        return out;
    }
    let mut headers = vec![
        ("#", Align::Right),
        ("ID", Align::Right),
        ("MESSAGES", Align::Right),
        ("LABEL", Align::Left),
        ("KEYWORDS", Align::Left),
    ];
    if trend {
        headers.push(("TREND", Align::Left));
    }
    let rows: Vec<Vec<String>> = response
        .topics
        .iter()
        .map(|t| {
            let mut row = vec![
                t.rank.to_string(),
                t.topic_id.to_string(),
                t.message_count.to_string(),
                truncate(&t.label, 40),
                truncate(
                    &super::json::keyword_words(&t.keywords)
                        .iter()
                        .take(6)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", "),
                    50,
                ),
            ];
            if trend {
                row.push(sparkline(&t.trend.iter().map(|d| d.count).collect::<Vec<_>>()));
            }
            row
        })
        .collect();
    out.push_str(&table(&headers, &rows));
    out.push('\n');
    if let Some(first) = response.topics.first() {
        if let Some(sample) = first.sample_messages.first() {
            out.push_str(&format!("e.g. topic {}: \"{}\"\n", first.topic_id, truncate(sample, 80)));
        }
    }
    out
}

/// Runs `topics top`.
pub async fn run(args: TopArgs, server: ServerOptions) -> anyhow::Result<ExitCode> {
    let mut client = server.client()?;
    let request = proto::GetTopTopicsRequest {
        tenant_id: args.tenant.clone(),
        limit: args.limit,
        include_trend: args.trend,
    };
    let response = client
        .get_top_topics(request)
        .await
        .map_err(|s| super::status_error("GetTopTopics", Some(&args.tenant), s))?
        .into_inner();
    if args.json {
        print_json(&json!({
            "tenant_id": response.tenant_id,
            "version": response.version,
            "analysis_date": response.analysis_date,
            "date_range_start": response.date_range_start,
            "date_range_end": response.date_range_end,
            "outliers": response.outliers,
            "documents": response.documents,
            "outlier_share": response.outlier_share,
            "topics": response.topics.iter().map(|t| super::json::top_topic(t, args.trend)).collect::<Vec<_>>(),
        }));
    } else {
        print!("{}", render(&response, args.trend));
    }
    Ok(ExitCode::SUCCESS)
}
