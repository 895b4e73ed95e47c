//! The metadata store's tests: the same behaviour on every backend (SQLite file, SQLite in
//! memory, a throwaway PostgreSQL cluster).

use super::*;
use crate::store::test_util::{day, model, tid, ver};
use crate::store::StoragePath;
use topic_engine::model::DailyCount;
use topic_engine::TopicModel;
use topicd_testing::PgCluster;

fn new_model(t: &TenantId, v: &Version, kind: ModelKind) -> NewModel {
    NewModel::for_model(
        t.clone(),
        *v,
        kind,
        StoragePath { tenant: t.clone(), version: *v },
        &model(),
        serde_json::json!({"k": v.to_string()}),
    )
}

/// The same behaviour on every backend.
async fn exercise(meta: &MetaStore) {
    let acme = tid("acme");
    let globex = tid("globex");
    let v1 = ver("20250301_000000");
    let v2 = ver("20250302_000000");
    let v3 = ver("20250303_000000");
    assert!(meta.active(&acme).await.unwrap().is_none());
    assert!(meta.latest_version(&acme).await.unwrap().is_none());

    let r1 = meta.insert_model(&new_model(&acme, &v1, ModelKind::Day)).await.unwrap();
    assert_eq!(r1.tenant, acme);
    assert_eq!(r1.version, v1);
    assert_eq!(r1.kind, ModelKind::Day);
    assert_eq!(r1.total_topics, 4, "active non-outlier topics");
    assert_eq!(r1.total_documents, 201);
    assert_eq!(r1.date_range, Some((day(1), day(2))));
    assert!(!r1.is_active);
    assert_eq!(r1.metadata["k"], "20250301_000000");
    let dup = meta.insert_model(&new_model(&acme, &v1, ModelKind::Merged)).await.unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(ref m) if m.contains("already has")), "{dup}");
    meta.insert_model(&new_model(&acme, &v2, ModelKind::Merged)).await.unwrap();
    meta.insert_model(&new_model(&globex, &v1, ModelKind::Day)).await.unwrap();
    assert_eq!(meta.latest_version(&acme).await.unwrap(), Some(v2));

    // First activation: snapshot, counts and window land together.
    let snap1 = SnapshotTopic::top_of(&model(), 10, day(2), v1);
    assert_eq!(snap1.iter().map(|s| s.topic_id).collect::<Vec<_>>(), vec![1, 2, 0, 4]);
    assert!(snap1.iter().all(|s| s.samples.len() == 5));
    let counts = DailyCountRow::all_of(&model());
    let rec = meta.activate(&acme, &v1, &snap1, &counts, Some((day(1), day(2)))).await.unwrap();
    assert!(rec.is_active);
    assert_eq!(meta.active(&acme).await.unwrap().unwrap().version, v1);
    assert!(meta.active(&globex).await.unwrap().is_none(), "tenants are separate");
    let got = meta.snapshot(&acme).await.unwrap();
    assert_eq!(got, snap1);
    assert!(meta.snapshot(&globex).await.unwrap().is_empty());
    assert_eq!(meta.daily_counts(&acme, &[], None).await.unwrap().len(), counts.len());
    assert_eq!(
        meta.merged_windows(&acme).await.unwrap(),
        vec![MergedWindow { window_start: day(1), window_end: day(2), model_version: v1 }]
    );

    // Second activation replaces the snapshot and upserts counts.
    let mut snap2 = SnapshotTopic::top_of(&model(), 2, day(3), v2);
    snap2[0].label = "renamed".into();
    snap2[0].label_overridden = true;
    let upd = [
        DailyCountRow { topic_id: 1, day: day(2), count: 1000 },
        DailyCountRow { topic_id: 1, day: day(3), count: 7 },
    ];
    meta.activate(&acme, &v2, &snap2, &upd, Some((day(3), day(3)))).await.unwrap();
    let all = meta.list(Some(&acme)).await.unwrap();
    assert_eq!(
        all.iter().map(|m| (m.version, m.is_active)).collect::<Vec<_>>(),
        vec![(v1, false), (v2, true)]
    );
    assert_eq!(meta.snapshot(&acme).await.unwrap(), snap2, "labels and their override flag");
    let active = meta.active_models().await.unwrap();
    assert_eq!(
        active.iter().map(|m| (m.tenant.as_str(), m.version)).collect::<Vec<_>>(),
        vec![("acme", v2)],
        "only tenants with an active model (globex has a candidate only)"
    );
    let t1 = meta.daily_counts(&acme, &[1], None).await.unwrap();
    assert_eq!(
        t1,
        vec![
            DailyCountRow { topic_id: 1, day: day(1), count: 20 },
            DailyCountRow { topic_id: 1, day: day(2), count: 1000 },
            DailyCountRow { topic_id: 1, day: day(3), count: 7 },
        ]
    );
    assert_eq!(meta.daily_counts(&acme, &[1, 2], Some(day(2))).await.unwrap().len(), 3);
    assert_eq!(meta.merged_windows(&acme).await.unwrap().len(), 2);

    // The database itself refuses a second active model for a tenant.
    let e = meta
        .execute_raw(
            "UPDATE models SET is_active = TRUE WHERE tenant_id = $1 AND version = $2",
            "acme",
            "20250301_000000",
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    let e = meta
        .execute_raw(
            "INSERT INTO models (tenant_id, version, kind, storage_path, total_topics, total_documents, is_active, \
             metadata, created_at, updated_at) VALUES ($1, $2, 'day', 'x', 0, 0, TRUE, '{}', '2025-01-01T00:00:00Z', \
             '2025-01-01T00:00:00Z')",
            "acme",
            "20250309_000000",
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");

    // An error in the middle of the transaction (a duplicate rank, after the switch and the
    // snapshot delete) leaves the old active model and the old snapshot.
    let mut bad = SnapshotTopic::top_of(&model(), 3, day(4), v1);
    bad[2].rank = 1;
    let e = meta.activate(&acme, &v1, &bad, &[], Some((day(4), day(4)))).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(ref m) if m.contains("rank")), "{e}");
    assert_eq!(meta.active(&acme).await.unwrap().unwrap().version, v2);
    assert_eq!(meta.snapshot(&acme).await.unwrap(), snap2);
    assert_eq!(meta.merged_windows(&acme).await.unwrap().len(), 2);
    // Unknown version: not found, nothing changes.
    let e = meta.activate(&acme, &v3, &snap1, &[], None).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");
    assert_eq!(meta.active(&acme).await.unwrap().unwrap().version, v2);
    // Another tenant's version cannot be activated for this tenant.
    let e = meta.activate(&globex, &v2, &snap1, &[], None).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");

    // Rollback to v1.
    meta.activate(&acme, &v1, &snap1, &[], None).await.unwrap();
    assert_eq!(meta.active(&acme).await.unwrap().unwrap().version, v1);
    assert_eq!(meta.get(&acme, &v2).await.unwrap().map(|m| m.is_active), Some(false));
    assert!(meta.get(&acme, &v3).await.unwrap().is_none());

    // Listing, deletion, retention.
    assert_eq!(meta.list(None).await.unwrap().len(), 3);
    assert_eq!(meta.tenants().await.unwrap(), vec![acme.clone(), globex.clone()]);
    let e = meta.delete_model(&acme, &v1).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(ref m) if m.contains("active")), "{e}");
    assert!(matches!(meta.delete_model(&acme, &v3).await, Err(StoreError::NotFound(_))));
    meta.insert_model(&new_model(&acme, &v3, ModelKind::Day)).await.unwrap();
    let pruned = meta.prune_versions(&acme, 2).await.unwrap();
    assert_eq!(
        pruned.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![v2],
        "oldest inactive goes first"
    );
    assert_eq!(meta.merged_windows(&acme).await.unwrap().len(), 1, "v2's window row went with it");
    let pruned = meta.prune_versions(&acme, 0).await.unwrap();
    assert_eq!(
        pruned.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![v3],
        "the active one is kept"
    );

    // Help-centre articles (issue 29): replaced as a set, in order, embeddings round-trip.
    exercise_articles(meta, &acme, &globex).await;

    let mut paths = meta.delete_tenant(&acme).await.unwrap();
    paths.sort();
    assert_eq!(paths, vec![StoragePath { tenant: acme.clone(), version: v1 }]);
    assert!(meta.list(Some(&acme)).await.unwrap().is_empty());
    assert!(meta.snapshot(&acme).await.unwrap().is_empty());
    assert!(meta.daily_counts(&acme, &[], None).await.unwrap().is_empty());
    assert!(meta.merged_windows(&acme).await.unwrap().is_empty());
    assert_eq!(meta.list(None).await.unwrap().len(), 1, "the other tenant is untouched");
    assert!(meta.articles(&acme).await.unwrap().articles.is_empty(), "articles go with the tenant");
    assert_eq!(meta.articles(&globex).await.unwrap().articles.len(), 1);
}

fn article(id: &str, embedding: Option<Vec<f32>>) -> StoredArticle {
    StoredArticle {
        id: id.into(),
        title: format!("Title of {id}"),
        url: Some(format!("https://help.example/{id}")),
        summary: None,
        embedding_model: embedding.as_ref().map(|_| "test-model".to_string()),
        embedding,
    }
}

/// Articles: replace, read back in order, replace again; tenants are separate.
async fn exercise_articles(meta: &MetaStore, acme: &TenantId, globex: &TenantId) {
    let now = chrono::Utc::now();
    assert_eq!(meta.articles(acme).await.unwrap(), ArticleRows::default());
    let first =
        vec![article("z-last-id", Some(vec![0.5, -0.25, 1.0e-3])), article("a-first-id", None)];
    meta.replace_articles(acme, &first, now).await.unwrap();
    meta.replace_articles(globex, &[article("g", Some(vec![1.0]))], now).await.unwrap();
    let got = meta.articles(acme).await.unwrap();
    assert_eq!(got.articles, first, "in the order sent, vectors exact");
    assert!(got.updated_at.is_some());
    let second = vec![article("only", Some(vec![1.0, 2.0, 3.0]))];
    meta.replace_articles(acme, &second, now).await.unwrap();
    assert_eq!(meta.articles(acme).await.unwrap().articles, second, "the set is replaced");
    assert_eq!(meta.articles(globex).await.unwrap().articles.len(), 1, "tenants are separate");
}

#[tokio::test]
async fn sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/topicd.db");
    let url = format!("sqlite://{}", path.display());
    let meta = MetaStore::connect(&url).await.unwrap();
    assert_eq!(meta.backend(), Backend::Sqlite);
    exercise(&meta).await;
    meta.close().await;
    assert!(path.is_file());
    // Reopening runs the migrations again harmlessly and sees the data.
    let meta = MetaStore::connect(&url).await.unwrap();
    assert_eq!(meta.list(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_memory() {
    let meta = MetaStore::connect("sqlite::memory:").await.unwrap();
    exercise(&meta).await;
    let meta = MetaStore::connect("sqlite::memory:").await.unwrap();
    exercise_history(&meta).await;
}

#[tokio::test]
async fn postgres() {
    let pg = PgCluster::start().unwrap();
    let url = pg.create_database().await.unwrap();
    let meta = MetaStore::connect(&url).await.unwrap();
    assert_eq!(meta.backend(), Backend::Postgres);
    assert!(meta.pg_pool().is_some());
    exercise(&meta).await;
    let meta = MetaStore::connect(&pg.create_database().await.unwrap()).await.unwrap();
    exercise_history(&meta).await;
}

#[tokio::test]
async fn bad_urls_are_config_errors() {
    for url in ["mysql://x", "", "http://db"] {
        assert!(matches!(MetaStore::connect(url).await, Err(StoreError::Config(_))), "{url}");
    }
}

/// `topics` topics (ids from 0), each with a count on each of the `days` days starting
/// `shift` days after 2025-03-01; `bump` is added to the counts of every tenth topic.
fn history_model(topics: i64, days: u64, shift: u64, bump: u64) -> TopicModel {
    let template = model().topics[2].clone();
    let mut m = model();
    m.topics = (0..topics)
        .map(|id| {
            let mut t = template.clone();
            t.id = id;
            t.daily_counts = (0..days)
                .map(|d| DailyCount {
                    date: day(1) + chrono::Days::new(shift + d),
                    count: (id.unsigned_abs() * 7 + d + shift) % 50
                        + if id % 10 == 0 { bump } else { 0 },
                })
                .collect();
            t
        })
        .collect();
    m
}

#[test]
fn changed_counts_are_the_new_and_the_different_ones() {
    let base = model();
    let mut merged = base.clone();
    merged.topics[2].daily_counts[1].count = 99; // topic 1, day 2: changed
    merged.topics[3].daily_counts.push(DailyCount { date: day(3), count: 5 }); // topic 2: new day
    let mut new_topic = merged.topics[5].clone();
    new_topic.id = 5;
    merged.topics.push(new_topic); // a new topic: all its days
    assert_eq!(
        DailyCountRow::changed(Some(&base), &merged),
        vec![
            DailyCountRow { topic_id: 1, day: day(2), count: 99 },
            DailyCountRow { topic_id: 2, day: day(3), count: 5 },
            DailyCountRow { topic_id: 5, day: day(1), count: 2 },
            DailyCountRow { topic_id: 5, day: day(2), count: 3 },
        ]
    );
    assert!(DailyCountRow::changed(Some(&base), &base).is_empty());
    assert_eq!(DailyCountRow::changed(None, &merged), DailyCountRow::all_of(&merged));
}

/// Bulk history writes: more rows than one SQLite statement takes, only the changed counts
/// written by a merge leave the same history as all of them, reads of chosen topics.
async fn exercise_history(meta: &MetaStore) {
    let (acme, mirror) = (tid("acme"), tid("mirror"));
    let (v1, v2, v3) = (ver("20250301_000000"), ver("20250302_000000"), ver("20250303_000000"));
    let commit = |t: &TenantId, v: Version, m: &TopicModel, counts: Vec<DailyCountRow>| {
        let row = NewModel::for_model(
            t.clone(),
            v,
            ModelKind::Merged,
            StoragePath { tenant: t.clone(), version: v },
            m,
            serde_json::json!({}),
        );
        let snap = SnapshotTopic::top_of(m, 10, day(1), v);
        async move { meta.insert_and_activate(&row, &snap, &counts, None).await.map(|_| ()) }
    };
    // 150 topics x 90 days: 13,500 rows, over the 8,191 of one SQLite statement.
    let base = history_model(150, 90, 0, 0);
    assert!(DailyCountRow::all_of(&base).len() > Backend::Sqlite.max_bind_params() / 4);
    for t in [&acme, &mirror] {
        commit(t, v1, &base, DailyCountRow::all_of(&base)).await.unwrap();
    }
    assert_eq!(meta.daily_counts(&acme, &[], None).await.unwrap(), DailyCountRow::all_of(&base));

    // A merge: one day more, the oldest gone, every tenth topic's counts changed.
    let merged = history_model(150, 90, 1, 3);
    let changed = DailyCountRow::changed(Some(&base), &merged);
    assert_eq!(changed.len(), 150 + 15 * 89, "the new day, and the bumped topics' other days");
    commit(&acme, v2, &merged, changed).await.unwrap();
    commit(&mirror, v2, &merged, DailyCountRow::all_of(&merged)).await.unwrap();
    let got = meta.daily_counts(&acme, &[], None).await.unwrap();
    assert_eq!(got, meta.daily_counts(&mirror, &[], None).await.unwrap());
    assert_eq!(got.len(), 150 * 91, "the day that left the model stays in the history");

    // Reads of chosen topics: one query, by topic then day, unknown and repeated ids ignored.
    let since = day(1) + chrono::Days::new(80);
    let some = meta.daily_counts(&acme, &[30, 2, 30, 999], Some(since)).await.unwrap();
    let want: Vec<DailyCountRow> = got
        .iter()
        .filter(|r| (r.topic_id == 2 || r.topic_id == 30) && r.day >= since)
        .copied()
        .collect();
    assert_eq!(want.len(), 2 * 11);
    assert_eq!(some, want);

    // Repeated (topic, day) rows in one write: the last one wins, as separate upserts would.
    let twice = [
        DailyCountRow { topic_id: 7, day: day(1), count: 5 },
        DailyCountRow { topic_id: 1, day: day(1), count: 1 },
        DailyCountRow { topic_id: 7, day: day(1), count: 6 },
    ];
    commit(&acme, v3, &merged, twice.to_vec()).await.unwrap();
    let t7 = meta.daily_counts(&acme, &[7, 1], Some(day(1))).await.unwrap();
    assert_eq!(t7[0], DailyCountRow { topic_id: 1, day: day(1), count: 1 });
    assert_eq!(t7.iter().find(|r| r.topic_id == 7 && r.day == day(1)).map(|r| r.count), Some(6));

    // Retention in one transaction: the two oldest go, the active one stays.
    let pruned = meta.prune_versions(&acme, 1).await.unwrap();
    assert_eq!(pruned.iter().map(|m| m.version).collect::<Vec<_>>(), vec![v1, v2]);
    assert_eq!(meta.list(Some(&acme)).await.unwrap().len(), 1);
}
