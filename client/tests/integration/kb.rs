//! `topics kb import` / `topics kb list` and `topics faq --gaps` against a topicd served in this
//! process (issue 29): a JSONL file of articles replaces the tenant's set, bad lines are named
//! before anything is sent, the server's refusals (missing title, unknown tenant) come back as
//! a non-zero exit with its message.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::process::Command;

use serde_json::Value;
use tokio::sync::oneshot;
use topicd_proto::topics_client::TopicsClient;
use topicd_proto::{self as proto, Document};

fn topics(server: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_topics"))
        .env_remove("TOPICS_TOKEN")
        .env_remove("TOPICS_SERVER")
        .args(["--server", server])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The first `per_intent` texts of each of the first `intents` CLINC150 intents.
fn clinc_texts(intents: usize, per_intent: usize) -> Vec<String> {
    let path = topicd_testing::locate::clinc150_dir().join("clinc150.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let mut by_intent: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let label = v["label"].as_str().unwrap().to_string();
        if label == "oos" {
            continue;
        }
        let text = v["text"].as_str().unwrap().to_string();
        if let Some(k) = by_intent.iter().position(|(l, _)| *l == label) {
            by_intent[k].1.push(text);
        } else if by_intent.len() < intents {
            by_intent.push((label, vec![text]));
        }
    }
    by_intent.into_iter().flat_map(|(_, t)| t.into_iter().take(per_intent)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kb_import_list_and_faq_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = topicd::config::Config::for_data_dir(dir.path());
    config.device = "cpu".into();
    config.embedding.device = "cpu".into();
    config.embedding.model =
        Some(topicd_testing::locate::model_dir().to_string_lossy().into_owned());
    config.embedding.allow_download = false;
    let app = topicd::app::App::build(config).await.expect("topicd builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(topicd::app::serve(app, listener, async move {
        let _ = stopped.await;
    }));
    let mut c = loop {
        if let Ok(c) = TopicsClient::connect(url.clone()).await {
            break c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let articles = dir.path().join("articles.jsonl");
    std::fs::write(
        &articles,
        "{\"id\": \"kb-1\", \"title\": \"Card arrival\", \"url\": \"https://help.example/kb-1\"}\n\
         {\"id\": 2, \"title\": \"Exchange rates\", \"summary\": \"How we convert currencies\"}\n",
    )
    .unwrap();
    let path = articles.to_str().unwrap();

    // No model yet: the server says so.
    let (code, _, err) = topics(&url, &["kb", "import", "--tenant", "acme", path]);
    assert_ne!(code, 0);
    assert!(err.contains("no active model"), "{err}");

    // One night of three intents.
    let docs = clinc_texts(3, 30)
        .into_iter()
        .enumerate()
        .map(|(i, text)| Document {
            id: i.to_string(),
            text,
            created_at: "2026-11-23T10:00:00Z".into(),
        })
        .collect();
    let fit = proto::FitRequest {
        tenant_id: "acme".into(),
        documents: docs,
        window: Some(proto::Window {
            start: "2026-11-23T00:00:00Z".into(),
            end: "2026-11-24T00:00:00Z".into(),
        }),
        ..Default::default()
    };
    let fit = c.fit(fit).await.unwrap().into_inner();
    let merge = proto::MergeRequest {
        tenant_id: "acme".into(),
        day_version: fit.version,
        base_version: None,
        force: false,
    };
    c.merge(merge).await.unwrap();

    let (code, out, err) = topics(&url, &["kb", "import", "--tenant", "acme", path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 articles stored, embedded with"), "{out}");
    let (code, out, err) = topics(&url, &["kb", "list", "--tenant", "acme", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> =
        v["articles"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["kb-1", "2"]);
    assert_eq!(v["articles"][0]["url"], "https://help.example/kb-1");
    assert_eq!(v["articles"][1]["summary"], "How we convert currencies");

    // A bad line is named and nothing is sent; a missing title is the server's refusal.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"id\": \"a\", \"title\": \"t\"}\n{not json\n").unwrap();
    let (code, _, err) = topics(&url, &["kb", "import", "--tenant", "acme", bad.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("bad.jsonl:2"), "{err}");
    std::fs::write(&bad, "{\"id\": \"a\"}\n").unwrap();
    let (code, _, err) = topics(&url, &["kb", "import", "--tenant", "acme", bad.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("articles[0].title is missing"), "{err}");
    let (code, out, _) = topics(&url, &["kb", "list", "--tenant", "acme", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["articles"].as_array().unwrap().len(),
        2
    );

    // topics faq --gaps: only entries without an article.
    let (code, out, err) = topics(&url, &["faq", "--tenant", "acme", "--gaps"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["entries"].as_array().unwrap().iter().all(|e| e["article"].is_null()), "{v}");

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
