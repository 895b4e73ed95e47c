//! Several replicas on one database and one model store converge: when one activates a version,
//! the others serve it after their cache re-check interval (0 s here), without a restart.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use common::TestServer;
use topicd::proto::{self, Embedding};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_serves_a_version_activated_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = common::seed_model(dir.path(), "acme").await;
    let v2 = common::seed_model(dir.path(), "acme").await;
    assert!(v2 > v1);
    let mut cfg = common::config(dir.path());
    cfg.cache.refresh_secs = 0;
    let a = TestServer::start(cfg.clone()).await;
    let b = TestServer::start(cfg).await;
    let (mut ca, mut cb) = (a.client().await, b.client().await);
    let tr = || proto::TransformRequest {
        tenant_id: "acme".into(),
        texts: vec![],
        embeddings: vec![Embedding { values: vec![0.0, 0.0, 1.0, 0.0] }],
    };
    // Both replicas load v2 (the active one) into their caches.
    assert_eq!(ca.transform(tr()).await.unwrap().into_inner().version, v2);
    assert_eq!(cb.transform(tr()).await.unwrap().into_inner().version, v2);

    // Roll back on replica A; replica B follows on its next request.
    let act = ca
        .activate_model(proto::ActivateModelRequest {
            tenant_id: "acme".into(),
            version: v1.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(act.previous_version, v2);
    let r = cb.transform(tr()).await.unwrap().into_inner();
    assert_eq!(r.version, v1);
    assert_eq!(r.results[0].topic_id, 2);
    let top = cb
        .get_top_topics(proto::GetTopTopicsRequest {
            tenant_id: "acme".into(),
            limit: 0,
            include_trend: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(top.version, v1);

    // A tenant deleted on A is gone on B too.
    ca.delete_tenant(proto::DeleteTenantRequest { tenant_id: "acme".into() }).await.unwrap();
    let e = cb.transform(tr()).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    a.stop().await;
    b.stop().await;
}
