//! Tenant-defined topics (issue 30) against a real server: set through HTTP and gRPC, used by
//! the next Fit, one id and name through 7 nightly merges, a count of 0 on a quiet day, Transform
//! and the snapshot, no operator label over a name, removal retires, survives a restart; bad
//! lists, tenants and roles get clear errors.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::HashMap;

use crate::common;

use common::{fit_and_merge, tokens_file, with_token, Clinc, TestServer, ACME_READ, ACME_WRITE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tonic::transport::Channel;
use topicd::config::Config;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Embedding};

type Client = TopicsClient<Channel>;

fn config(dir: &std::path::Path) -> Config {
    let mut cfg = common::config(dir);
    cfg.auth.tokens_file = Some(tokens_file(dir));
    cfg.embedding.model = Some(topicd_testing::locate::model_dir().to_string_lossy().into_owned());
    cfg.embedding.device = "cpu".into();
    cfg.embedding.allow_download = false;
    cfg
}

async fn http(method: Method, url: String, token: &str, body: Option<&str>) -> (StatusCode, Value) {
    let mut r = reqwest::Client::new().request(method, url).bearer_auth(token);
    if let Some(b) = body {
        r = r.header("content-type", "application/json").body(b.to_string());
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

fn assert_error(got: &(StatusCode, Value), status: u16, code: &str, needle: &str) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{}", got.1);
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
}

/// Fits and merges `rows` as the day `day` (YYYY-MM-DD); returns the new active version.
async fn night(c: &mut Client, data: &Clinc, rows: &[usize], day: &str, next: &str) -> String {
    let (docs, embs) = data.batch(rows, day);
    fit_and_merge(c, "acme", ACME_WRITE, docs, embs, day, next).await
}

async fn defined(c: &mut Client) -> proto::GetDefinedTopicsResponse {
    let req = proto::GetDefinedTopicsRequest { tenant_id: "acme".into() };
    c.get_defined_topics(with_token(req, ACME_READ)).await.unwrap().into_inner()
}

/// `(name, id)` of each defined topic.
fn ids(d: &proto::GetDefinedTopicsResponse) -> Vec<(String, Option<i64>)> {
    d.topics.iter().map(|s| (s.topic.as_ref().unwrap().name.clone(), s.topic_id)).collect()
}

fn day(n: u32) -> String {
    format!("2026-11-{:02}", 10 + n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defined_topics_keep_ids_and_names_through_seven_merges() {
    let data = Clinc::load();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_http(config(dir.path())).await;
    let mut c = server.client().await;

    let intents = data.intents(6);
    let name = |k: usize| intents[k].replace('_', " ");
    let rows = |k: usize, n: u32| -> Vec<usize> {
        let all = data.rows_of(&intents[k]);
        all[(n as usize) * 15..(n as usize) * 15 + 15].to_vec()
    };
    let examples = |k: usize| -> Vec<Value> {
        data.rows_of(&intents[k])[140..144].iter().map(|&i| json!(data.texts[i])).collect()
    };
    // Two defined topics, set over HTTP as a bare JSON list.
    let list = json!([
        {"name": name(0), "description": format!("messages about {}", name(0)), "examples": examples(0)},
        {"name": name(1), "examples": examples(1)},
    ]);
    let url = server.url("/v1/tenants/acme/defined-topics");
    let (s, v) = http(Method::PUT, url.clone(), ACME_WRITE, Some(&list.to_string())).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["topics"].as_array().unwrap().len(), 2);
    assert_eq!(v["active_version"], "", "no model yet: no ids");
    let (s, v) = http(Method::GET, url.clone(), ACME_READ, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["topics"][0]["topic"]["name"], json!(name(0)));

    // Night 0, then 7 nightly merges. Intent 1 is only mentioned on even nights.
    let mut first: Option<Vec<(String, Option<i64>)>> = None;
    for n in 0..8u32 {
        let mut day_rows: Vec<usize> = Vec::new();
        for k in 0..6 {
            if k == 1 && n % 2 == 1 {
                continue;
            }
            day_rows.extend(rows(k, n));
        }
        night(&mut c, &data, &day_rows, &day(n), &day(n + 1)).await;
        let d = defined(&mut c).await;
        let now = ids(&d);
        assert!(now.iter().all(|(_, id)| id.is_some()), "night {n}: {now:?}");
        match &first {
            None => first = Some(now),
            Some(f) => assert_eq!(&now, f, "night {n}: same ids and names"),
        }
        // The active model's topics carry the names.
        let m = c
            .get_model(with_token(
                proto::GetModelRequest {
                    tenant_id: "acme".into(),
                    version: None,
                    include_retired: false,
                },
                ACME_READ,
            ))
            .await
            .unwrap()
            .into_inner();
        for (nm, id) in first.as_ref().unwrap() {
            let t = m.topics.iter().find(|t| Some(t.topic_id) == *id).unwrap();
            assert_eq!(&t.label, nm, "night {n}");
        }
    }
    let first = first.unwrap();
    let (id0, id1) = (first[0].1.unwrap(), first[1].1.unwrap());

    // Transform: held-out messages of intent 0 mostly go to its defined topic.
    let held: Vec<usize> = data.rows_of(&intents[0])[120..140].to_vec();
    let embeddings = held.iter().map(|&i| Embedding { values: data.row(i).to_vec() }).collect();
    let req = proto::TransformRequest { tenant_id: "acme".into(), texts: vec![], embeddings };
    let r = c.transform(with_token(req, ACME_READ)).await.unwrap().into_inner();
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for x in &r.results {
        *counts.entry(x.topic_id).or_default() += 1;
    }
    assert!(counts.get(&id0).copied().unwrap_or(0) * 2 > held.len(), "{counts:?}");
    assert!(r.results.iter().filter(|x| x.topic_id == id0).all(|x| x.label == name(0)));

    // Snapshot and trends: intent 1 shows a 0 on the odd (quiet) nights.
    let top = c
        .get_top_topics(with_token(
            proto::GetTopTopicsRequest { tenant_id: "acme".into(), limit: 50, include_trend: true },
            ACME_READ,
        ))
        .await
        .unwrap()
        .into_inner();
    let t1 = top.topics.iter().find(|t| t.topic_id == id1).unwrap();
    assert_eq!(t1.label, name(1));
    let on = |d: &str| t1.trend.iter().find(|c| c.date == d).map(|c| c.count);
    assert_eq!(on(&day(1)), Some(0), "{:?}", t1.trend);
    assert_eq!(on(&day(3)), Some(0));
    assert!(on(&day(2)).unwrap() > 0);
    assert!(top.topics.iter().any(|t| t.topic_id == id0 && t.label == name(0)));

    // The name is the identity: no operator label over it.
    let req =
        proto::SetTopicLabelRequest { tenant_id: "acme".into(), topic_id: id0, label: "x".into() };
    let e = c.set_topic_label(with_token(req, ACME_WRITE)).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    assert!(e.message().contains("defined topic"), "{}", e.message());

    // Remove intent 1 from the list (gRPC): it is "leaving", then retired by the next merge.
    let keep = proto::SetDefinedTopicsRequest {
        tenant_id: "acme".into(),
        topics: vec![proto::DefinedTopic {
            name: name(0),
            description: String::new(),
            examples: examples(0).iter().map(|e| e.as_str().unwrap().to_string()).collect(),
        }],
    };
    let r = c.set_defined_topics(with_token(keep, ACME_WRITE)).await.unwrap().into_inner();
    assert_eq!(r.topics[0].topic_id, Some(id0));
    assert_eq!(r.leaving.len(), 1);
    assert_eq!(r.leaving[0].topic_id, Some(id1));
    let mut day8: Vec<usize> = Vec::new();
    for k in 0..6 {
        day8.extend(rows(k, 8));
    }
    night(&mut c, &data, &day8, &day(8), &day(9)).await;
    let d = defined(&mut c).await;
    assert_eq!(ids(&d), vec![(name(0), Some(id0))]);
    assert!(d.leaving.is_empty());
    let m = c
        .get_model(with_token(
            proto::GetModelRequest {
                tenant_id: "acme".into(),
                version: None,
                include_retired: true,
            },
            ACME_READ,
        ))
        .await
        .unwrap()
        .into_inner();
    let gone = m.topics.iter().find(|t| t.topic_id == id1).unwrap();
    assert_eq!(gone.status, "retired");

    // A restart: the list and the ids are still there.
    server.stop().await;
    let server = TestServer::start_with_http(config(dir.path())).await;
    let mut c = server.client().await;
    assert_eq!(ids(&defined(&mut c).await), vec![(name(0), Some(id0))]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_defined_topics_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_http(config(dir.path())).await;
    let url = server.url("/v1/tenants/acme/defined-topics");
    let put = |body: String| {
        let url = url.clone();
        async move { http(Method::PUT, url, ACME_WRITE, Some(&body)).await }
    };
    assert_error(&put("[]".into()).await, 400, "INVALID_ARGUMENT", "list is empty");
    let many: Vec<Value> = (0..201).map(|i| json!({"name": format!("topic {i}")})).collect();
    assert_error(&put(json!(many).to_string()).await, 400, "INVALID_ARGUMENT", "more than 200");
    let long = json!([{"name": "x".repeat(101)}]).to_string();
    assert_error(&put(long).await, 400, "INVALID_ARGUMENT", "more than 100");
    let long_example = json!([{"name": "A", "examples": ["y".repeat(501)]}]).to_string();
    assert_error(&put(long_example).await, 400, "INVALID_ARGUMENT", "more than 500");
    let dup = json!([{"name": "Refund"}, {"name": "refund "}]).to_string();
    assert_error(&put(dup).await, 400, "INVALID_ARGUMENT", "ignoring case");
    assert_error(&put("[{\"name\": ".into()).await, 400, "INVALID_ARGUMENT", "not valid JSON");
    let unknown_field = json!([{"title": "A"}]).to_string();
    assert_error(&put(unknown_field).await, 400, "INVALID_ARGUMENT", "list of defined topics");
    // A tenant with no list, a malformed tenant id, a read token writing, another tenant.
    let got = http(Method::GET, url.clone(), ACME_READ, None).await;
    assert_error(&got, 404, "NOT_FOUND", "has no defined topics");
    let bad = server.url("/v1/tenants/no%20such/defined-topics");
    assert_error(&http(Method::GET, bad, ACME_READ, None).await, 400, "INVALID_ARGUMENT", "tenant");
    let ok = json!([{"name": "Refund request"}]).to_string();
    let got = http(Method::PUT, url.clone(), ACME_READ, Some(&ok)).await;
    assert_error(&got, 403, "PERMISSION_DENIED", "needs write");
    let other = server.url("/v1/tenants/globex/defined-topics");
    let got = http(Method::PUT, other, ACME_WRITE, Some(&ok)).await;
    assert_error(&got, 403, "PERMISSION_DENIED", "no access to tenant globex");
    // gRPC: the same checks, the same messages.
    let mut c = server.client().await;
    let req = proto::SetDefinedTopicsRequest { tenant_id: "acme".into(), topics: vec![] };
    let e = c.set_defined_topics(with_token(req, ACME_WRITE)).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("list is empty"), "{}", e.message());
    // A good list is accepted (and nothing was stored by the bad ones before it).
    assert_eq!(http(Method::PUT, url.clone(), ACME_WRITE, Some(&ok)).await.0, StatusCode::OK);
    let (s, v) = http(Method::GET, url, ACME_READ, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["topics"].as_array().unwrap().len(), 1);
    server.stop().await;
}
