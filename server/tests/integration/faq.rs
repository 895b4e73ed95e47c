//! The FAQ (issue 29) through a real server: GetFaq over gRPC, `GET /v1/tenants/{t}/faq` as
//! JSON, Markdown and CSV, bad input, roles, a rollback and a restart; and the LLM path against
//! a fake OpenAI-compatible server: one call per nightly merge for labels and questions
//! together, only new or changed topics, no planted personal data in the prompt.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::collections::BTreeSet;

use common::{
    fit_and_merge, tokens_file, with_token, Clinc, TestServer, ACME_READ, ACME_WRITE, ADMIN,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tonic::transport::Channel;
use tonic::Code;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self};
use topicd::providers::{ApiKey, LabelConfig, LabelProvider};
use topicd_testing::{FakeHttp as Fake, FakeResponse as Resp};

type Client = TopicsClient<Channel>;

const EMAILS: [&str; 2] = ["jean.dupont@exemple.fr", "anna.k@mail.co.uk"];
const PHONES: [&str; 2] = ["+33 6 12 34 56 78", "06 98 76 54 32"];

/// Fits and merges rows `rows` as `day` (every 5th message of the first intent carries an email
/// or phone); returns the new active version.
async fn night(c: &mut Client, data: &Clinc, rows: &[usize], day: &str, next: &str) -> String {
    let (mut docs, embs) = data.batch(rows, day);
    let planted: Vec<&str> = EMAILS.iter().chain(&PHONES).copied().collect();
    for (j, d) in docs.iter_mut().enumerate().filter(|(j, _)| j % 5 == 0) {
        d.text = format!("{} {}", d.text, planted[j / 5 % planted.len()]);
    }
    fit_and_merge(c, "acme", ACME_WRITE, docs, embs, day, next).await
}

async fn faq(
    c: &mut Client,
    tenant: &str,
    format: &str,
    token: &str,
) -> Result<proto::GetFaqResponse, tonic::Status> {
    let req =
        proto::GetFaqRequest { tenant_id: tenant.into(), format: format.into(), gaps_only: false };
    c.get_faq(with_token(req, token)).await.map(|r| r.into_inner())
}

fn assert_clean(what: &str, text: &str) {
    for p in EMAILS.iter().chain(&PHONES).chain(&["dupont", "anna.k", "12 34 56", "98 76 54"]) {
        assert!(!text.contains(p), "{what} contains {p:?}: {text}");
    }
}

fn check_entries(r: &proto::GetFaqResponse) {
    assert!(!r.entries.is_empty());
    for w in r.entries.windows(2) {
        assert!(w[0].message_count >= w[1].message_count, "ranked by message count");
    }
    for e in &r.entries {
        assert!(e.topic_id >= 0, "never outliers or small talk");
        assert!(!e.question.trim().is_empty());
        assert!(!e.examples.is_empty() && e.examples.len() <= 8);
        assert!(e.article.is_none());
        assert!(e.last_7_days + e.previous_7_days <= e.message_count);
        let distinct: BTreeSet<&String> = e.examples.iter().collect();
        assert_eq!(distinct.len(), e.examples.len());
        assert_clean("an FAQ entry", &format!("{} {:?}", e.question, e.examples));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_over_grpc_and_http_follows_rollback_and_restart() {
    let data = Clinc::load();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    let server = TestServer::start_with_http(cfg.clone()).await;
    let mut c = server.client().await;

    let intents = data.intents(6);
    let rows_of = |k: usize, range: std::ops::Range<usize>| -> Vec<usize> {
        data.rows_of(&intents[k])[range].to_vec()
    };
    let day1: Vec<usize> = (0..4).flat_map(|k| rows_of(k, 0..40)).collect();
    let v1 = night(&mut c, &data, &day1, "2026-11-23", "2026-11-24").await;
    let f1 = faq(&mut c, "acme", "", ACME_READ).await.unwrap();
    assert_eq!(
        (f1.tenant_id.as_str(), f1.version.as_str(), f1.format.as_str()),
        ("acme", v1.as_str(), "json")
    );
    assert!(f1.text.is_empty());
    check_entries(&f1);
    assert!(f1.entries.len() >= 3, "{:?}", f1.entries);

    // Markdown and CSV over gRPC: the same entries, rendered.
    let md = faq(&mut c, "acme", "markdown", ACME_READ).await.unwrap();
    assert_eq!(md.entries, f1.entries);
    assert!(md.text.starts_with("# FAQ of acme\n"), "{}", md.text);
    assert!(md.text.contains("\n## 1. ") && md.text.contains("\nAsked as:\n"), "{}", md.text);
    let csv = faq(&mut c, "acme", "CSV", ACME_READ).await.unwrap();
    assert_eq!(csv.text.lines().count(), f1.entries.len() + 1, "{}", csv.text);
    assert!(csv.text.starts_with("rank,topic_id,question,"));

    // Bad input and roles.
    let e = faq(&mut c, "acme", "xml", ACME_READ).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("json, markdown, csv"), "{}", e.message());
    let e = faq(&mut c, "nobody", "", ADMIN).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{}", e.message());
    let e = faq(&mut c, "Bad Tenant!", "", ADMIN).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{}", e.message());
    let e = faq(&mut c, "globex", "", ACME_READ).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{}", e.message());
    let e = c
        .get_faq(proto::GetFaqRequest {
            tenant_id: "acme".into(),
            format: String::new(),
            gaps_only: false,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);

    // HTTP: JSON with "article": null, Markdown, CSV, and errors.
    let h = reqwest::Client::new();
    let get = |path: &str, token: &str| h.get(server.url(path)).bearer_auth(token).send();
    let r = get("/v1/tenants/acme/faq", ACME_READ).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["tenant_id"], "acme");
    assert_eq!(body["version"], v1.as_str());
    assert!(body.get("text").is_none() && body.get("format").is_none());
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), f1.entries.len());
    for (j, e) in entries.iter().enumerate() {
        assert!(e["article"].is_null(), "{e}");
        assert_eq!(e["question"], f1.entries[j].question.as_str());
        for key in
            ["topic_id", "label", "examples", "message_count", "last_7_days", "previous_7_days"]
        {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
    }
    let r = get("/v1/tenants/acme/faq?format=markdown", ACME_READ).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/markdown"));
    assert_eq!(r.text().await.unwrap(), md.text);
    let r = get("/v1/tenants/acme/faq?format=csv", ACME_READ).await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(r.text().await.unwrap(), csv.text);
    for (path, token, status, code) in [
        ("/v1/tenants/acme/faq?format=xml", ACME_READ, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT"),
        ("/v1/tenants/acme/faq?colour=red", ACME_READ, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT"),
        ("/v1/tenants/nobody/faq", ADMIN, StatusCode::NOT_FOUND, "NOT_FOUND"),
        ("/v1/tenants/globex/faq", ACME_READ, StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
        ("/v1/tenants/acme/faq", "wrong-token", StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
    ] {
        let r = get(path, token).await.unwrap();
        assert_eq!(r.status(), status, "{path}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], code, "{path}: {b}");
    }
    let doc: Value = h.get(server.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["paths"]["/v1/tenants/{tenant}/faq"]["get"]["operationId"], "GetFaq");

    // Night 2: more of the same intents and two new ones: more entries.
    let day2: Vec<usize> = (0..6).flat_map(|k| rows_of(k, 40..80)).collect();
    let v2 = night(&mut c, &data, &day2, "2026-11-24", "2026-11-25").await;
    let f2 = faq(&mut c, "acme", "", ACME_READ).await.unwrap();
    assert_eq!(f2.version, v2);
    check_entries(&f2);
    assert!(f2.entries.len() > f1.entries.len(), "{} vs {}", f2.entries.len(), f1.entries.len());

    // A rollback: the FAQ follows the active version.
    let req = proto::ActivateModelRequest { tenant_id: "acme".into(), version: v1.clone() };
    c.activate_model(with_token(req, ADMIN)).await.unwrap();
    let back = faq(&mut c, "acme", "", ACME_READ).await.unwrap();
    assert_eq!(back, f1);

    // A restart: the FAQ lives in the model files.
    drop(c);
    server.stop().await;
    let server = TestServer::start(cfg).await;
    let mut c = server.client().await;
    assert_eq!(faq(&mut c, "acme", "", ACME_READ).await.unwrap(), f1);
    server.stop().await;
}

/// The fake LLM's answer: a label and a question for every topic in the prompt.
fn llm_answer(req: &topicd_testing::FakeRequest) -> Resp {
    let prompt = req.body["messages"][1]["content"].as_str().unwrap_or_default();
    let items: Vec<Value> = prompt
        .lines()
        .filter_map(|l| l.strip_prefix("Topic ")?.trim().parse::<i64>().ok())
        .map(|id| json!({"topic_id": id, "label": format!("LLM label {id}"), "question": format!("LLM question {id}?")}))
        .collect();
    let content = json!({ "labels": items }).to_string();
    Resp::json(
        200,
        json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}),
    )
}

fn prompt_ids(req: &topicd_testing::FakeRequest) -> (BTreeSet<i64>, String) {
    let prompt = req.body["messages"][1]["content"].as_str().unwrap().to_string();
    let ids =
        prompt.lines().filter_map(|l| l.strip_prefix("Topic ")?.trim().parse().ok()).collect();
    (ids, prompt)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_llm_call_per_merge_writes_labels_and_questions_of_new_or_changed_topics() {
    let data = Clinc::load();
    let fake = Fake::start(|_, req| llm_answer(req)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    cfg.labels = LabelConfig {
        provider: LabelProvider::Openai,
        base_url: Some(format!("{}/v1", fake.base)),
        api_key: Some(ApiKey::new("test-key")),
        ..Default::default()
    };
    let server = TestServer::start(cfg).await;
    let mut c = server.client().await;
    let intents = data.intents(6);
    let rows_of = |k: usize, range: std::ops::Range<usize>| -> Vec<usize> {
        data.rows_of(&intents[k])[range].to_vec()
    };

    // Night 1: every topic is new: one call, a label and a question for each.
    let day1: Vec<usize> = (0..4).flat_map(|k| rows_of(k, 0..40)).collect();
    night(&mut c, &data, &day1, "2026-11-23", "2026-11-24").await;
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1, "one call for the whole merge");
    assert_eq!(reqs[0].body["temperature"], 0);
    assert_eq!(reqs[0].body["response_format"]["type"], "json_object");
    let (ids1, prompt1) = prompt_ids(&reqs[0]);
    assert_clean("the prompt", &prompt1);
    assert!(prompt1.contains("[email]") || prompt1.contains("[phone]"), "{prompt1}");
    assert!(prompt1.contains("Questions:") && prompt1.contains("Language: en"), "{prompt1}");
    let f1 = faq(&mut c, "acme", "", ACME_READ).await.unwrap();
    assert_eq!(f1.entries.iter().map(|e| e.topic_id).collect::<BTreeSet<_>>(), ids1);
    for e in &f1.entries {
        assert_eq!(e.question, format!("LLM question {}?", e.topic_id));
        assert_eq!(e.label, format!("LLM label {}", e.topic_id));
    }

    // Night 2: the same four intents again (new messages) and two new intents: one call, with
    // the new topics and only those known topics whose examples changed; labels of known topics
    // stay.
    let day2: Vec<usize> = (0..6).flat_map(|k| rows_of(k, 40..80)).collect();
    night(&mut c, &data, &day2, "2026-11-24", "2026-11-25").await;
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "one call per merge");
    let (ids2, prompt2) = prompt_ids(&reqs[1]);
    assert_clean("the second prompt", &prompt2);
    let f2 = faq(&mut c, "acme", "", ACME_READ).await.unwrap();
    let new: BTreeSet<i64> =
        f2.entries.iter().map(|e| e.topic_id).filter(|id| !ids1.contains(id)).collect();
    assert!(!new.is_empty());
    assert!(new.is_subset(&ids2), "new topics {new:?} are in the call {ids2:?}");
    for e in &f2.entries {
        if ids1.contains(&e.topic_id) {
            assert_eq!(
                e.label,
                format!("LLM label {}", e.topic_id),
                "a known topic keeps its label"
            );
        }
        if ids2.contains(&e.topic_id) || ids1.contains(&e.topic_id) {
            assert_eq!(e.question, format!("LLM question {}?", e.topic_id));
        }
    }
    server.stop().await;
}
