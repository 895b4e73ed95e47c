//! Several tenants merging (and rolling back) at the same moment on one SQLite database all
//! succeed: write transactions take SQLite's write lock up front (`BEGIN IMMEDIATE`, with a
//! busy timeout), so concurrent writers wait for each other instead of failing with
//! `SQLITE_BUSY` ("database is locked") / `SQLITE_BUSY_SNAPSHOT` when a transaction that read
//! first tries to write. (With a deferred `BEGIN`, the rollback round fails.)

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use chrono::NaiveDate;
use common::TestServer;
use topicd::proto;

const TENANTS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_tenants_merge_concurrently_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    // Retention runs in every merge: concurrent deletes of old versions too.
    cfg.server.keep_versions = 3;
    let tenants: Vec<String> = (0..TENANTS).map(|i| format!("tenant-{i}")).collect();
    let days: Vec<NaiveDate> =
        (0..3).map(|d| NaiveDate::from_ymd_opt(2026, 11, 20 + d).unwrap()).collect();
    // Each tenant: three fitted days (candidates); `rounds[k][i]` is tenant i's day k.
    let mut rounds = vec![Vec::new(); days.len()];
    for (i, t) in tenants.iter().enumerate() {
        for (k, d) in days.iter().enumerate() {
            let m = common::toy_model(*d, (i + k) as u64);
            rounds[k].push(common::seed_version(&cfg, t, &m, Some(*d)).await);
        }
    }
    let server = TestServer::start(cfg).await;
    let client = server.client().await;

    // Round k: every tenant merges its day k at once (round 0 has no base; later rounds read
    // the active model, then write).
    let mut last = vec![String::new(); TENANTS];
    let mut merged = vec![Vec::new(); TENANTS];
    for (round, day_versions) in rounds.iter().enumerate() {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, t) in tenants.iter().enumerate() {
            let mut c = client.clone();
            let req = proto::MergeRequest {
                tenant_id: t.clone(),
                day_version: day_versions[i].clone(),
                base_version: None,
                force: false,
            };
            tasks.spawn(async move { (i, c.merge(req).await) });
        }
        while let Some(r) = tasks.join_next().await {
            let (i, r) = r.unwrap();
            let m =
                r.unwrap_or_else(|e| panic!("round {round}: {}: {e:?}", tenants[i])).into_inner();
            assert_eq!(m.previous_version, last[i], "round {round}: {}", tenants[i]);
            merged[i].push(m.version.clone());
            last[i] = m.version;
        }
    }

    // Concurrent rollbacks (the activation transaction reads, then writes) and back again.
    for back in [2, 1] {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, t) in tenants.iter().enumerate() {
            let mut c = client.clone();
            let req = proto::ActivateModelRequest {
                tenant_id: t.clone(),
                version: merged[i][merged[i].len() - back].clone(),
            };
            tasks.spawn(async move { (i, c.activate_model(req).await) });
        }
        while let Some(r) = tasks.join_next().await {
            let (i, r) = r.unwrap();
            r.unwrap_or_else(|e| panic!("activate back {back}: {}: {e:?}", tenants[i]));
        }
    }

    // Every tenant ends with exactly one active version, the last merged, and its snapshot.
    let mut c = client.clone();
    for (i, t) in tenants.iter().enumerate() {
        let models = c
            .list_models(proto::ListModelsRequest { tenant_id: t.clone(), limit: 0 })
            .await
            .unwrap()
            .into_inner()
            .models;
        let active: Vec<_> = models.iter().filter(|m| m.is_active).collect();
        assert_eq!(active.len(), 1, "{t}");
        assert_eq!(active[0].version, last[i], "{t}");
        let top = c
            .get_top_topics(proto::GetTopTopicsRequest {
                tenant_id: t.clone(),
                limit: 0,
                include_trend: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(top.version, last[i]);
        assert_eq!(top.topics.len(), 3);
    }
    server.stop().await;
}
