//! The dashboard calls (issue 23) through a real server, over gRPC and HTTP: ListTenants,
//! GetTopicMap, FindTopics, GetTopicChanges and SetTopicLabel. Two nights of CLINC150 messages
//! with their reference embeddings; phrases are embedded by the local encoder (the same model as
//! the reference embeddings). An operator's label shows everywhere a label is shown, survives
//! the next Fit + Merge, is cleared by an empty label and undone by a rollback.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::collections::HashMap;

use common::{
    fit_and_merge, tokens_file, with_token, Clinc, TestServer, ACME_READ, ACME_WRITE, ADMIN,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tonic::transport::Channel;
use tonic::Code;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Embedding};

type Client = TopicsClient<Channel>;

const OPERATOR_LABEL: &str = "Kitchen timers (set by ops)";

/// The majority topic Transform gives `rows`, and the label it reports for it.
async fn majority(c: &mut Client, data: &Clinc, rows: &[usize]) -> (i64, String) {
    let embeddings = rows.iter().map(|&i| Embedding { values: data.row(i).to_vec() }).collect();
    let req = proto::TransformRequest { tenant_id: "acme".into(), texts: vec![], embeddings };
    let r = c.transform(with_token(req, ACME_READ)).await.unwrap().into_inner();
    let mut counts: HashMap<i64, (usize, String)> = HashMap::new();
    for x in r.results {
        let e = counts.entry(x.topic_id).or_insert((0, x.label));
        e.0 += 1;
    }
    let (id, (_, label)) = counts.into_iter().max_by_key(|(id, (n, _))| (*n, -id)).unwrap();
    (id, label)
}

/// Fits and merges `rows` as one day; returns the new active version.
async fn night(c: &mut Client, data: &Clinc, rows: &[usize], day: &str, next: &str) -> String {
    let (docs, embs) = data.batch(rows, day);
    fit_and_merge(c, "acme", ACME_WRITE, docs, embs, day, next).await
}

async fn top(c: &mut Client) -> proto::GetTopTopicsResponse {
    let req =
        proto::GetTopTopicsRequest { tenant_id: "acme".into(), limit: 20, include_trend: false };
    c.get_top_topics(with_token(req, ACME_READ)).await.unwrap().into_inner()
}

async fn set_label(
    c: &mut Client,
    token: &str,
    topic_id: i64,
    label: &str,
) -> Result<proto::SetTopicLabelResponse, tonic::Status> {
    let req =
        proto::SetTopicLabelRequest { tenant_id: "acme".into(), topic_id, label: label.into() };
    c.set_topic_label(with_token(req, token)).await.map(|r| r.into_inner())
}

async fn map(
    c: &mut Client,
    version: Option<&str>,
) -> Result<proto::GetTopicMapResponse, tonic::Status> {
    let req = proto::GetTopicMapRequest {
        tenant_id: "acme".into(),
        version: version.map(str::to_string),
    };
    c.get_topic_map(with_token(req, ACME_READ)).await.map(|r| r.into_inner())
}

async fn find(
    c: &mut Client,
    query: &str,
    limit: u32,
) -> Result<proto::FindTopicsResponse, tonic::Status> {
    let req = proto::FindTopicsRequest { tenant_id: "acme".into(), query: query.into(), limit };
    c.find_topics(with_token(req, ACME_READ)).await.map(|r| r.into_inner())
}

async fn changes(c: &mut Client, limit: u32) -> proto::GetTopicChangesResponse {
    let req = proto::GetTopicChangesRequest { tenant_id: "acme".into(), limit };
    c.get_topic_changes(with_token(req, ACME_READ)).await.unwrap().into_inner()
}

async fn active_topics(c: &mut Client) -> Vec<proto::Topic> {
    let req =
        proto::GetModelRequest { tenant_id: "acme".into(), version: None, include_retired: false };
    c.get_model(with_token(req, ACME_READ)).await.unwrap().into_inner().topics
}

async fn activate(c: &mut Client, version: &str) {
    let req = proto::ActivateModelRequest { tenant_id: "acme".into(), version: version.into() };
    c.activate_model(with_token(req, ADMIN)).await.unwrap();
}

fn label_in_top(top: &proto::GetTopTopicsResponse, id: i64) -> (String, bool) {
    let t = top.topics.iter().find(|t| t.topic_id == id).unwrap();
    (t.label.clone(), t.label_overridden)
}

/// Sends an HTTP request with a bearer token; the status and the JSON body.
async fn http(
    client: &reqwest::Client,
    method: Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_search_labels_changes_and_tenants() {
    let data = Clinc::load();
    let dir = tempfile::tempdir().unwrap();
    // Another tenant, with a hand-made model (three orthogonal topics: a symmetric layout).
    common::seed_model(dir.path(), "globex").await;
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    cfg.embedding.model = Some(topicd_testing::locate::model_dir().to_string_lossy().into_owned());
    cfg.embedding.device = "cpu".into();
    cfg.embedding.allow_download = false;
    let server = TestServer::start_with_http(cfg).await;
    let mut c = server.client().await;

    // Night 1: six intents, 40 messages each. Night 2: the next 40 of each, plus two new intents.
    let intents = data.intents(8);
    let rows_of = |k: usize, range: std::ops::Range<usize>| -> Vec<usize> {
        data.rows_of(&intents[k])[range].to_vec()
    };
    let day1: Vec<usize> = (0..6).flat_map(|k| rows_of(k, 0..40)).collect();
    let v1 = night(&mut c, &data, &day1, "2026-11-23", "2026-11-24").await;
    let timer = intents.iter().position(|i| i == "timer").unwrap();
    let translate = intents.iter().position(|i| i == "translate").unwrap();
    let (timer_topic, generated) = majority(&mut c, &data, &rows_of(timer, 0..40)).await;
    let (translate_topic, _) = majority(&mut c, &data, &rows_of(translate, 0..40)).await;
    assert!(timer_topic >= 0 && translate_topic >= 0 && timer_topic != translate_topic);

    // The map: one point per active topic, the same picture twice, the same for the version.
    let topics = active_topics(&mut c).await;
    let m = map(&mut c, None).await.unwrap();
    assert_eq!(m.version, v1);
    let mut ids: Vec<i64> = m.points.iter().map(|p| p.topic_id).collect();
    ids.sort_unstable();
    let mut want: Vec<i64> = topics.iter().map(|t| t.topic_id).collect();
    want.sort_unstable();
    assert_eq!(ids, want, "one point per topic");
    assert!(m.points.iter().all(|p| p.x.is_finite() && p.y.is_finite() && p.size > 0));
    assert!(m.points.iter().all(|p| !p.keywords.is_empty() && p.keywords.len() <= 5));
    assert!(m.points.iter().any(|p| p.x != 0.0) && m.points.iter().any(|p| p.y != 0.0));
    assert_eq!(map(&mut c, None).await.unwrap(), m, "identical on a second call");
    assert_eq!(map(&mut c, Some(&v1)).await.unwrap(), m, "the active version by name");

    // Search: hand-written phrases find their intent's topic first.
    let found = find(&mut c, "please set a timer for ten minutes", 3).await.unwrap();
    assert_eq!(found.version, v1);
    assert_eq!(found.topics.len(), 3);
    assert_eq!(found.topics[0].topic_id, timer_topic, "{found:?}");
    assert!(found.topics.windows(2).all(|w| w[0].score >= w[1].score));
    let found = find(&mut c, "how do you say good morning in italian", 0).await.unwrap();
    assert_eq!(found.topics[0].topic_id, translate_topic, "{found:?}");
    assert_eq!(found.topics.len(), 5, "default limit");
    assert!(found.topics.iter().all(|t| t.topic_id >= 0));

    // Roles and validation.
    let denied = set_label(&mut c, ACME_READ, timer_topic, OPERATOR_LABEL).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    for (topic, label, code, needle) in [
        (timer_topic, "x".repeat(201), Code::InvalidArgument, "more than 200"),
        (timer_topic, "two\nlines".to_string(), Code::InvalidArgument, "control character"),
        (9999, "fine".to_string(), Code::NotFound, "no topic 9999"),
        (-1, "fine".to_string(), Code::InvalidArgument, "not a topic"),
    ] {
        let e = set_label(&mut c, ACME_WRITE, topic, &label).await.unwrap_err();
        assert_eq!(e.code(), code, "{e:?}");
        assert!(e.message().contains(needle), "{:?} lacks {needle:?}", e.message());
    }
    let bad =
        proto::SetTopicLabelRequest { tenant_id: "../x".into(), topic_id: 0, label: "x".into() };
    assert_eq!(
        c.set_topic_label(with_token(bad, ADMIN)).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    for (q, limit, needle) in [("   ", 5, "query is empty"), ("timer", 51, "1..=50")] {
        let e = find(&mut c, q, limit).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains(needle), "{}", e.message());
    }
    assert_eq!(map(&mut c, Some("yesterday")).await.unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(map(&mut c, Some("20200101_000000")).await.unwrap_err().code(), Code::NotFound);
    let none = proto::GetTopicMapRequest { tenant_id: "initech".into(), version: None };
    assert_eq!(c.get_topic_map(with_token(none, ADMIN)).await.unwrap_err().code(), Code::NotFound);
    let versions_before = list_versions(&mut c).await;

    // The edit: a new active version, shown by every call that shows a label.
    let edit =
        set_label(&mut c, ACME_WRITE, timer_topic, &format!("  {OPERATOR_LABEL} ")).await.unwrap();
    assert_eq!((edit.label.as_str(), edit.overridden), (OPERATOR_LABEL, true));
    assert_eq!(edit.generated_label, generated);
    assert_ne!(edit.version, v1);
    let v2 = edit.version.clone();
    assert_eq!(list_versions(&mut c).await.len(), versions_before.len() + 1);
    assert_eq!(top(&mut c).await.version, v2);
    assert_eq!(label_in_top(&top(&mut c).await, timer_topic), (OPERATOR_LABEL.to_string(), true));
    assert!(top(&mut c)
        .await
        .topics
        .iter()
        .filter(|t| t.topic_id != timer_topic)
        .all(|t| !t.label_overridden));
    assert_eq!(majority(&mut c, &data, &rows_of(timer, 0..40)).await.1, OPERATOR_LABEL);
    let t = active_topics(&mut c).await.into_iter().find(|t| t.topic_id == timer_topic).unwrap();
    assert_eq!((t.label.as_str(), t.label_overridden), (OPERATOR_LABEL, true));
    let m2 = map(&mut c, None).await.unwrap();
    assert_eq!(m2.version, v2);
    assert_eq!(m2.points.iter().find(|p| p.topic_id == timer_topic).unwrap().label, OPERATOR_LABEL);
    assert_eq!(
        m2.points.iter().map(|p| (p.topic_id, p.x, p.y)).collect::<Vec<_>>(),
        m.points.iter().map(|p| (p.topic_id, p.x, p.y)).collect::<Vec<_>>(),
        "a label edit does not move anything"
    );
    let found = find(&mut c, "please set a timer for ten minutes", 1).await.unwrap();
    assert_eq!(found.topics[0].label, OPERATOR_LABEL);
    // The same label again changes nothing.
    let same = set_label(&mut c, ACME_WRITE, timer_topic, OPERATOR_LABEL).await.unwrap();
    assert_eq!(same.version, v2);

    // Night 2: the label survives the Fit + Merge; two new intents are new topics.
    let day2: Vec<usize> = (0..8).flat_map(|k| rows_of(k, 40..80)).collect();
    let v3 = night(&mut c, &data, &day2, "2026-11-24", "2026-11-25").await;
    assert_eq!(label_in_top(&top(&mut c).await, timer_topic), (OPERATOR_LABEL.to_string(), true));
    assert_eq!(
        majority(&mut c, &data, &rows_of(timer, 40..80)).await,
        (timer_topic, OPERATOR_LABEL.to_string())
    );
    let ch = changes(&mut c, 0).await;
    assert_eq!((ch.version.as_str(), ch.previous_version.as_str()), (v3.as_str(), v2.as_str()));
    let new_ids: Vec<i64> = ch.new_topics.iter().map(|t| t.topic_id).collect();
    let (n6, _) = majority(&mut c, &data, &rows_of(6, 40..80)).await;
    let (n7, _) = majority(&mut c, &data, &rows_of(7, 40..80)).await;
    assert!(new_ids.contains(&n6) && new_ids.contains(&n7), "{new_ids:?} lacks {n6}, {n7}");
    assert!(!new_ids.contains(&timer_topic));
    assert!(ch.retired_topics.is_empty());
    assert!(ch.rising.windows(2).all(|w| w[0].relative_change >= w[1].relative_change));
    // Both nights fall in the last 7 days of the window: every topic is rising from nothing.
    let t = ch.rising.iter().find(|t| t.topic_id == timer_topic).unwrap();
    assert_eq!((t.label.as_str(), t.previous_count), (OPERATOR_LABEL, 0));
    assert!(t.recent_count >= 60 && t.relative_change == t.recent_count as f64, "{t:?}");
    assert!(ch.new_topics.len() <= 5 && changes(&mut c, 1).await.rising.len() == 1);

    // Clearing restores the generated label; rolling back restores what each version had.
    let cleared = set_label(&mut c, ACME_WRITE, timer_topic, "").await.unwrap();
    assert_eq!((cleared.label.as_str(), cleared.overridden), (generated.as_str(), false));
    assert_eq!(label_in_top(&top(&mut c).await, timer_topic), (generated.clone(), false));
    activate(&mut c, &v3).await;
    assert_eq!(label_in_top(&top(&mut c).await, timer_topic), (OPERATOR_LABEL.to_string(), true));
    activate(&mut c, &v1).await;
    assert_eq!(label_in_top(&top(&mut c).await, timer_topic), (generated.clone(), false));
    assert_eq!(majority(&mut c, &data, &rows_of(timer, 0..40)).await.1, generated);
    activate(&mut c, &v3).await;

    // Tenants: the admin sees both, acme's tokens only acme.
    let all = tenants(&mut c, ADMIN).await;
    assert_eq!(
        all.iter().map(|t| t.tenant_id.as_str()).collect::<Vec<_>>(),
        vec!["acme", "globex"]
    );
    let acme = &all[0];
    assert_eq!(acme.active_version, v3);
    assert_eq!(acme.total_topics as usize, active_topics(&mut c).await.len());
    assert_eq!(acme.date_range_end, "2026-11-24");
    assert!(acme.total_documents > 0 && !acme.updated_at.is_empty());
    assert_eq!(
        tenants(&mut c, ACME_READ).await.iter().map(|t| t.tenant_id.as_str()).collect::<Vec<_>>(),
        vec!["acme"]
    );
    // Three orthogonal topics: a symmetric layout, still the same picture every time.
    let g = proto::GetTopicMapRequest { tenant_id: "globex".into(), version: None };
    let g1 = c.get_topic_map(with_token(g.clone(), ADMIN)).await.unwrap().into_inner();
    assert_eq!(g1.points.len(), 3);
    assert_eq!(c.get_topic_map(with_token(g, ADMIN)).await.unwrap().into_inner(), g1);
    let glob =
        proto::FindTopicsRequest { tenant_id: "globex".into(), query: "alpha".into(), limit: 1 };
    let e = c.find_topics(with_token(glob, ACME_READ)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // HTTP: the same answers, statuses and error bodies.
    let h = reqwest::Client::new();
    let (s, tenants) = http(&h, Method::GET, server.url("/v1/tenants"), ACME_READ, None).await;
    assert_eq!(s, StatusCode::OK, "{tenants}");
    assert_eq!(tenants["tenants"].as_array().unwrap().len(), 1);
    assert_eq!(tenants["tenants"][0]["tenant_id"], "acme");
    assert_eq!(tenants["tenants"][0]["total_topics"], acme.total_topics.to_string());
    let grpc_map = map(&mut c, None).await.unwrap();
    let (s, hmap) =
        http(&h, Method::GET, server.url("/v1/tenants/acme/map"), ACME_READ, None).await;
    assert_eq!(s, StatusCode::OK, "{hmap}");
    assert_eq!(hmap["version"], v3);
    let points = hmap["points"].as_array().unwrap();
    assert_eq!(points.len(), grpc_map.points.len());
    for (p, q) in points.iter().zip(&grpc_map.points) {
        assert_eq!(p["topic_id"], q.topic_id.to_string(), "int64 as a JSON string");
        assert_eq!(p["size"], q.size.to_string());
        // serde_json's default float parsing may be one ulp off the number written.
        assert!((p["x"].as_f64().unwrap() - q.x).abs() < 1e-12, "{p} vs {q:?}");
        assert!((p["y"].as_f64().unwrap() - q.y).abs() < 1e-12, "{p} vs {q:?}");
        assert_eq!(p["label"], q.label.as_str());
    }
    let (s, old) = http(
        &h,
        Method::GET,
        server.url(&format!("/v1/tenants/acme/map?version={v1}")),
        ACME_READ,
        None,
    )
    .await;
    assert_eq!((s, old["version"].as_str()), (StatusCode::OK, Some(v1.as_str())));
    let (s, hfound) = http(
        &h,
        Method::GET,
        server.url(
            "/v1/tenants/acme/search?q=please%20set%20a%20timer%20for%20ten%20minutes&limit=2",
        ),
        ACME_READ,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{hfound}");
    assert_eq!(hfound["topics"].as_array().unwrap().len(), 2);
    assert_eq!(hfound["topics"][0]["topic_id"], timer_topic.to_string());
    let (s, e) =
        http(&h, Method::GET, server.url("/v1/tenants/acme/search?q=%20"), ACME_READ, None).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_ARGUMENT"))
    );
    let (s, e) =
        http(&h, Method::GET, server.url("/v1/tenants/acme/search?query=x"), ACME_READ, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "unknown query parameter: {e}");
    let (s, hch) =
        http(&h, Method::GET, server.url("/v1/tenants/acme/changes?limit=2"), ACME_READ, None)
            .await;
    assert_eq!(s, StatusCode::OK, "{hch}");
    assert_eq!(hch["previous_version"], v2);
    assert_eq!(hch["new_topics"].as_array().unwrap().len(), 2);
    let label_url = |id: &str| server.url(&format!("/v1/tenants/acme/topics/{id}/label"));
    let body = json!({"label": OPERATOR_LABEL});
    let (s, e) =
        http(&h, Method::PUT, label_url(&timer_topic.to_string()), ACME_READ, Some(body.clone()))
            .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("PERMISSION_DENIED"))
    );
    let (s, e) = http(&h, Method::PUT, label_url("abc"), ACME_WRITE, Some(body.clone())).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_ARGUMENT"))
    );
    let (s, e) = http(&h, Method::PUT, label_url("9999"), ACME_WRITE, Some(body.clone())).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")));
    let (s, e) = http(
        &h,
        Method::PUT,
        label_url("1"),
        ACME_WRITE,
        Some(json!({"label": "x", "topic_id": 2})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, edited) = http(
        &h,
        Method::PUT,
        label_url(&timer_topic.to_string()),
        ACME_WRITE,
        Some(json!({"label": "Timers"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{edited}");
    assert_eq!(
        (edited["label"].as_str(), edited["overridden"].as_bool()),
        (Some("Timers"), Some(true))
    );
    assert_eq!(edited["generated_label"], generated.as_str());
    assert_eq!(label_in_top(&top(&mut c).await, timer_topic), ("Timers".to_string(), true));
    let (_, htop) =
        http(&h, Method::GET, server.url("/v1/tenants/acme/topics?limit=20"), ACME_READ, None)
            .await;
    let timer_id = timer_topic.to_string();
    let t = htop["topics"].as_array().unwrap().iter().find(|t| t["topic_id"] == *timer_id).unwrap();
    assert_eq!(
        (t["label"].as_str(), t["label_overridden"].as_bool()),
        (Some("Timers"), Some(true))
    );

    server.stop().await;
}

async fn list_versions(c: &mut Client) -> Vec<String> {
    let req = proto::ListModelsRequest { tenant_id: "acme".into(), limit: 0 };
    c.list_models(with_token(req, ACME_READ))
        .await
        .unwrap()
        .into_inner()
        .models
        .into_iter()
        .map(|m| m.version)
        .collect()
}

async fn tenants(c: &mut Client, token: &str) -> Vec<proto::TenantSummary> {
    let r = c.list_tenants(with_token(proto::ListTenantsRequest {}, token)).await.unwrap();
    r.into_inner().tenants
}
