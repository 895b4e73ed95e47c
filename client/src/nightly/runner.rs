//! The nightly run: every tenant of the window, fitted and merged with bounded concurrency,
//! per-tenant timeouts, an overall deadline and retries; one tenant's failure never stops the
//! others.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;
use tonic::Code;

use topicd_proto as proto;
use topicd_proto::topics_client::TopicsClient;

use super::progress::Progress;
use super::retry::{with_retries, CallRetries};
use super::summary::{Summary, TenantResult, TenantStatus, DEADLINE_WARNING_SHARE};
use crate::connect::{describe_status, Client};
use crate::sources::{rfc3339, MessageSource, Window};

/// The three calls a nightly run makes, so the run logic does not depend on the transport.
#[async_trait::async_trait]
pub trait NightlyApi: Send + Sync {
    /// `ListMergedWindows`.
    async fn list_merged_windows(
        &self,
        tenant: &str,
    ) -> Result<Vec<proto::MergedWindow>, tonic::Status>;
    /// `Fit`.
    async fn fit(&self, request: proto::FitRequest) -> Result<proto::FitResponse, tonic::Status>;
    /// `Merge`.
    async fn merge(
        &self,
        request: proto::MergeRequest,
    ) -> Result<proto::MergeResponse, tonic::Status>;
}

#[async_trait::async_trait]
impl NightlyApi for Client {
    async fn list_merged_windows(
        &self,
        tenant: &str,
    ) -> Result<Vec<proto::MergedWindow>, tonic::Status> {
        let request = proto::ListMergedWindowsRequest { tenant_id: tenant.to_string() };
        Ok(TopicsClient::list_merged_windows(&mut self.clone(), request)
            .await?
            .into_inner()
            .windows)
    }

    async fn fit(&self, request: proto::FitRequest) -> Result<proto::FitResponse, tonic::Status> {
        Ok(TopicsClient::fit(&mut self.clone(), request).await?.into_inner())
    }

    async fn merge(
        &self,
        request: proto::MergeRequest,
    ) -> Result<proto::MergeResponse, tonic::Status> {
        Ok(TopicsClient::merge(&mut self.clone(), request).await?.into_inner())
    }
}

/// Validated settings of one run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The window of messages.
    pub window: Window,
    /// Tenants with fewer messages are skipped (default 10).
    pub min_messages: usize,
    /// Tenants processed at once.
    pub concurrency: usize,
    /// Longest time for one tenant, retries included.
    pub tenant_timeout: Duration,
    /// Longest time for the whole run; tenants not started by then are reported as not run.
    pub deadline: Duration,
    /// Retries of transient gRPC errors.
    pub retry: CallRetries,
    /// Re-run tenants whose window was already merged.
    pub force: bool,
    /// Fit parameter overrides.
    pub fit_params: Option<proto::FitParams>,
    /// Only these tenants (empty: all).
    pub only_tenants: Vec<String>,
    /// Only this shard's tenants (`--shard i/n`; `None`: all).
    pub shard: Option<super::shard::Shard>,
}

impl Settings {
    /// The defaults of `topics nightly` for `window`: at least 10 messages, 4 tenants at once,
    /// 300 s per tenant, a 2 h deadline, 2 retries, no force, the server's fit parameters.
    pub fn new(window: Window) -> Self {
        Self {
            window,
            min_messages: 10,
            concurrency: 4,
            tenant_timeout: Duration::from_secs(300),
            deadline: Duration::from_secs(7200),
            retry: CallRetries::default(),
            force: false,
            fit_params: None,
            only_tenants: Vec::new(),
            shard: None,
        }
    }
}

/// Whether `merged` already covers `window` (same or wider window).
/// `part / whole` (0 when `whole` is 0).
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn covers(merged: &proto::MergedWindow, window: &Window) -> bool {
    let Some(merged) = &merged.window else { return false };
    let parse = |raw: &str| crate::sources::jsonl::parse_timestamp(raw);
    match (parse(&merged.start), parse(&merged.end)) {
        (Some(start), Some(end)) => start <= window.start && window.end <= end,
        _ => false,
    }
}

/// Processes one tenant, counting calls in `attempts`.
async fn process_tenant(
    source: &dyn MessageSource,
    api: &dyn NightlyApi,
    settings: &Settings,
    tenant: &str,
    attempts: &std::sync::atomic::AtomicU32,
) -> TenantResult {
    use std::sync::atomic::Ordering;
    let count = |n: u32| {
        attempts.fetch_add(n, Ordering::Relaxed);
    };
    let messages = match source.messages(tenant, &settings.window).await {
        Ok(messages) => messages,
        Err(err) => {
            return TenantResult::new(tenant, TenantStatus::Failed, 0)
                .with_reason(format!("reading messages: {err}"))
        }
    };
    let n = messages.len() as u64;
    if messages.len() < settings.min_messages {
        return TenantResult::new(tenant, TenantStatus::Skipped, n).with_reason(format!(
            "{n} messages, fewer than the minimum of {}",
            settings.min_messages
        ));
    }
    let failed = |what: &str, status: &tonic::Status| {
        TenantResult::new(tenant, TenantStatus::Failed, n)
            .with_reason(format!("{what}: {}", describe_status(status)))
    };

    if !settings.force {
        let listed =
            with_retries(&settings.retry, "ListMergedWindows", |_| api.list_merged_windows(tenant))
                .await;
        count(listed.attempts);
        match listed.result {
            Ok(windows) => {
                if let Some(done) = windows.iter().find(|w| covers(w, &settings.window)) {
                    return TenantResult {
                        version: Some(done.version.clone()),
                        ..TenantResult::new(tenant, TenantStatus::AlreadyMerged, n)
                    }
                    .with_reason(format!(
                        "window {} already merged into version {}",
                        settings.window, done.version
                    ));
                }
            }
            // A tenant the server has never seen has merged nothing.
            Err(status) if status.code() == Code::NotFound => {}
            Err(status) => return failed("ListMergedWindows", &status),
        }
    }

    let with_embeddings = messages.iter().filter(|m| m.embedding.is_some()).count();
    if with_embeddings != 0 && with_embeddings != messages.len() {
        return TenantResult::new(tenant, TenantStatus::Failed, n).with_reason(format!(
            "{with_embeddings} of {n} messages have a precomputed embedding: give all or none"
        ));
    }
    let mut embeddings = Vec::with_capacity(with_embeddings);
    let documents = messages
        .into_iter()
        .map(|m| {
            if let Some(values) = m.embedding {
                embeddings.push(proto::Embedding { values });
            }
            proto::Document { id: m.id, text: m.text, created_at: rfc3339(m.created_at) }
        })
        .collect();
    let request = proto::FitRequest {
        tenant_id: tenant.to_string(),
        documents,
        window: Some(proto::Window {
            start: rfc3339(settings.window.start),
            end: rfc3339(settings.window.end),
        }),
        params: settings.fit_params.clone(),
        embeddings,
    };
    let fitted = with_retries(&settings.retry, "Fit", |_| api.fit(request.clone())).await;
    count(fitted.attempts);
    let fitted = match fitted.result {
        Ok(fitted) => fitted,
        Err(status) => return failed("Fit", &status),
    };
    let day_topics = fitted.topics.iter().filter(|t| t.topic_id >= 0).count() as u64;

    let request = proto::MergeRequest {
        tenant_id: tenant.to_string(),
        day_version: fitted.version.clone(),
        base_version: None,
        force: settings.force,
    };
    let merged = with_retries(&settings.retry, "Merge", |_| api.merge(request.clone())).await;
    count(merged.attempts);
    let base = TenantResult {
        day_version: Some(fitted.version.clone()),
        day_topics: Some(day_topics),
        small_talk: Some(fitted.small_talk),
        outliers: Some(fitted.outliers),
        outlier_share: Some(share(fitted.outliers, n.saturating_sub(fitted.small_talk))),
        warnings: fitted.warnings.clone(),
        ..TenantResult::new(tenant, TenantStatus::Merged, n)
    };
    match merged.result {
        Ok(merged) => TenantResult {
            version: Some(merged.version),
            previous_version: Some(merged.previous_version),
            total_topics: Some(merged.total_topics),
            new_topics: Some(merged.new_topics),
            matched_topics: Some(merged.matched_topics),
            ..base
        },
        // Another run merged this window first (or a retried Merge had in fact succeeded).
        Err(status) if status.code() == Code::AlreadyExists => TenantResult {
            status: TenantStatus::AlreadyMerged,
            reason: Some(format!("Merge: {}", describe_status(&status))),
            ..base
        },
        Err(status) => TenantResult {
            status: TenantStatus::Failed,
            reason: Some(format!("Merge: {}", describe_status(&status))),
            ..base
        },
    }
}

/// Runs one nightly pass and returns its summary. Fails only when the tenant list cannot be
/// read; every per-tenant problem ends up in the summary instead.
pub async fn run(
    source: Arc<dyn MessageSource>,
    api: Arc<dyn NightlyApi>,
    settings: &Settings,
    progress: &mut Progress,
) -> Result<Summary, crate::sources::SourceError> {
    let started = Instant::now();
    let deadline_at = started + settings.deadline;
    let mut tenants = source.tenants(&settings.window).await?;
    if !settings.only_tenants.is_empty() {
        tenants.retain(|t| settings.only_tenants.contains(t));
    }
    if let Some(shard) = settings.shard {
        tenants.retain(|t| shard.contains(t));
        tracing::info!(%shard, tenants = tenants.len(), "this worker's shard of the tenants");
    }
    tracing::info!(source = %source.describe(), window = %settings.window, tenants = tenants.len(), "listed tenants");
    progress.start(tenants.len() as u64);
    let progress_ref = &*progress;

    let work = futures::stream::iter(tenants)
        .map(|tenant| {
            let source = source.clone();
            let api = api.clone();
            async move {
                // A tenant "starts" when its future is first polled, i.e. when a slot is free.
                let begun = Instant::now();
                if begun >= deadline_at {
                    return TenantResult::new(&tenant, TenantStatus::NotRun, 0)
                        .with_reason("the overall deadline passed before this tenant started");
                }
                let limit = settings.tenant_timeout.min(deadline_at - begun);
                let attempts = std::sync::atomic::AtomicU32::new(0);
                let outcome = tokio::time::timeout(
                    limit,
                    process_tenant(source.as_ref(), api.as_ref(), settings, &tenant, &attempts),
                )
                .await;
                let mut result = outcome.unwrap_or_else(|_| {
                    let why = if limit < settings.tenant_timeout {
                        "the overall deadline passed while this tenant was running".to_string()
                    } else {
                        format!("timed out after {:?} (--tenant-timeout)", settings.tenant_timeout)
                    };
                    TenantResult::new(&tenant, TenantStatus::Failed, 0).with_reason(why)
                });
                result.attempts = attempts.load(std::sync::atomic::Ordering::Relaxed);
                result.duration_seconds = begun.elapsed().as_secs_f64();
                progress_ref.tenant_done(&result);
                result
            }
        })
        .buffer_unordered(settings.concurrency.max(1))
        .collect::<Vec<_>>();
    tokio::pin!(work);
    let warn_at =
        tokio::time::sleep_until(started + settings.deadline.mul_f64(DEADLINE_WARNING_SHARE));
    let results = tokio::select! {
        results = &mut work => results,
        () = warn_at => {
            progress_ref.warn(&format!(
                "the nightly run has used {:.0} % of its {:?} deadline; tenants not started by then will not run",
                DEADLINE_WARNING_SHARE * 100.0,
                settings.deadline
            ));
            work.await
        }
    };
    progress.finish();
    let mut summary = Summary::from_results(
        results,
        started.elapsed().as_secs_f64(),
        &settings.window,
        settings.deadline.as_secs_f64(),
    );
    summary.shard = settings.shard.map(|s| s.to_string());
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{Message, SourceError};
    use chrono::TimeZone;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Mutex;

    /// Messages held in memory.
    struct MemorySource(BTreeMap<String, usize>);

    #[async_trait::async_trait]
    impl MessageSource for MemorySource {
        fn describe(&self) -> String {
            "memory".into()
        }
        async fn tenants(&self, _: &Window) -> Result<Vec<String>, SourceError> {
            Ok(self.0.keys().cloned().collect())
        }
        async fn messages(
            &self,
            tenant: &str,
            window: &Window,
        ) -> Result<Vec<Message>, SourceError> {
            let n = self.0.get(tenant).copied().unwrap_or(0);
            Ok((0..n)
                .map(|i| Message {
                    id: i.to_string(),
                    // Every fifth message is small talk.
                    text: if i % 5 == 4 { "merci".into() } else { format!("message {i}") },
                    created_at: window.start,
                    embedding: None,
                })
                .collect())
        }
    }

    /// A scripted server: per-tenant Fit failures and delays; merged windows remembered.
    #[derive(Default)]
    struct ScriptedApi {
        /// tenant → codes returned by the first Fit calls, in order.
        fit_failures: Mutex<HashMap<String, Vec<Code>>>,
        /// tenant → time each Fit takes.
        fit_delay: HashMap<String, Duration>,
        merged: Mutex<HashMap<String, Vec<proto::MergedWindow>>>,
        windows_by_version: Mutex<HashMap<String, proto::Window>>,
        fits: Mutex<u32>,
    }

    #[async_trait::async_trait]
    impl NightlyApi for ScriptedApi {
        async fn list_merged_windows(
            &self,
            tenant: &str,
        ) -> Result<Vec<proto::MergedWindow>, tonic::Status> {
            Ok(self.merged.lock().unwrap().get(tenant).cloned().unwrap_or_default())
        }
        async fn fit(
            &self,
            request: proto::FitRequest,
        ) -> Result<proto::FitResponse, tonic::Status> {
            *self.fits.lock().unwrap() += 1;
            if let Some(delay) = self.fit_delay.get(&request.tenant_id) {
                tokio::time::sleep(*delay).await;
            }
            let failure = self
                .fit_failures
                .lock()
                .unwrap()
                .get_mut(&request.tenant_id)
                .and_then(|codes| (!codes.is_empty()).then(|| codes.remove(0)));
            if let Some(code) = failure {
                return Err(tonic::Status::new(code, "scripted failure"));
            }
            let version = format!("{}-day-{}", request.tenant_id, self.fits.lock().unwrap());
            self.windows_by_version
                .lock()
                .unwrap()
                .insert(version.clone(), request.window.clone().unwrap());
            let small_talk = request.documents.iter().filter(|d| d.text == "merci").count();
            Ok(proto::FitResponse {
                tenant_id: request.tenant_id,
                version,
                small_talk: small_talk as u64,
                // Scripted: one outlier in every ten documents that are not small talk.
                outliers: (request.documents.len() - small_talk) as u64 / 10,
                topics: vec![
                    proto::Topic { topic_id: 0, ..Default::default() },
                    proto::Topic { topic_id: -1, ..Default::default() },
                ],
                ..Default::default()
            })
        }
        async fn merge(
            &self,
            request: proto::MergeRequest,
        ) -> Result<proto::MergeResponse, tonic::Status> {
            let window = self.windows_by_version.lock().unwrap()[&request.day_version].clone();
            let mut merged = self.merged.lock().unwrap();
            let windows = merged.entry(request.tenant_id.clone()).or_default();
            if !request.force && windows.iter().any(|w| w.window.as_ref() == Some(&window)) {
                return Err(tonic::Status::already_exists("window already merged"));
            }
            let version = format!("v{}", windows.len() + 1);
            windows.push(proto::MergedWindow {
                window: Some(window),
                version: version.clone(),
                merged_at: String::new(),
            });
            Ok(proto::MergeResponse {
                tenant_id: request.tenant_id,
                version,
                total_topics: 1,
                new_topics: 1,
                ..Default::default()
            })
        }
    }

    fn settings() -> Settings {
        let start = chrono::Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap();
        let mut settings =
            Settings::new(Window::new(start, start + chrono::Duration::hours(24)).unwrap());
        settings.retry.backoff.initial = Duration::from_millis(10);
        settings
    }

    fn source(tenants: &[(&str, usize)]) -> Arc<dyn MessageSource> {
        Arc::new(MemorySource(tenants.iter().map(|(t, n)| (t.to_string(), *n)).collect()))
    }

    async fn run_with(
        api: &Arc<ScriptedApi>,
        tenants: &[(&str, usize)],
        settings: &Settings,
    ) -> Summary {
        run(source(tenants), api.clone(), settings, &mut Progress::Log).await.unwrap()
    }

    fn status_of<'a>(summary: &'a Summary, tenant: &str) -> &'a TenantResult {
        summary.tenants.iter().find(|t| t.tenant_id == tenant).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn skip_failure_and_success_are_counted_exactly() {
        let api = Arc::new(ScriptedApi::default());
        api.fit_failures.lock().unwrap().insert("broken".into(), vec![Code::InvalidArgument]);
        let summary =
            run_with(&api, &[("small", 9), ("broken", 30), ("normal", 25)], &settings()).await;
        assert_eq!(
            (
                summary.total_users,
                summary.processed_users,
                summary.skipped_users,
                summary.failed_users
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(summary.total_messages_processed, 25);
        // 1 of 2 eligible tenants failed: more than 20 %.
        assert!(summary.failed);
        let broken = status_of(&summary, "broken");
        assert_eq!(broken.status, TenantStatus::Failed);
        assert_eq!(
            broken.attempts, 2,
            "ListMergedWindows + one Fit: INVALID_ARGUMENT is not retried"
        );
        assert!(broken.reason.as_deref().unwrap().contains("InvalidArgument"));
        let normal = status_of(&summary, "normal");
        assert_eq!(
            (normal.status, normal.version.as_deref(), normal.day_topics),
            (TenantStatus::Merged, Some("v1"), Some(1))
        );
        assert_eq!(status_of(&summary, "small").status, TenantStatus::Skipped);
        // Small talk as the Fit counted it: 5 of normal's 25 messages; broken never fitted.
        assert_eq!(normal.small_talk, Some(5));
        assert_eq!(broken.small_talk, None);
        assert_eq!(summary.small_talk_messages, 5);
        // Outliers as the Fit counted them: 2 of normal's 20 topical messages.
        assert_eq!((normal.outliers, normal.outlier_share), (Some(2), Some(0.1)));
        assert_eq!((summary.outlier_messages, summary.outlier_share), (2, 0.1));
    }

    #[tokio::test(start_paused = true)]
    async fn transient_fit_errors_are_retried() {
        let api = Arc::new(ScriptedApi::default());
        api.fit_failures
            .lock()
            .unwrap()
            .insert("flaky".into(), vec![Code::Unavailable, Code::ResourceExhausted]);
        let summary = run_with(&api, &[("flaky", 12)], &settings()).await;
        let flaky = status_of(&summary, "flaky");
        assert_eq!(flaky.status, TenantStatus::Merged);
        assert_eq!(flaky.attempts, 1 + 3 + 1, "list + three fits + merge");
        assert!(!summary.failed);
    }

    #[tokio::test(start_paused = true)]
    async fn second_run_changes_nothing_and_force_reruns() {
        let api = Arc::new(ScriptedApi::default());
        let tenants = [("a", 10), ("b", 20)];
        let first = run_with(&api, &tenants, &settings()).await;
        assert_eq!(first.processed_users, 2);
        let fits = *api.fits.lock().unwrap();
        let second = run_with(&api, &tenants, &settings()).await;
        assert_eq!(
            (second.processed_users, second.skipped_users, second.already_merged_users),
            (0, 2, 2)
        );
        assert_eq!(*api.fits.lock().unwrap(), fits, "no Fit on the second run");
        assert!(!second.failed);
        let forced = run_with(&api, &tenants, &Settings { force: true, ..settings() }).await;
        assert_eq!(forced.processed_users, 2);
        assert_eq!(status_of(&forced, "a").version.as_deref(), Some("v2"));
    }

    #[tokio::test(start_paused = true)]
    async fn merge_already_exists_counts_as_already_merged() {
        let api = Arc::new(ScriptedApi::default());
        run_with(&api, &[("a", 10)], &settings()).await;
        // A client that skips the pre-check (e.g. a race with another run) gets ALREADY_EXISTS.
        api.merged.lock().unwrap().get_mut("a").unwrap()[0].window.as_mut().unwrap().start =
            "garbage".into();
        let summary = run_with(&api, &[("a", 10)], &settings()).await;
        assert_eq!(
            summary.processed_users, 1,
            "the garbled window no longer matches, so it re-merges"
        );
        let summary = run_with(&api, &[("a", 10)], &settings()).await;
        assert_eq!(summary.already_merged_users, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_stops_new_tenants_and_warns() {
        let api = Arc::new(ScriptedApi {
            fit_delay: [("t1", 40), ("t2", 40), ("t3", 40)]
                .into_iter()
                .map(|(t, minutes)| (t.to_string(), Duration::from_secs(minutes * 60)))
                .collect(),
            ..Default::default()
        });
        let settings = Settings {
            concurrency: 1,
            deadline: Duration::from_secs(3600),
            tenant_timeout: Duration::from_secs(7200),
            ..settings()
        };
        let summary = run_with(&api, &[("t1", 10), ("t2", 10), ("t3", 10)], &settings).await;
        assert_eq!(status_of(&summary, "t1").status, TenantStatus::Merged);
        let t2 = status_of(&summary, "t2");
        assert_eq!(t2.status, TenantStatus::Failed);
        assert!(t2.reason.as_deref().unwrap().contains("deadline"));
        assert_eq!(status_of(&summary, "t3").status, TenantStatus::NotRun);
        assert_eq!(
            (summary.processed_users, summary.failed_users, summary.not_run_users),
            (1, 1, 1)
        );
        assert!(summary.deadline_warning);
        assert!(summary.failed);
    }

    #[tokio::test(start_paused = true)]
    async fn tenant_timeout_fails_only_that_tenant() {
        let api = Arc::new(ScriptedApi {
            fit_delay: [("slow".to_string(), Duration::from_secs(600))].into_iter().collect(),
            ..Default::default()
        });
        let settings = Settings { tenant_timeout: Duration::from_secs(300), ..settings() };
        let tenants: Vec<(String, usize)> =
            (0..5).map(|i| (format!("ok{i}"), 10)).chain([("slow".to_string(), 10)]).collect();
        let tenants: Vec<(&str, usize)> = tenants.iter().map(|(t, n)| (t.as_str(), *n)).collect();
        let summary = run_with(&api, &tenants, &settings).await;
        let slow = status_of(&summary, "slow");
        assert_eq!(slow.status, TenantStatus::Failed);
        assert!(slow.reason.as_deref().unwrap().contains("--tenant-timeout"));
        assert_eq!(summary.processed_users, 5);
        // 1 of 6 failed: under 20 %, exit code 0.
        assert!(!summary.failed);
    }

    #[tokio::test(start_paused = true)]
    async fn only_tenants_filter() {
        let api = Arc::new(ScriptedApi::default());
        let settings = Settings { only_tenants: vec!["b".into()], ..settings() };
        let summary = run_with(&api, &[("a", 10), ("b", 10)], &settings).await;
        assert_eq!(summary.total_users, 1);
        assert_eq!(summary.tenants[0].tenant_id, "b");
    }

    #[tokio::test(start_paused = true)]
    async fn three_shards_partition_the_tenants() {
        let names: Vec<String> = (0..30).map(|i| format!("tenant-{i:02}")).collect();
        let tenants: Vec<(&str, usize)> = names.iter().map(|t| (t.as_str(), 10)).collect();
        let mut seen: Vec<String> = Vec::new();
        for i in 0..3 {
            let api = Arc::new(ScriptedApi::default());
            let shard = super::super::shard::Shard::new(i, 3).unwrap();
            let settings = Settings { shard: Some(shard), ..settings() };
            let summary = run_with(&api, &tenants, &settings).await;
            assert_eq!(summary.shard.as_deref(), Some(format!("{i}/3").as_str()));
            assert!(summary.total_users > 0, "shard {i} got no tenant");
            assert_eq!(summary.processed_users, summary.total_users);
            seen.extend(summary.tenants.iter().map(|t| t.tenant_id.clone()));
        }
        seen.sort();
        // Union = all, no overlap.
        assert_eq!(seen, names);
    }
}
