//! The nightly run's summary: the Python job's counters plus one result per tenant.

use serde::Serialize;

/// Share of eligible tenants that may fail before the run exits non-zero.
pub const MAX_FAILURE_RATE: f64 = 0.2;

/// Share of the deadline after which the run warns that it is running late.
pub const DEADLINE_WARNING_SHARE: f64 = 0.8;

/// What happened to one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    /// Fitted and merged: a new active version.
    Merged,
    /// This window was already merged for the tenant (nothing done; counted as skipped).
    AlreadyMerged,
    /// Fewer messages than the minimum (counted as skipped).
    Skipped,
    /// Failed (after retries), or timed out.
    Failed,
    /// Not started before the overall deadline.
    NotRun,
}

/// One tenant's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantResult {
    /// The tenant.
    pub tenant_id: String,
    /// What happened.
    pub status: TenantStatus,
    /// Messages read for the window.
    pub messages: u64,
    /// The fitted day model's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_version: Option<String>,
    /// The new active version after the merge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The version active before the merge (empty for a first model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// Topics of the day model (outliers excluded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_topics: Option<u64>,
    /// Topics of the merged model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_topics: Option<u64>,
    /// Topics that were new today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_topics: Option<u64>,
    /// Day topics matched to known topics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_topics: Option<u64>,
    /// Messages the Fit recognised as small talk ("hi", "thanks!", "ok", "merci"), left out of
    /// the topics (topic -2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub small_talk: Option<u64>,
    /// Messages the day's Fit left as outliers (topic -1), after the server's outlier policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outliers: Option<u64>,
    /// `outliers / (messages − small_talk)`: the day's outlier share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlier_share: Option<f64>,
    /// The Fit's warnings (e.g. most messages are not in English while the server's embedding
    /// model is English-only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// gRPC calls made, retries included.
    pub attempts: u32,
    /// Wall time spent on the tenant.
    pub duration_seconds: f64,
    /// Why it was skipped, failed or not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl TenantResult {
    /// A result with only the tenant, status and message count set.
    pub fn new(tenant_id: impl Into<String>, status: TenantStatus, messages: u64) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            status,
            messages,
            day_version: None,
            version: None,
            previous_version: None,
            day_topics: None,
            total_topics: None,
            new_topics: None,
            matched_topics: None,
            small_talk: None,
            outliers: None,
            outlier_share: None,
            warnings: Vec::new(),
            attempts: 0,
            duration_seconds: 0.0,
            reason: None,
        }
    }

    /// The same result with a reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// The JSON summary printed at the end of `topics nightly`.
///
/// The first seven fields are the ones the Python job logged, with the same names and meaning:
/// `skipped_users` counts tenants under the message minimum and tenants whose window was already
/// merged; `estimated_time_per_user_seconds` is the run's duration over the processed tenants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Tenants with messages in the window.
    pub total_users: u64,
    /// Tenants fitted and merged.
    pub processed_users: u64,
    /// Tenants under the minimum or already merged for this window.
    pub skipped_users: u64,
    /// Tenants that failed (after retries) or timed out.
    pub failed_users: u64,
    /// Messages of the processed tenants.
    pub total_messages_processed: u64,
    /// Wall time of the whole run.
    pub duration_seconds: f64,
    /// `duration_seconds / processed_users` (0 when none was processed).
    pub estimated_time_per_user_seconds: f64,
    /// Tenants not started before the deadline.
    pub not_run_users: u64,
    /// Tenants whose window had already been merged (included in `skipped_users`).
    pub already_merged_users: u64,
    /// Messages of the processed tenants recognised as small talk (part of
    /// `total_messages_processed`, left out of the topics).
    pub small_talk_messages: u64,
    /// Messages of the processed tenants left as outliers by their day's Fit.
    pub outlier_messages: u64,
    /// `outlier_messages / (total_messages_processed − small_talk_messages)` (0 when none).
    pub outlier_share: f64,
    /// `(failed + not run) / (total - skipped)`: the share of eligible tenants left undone.
    pub failure_rate: f64,
    /// Whether the run exits non-zero (`failure_rate > 0.2`).
    pub failed: bool,
    /// Window start (RFC 3339).
    pub window_start: String,
    /// Window end (RFC 3339).
    pub window_end: String,
    /// The overall deadline in seconds.
    pub deadline_seconds: f64,
    /// Whether the run passed 80 % of its deadline.
    pub deadline_warning: bool,
    /// This worker's shard (`--shard i/n`), when the run was sharded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// One result per tenant, in tenant order.
    pub tenants: Vec<TenantResult>,
}

impl Summary {
    /// Totals the per-tenant results.
    pub fn from_results(
        mut tenants: Vec<TenantResult>,
        duration_seconds: f64,
        window: &crate::sources::Window,
        deadline_seconds: f64,
    ) -> Self {
        tenants.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
        let count =
            |status: TenantStatus| tenants.iter().filter(|t| t.status == status).count() as u64;
        let processed_users = count(TenantStatus::Merged);
        let already_merged_users = count(TenantStatus::AlreadyMerged);
        let skipped_users = count(TenantStatus::Skipped) + already_merged_users;
        let failed_users = count(TenantStatus::Failed);
        let not_run_users = count(TenantStatus::NotRun);
        let total_users = tenants.len() as u64;
        let total_messages_processed =
            tenants.iter().filter(|t| t.status == TenantStatus::Merged).map(|t| t.messages).sum();
        let small_talk_messages = tenants
            .iter()
            .filter(|t| t.status == TenantStatus::Merged)
            .filter_map(|t| t.small_talk)
            .sum();
        let outlier_messages: u64 = tenants
            .iter()
            .filter(|t| t.status == TenantStatus::Merged)
            .filter_map(|t| t.outliers)
            .sum();
        let topical = total_messages_processed - small_talk_messages;
        let outlier_share =
            if topical == 0 { 0.0 } else { outlier_messages as f64 / topical as f64 };
        let eligible = total_users - skipped_users;
        let failure_rate = if eligible == 0 {
            0.0
        } else {
            (failed_users + not_run_users) as f64 / eligible as f64
        };
        let estimated_time_per_user_seconds =
            if processed_users == 0 { 0.0 } else { duration_seconds / processed_users as f64 };
        Self {
            total_users,
            processed_users,
            skipped_users,
            failed_users,
            total_messages_processed,
            duration_seconds,
            estimated_time_per_user_seconds,
            not_run_users,
            already_merged_users,
            small_talk_messages,
            outlier_messages,
            outlier_share,
            failure_rate,
            failed: failure_rate > MAX_FAILURE_RATE,
            window_start: crate::sources::rfc3339(window.start),
            window_end: crate::sources::rfc3339(window.end),
            deadline_seconds,
            deadline_warning: duration_seconds > DEADLINE_WARNING_SHARE * deadline_seconds,
            shard: None,
            tenants,
        }
    }

    /// The process exit code: failure when more than 20 % of eligible tenants failed or did not
    /// run.
    pub fn exit_code(&self) -> std::process::ExitCode {
        if self.failed {
            std::process::ExitCode::FAILURE
        } else {
            std::process::ExitCode::SUCCESS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Window;
    use chrono::TimeZone;

    fn window() -> Window {
        let start = chrono::Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap();
        Window::new(start, start + chrono::Duration::hours(24)).unwrap()
    }

    fn results(statuses: &[(TenantStatus, u64)]) -> Vec<TenantResult> {
        statuses
            .iter()
            .enumerate()
            .map(|(i, (status, messages))| {
                TenantResult::new(format!("t{i:03}"), *status, *messages)
            })
            .collect()
    }

    #[test]
    fn counts_and_averages() {
        use TenantStatus::*;
        let summary = Summary::from_results(
            results(&[
                (Merged, 120),
                (Merged, 30),
                (Skipped, 4),
                (AlreadyMerged, 50),
                (Failed, 70),
                (NotRun, 20),
            ]),
            90.0,
            &window(),
            7200.0,
        );
        assert_eq!(summary.total_users, 6);
        assert_eq!(summary.processed_users, 2);
        assert_eq!(summary.skipped_users, 2);
        assert_eq!(summary.already_merged_users, 1);
        assert_eq!(summary.failed_users, 1);
        assert_eq!(summary.not_run_users, 1);
        assert_eq!(summary.total_messages_processed, 150);
        assert_eq!(summary.estimated_time_per_user_seconds, 45.0);
        // 2 of the 4 eligible tenants (6 - 2 skipped) were left undone.
        assert_eq!(summary.failure_rate, 0.5);
        assert!(summary.failed);
        assert_eq!(summary.window_start, "2026-11-24T03:00:00Z");
        assert!(!summary.deadline_warning);
    }

    #[test]
    fn small_talk_is_counted_per_tenant_and_in_total() {
        use TenantStatus::*;
        let mut tenants = results(&[(Merged, 120), (Merged, 30), (Failed, 70), (Skipped, 4)]);
        tenants[0].small_talk = Some(14);
        tenants[1].small_talk = Some(0);
        // A tenant whose Merge failed after its Fit: its messages are not processed.
        tenants[2].small_talk = Some(9);
        let summary = Summary::from_results(tenants, 1.0, &window(), 10.0);
        assert_eq!(summary.small_talk_messages, 14);
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["small_talk_messages"], 14);
        assert_eq!(json["tenants"][0]["small_talk"], 14);
        assert_eq!(json["tenants"][1]["small_talk"], 0);
        assert!(json["tenants"][3].get("small_talk").is_none(), "skipped: no Fit, no count");
        assert!(json["tenants"][0].get("warnings").is_none(), "no warnings: no field");
    }

    #[test]
    fn exit_code_rule_is_strictly_more_than_a_fifth() {
        use TenantStatus::*;
        // 1 failed of 5 eligible = exactly 20 %: success. Skipped tenants do not dilute the rate.
        let mut statuses = vec![(Merged, 10); 4];
        statuses.push((Failed, 10));
        statuses.extend([(Skipped, 1); 20]);
        let summary = Summary::from_results(results(&statuses), 1.0, &window(), 10.0);
        assert_eq!(summary.failure_rate, 0.2);
        assert!(!summary.failed);
        assert_eq!(summary.exit_code(), std::process::ExitCode::SUCCESS);
        // 2 of 6 eligible: failure.
        statuses.push((Failed, 10));
        let summary = Summary::from_results(results(&statuses), 1.0, &window(), 10.0);
        assert!(summary.failed);
        assert_eq!(summary.exit_code(), std::process::ExitCode::FAILURE);
    }

    #[test]
    fn empty_and_all_skipped_runs_succeed() {
        let summary = Summary::from_results(vec![], 0.5, &window(), 10.0);
        assert_eq!(summary.total_users, 0);
        assert_eq!(summary.estimated_time_per_user_seconds, 0.0);
        assert!(!summary.failed);
        let summary = Summary::from_results(
            results(&[(TenantStatus::Skipped, 3), (TenantStatus::AlreadyMerged, 40)]),
            0.5,
            &window(),
            10.0,
        );
        assert_eq!((summary.skipped_users, summary.failure_rate), (2, 0.0));
        assert!(!summary.failed);
    }

    #[test]
    fn deadline_warning_after_80_percent() {
        assert!(!Summary::from_results(vec![], 80.0, &window(), 100.0).deadline_warning);
        assert!(Summary::from_results(vec![], 80.5, &window(), 100.0).deadline_warning);
    }

    #[test]
    fn json_has_the_python_fields_first() {
        let summary =
            Summary::from_results(results(&[(TenantStatus::Merged, 12)]), 2.0, &window(), 10.0);
        let json = serde_json::to_string(&summary).unwrap();
        assert!(json.starts_with(
            "{\"total_users\":1,\"processed_users\":1,\"skipped_users\":0,\"failed_users\":0,\
             \"total_messages_processed\":12,\"duration_seconds\":2.0,\"estimated_time_per_user_seconds\":2.0,"
        ), "{json}");
        assert!(json.contains("\"status\":\"merged\""));
    }
}
