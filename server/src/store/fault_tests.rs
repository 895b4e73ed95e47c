//! Fault tolerance of the storage write path (files, then one transaction): backend outages
//! (always run) and failpoints / crashes at every step (feature `failpoints`).
//!
//! After every fault: the previous active model and its snapshot are still there, no row of the
//! failed version exists, [`cleanup_orphans`] removes its files, and a re-run completes.

use chrono::NaiveDate;
use topic_engine::TopicModel;

use super::test_util::{day, model, tid};
use super::*;
use topicd_testing::{MotoServer, PgCluster, TcpProxy};

/// A second model, different from [`model`] in labels and sizes.
fn model_b() -> TopicModel {
    let mut m = model();
    for t in &mut m.topics {
        t.label = format!("B {}", t.label);
        t.size += 100 * (t.id.unsigned_abs() % 3);
    }
    m
}

/// The storage steps of a Merge: files under a fresh version, then one transaction.
async fn commit_version(
    meta: &MetaStore,
    models: &ModelStore,
    tenant: &TenantId,
    m: &TopicModel,
    on: NaiveDate,
) -> Result<ModelRecord> {
    let prev = meta.latest_version(tenant).await?;
    let version = Version::now_after(prev.as_ref());
    let path = models.put(tenant, &version, m).await?;
    let row = NewModel::for_model(
        tenant.clone(),
        version,
        ModelKind::Merged,
        path,
        m,
        serde_json::json!({}),
    );
    let snap = SnapshotTopic::top_of(m, 10, on, version);
    meta.insert_and_activate(&row, &snap, &DailyCountRow::all_of(m), Some((on, on))).await
}

/// Exactly one active version, the snapshot is its own, every row's files load, and after
/// cleanup the files are exactly the rows'. Returns the active record and the orphans removed.
async fn assert_consistent(
    meta: &MetaStore,
    models: &ModelStore,
    tenant: &TenantId,
) -> (ModelRecord, Vec<StoragePath>) {
    let all = meta.list(Some(tenant)).await.unwrap();
    assert_eq!(all.iter().filter(|m| m.is_active).count(), 1, "{all:?}");
    let active = meta.active(tenant).await.unwrap().unwrap();
    let snap = meta.snapshot(tenant).await.unwrap();
    assert!(!snap.is_empty());
    assert!(snap.iter().all(|s| s.model_version == active.version), "snapshot of another version");
    for m in &all {
        models.get(&m.storage_path).await.unwrap();
    }
    let removed = cleanup_orphans(meta, models, tenant).await.unwrap();
    let mut rows: Vec<StoragePath> = all.into_iter().map(|m| m.storage_path).collect();
    rows.sort();
    assert_eq!(models.list_version_paths(tenant).await.unwrap(), rows);
    (active, removed)
}

#[tokio::test]
async fn postgres_outage_and_recovery() {
    let pg = PgCluster::start().unwrap();
    if !pg.is_owned() {
        return; // DATABASE_URL points at a server this test cannot stop.
    }
    let url = pg.create_database().await.unwrap();
    let meta = MetaStore::connect(&url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let models = ModelStore::from_url(dir.path().to_str().unwrap()).unwrap();
    let t = tid("acme");
    let v1 = commit_version(&meta, &models, &t, &model(), day(1)).await.unwrap();
    let snap1 = meta.snapshot(&t).await.unwrap();

    pg.stop().unwrap();
    let e = meta.active(&t).await.unwrap_err();
    assert!(e.is_unavailable(), "{e}");
    let e = commit_version(&meta, &models, &t, &model_b(), day(2)).await.unwrap_err();
    assert!(e.is_unavailable(), "{e}");
    // The model files are still readable while the database is down (hot models keep serving).
    assert_eq!(models.get(&v1.storage_path).await.unwrap(), model());

    // Back up: the same pool recovers without a restart; nothing of the failed run is visible.
    pg.start_again().unwrap();
    assert_eq!(meta.active(&t).await.unwrap().unwrap().version, v1.version);
    assert_eq!(meta.snapshot(&t).await.unwrap(), snap1);
    let (active, removed) = assert_consistent(&meta, &models, &t).await;
    assert_eq!(active.version, v1.version);
    assert_eq!(removed.len(), 0, "the failed run stopped at latest_version, before writing files");

    // A run whose files land but whose commit fails leaves an orphan that cleanup removes.
    let v = Version::now_after(Some(&v1.version));
    let path = models.put(&t, &v, &model_b()).await.unwrap();
    pg.stop().unwrap();
    let row = NewModel::for_model(
        t.clone(),
        v,
        ModelKind::Merged,
        path.clone(),
        &model_b(),
        serde_json::json!({}),
    );
    assert!(meta.insert_and_activate(&row, &[], &[], None).await.unwrap_err().is_unavailable());
    pg.start_again().unwrap();
    let (active, removed) = assert_consistent(&meta, &models, &t).await;
    assert_eq!(active.version, v1.version);
    assert_eq!(removed, vec![path]);

    // The re-run completes.
    let v2 = commit_version(&meta, &models, &t, &model_b(), day(2)).await.unwrap();
    let (active, _) = assert_consistent(&meta, &models, &t).await;
    assert_eq!(active.version, v2.version);
    assert_eq!(models.get(&active.storage_path).await.unwrap(), model_b());
}

#[tokio::test]
async fn object_store_outage_and_recovery() {
    let moto = MotoServer::start().unwrap();
    // Cut the network in front of moto (moto itself keeps objects only in memory).
    let proxy = TcpProxy::start(moto.addr()).await.unwrap();
    let mut opts = moto.s3_options();
    opts.retain(|(k, _)| k != "endpoint");
    opts.push(("endpoint".into(), proxy.endpoint()));
    let models = ModelStore::from_url_with_options(&moto.store_url("p"), opts).unwrap();
    let meta = MetaStore::connect("sqlite::memory:").await.unwrap();
    let t = tid("acme");
    let v1 = commit_version(&meta, &models, &t, &model(), day(1)).await.unwrap();
    let snap1 = meta.snapshot(&t).await.unwrap();

    proxy.stop();
    let e = commit_version(&meta, &models, &t, &model_b(), day(2)).await.unwrap_err();
    assert!(e.is_unavailable(), "{e}");
    assert!(models.get(&v1.storage_path).await.unwrap_err().is_unavailable());
    // Metadata reads keep working, and nothing changed.
    assert_eq!(meta.active(&t).await.unwrap().unwrap().version, v1.version);
    assert_eq!(meta.snapshot(&t).await.unwrap(), snap1);
    assert_eq!(meta.list(Some(&t)).await.unwrap().len(), 1);

    proxy.start_again().await.unwrap();
    let (active, _) = assert_consistent(&meta, &models, &t).await;
    assert_eq!(active.version, v1.version);
    let v2 = commit_version(&meta, &models, &t, &model_b(), day(2)).await.unwrap();
    let (active, _) = assert_consistent(&meta, &models, &t).await;
    assert_eq!(active.version, v2.version);
}

/// Failpoints at every step, as errors in-process and as crashes (`abort`) of a child process.
#[cfg(feature = "failpoints")]
mod failpoints {
    use super::*;

    /// Every failpoint of the write path, in order (each fires after some files are written).
    const POINTS: [&str; 6] = [
        "store::put::after_tensors",
        "store::put::after_config",
        "meta::activate::after_insert",
        "meta::activate::after_switch",
        "meta::activate::before_snapshot",
        "meta::activate::before_commit",
    ];

    /// The caller holds a [`fail::FailScenario`] for the whole run: failpoints are
    /// process-global, and the unfailed commits before and after must not meet another test's.
    async fn each_failpoint_as_error(meta: &MetaStore, models: &ModelStore) {
        let t = tid("acme");
        let v1 = commit_version(meta, models, &t, &model(), day(1)).await.unwrap();
        let snap1 = meta.snapshot(&t).await.unwrap();
        let counts1 = meta.daily_counts(&t, &[], None).await.unwrap();
        for point in POINTS {
            fail::cfg(point, "return").unwrap();
            let e = commit_version(meta, models, &t, &model_b(), day(2)).await.unwrap_err();
            fail::remove(point);
            assert!(e.to_string().contains(point), "{point}: {e}");
            // Nothing of the failed run is visible.
            assert_eq!(meta.list(Some(&t)).await.unwrap().len(), 1, "{point}");
            assert_eq!(meta.active(&t).await.unwrap().unwrap().version, v1.version, "{point}");
            assert_eq!(meta.snapshot(&t).await.unwrap(), snap1, "{point}");
            assert_eq!(meta.daily_counts(&t, &[], None).await.unwrap(), counts1, "{point}");
            assert_eq!(meta.merged_windows(&t).await.unwrap().len(), 1, "{point}");
            let (active, removed) = assert_consistent(meta, models, &t).await;
            assert_eq!(active.version, v1.version);
            assert_eq!(removed.len(), 1, "{point}: {removed:?}");
        }
        // The re-run completes.
        let v2 = commit_version(meta, models, &t, &model_b(), day(2)).await.unwrap();
        let (active, removed) = assert_consistent(meta, models, &t).await;
        assert_eq!(active.version, v2.version);
        assert!(removed.is_empty());
        assert!(meta.snapshot(&t).await.unwrap().iter().all(|s| s.label.starts_with("B ")));
    }

    #[tokio::test]
    async fn sqlite_and_local_directory() {
        let scenario = fail::FailScenario::setup();
        let dir = tempfile::tempdir().unwrap();
        let meta =
            MetaStore::connect(&format!("sqlite://{}/m.db", dir.path().display())).await.unwrap();
        let models = ModelStore::from_url(dir.path().join("models").to_str().unwrap()).unwrap();
        each_failpoint_as_error(&meta, &models).await;
        scenario.teardown();
    }

    #[tokio::test]
    async fn postgres_and_s3() {
        let scenario = fail::FailScenario::setup();
        let pg = PgCluster::start().unwrap();
        let meta = MetaStore::connect(&pg.create_database().await.unwrap()).await.unwrap();
        let moto = MotoServer::start().unwrap();
        let models =
            ModelStore::from_url_with_options(&moto.store_url("fp"), moto.s3_options()).unwrap();
        each_failpoint_as_error(&meta, &models).await;
        scenario.teardown();
    }

    const CHILD: &str = "store::fault_tests::failpoints::crash_child";

    /// Run by [`crash_at_every_failpoint`] in a child process: commit a version and abort the
    /// process (like `kill -9`: no destructors, no rollback by us) at `TOPICD_CRASH_POINT`.
    #[tokio::test]
    #[ignore = "helper run in a child process by crash_at_every_failpoint"]
    async fn crash_child() {
        let (Ok(point), Ok(db), Ok(store)) = (
            std::env::var("TOPICD_CRASH_POINT"),
            std::env::var("TOPICD_CRASH_DB"),
            std::env::var("TOPICD_CRASH_STORE"),
        ) else {
            return;
        };
        let meta = MetaStore::connect(&db).await.unwrap();
        let models = ModelStore::from_url(&store).unwrap();
        fail::cfg_callback(&point, || std::process::abort()).unwrap();
        let _ = commit_version(&meta, &models, &tid("acme"), &model_b(), day(2)).await;
        // Not reached when the failpoint fired.
        std::process::exit(3);
    }

    async fn crash_each(db: &str, store: &str) {
        let t = tid("acme");
        {
            let meta = MetaStore::connect(db).await.unwrap();
            let models = ModelStore::from_url(store).unwrap();
            commit_version(&meta, &models, &t, &model(), day(1)).await.unwrap();
            meta.close().await;
        }
        let exe = std::env::current_exe().unwrap();
        for point in POINTS {
            let status = std::process::Command::new(&exe)
                .args([CHILD, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
                .env("TOPICD_CRASH_POINT", point)
                .env("TOPICD_CRASH_DB", db)
                .env("TOPICD_CRASH_STORE", store)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(
                !status.success() && status.code().is_none(),
                "{point}: child was not killed: {status:?}"
            );
            // Restart: the database and the store are consistent, the old version is served.
            let meta = MetaStore::connect(db).await.unwrap();
            let models = ModelStore::from_url(store).unwrap();
            let (active, removed) = assert_consistent(&meta, &models, &t).await;
            assert_eq!(meta.list(Some(&t)).await.unwrap().len(), 1, "{point}");
            assert_eq!(active.kind, ModelKind::Merged);
            assert_eq!(removed.len(), 1, "{point}: the crashed run's files are orphans");
            assert_eq!(meta.snapshot(&t).await.unwrap()[0].label, "topic 1", "{point}");
            meta.close().await;
        }
        // The re-run completes.
        let meta = MetaStore::connect(db).await.unwrap();
        let models = ModelStore::from_url(store).unwrap();
        let v2 = commit_version(&meta, &models, &t, &model_b(), day(2)).await.unwrap();
        let (active, removed) = assert_consistent(&meta, &models, &t).await;
        assert_eq!(active.version, v2.version);
        assert!(removed.is_empty());
    }

    #[tokio::test]
    async fn crash_at_every_failpoint() {
        // No failpoint is set in this process, but another test's must not fire in our commits.
        let scenario = fail::FailScenario::setup();
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("models").display().to_string();
        crash_each(&format!("sqlite://{}/m.db", dir.path().display()), &store).await;

        let pg = PgCluster::start().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("models").display().to_string();
        crash_each(&pg.create_database().await.unwrap(), &store).await;
        scenario.teardown();
    }
}
