//! Hand edits (issue 30) through a real server, over gRPC and HTTP: merge a topic into another,
//! hide a topic, bad input and roles; the edits survive the next nightly Fit + Merge and a
//! rollback (ActivateModel) undoes them. CLINC150 messages with their reference embeddings.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::collections::HashMap;

use common::{
    fit_and_merge, tokens_file, with_token, Clinc, TestServer, ACME_READ, ACME_WRITE, ADMIN,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tonic::transport::Channel;
use tonic::Code;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Embedding};

type Client = TopicsClient<Channel>;

/// The topics Transform gives `rows`.
async fn tags(c: &mut Client, data: &Clinc, rows: &[usize]) -> Vec<i64> {
    let embeddings = rows.iter().map(|&i| Embedding { values: data.row(i).to_vec() }).collect();
    let req = proto::TransformRequest { tenant_id: "acme".into(), texts: vec![], embeddings };
    let r = c.transform(with_token(req, ACME_READ)).await.unwrap().into_inner();
    r.results.iter().map(|x| x.topic_id).collect()
}

/// The rows of `rows` that Transform gives topic `id`.
async fn rows_tagged(c: &mut Client, data: &Clinc, rows: &[usize], id: i64) -> Vec<usize> {
    let t = tags(c, data, rows).await;
    rows.iter().zip(t).filter(|(_, t)| *t == id).map(|(r, _)| *r).collect()
}

/// The majority topic Transform gives `rows`, and its share.
async fn majority(c: &mut Client, data: &Clinc, rows: &[usize]) -> (i64, f64) {
    let embeddings = rows.iter().map(|&i| Embedding { values: data.row(i).to_vec() }).collect();
    let req = proto::TransformRequest { tenant_id: "acme".into(), texts: vec![], embeddings };
    let r = c.transform(with_token(req, ACME_READ)).await.unwrap().into_inner();
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for x in &r.results {
        *counts.entry(x.topic_id).or_default() += 1;
    }
    let (id, n) = counts.into_iter().max_by_key(|(id, n)| (*n, -id)).unwrap();
    (id, n as f64 / r.results.len() as f64)
}

async fn night(c: &mut Client, data: &Clinc, rows: &[usize], day: &str, next: &str) -> String {
    let (docs, embs) = data.batch(rows, day);
    fit_and_merge(c, "acme", ACME_WRITE, docs, embs, day, next).await
}

async fn top_ids(c: &mut Client) -> Vec<i64> {
    let req =
        proto::GetTopTopicsRequest { tenant_id: "acme".into(), limit: 50, include_trend: true };
    let r = c.get_top_topics(with_token(req, ACME_READ)).await.unwrap().into_inner();
    r.topics.iter().map(|t| t.topic_id).collect()
}

async fn edit(
    c: &mut Client,
    token: &str,
    action: &str,
    topic_id: i64,
    into: Option<i64>,
) -> Result<proto::EditTopicsResponse, tonic::Status> {
    let req = proto::EditTopicsRequest {
        tenant_id: "acme".into(),
        action: action.into(),
        topic_id,
        into_topic_id: into,
    };
    c.edit_topics(with_token(req, token)).await.map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merges_hides_and_splits_survive_a_nightly_merge_and_rollback_undoes_them() {
    let data = Clinc::load();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    let server = TestServer::start_with_http(cfg).await;
    let mut c = server.client().await;

    let intents = data.intents(6);
    let rows_of = |k: usize, range: std::ops::Range<usize>| -> Vec<usize> {
        data.rows_of(&intents[k])[range].to_vec()
    };
    let day1: Vec<usize> = (0..6).flat_map(|k| rows_of(k, 0..40)).collect();
    let v1 = night(&mut c, &data, &day1, "2026-11-23", "2026-11-24").await;
    let (a, _) = majority(&mut c, &data, &rows_of(0, 0..40)).await;
    let (b, _) = majority(&mut c, &data, &rows_of(1, 0..40)).await;
    let (spam, _) = majority(&mut c, &data, &rows_of(2, 0..40)).await;
    assert!(a >= 0 && b >= 0 && spam >= 0 && a != b && b != spam && a != spam);
    let before = top_ids(&mut c).await;
    assert!(before.contains(&b) && before.contains(&spam));
    // The messages of both nights that b and the spam topic hold now.
    let all: Vec<usize> = (0..6).flat_map(|k| rows_of(k, 0..80)).collect();
    let b_rows = rows_tagged(&mut c, &data, &all, b).await;
    let spam_rows = rows_tagged(&mut c, &data, &all, spam).await;
    assert!(b_rows.len() >= 5 && spam_rows.len() >= 5, "{} {}", b_rows.len(), spam_rows.len());

    // Bad input and roles.
    for (token, action, id, into, code, needle) in [
        (ADMIN, "merge", a, Some(a), Code::InvalidArgument, "itself"),
        (ADMIN, "merge", 9999, Some(a), Code::NotFound, "no topic 9999"),
        (ADMIN, "merge", b, Some(9998), Code::NotFound, "no topic 9998"),
        (ADMIN, "hide", -1, None, Code::InvalidArgument, "not a topic"),
        (ADMIN, "merge", -1, Some(a), Code::InvalidArgument, "not a topic"),
        (ADMIN, "merge", b, None, Code::InvalidArgument, "into_topic_id"),
        (ADMIN, "hide", b, Some(a), Code::InvalidArgument, "only for action"),
        (ADMIN, "explode", b, None, Code::InvalidArgument, "not one of"),
        (ACME_WRITE, "hide", b, None, Code::PermissionDenied, "admin"),
        (ACME_READ, "merge", b, Some(a), Code::PermissionDenied, "admin"),
    ] {
        let e = edit(&mut c, token, action, id, into).await.unwrap_err();
        assert_eq!(e.code(), code, "{action} {id} {into:?}: {e:?}");
        assert!(e.message().contains(needle), "{:?} lacks {needle:?}", e.message());
    }

    // Merge b into a: b's messages answer a, b leaves the ranking.
    let merged = edit(&mut c, ADMIN, "merge", b, Some(a)).await.unwrap();
    assert!(merged.changed);
    assert_ne!(merged.version, v1);
    assert_eq!(merged.resolved_topic_ids, vec![a, b]);
    assert!(tags(&mut c, &data, &b_rows).await.iter().all(|&t| t == a));
    assert!(!top_ids(&mut c).await.contains(&b));
    // Again, through the alias: nothing changes, no version.
    let again = edit(&mut c, ADMIN, "merge", b, Some(a)).await.unwrap();
    assert!(!again.changed);
    assert_eq!(again.version, merged.version);
    assert_eq!(again.resolved_topic_ids, vec![a, a]);

    // Hide the spam topic over HTTP: absent from the ranking, its messages answer -1.
    let http = reqwest::Client::new();
    let url = server.url(&format!("/v1/tenants/acme/topics/{spam}/hide"));
    let resp = http.post(&url).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["changed"], json!(true), "{body}");
    let resp = http.post(&url).bearer_auth(ACME_WRITE).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let url = server.url("/v1/tenants/acme/topics/nine/merge-into");
    let resp = http.post(&url).bearer_auth(ADMIN).json(&json!({})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let url = server.url(&format!("/v1/tenants/acme/topics/{a}/merge-into"));
    let resp =
        http.post(&url).bearer_auth(ADMIN).json(&json!({"into_topic_id": a})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(!top_ids(&mut c).await.contains(&spam));
    assert!(tags(&mut c, &data, &spam_rows).await.iter().all(|&t| t == -1));

    // The topic tree (GetTopicTree, GET /tree): the visible topics, cut into themes.
    let tree = |themes: u32| proto::GetTopicTreeRequest {
        tenant_id: "acme".into(),
        version: None,
        themes,
    };
    let t = c.get_topic_tree(with_token(tree(3), ACME_READ)).await.unwrap().into_inner();
    let visible = top_ids(&mut c).await;
    let leaves: Vec<i64> = t.nodes.iter().filter_map(|n| n.topic_id).collect();
    let mut sorted = visible.clone();
    sorted.sort_unstable();
    assert_eq!(leaves, sorted, "one leaf per visible topic (not b, not the hidden one)");
    assert_eq!(t.nodes.len(), 2 * leaves.len() - 1);
    assert_eq!(t.themes.len(), 3);
    let mut covered: Vec<i64> = t.themes.iter().flat_map(|th| th.topic_ids.clone()).collect();
    covered.sort_unstable();
    assert_eq!(covered, sorted, "themes partition the topics");
    assert!(t.themes.iter().all(|th| !th.name.is_empty()));
    assert_eq!(c.get_topic_tree(with_token(tree(3), ACME_READ)).await.unwrap().into_inner(), t);
    let e = c.get_topic_tree(with_token(tree(101), ACME_READ)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    let resp = http
        .get(server.url("/v1/tenants/acme/tree?themes=2"))
        .bearer_auth(ACME_READ)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["themes"].as_array().unwrap().len(), 2, "{body}");
    let resp = http
        .get(server.url("/v1/tenants/acme/tree?themes=x"))
        .bearer_auth(ACME_READ)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // Ask for a split of another topic: a new version; asking again changes nothing.
    let mut x = -1;
    for k in 3..6 {
        let (t, _) = majority(&mut c, &data, &rows_of(k, 0..40)).await;
        if t >= 0 && ![a, b, spam].contains(&t) {
            x = t;
            break;
        }
    }
    assert!(x >= 0, "one of intents 3-5 has a topic of its own");
    assert!(edit(&mut c, ADMIN, "split", x, None).await.unwrap().changed);
    assert!(!edit(&mut c, ADMIN, "split", x, None).await.unwrap().changed);

    // The next night: the same six intents again. The edits hold.
    let day2: Vec<usize> = (0..6).flat_map(|k| rows_of(k, 40..80)).collect();
    night(&mut c, &data, &day2, "2026-11-24", "2026-11-25").await;
    let now = tags(&mut c, &data, &b_rows).await;
    let to_a = now.iter().filter(|&&t| t == a).count() as f64 / now.len() as f64;
    assert!(to_a >= 0.9, "b's messages answer a after the merge: {to_a} ({now:?})");
    let now = tags(&mut c, &data, &spam_rows).await;
    let hidden = now.iter().filter(|&&t| t == -1).count() as f64 / now.len() as f64;
    assert!(hidden >= 0.9, "the hidden topic stays hidden after the merge: {hidden} ({now:?})");
    let top = top_ids(&mut c).await;
    assert!(!top.contains(&b) && !top.contains(&spam), "{top:?}");

    // Rollback to the version before the edits: b and the spam topic are back.
    let req = proto::ActivateModelRequest { tenant_id: "acme".into(), version: v1.clone() };
    c.activate_model(with_token(req, ADMIN)).await.unwrap();
    assert!(tags(&mut c, &data, &b_rows).await.iter().all(|&t| t == b));
    assert!(tags(&mut c, &data, &spam_rows).await.iter().all(|&t| t == spam));
    let top = top_ids(&mut c).await;
    assert!(top.contains(&b) && top.contains(&spam));
    // The split request went with the rollback: asking for it makes a version again.
    assert!(edit(&mut c, ADMIN, "split", x, None).await.unwrap().changed);
    server.stop().await;
}

/// The topic `id` of GetModel (active version, retired topics too), over gRPC.
async fn model_topic(c: &mut Client, id: i64) -> proto::Topic {
    let req =
        proto::GetModelRequest { tenant_id: "acme".into(), version: None, include_retired: true };
    let r = c.get_model(with_token(req, ACME_READ)).await.unwrap().into_inner();
    r.topics.into_iter().find(|t| t.topic_id == id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_say_whether_they_are_hidden_and_which_ids_were_merged_into_them() {
    let data = Clinc::load();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    let server = TestServer::start_with_http(cfg).await;
    let mut c = server.client().await;

    let intents = data.intents(4);
    let rows_of = |k: usize| -> Vec<usize> { data.rows_of(&intents[k])[0..40].to_vec() };
    let day1: Vec<usize> = (0..4).flat_map(rows_of).collect();
    night(&mut c, &data, &day1, "2026-11-23", "2026-11-24").await;
    let (a, _) = majority(&mut c, &data, &rows_of(0)).await;
    let (b, _) = majority(&mut c, &data, &rows_of(1)).await;
    let (spam, _) = majority(&mut c, &data, &rows_of(2)).await;
    assert!(a >= 0 && b >= 0 && spam >= 0 && a != b && b != spam && a != spam);
    // Before any edit: nothing hidden, no aliases.
    for id in [a, b, spam] {
        let t = model_topic(&mut c, id).await;
        assert!(!t.hidden && t.aliases.is_empty(), "{t:?}");
    }

    assert!(edit(&mut c, ADMIN, "merge", b, Some(a)).await.unwrap().changed);
    assert!(edit(&mut c, ADMIN, "hide", spam, None).await.unwrap().changed);

    // gRPC GetModel lists every active topic, the hidden one included, with the flags.
    let ta = model_topic(&mut c, a).await;
    assert!(!ta.hidden, "{ta:?}");
    assert_eq!(ta.aliases, vec![b]);
    let ts = model_topic(&mut c, spam).await;
    assert!(ts.hidden, "{ts:?}");
    assert!(ts.aliases.is_empty());
    let req =
        proto::GetModelRequest { tenant_id: "acme".into(), version: None, include_retired: true };
    let r = c.get_model(with_token(req, ACME_READ)).await.unwrap().into_inner();
    assert!(r.topics.iter().all(|t| t.topic_id != b), "b is an alias now, not a topic");
    // GetTopTopics: a carries its alias; the hidden topic is not ranked.
    let req =
        proto::GetTopTopicsRequest { tenant_id: "acme".into(), limit: 50, include_trend: false };
    let top = c.get_top_topics(with_token(req, ACME_READ)).await.unwrap().into_inner();
    let top_a = top.topics.iter().find(|t| t.topic_id == a).unwrap();
    assert_eq!(top_a.aliases, vec![b]);
    assert!(top.topics.iter().all(|t| t.topic_id != spam && t.topic_id != b));
    assert!(top.topics.iter().filter(|t| t.topic_id != a).all(|t| t.aliases.is_empty()));

    // The same over HTTP (proto3 JSON: 64-bit ids as strings).
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(server.url(path)).bearer_auth(ACME_READ).send();
    let resp = get("/v1/tenants/acme/models/active?include_retired=true").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let topic = |id: i64| {
        body["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["topic_id"] == json!(id.to_string()))
            .cloned()
            .unwrap()
    };
    assert_eq!(topic(a)["aliases"], json!([b.to_string()]), "{body}");
    assert_eq!(topic(a)["hidden"], json!(false), "{body}");
    assert_eq!(topic(spam)["hidden"], json!(true), "{body}");
    assert_eq!(topic(spam)["aliases"], json!([]), "{body}");
    let resp = get("/v1/tenants/acme/topics?limit=50").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let ranked = body["topics"].as_array().unwrap();
    let ra = ranked.iter().find(|t| t["topic_id"] == json!(a.to_string())).unwrap();
    assert_eq!(ra["aliases"], json!([b.to_string()]), "{body}");
    assert!(ranked.iter().all(|t| t["topic_id"] != json!(spam.to_string())), "{body}");

    // Unhide: the flag clears and the topic is ranked again; the alias stays.
    assert!(edit(&mut c, ADMIN, "unhide", spam, None).await.unwrap().changed);
    assert!(!model_topic(&mut c, spam).await.hidden);
    assert!(top_ids(&mut c).await.contains(&spam));
    assert_eq!(model_topic(&mut c, a).await.aliases, vec![b]);
    server.stop().await;
}
