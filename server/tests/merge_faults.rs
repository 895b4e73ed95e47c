//! A failed Merge leaves the previous active model and snapshot untouched (feature
//! `failpoints`). For every step of the Merge write path — after the merge (before any write),
//! between and after the model file writes, before the database transaction, and inside it
//! (after the insert, after the active switch, before the snapshot, before the commit) — an
//! injected failure gives `UNAVAILABLE` naming the step; then the tenant still has exactly the
//! old active version, the same snapshot and the same Transform answers, no row or file of the
//! failed attempt exists, and once the failure is gone the same Merge succeeds.
//!
//! Then the same with a crash: a server process is killed (`abort`, like `kill -9`) at each
//! failpoint during a Merge; a restarted server serves exactly the old state, and a re-run of
//! the Merge completes and leaves no orphaned files.
//!
//! Failpoints are process-global: the in-process tests run under one `FailScenario` each
//! (which serialises them); crashes happen in child processes.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::path::PathBuf;

use chrono::NaiveDate;
use common::{PgS3, TestServer};
use tonic::transport::Channel;
use tonic::Code;
use topicd::config::Config;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Embedding};
use topicd::store::TenantId;

/// Every failpoint on the Merge path, in the order the path reaches them.
const POINTS: &[&str] = &[
    "lifecycle::merge::after_merge",
    "store::put::after_tensors",
    "store::put::after_config",
    "lifecycle::merge::after_write",
    "meta::activate::after_insert",
    "meta::activate::after_switch",
    "meta::activate::before_snapshot",
    "meta::activate::before_commit",
];

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// What a client sees of a tenant: its versions, the snapshot and a Transform answer.
#[derive(Debug, PartialEq)]
struct View {
    models: Vec<proto::ModelInfo>,
    top: proto::GetTopTopicsResponse,
    transform: proto::TransformResponse,
}

async fn view(c: &mut TopicsClient<Channel>, tenant: &str) -> View {
    let models = c
        .list_models(proto::ListModelsRequest { tenant_id: tenant.into(), limit: 0 })
        .await
        .unwrap()
        .into_inner()
        .models;
    let top = c
        .get_top_topics(proto::GetTopTopicsRequest {
            tenant_id: tenant.into(),
            limit: 0,
            include_trend: true,
        })
        .await
        .unwrap()
        .into_inner();
    let transform = c
        .transform(proto::TransformRequest {
            tenant_id: tenant.into(),
            texts: vec![],
            embeddings: vec![
                Embedding { values: vec![1.0, 0.0, 0.0, 0.0] },
                Embedding { values: vec![0.0, 0.1, 0.9, 0.0] },
            ],
        })
        .await
        .unwrap()
        .into_inner();
    View { models, top, transform }
}

/// The storage paths in the model store equal the rows' storage paths.
async fn assert_files_match_rows(cfg: &Config, tenant: &str, models: &[proto::ModelInfo]) {
    let store = common::model_store(cfg);
    let files = store.list_version_paths(&TenantId::parse(tenant).unwrap()).await.unwrap();
    let mut rows: Vec<String> = models.iter().map(|m| m.storage_path.clone()).collect();
    let files: Vec<String> = files.iter().map(ToString::to_string).collect();
    rows.sort();
    assert_eq!(files, rows, "files in the store vs. version rows");
}

fn merge(tenant: &str, day_version: &str) -> proto::MergeRequest {
    proto::MergeRequest {
        tenant_id: tenant.into(),
        day_version: day_version.into(),
        base_version: None,
        force: false,
    }
}

async fn each_failpoint(cfg: Config) {
    let tenant = "acme";
    // Day 1 merged and active; day 2 fitted (a candidate), not merged yet.
    let d1 =
        common::seed_version(&cfg, tenant, &common::toy_model(day(23), 0), Some(day(23))).await;
    let d2 =
        common::seed_version(&cfg, tenant, &common::toy_model(day(24), 7), Some(day(24))).await;
    let server = TestServer::start(cfg.clone()).await;
    let mut c = server.client().await;
    let v1 = c.merge(merge(tenant, &d1)).await.unwrap().into_inner().version;
    let before = view(&mut c, tenant).await;
    assert_eq!(before.top.version, v1);
    assert_eq!(before.transform.version, v1);
    assert_eq!(before.models.len(), 3);
    assert_files_match_rows(&cfg, tenant, &before.models).await;

    for point in POINTS {
        topicd::fail::cfg(*point, "return").unwrap();
        let e = c.merge(merge(tenant, &d2)).await.unwrap_err();
        topicd::fail::remove(*point);
        assert_eq!(e.code(), Code::Unavailable, "{point}: {e:?}");
        assert!(e.message().contains(point), "{point}: {}", e.message());

        // Nothing of the failed attempt is visible: same versions (one active, the old one),
        // same snapshot, same answers, and no files beyond the rows' own.
        let after = view(&mut c, tenant).await;
        assert_eq!(after, before, "{point}");
        assert_eq!(after.models.iter().filter(|m| m.is_active).count(), 1, "{point}");
        assert_files_match_rows(&cfg, tenant, &after.models).await;
    }

    // The failure gone, the same Merge completes and its version is served.
    let m = c.merge(merge(tenant, &d2)).await.unwrap().into_inner();
    assert_eq!(m.previous_version, v1);
    assert!(m.version > v1);
    let after = view(&mut c, tenant).await;
    assert_eq!(after.top.version, m.version);
    assert_eq!(after.transform.version, m.version);
    assert_eq!(after.models.len(), 4);
    let active: Vec<_> = after.models.iter().filter(|m| m.is_active).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].version, m.version);
    assert_ne!(after.top.topics, before.top.topics, "the snapshot is the new model's");
    assert_files_match_rows(&cfg, tenant, &after.models).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_merge_changes_nothing() {
    let scenario = topicd::fail::FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    each_failpoint(common::config(dir.path())).await;

    let backends = PgS3::start().await;
    let dir = tempfile::tempdir().unwrap();
    each_failpoint(backends.config(dir.path(), "faults")).await;
    scenario.teardown();
}

const CRASH_CHILD: &str = "crash_child";

/// Run by [`killed_at_every_failpoint`] in a child process: serve the storage given in the
/// environment and Merge, aborting the process at `TOPICD_CRASH_POINT`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper run in a child process by killed_at_every_failpoint"]
async fn crash_child() {
    let (Ok(point), Ok(dir), Ok(tenant), Ok(day_version)) = (
        std::env::var("TOPICD_CRASH_POINT"),
        std::env::var("TOPICD_CRASH_DIR"),
        std::env::var("TOPICD_CRASH_TENANT"),
        std::env::var("TOPICD_CRASH_DAY_VERSION"),
    ) else {
        return;
    };
    let mut cfg = common::config(&PathBuf::from(dir));
    cfg.database_url = std::env::var("TOPICD_CRASH_DB").ok();
    cfg.store_url = std::env::var("TOPICD_CRASH_STORE").ok();
    if let Ok(opts) = std::env::var("TOPICD_CRASH_STORE_OPTIONS") {
        cfg.store_options = serde_json::from_str(&opts).unwrap();
    }
    let server = TestServer::start(cfg).await;
    let mut c = server.client().await;
    topicd::fail::cfg_callback(&point, || std::process::abort()).unwrap();
    let r = c.merge(merge(&tenant, &day_version)).await;
    // Not reached when the failpoint fired.
    eprintln!("merge returned {r:?}");
    std::process::exit(3);
}

async fn crash_each(cfg: Config) {
    let tenant = "acme";
    let d1 =
        common::seed_version(&cfg, tenant, &common::toy_model(day(23), 0), Some(day(23))).await;
    let d2 =
        common::seed_version(&cfg, tenant, &common::toy_model(day(24), 7), Some(day(24))).await;
    let server = TestServer::start(cfg.clone()).await;
    let mut c = server.client().await;
    let v1 = c.merge(merge(tenant, &d1)).await.unwrap().into_inner().version;
    let before = view(&mut c, tenant).await;
    server.stop().await;

    let exe = std::env::current_exe().unwrap();
    for (k, point) in POINTS.iter().enumerate() {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args([CRASH_CHILD, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("TOPICD_CRASH_POINT", point)
            .env("TOPICD_CRASH_DIR", &cfg.data_dir)
            .env("TOPICD_CRASH_TENANT", tenant)
            .env("TOPICD_CRASH_DAY_VERSION", &d2)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(db) = &cfg.database_url {
            cmd.env("TOPICD_CRASH_DB", db);
        }
        if let Some(store) = &cfg.store_url {
            cmd.env("TOPICD_CRASH_STORE", store).env(
                "TOPICD_CRASH_STORE_OPTIONS",
                serde_json::to_string(&cfg.store_options).unwrap(),
            );
        }
        let status = tokio::task::spawn_blocking(move || cmd.status().unwrap()).await.unwrap();
        assert!(
            !status.success() && status.code().is_none(),
            "{point}: the child was not killed at the failpoint: {status:?}"
        );

        // A restarted server serves exactly the old state; the crashed attempt left no row,
        // at most an orphaned version (files without a row).
        let server = TestServer::start(cfg.clone()).await;
        let mut c = server.client().await;
        let after = view(&mut c, tenant).await;
        assert_eq!(after, before, "{point}");
        let store = common::model_store(&cfg);
        let files = store.list_version_paths(&TenantId::parse(tenant).unwrap()).await.unwrap();
        let rows: Vec<String> = after.models.iter().map(|m| m.storage_path.clone()).collect();
        let files: Vec<String> = files.iter().map(ToString::to_string).collect();
        assert!(rows.iter().all(|r| files.contains(r)), "{point}: {files:?} vs {rows:?}");
        // Orphans of the attempts so far (recent ones survive the start-up cleanup's grace
        // period; two attempts in one second share a version).
        let orphans = files.len() - rows.len();
        if k == 0 {
            assert_eq!(orphans, 0, "{point}: no file is written before this point");
        } else {
            assert!((1..=k).contains(&orphans), "{point}: {files:?} vs {rows:?}");
        }
        server.stop().await;
    }

    // The re-run completes, and its cleanup removes every orphan of the crashed attempts.
    let server = TestServer::start(cfg.clone()).await;
    let mut c = server.client().await;
    let m = c.merge(merge(tenant, &d2)).await.unwrap().into_inner();
    assert_eq!(m.previous_version, v1);
    let after = view(&mut c, tenant).await;
    assert_eq!(after.top.version, m.version);
    assert_eq!(after.models.iter().filter(|m| m.is_active).count(), 1);
    assert_files_match_rows(&cfg, tenant, &after.models).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_every_failpoint() {
    // Not to run while the other test has failpoints configured in this process.
    let scenario = topicd::fail::FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    crash_each(common::config(dir.path())).await;

    let backends = PgS3::start().await;
    let dir = tempfile::tempdir().unwrap();
    crash_each(backends.config(dir.path(), "crash")).await;
    scenario.teardown();
}
