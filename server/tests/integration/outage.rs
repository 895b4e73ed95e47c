//! Backend outages through the server: while PostgreSQL or the object store is down, writes
//! (Fit, Merge) fail with `UNAVAILABLE` and change nothing, Transform keeps serving the hot
//! models; when the backend comes back, writes work again without a restart.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::{fit_request, Clinc, TestServer};
use tonic::transport::Channel;
use tonic::Code;
use topicd::config::Config;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Embedding};
use topicd_testing::{MotoServer, PgCluster, TcpProxy};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn merge(tenant: &str, day_version: &str) -> proto::MergeRequest {
    proto::MergeRequest {
        tenant_id: tenant.into(),
        day_version: day_version.into(),
        base_version: None,
        force: false,
    }
}

async fn transform(c: &mut TopicsClient<Channel>, tenant: &str) -> proto::TransformResponse {
    c.transform(proto::TransformRequest {
        tenant_id: tenant.into(),
        texts: vec![],
        embeddings: vec![Embedding { values: vec![0.0, 0.0, 1.0, 0.0] }],
    })
    .await
    .unwrap()
    .into_inner()
}

/// A Fit of one day of CLINC150 messages (6 intents × 30), when the dataset is present.
fn clinc_fit(data: &Clinc, tenant: &str) -> proto::FitRequest {
    let mut rows = Vec::new();
    for intent in data.intents(6) {
        rows.extend(data.rows_of(&intent)[..30].iter().copied());
    }
    let (docs, embs) = data.batch(&rows, "2026-11-25");
    fit_request(tenant, docs, embs, "2026-11-25", "2026-11-26")
}

/// Seeds two candidate days for `tenant`, starts a server and merges day 1. Returns the
/// server, a client, day 2's candidate and the active version.
async fn start_with_active(
    cfg: &Config,
    tenant: &str,
) -> (TestServer, TopicsClient<Channel>, String, String) {
    let d1 = common::seed_version(cfg, tenant, &common::toy_model(day(23), 0), Some(day(23))).await;
    let d2 = common::seed_version(cfg, tenant, &common::toy_model(day(24), 5), Some(day(24))).await;
    let server = TestServer::start(cfg.clone()).await;
    let mut c = server.client().await;
    let v1 = c.merge(merge(tenant, &d1)).await.unwrap().into_inner().version;
    assert_eq!(transform(&mut c, tenant).await.version, v1);
    (server, c, d2, v1)
}

/// During the outage: Merge (and Fit, with the dataset) fail with UNAVAILABLE, promptly;
/// Transform serves the hot model; nothing changed.
async fn check_outage(
    c: &mut TopicsClient<Channel>,
    tenant: &str,
    d2: &str,
    v1: &str,
    data: Option<&Clinc>,
) {
    let started = Instant::now();
    let e = c.merge(merge(tenant, d2)).await.unwrap_err();
    assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "merge took {:?}", started.elapsed());
    if let Some(data) = data {
        let e = c.fit(clinc_fit(data, tenant)).await.unwrap_err();
        assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    }
    for _ in 0..3 {
        let started = Instant::now();
        let r = transform(c, tenant).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "transform took {:?}",
            started.elapsed()
        );
        assert_eq!(r.version, v1);
        assert_eq!(r.results.len(), 1);
        assert!(!r.results[0].label.is_empty());
    }
}

/// After recovery, without a restart: Merge and Fit work, the new version is served, and the
/// files in the store are exactly the rows'.
async fn check_recovered(
    cfg: &Config,
    c: &mut TopicsClient<Channel>,
    tenant: &str,
    d2: &str,
    v1: &str,
    data: Option<&Clinc>,
) {
    // The first request after the outage may still meet a dead pooled connection.
    let mut merged = None;
    for _ in 0..20 {
        match c.merge(merge(tenant, d2)).await {
            Ok(m) => {
                merged = Some(m.into_inner());
                break;
            }
            Err(e) if e.code() == Code::Unavailable => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("merge after recovery: {e:?}"),
        }
    }
    let m = merged.expect("merge succeeds once the backend is back");
    assert_eq!(m.previous_version, v1);
    assert_eq!(transform(c, tenant).await.version, m.version);
    if let Some(data) = data {
        c.fit(clinc_fit(data, tenant)).await.unwrap();
    }
    let models = c
        .list_models(proto::ListModelsRequest { tenant_id: tenant.into(), limit: 0 })
        .await
        .unwrap()
        .into_inner()
        .models;
    assert_eq!(models.iter().filter(|m| m.is_active).count(), 1);
    let store = common::model_store(cfg);
    let files =
        store.list_version_paths(&topicd::store::TenantId::parse(tenant).unwrap()).await.unwrap();
    let mut rows: Vec<String> = models.iter().map(|m| m.storage_path.clone()).collect();
    let files: Vec<String> = files.iter().map(ToString::to_string).collect();
    rows.sort();
    assert_eq!(files, rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started() {
    let data = Clinc::load();
    let pg = tokio::task::spawn_blocking(|| PgCluster::start().unwrap()).await.unwrap();
    if !pg.is_owned() {
        return; // DATABASE_URL points at a server this test cannot stop.
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.database_url = Some(pg.create_database().await.unwrap());
    cfg.cache.refresh_secs = 0; // every Transform re-checks the database
    let (server, mut c, d2, v1) = start_with_active(&cfg, "acme").await;

    pg.stop().unwrap();
    check_outage(&mut c, "acme", &d2, &v1, Some(&data)).await;
    pg.start_again().unwrap();
    check_recovered(&cfg, &mut c, "acme", &d2, &v1, Some(&data)).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_cut_and_restored() {
    let data = Clinc::load();
    let moto = tokio::task::spawn_blocking(|| MotoServer::start().unwrap()).await.unwrap();
    // The outage is a cut network in front of moto (moto keeps objects only in memory).
    let proxy = TcpProxy::start(moto.addr()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.store_url = Some(moto.store_url("outage"));
    cfg.store_options = moto.s3_options().into_iter().collect();
    cfg.store_options.insert("endpoint".into(), proxy.endpoint());
    let (server, mut c, d2, v1) = start_with_active(&cfg, "acme").await;

    proxy.stop();
    check_outage(&mut c, "acme", &d2, &v1, Some(&data)).await;
    proxy.start_again().await.unwrap();
    check_recovered(&cfg, &mut c, "acme", &d2, &v1, Some(&data)).await;
    server.stop().await;
}
