//! Start-up cleanup: files of versions without a database row (a crash between the file write
//! and the commit) are deleted when the server starts, unless they are recent enough to belong
//! to a write still in progress on another replica.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::TestServer;
use topicd::proto::{self, Embedding};
use topicd::store::{StoragePath, TenantId, Version};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_orphans_are_deleted_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(dir.path());
    let active = common::seed_model(dir.path(), "acme").await;
    let store = common::model_store(&cfg);
    let model = common::toy_model(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(), 3);
    let acme = TenantId::parse("acme").unwrap();
    let ghost = TenantId::parse("ghost").unwrap();
    // Old orphans: one next to acme's live version, one of a tenant with no rows at all.
    let old = Version::parse("20200101_000000").unwrap();
    let old_acme = store.put(&acme, &old, &model).await.unwrap();
    store.put(&ghost, &old, &model).await.unwrap();
    // A recent one (a commit that may still be on its way) is left alone.
    let recent = Version::now_after(Some(&Version::parse(&active).unwrap()));
    let recent_acme = store.put(&acme, &recent, &model).await.unwrap();
    assert_eq!(store.list_version_paths(&acme).await.unwrap().len(), 3);

    let server = TestServer::start(cfg).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = store.list_version_paths(&acme).await.unwrap();
        let g = store.list_version_paths(&ghost).await.unwrap();
        if !a.contains(&old_acme) && g.is_empty() {
            let live = StoragePath::parse(&format!("acme/{active}")).unwrap();
            assert_eq!(a, vec![live, recent_acme.clone()]);
            break;
        }
        assert!(Instant::now() < deadline, "old orphans still there: {a:?} {g:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The live version is untouched and served.
    let mut c = server.client().await;
    let r = c
        .transform(proto::TransformRequest {
            tenant_id: "acme".into(),
            texts: vec![],
            embeddings: vec![Embedding { values: vec![0.0, 1.0, 0.0, 0.0] }],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.version, active);
    server.stop().await;
}
