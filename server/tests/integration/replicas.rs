//! Several replicas on one database and one model store: when one activates a version, the
//! others serve it (after their cache re-check interval, and on PostgreSQL at once through
//! LISTEN/NOTIFY), and concurrent writes of one tenant on different replicas are serialised
//! by the tenant's PostgreSQL advisory lock.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::{PgS3, TestServer};
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

/// A one-topic day model in 8-d: the topic points along axis `axis` and is seen on `day`, so
/// the days of one tenant never match each other and a merge keeps every day's topic.
fn axis_day_model(axis: usize, day: NaiveDate) -> topic_engine::TopicModel {
    let mut m = common::toy_model(day, axis as u64);
    m.topics.truncate(1);
    let t = &mut m.topics[0];
    t.embedding = vec![0.0; DIM];
    t.embedding[axis] = 1.0;
    t.label = format!("axis {axis}");
    m.dim = DIM;
    m.n_documents = t.size;
    m.next_topic_id = 1;
    m
}

const DIM: usize = 8;

fn unit(axis: usize) -> Embedding {
    let mut values = vec![0.0; DIM];
    values[axis] = 1.0;
    Embedding { values }
}

/// Two replicas on one PostgreSQL + S3: rounds of two concurrent Merges for one tenant, one
/// on each replica. The tenant's advisory lock serialises them: each round yields two merged
/// versions in one chain (the second merged on top of the first), and the final model holds
/// every day's topic (no lost update).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_merges_on_two_replicas_form_one_chain() {
    let backends = PgS3::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = backends.config(dir.path(), "replicas-merge");
    const ROUNDS: usize = 3;
    let mut days = Vec::new();
    for k in 0..2 * ROUNDS {
        let d = NaiveDate::from_ymd_opt(2026, 11, 10 + k as u32).unwrap();
        days.push(common::seed_version(&cfg, "acme", &axis_day_model(k, d), Some(d)).await);
    }
    let a = TestServer::start(cfg.clone()).await;
    let b = TestServer::start(cfg.clone()).await;
    let (ca, cb) = (a.client().await, b.client().await);

    let mut chain: Vec<String> = Vec::new();
    for round in 0..ROUNDS {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, client) in [ca.clone(), cb.clone()].into_iter().enumerate() {
            let mut c = client;
            let req = proto::MergeRequest {
                tenant_id: "acme".into(),
                day_version: days[2 * round + i].clone(),
                base_version: None,
                force: false,
            };
            tasks.spawn(async move { c.merge(req).await });
        }
        let mut done = Vec::new();
        while let Some(r) = tasks.join_next().await {
            done.push(r.unwrap().unwrap_or_else(|e| panic!("round {round}: {e:?}")).into_inner());
        }
        // The one that committed second merged on top of the one that committed first, which
        // merged on top of the previous round's last version.
        done.sort_by(|x, y| x.version.cmp(&y.version));
        let prev = chain.last().cloned().unwrap_or_default();
        assert_eq!(done[0].previous_version, prev, "round {round}: {done:?}");
        assert_eq!(done[1].previous_version, done[0].version, "round {round}: {done:?}");
        assert_eq!(done[1].total_topics, 2 * (round as u64 + 1), "round {round}: {done:?}");
        chain.extend(done.into_iter().map(|m| m.version));
    }

    // The database agrees: merged versions in order, each one's recorded base the one before,
    // exactly one active (the last).
    let mut cl = ca.clone();
    let models = cl
        .list_models(proto::ListModelsRequest { tenant_id: "acme".into(), limit: 0 })
        .await
        .unwrap()
        .into_inner()
        .models;
    let mut merged: Vec<_> = models.iter().filter(|m| m.kind == "merged").collect();
    merged.sort_by(|x, y| x.version.cmp(&y.version));
    assert_eq!(merged.iter().map(|m| m.version.clone()).collect::<Vec<_>>(), chain);
    for (i, m) in merged.iter().enumerate() {
        let meta: serde_json::Value = serde_json::from_str(&m.metadata_json).unwrap();
        let base = meta["base_version"].as_str().map(str::to_string);
        assert_eq!(base, i.checked_sub(1).map(|j| chain[j].clone()), "{}", m.version);
    }
    let active: Vec<_> = models.iter().filter(|m| m.is_active).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(&active[0].version, chain.last().unwrap());

    // No lost update: on both replicas, every day's direction lands in its own topic.
    for mut c in [ca.clone(), cb.clone()] {
        let r = c
            .transform(proto::TransformRequest {
                tenant_id: "acme".into(),
                texts: vec![],
                embeddings: (0..2 * ROUNDS).map(unit).collect(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&r.version, chain.last().unwrap());
        let mut ids: Vec<i64> = r.results.iter().map(|x| x.topic_id).collect();
        assert!(ids.iter().all(|&t| t >= 0), "{ids:?}");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 2 * ROUNDS, "{:?}", r.results);
    }
    a.stop().await;
    b.stop().await;
}

/// Polls `b`'s Transform until it serves `want` (`None`: NOT_FOUND); returns how long it took.
async fn until_served(
    b: &mut topicd::proto::topics_client::TopicsClient<tonic::transport::Channel>,
    want: Option<&str>,
) -> Duration {
    let started = Instant::now();
    loop {
        let r = b
            .transform(proto::TransformRequest {
                tenant_id: "acme".into(),
                texts: vec![],
                embeddings: vec![Embedding { values: vec![0.0, 0.0, 1.0, 0.0] }],
            })
            .await;
        let served = match &r {
            Ok(r) => Some(r.get_ref().version.clone()),
            Err(e) if e.code() == tonic::Code::NotFound => None,
            Err(e) => panic!("{e:?}"),
        };
        if served.as_deref() == want {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "replica B never served {want:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// With the periodic re-check effectively off (1 h), replica B still serves what replica A
/// activates within 1 s: the activation's NOTIFY drops B's cached copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_follows_activations_by_notification_within_a_second() {
    let backends = PgS3::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = backends.config(dir.path(), "replicas-notify");
    cfg.cache.refresh_secs = 3600;
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let v1 = common::seed_version(&cfg, "acme", &common::toy_model(day, 0), None).await;
    let v2 = common::seed_version(&cfg, "acme", &common::toy_model(day, 1), None).await;
    let next = day.succ_opt().unwrap();
    let candidate =
        common::seed_version(&cfg, "acme", &common::toy_model(next, 2), Some(next)).await;
    let a = TestServer::start(cfg.clone()).await;
    let b = TestServer::start(cfg).await;
    let (mut ca, mut cb) = (a.client().await, b.client().await);
    // B caches v2.
    assert!(until_served(&mut cb, Some(&v2)).await < Duration::from_secs(1));

    // Rollback on A.
    ca.activate_model(proto::ActivateModelRequest {
        tenant_id: "acme".into(),
        version: v1.clone(),
    })
    .await
    .unwrap();
    let took = until_served(&mut cb, Some(&v1)).await;
    eprintln!("B served A's rollback after {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");

    // Merge on A.
    let m = ca
        .merge(proto::MergeRequest {
            tenant_id: "acme".into(),
            day_version: candidate,
            base_version: None,
            force: false,
        })
        .await
        .unwrap()
        .into_inner();
    let took = until_served(&mut cb, Some(&m.version)).await;
    eprintln!("B served A's merge after {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");

    // Delete on A.
    ca.delete_tenant(proto::DeleteTenantRequest { tenant_id: "acme".into() }).await.unwrap();
    let took = until_served(&mut cb, None).await;
    eprintln!("B stopped serving the deleted tenant after {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    a.stop().await;
    b.stop().await;
}
