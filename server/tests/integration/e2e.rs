//! End-to-end over a real loopback server: two tenants, two days each of CLINC150 messages with
//! their reference embeddings; Fit → Merge → GetTopTopics → Transform → ListModels →
//! ActivateModel (rollback) → restart → DeleteTenant. The same flow runs on the embedded
//! defaults (SQLite + a local model directory) and on a throwaway PostgreSQL + `moto_server` (S3).

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::collections::HashMap;

use common::{fit_request, Clinc, PgS3, TestServer};
use tonic::transport::Channel;
use tonic::Code;
use topicd::config::Config;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Embedding};
use topicd::store::TenantId;

/// The majority topic of Transform over `rows`.
async fn majority_topic(
    c: &mut TopicsClient<Channel>,
    tenant: &str,
    data: &Clinc,
    rows: &[usize],
) -> (i64, usize) {
    let embeddings = rows.iter().map(|&i| Embedding { values: data.row(i).to_vec() }).collect();
    let r = c
        .transform(proto::TransformRequest { tenant_id: tenant.into(), texts: vec![], embeddings })
        .await
        .expect("transform")
        .into_inner();
    assert_eq!(r.results.len(), rows.len());
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for x in &r.results {
        *counts.entry(x.topic_id).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(id, n)| (*n, -id)).expect("non-empty")
}

struct Plan {
    tenant: &'static str,
    intents: Vec<String>,
}

/// Day 1: docs [0, 40) of each intent but the last two; day 2: docs [40, 80) of every intent.
fn day_rows(data: &Clinc, plan: &Plan, day: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let n = plan.intents.len();
    for (k, intent) in plan.intents.iter().enumerate() {
        if day == 1 && k >= n - 2 {
            continue;
        }
        let rows = data.rows_of(intent);
        let range = if day == 1 { 0..40 } else { 40..80 };
        out.extend(rows[range].iter().copied());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_local_directory() {
    let data = Clinc::load();
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(dir.path());
    fit_merge_serve_rollback_restart_delete(cfg, &data).await;
    // Deleted tenants leave no directory behind in the local store.
    assert!(
        !dir.path().join("models/acme").exists()
            || std::fs::read_dir(dir.path().join("models/acme")).unwrap().next().is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_s3() {
    let data = Clinc::load();
    let backends = PgS3::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = backends.config(dir.path(), "e2e/models");
    fit_merge_serve_rollback_restart_delete(cfg, &data).await;
    // Nothing was written to the local data directory: everything went to PostgreSQL and S3.
    assert!(!dir.path().join("topicd.db").exists() && !dir.path().join("models").exists());
}

/// The whole flow on the storage `cfg` names. The restart step starts a new server on the same
/// storage.
async fn fit_merge_serve_rollback_restart_delete(cfg: Config, data: &Clinc) {
    let server = TestServer::start(cfg.clone()).await;
    let mut c = server.client().await;

    let all = data.intents(26);
    let plans = [
        Plan { tenant: "acme", intents: all[..14].to_vec() },
        Plan { tenant: "globex-2", intents: all[14..26].to_vec() },
    ];
    let mut merged_versions: HashMap<&str, Vec<String>> = HashMap::new();
    for plan in &plans {
        for (day, (d, next)) in
            [(1, ("2026-11-23", "2026-11-24")), (2, ("2026-11-24", "2026-11-25"))]
        {
            let rows = day_rows(data, plan, day);
            let (docs, embs) = data.batch(&rows, d);
            let fit = c
                .fit(fit_request(plan.tenant, docs, embs, d, next))
                .await
                .expect("fit")
                .into_inner();
            assert_eq!(fit.assignments.len(), rows.len());
            assert_eq!(fit.assignments[0].document_id, format!("doc-{}", rows[0]));
            assert!(
                fit.topics.len() >= 5,
                "{}: day {day}: only {} topics",
                plan.tenant,
                fit.topics.len()
            );
            assert!(fit.timings.as_ref().unwrap().total_seconds > 0.0);
            // Candidates are not active: the previous answer (or none) is still served.
            let merge = c
                .merge(proto::MergeRequest {
                    tenant_id: plan.tenant.into(),
                    day_version: fit.version.clone(),
                    base_version: None,
                    force: false,
                })
                .await
                .expect("merge")
                .into_inner();
            if day == 1 {
                assert_eq!(merge.previous_version, "");
                assert_eq!(merge.new_topics, merge.total_topics);
            } else {
                assert_eq!(&merge.previous_version, merged_versions[plan.tenant].last().unwrap());
                assert!(merge.matched_topics >= 5, "day 2 should match day-1 topics: {merge:?}");
            }
            merged_versions.entry(plan.tenant).or_default().push(merge.version.clone());

            // Idempotency: the same window again is refused unless forced.
            let again = c
                .merge(proto::MergeRequest {
                    tenant_id: plan.tenant.into(),
                    day_version: fit.version.clone(),
                    base_version: None,
                    force: false,
                })
                .await
                .unwrap_err();
            assert_eq!(again.code(), Code::AlreadyExists, "{again:?}");
        }
    }

    // The dashboard snapshot: 10 topics with labels, keywords, counts and samples.
    let mut answers = HashMap::new();
    for plan in &plans {
        let top = c
            .get_top_topics(proto::GetTopTopicsRequest {
                tenant_id: plan.tenant.into(),
                limit: 0,
                include_trend: true,
            })
            .await
            .expect("top topics")
            .into_inner();
        assert_eq!(&top.version, merged_versions[plan.tenant].last().unwrap());
        assert_eq!(top.topics.len(), 10, "{}: {:?}", plan.tenant, top.topics.len());
        assert_eq!(top.date_range_start, "2026-11-23");
        assert_eq!(top.date_range_end, "2026-11-24");
        for (i, t) in top.topics.iter().enumerate() {
            assert_eq!(t.rank as usize, i + 1);
            assert!(!t.label.is_empty());
            assert!(!t.keywords.is_empty());
            assert!(t.message_count >= 10);
            assert!(!t.sample_messages.is_empty() && t.sample_messages.len() <= 5);
            assert!(!t.trend.is_empty(), "trend requested");
        }
        assert!(top.topics.windows(2).all(|w| w[0].message_count >= w[1].message_count));

        // Transform: a held-out message lands in the topic of its intent's training messages.
        let intent = &plan.intents[0];
        let rows = data.rows_of(intent);
        let (topic, n) = majority_topic(&mut c, plan.tenant, data, &rows[..40]).await;
        assert!(topic >= 0 && n >= 30, "{intent}: majority {topic} only {n}/40");
        let held_out = rows[95];
        let r = c
            .transform(proto::TransformRequest {
                tenant_id: plan.tenant.into(),
                texts: vec![],
                embeddings: vec![Embedding { values: data.row(held_out).to_vec() }],
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.results[0].topic_id, topic, "held-out {:?}", data.texts[held_out]);
        assert!(!r.results[0].label.is_empty());
        answers.insert(plan.tenant, (top, r));
    }

    // Operator views.
    let models = c
        .list_models(proto::ListModelsRequest { tenant_id: "acme".into(), limit: 0 })
        .await
        .unwrap()
        .into_inner()
        .models;
    assert_eq!(models.len(), 4);
    assert_eq!(models.iter().filter(|m| m.is_active).count(), 1);
    assert_eq!(models.iter().filter(|m| m.kind == "candidate").count(), 2);
    let all_models =
        c.list_models(proto::ListModelsRequest::default()).await.unwrap().into_inner().models;
    assert_eq!(all_models.len(), 8);
    let windows = c
        .list_merged_windows(proto::ListMergedWindowsRequest { tenant_id: "acme".into() })
        .await
        .unwrap()
        .into_inner()
        .windows;
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[0].window.as_ref().unwrap().start, "2026-11-23T00:00:00Z");
    let model = c
        .get_model(proto::GetModelRequest {
            tenant_id: "acme".into(),
            version: None,
            include_retired: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(model.embedding_dim, 384);
    assert!(model.info.unwrap().is_active);

    // Rollback to day 1's merged model, and forward again.
    let v = &merged_versions["acme"];
    let act = c
        .activate_model(proto::ActivateModelRequest {
            tenant_id: "acme".into(),
            version: v[0].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(act.previous_version, v[1]);
    let top = c
        .get_top_topics(proto::GetTopTopicsRequest {
            tenant_id: "acme".into(),
            limit: 5,
            include_trend: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(top.version, v[0]);
    assert_eq!(top.topics.len(), 5);
    let tr = c
        .transform(proto::TransformRequest {
            tenant_id: "acme".into(),
            texts: vec![],
            embeddings: vec![Embedding { values: data.row(0).to_vec() }],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tr.version, v[0]);
    c.activate_model(proto::ActivateModelRequest {
        tenant_id: "acme".into(),
        version: v[1].clone(),
    })
    .await
    .unwrap();

    // A restart on the same storage serves the same answers.
    server.stop().await;
    let server = TestServer::start(cfg.clone()).await;
    let mut c = server.client().await;
    for plan in &plans {
        let (top_before, tr_before) = &answers[plan.tenant];
        let top = c
            .get_top_topics(proto::GetTopTopicsRequest {
                tenant_id: plan.tenant.into(),
                limit: 0,
                include_trend: true,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(top.version, top_before.version);
        assert_eq!(top.topics, top_before.topics);
        let held_out = data.rows_of(&plan.intents[0])[95];
        let r = c
            .transform(proto::TransformRequest {
                tenant_id: plan.tenant.into(),
                texts: vec![],
                embeddings: vec![Embedding { values: data.row(held_out).to_vec() }],
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&r, tr_before);
    }

    // Delete one tenant: rows, files and hot model go; the other tenant is untouched.
    let del = c
        .delete_tenant(proto::DeleteTenantRequest { tenant_id: "acme".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(del.models_deleted, 4);
    let store = common::model_store(&cfg);
    assert!(store.list_version_paths(&TenantId::parse("acme").unwrap()).await.unwrap().is_empty());
    assert_eq!(
        store.list_version_paths(&TenantId::parse("globex-2").unwrap()).await.unwrap().len(),
        4
    );
    for call in [
        c.get_top_topics(proto::GetTopTopicsRequest {
            tenant_id: "acme".into(),
            limit: 0,
            include_trend: false,
        })
        .await
        .map(|_| ()),
        c.transform(proto::TransformRequest {
            tenant_id: "acme".into(),
            texts: vec![],
            embeddings: vec![Embedding { values: data.row(0).to_vec() }],
        })
        .await
        .map(|_| ()),
    ] {
        assert_eq!(call.unwrap_err().code(), Code::NotFound);
    }
    let other = c
        .get_top_topics(proto::GetTopTopicsRequest {
            tenant_id: "globex-2".into(),
            limit: 0,
            include_trend: false,
        })
        .await
        .unwrap();
    assert_eq!(other.into_inner().topics.len(), 10);
    server.stop().await;
}
