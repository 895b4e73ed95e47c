//! Issue 21 through the real server: personal data planted in CLINC150 messages never reaches
//! the stored model files, the database, the top-topics snapshot or the label provider's prompt
//! (a fake Gemini captures it); small talk ("hi", "thanks!", "ok", "merci") is counted by Fit,
//! assigned -2, never a topic, and Transform tags it "small talk" (with the local encoder).

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::path::Path;

use common::{fit_request, Clinc, TestServer};
use serde_json::json;
use topicd::proto::{self, Document, Embedding};
use topicd::providers::{ApiKey, LabelConfig, LabelProvider};
use topicd_testing::{FakeHttp as Fake, FakeResponse as Resp};

/// Every (valid) value planted in the messages, as it is written.
const EMAILS: [&str; 3] =
    ["jean.dupont@exemple.fr", "anna.k@mail.co.uk", "support-bob@corp.example.com"];
const PHONES: [&str; 2] = ["+33 6 12 34 56 78", "06 98 76 54 32"];
const CARDS: [&str; 2] = ["4111 1111 1111 1111", "4111-1111-1111-1111"];
const IBANS: [&str; 2] = ["FR76 3000 6000 0112 3456 7890 189", "DE89370400440532013000"];
const GREETINGS: [&str; 4] = ["hi", "thanks!", "ok", "merci"];

fn planted() -> Vec<&'static str> {
    EMAILS.iter().chain(&PHONES).chain(&CARDS).chain(&IBANS).copied().collect()
}

/// Pieces of the planted values that must not survive either (the local part of an address,
/// digit runs of a card, an IBAN's body).
fn fragments() -> Vec<&'static str> {
    vec![
        "dupont",
        "anna.k",
        "support-bob",
        "12 34 56",
        "98 76 54",
        "1111 1111",
        "3000 6000",
        "370400440532",
    ]
}

/// Every file under `dir`, recursively, as bytes (the SQLite database and its journal included).
fn all_files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
}

fn assert_clean(what: &str, text: &str) {
    for p in planted().into_iter().chain(fragments()) {
        assert!(!text.contains(p), "{what} contains {p:?}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_never_leaves_the_fit_and_small_talk_is_set_aside() {
    let data = Clinc::load();
    let fake = Fake::start(|_, _| {
        let answer = json!({ "labels": [] }).to_string();
        Resp::json(
            200,
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": answer}]},
                "finishReason": "STOP", "index": 0}]}),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.labels = LabelConfig {
        provider: LabelProvider::Gemini,
        base_url: Some(format!("{}/v1beta", fake.base)),
        api_key: Some(ApiKey::new("test-key")),
        ..Default::default()
    };
    // The local encoder makes Transform with texts possible (its weights are found by the one
    // locator, which fails with a clear message when they are missing).
    cfg.embedding.model = Some(topicd_testing::locate::model_dir().to_string_lossy().into_owned());
    cfg.embedding.device = "cpu".into();
    cfg.embedding.allow_download = false;
    let server = TestServer::start(cfg).await;
    let mut c = server.client().await;

    // Six intents, 30 messages each; every message of the first two carries personal data.
    let intents = data.intents(6);
    let mut rows = Vec::new();
    for intent in &intents {
        rows.extend(data.rows_of(intent).into_iter().take(30));
    }
    let (mut docs, mut embs) = data.batch(&rows, "2026-11-23");
    let values = planted();
    for (j, d) in docs.iter_mut().take(60).enumerate() {
        d.text = format!("{} {}", d.text, values[j % values.len()]);
    }
    // Small talk, embedded like the first intent's messages so it would join its topic if kept.
    let n_content = docs.len();
    for (j, g) in GREETINGS.iter().cycle().take(12).enumerate() {
        docs.push(Document {
            id: format!("greeting-{j}"),
            text: g.to_string(),
            created_at: "2026-11-23T12:00:00Z".into(),
        });
        embs.push(Embedding { values: embs[j].values.clone() });
    }

    let fit = c
        .fit(fit_request("acme", docs.clone(), embs, "2026-11-23", "2026-11-24"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fit.small_talk, 12);
    for a in &fit.assignments[n_content..] {
        assert!(a.document_id.starts_with("greeting-"));
        assert_eq!((a.topic_id, a.score), (-2, 0.0));
    }
    assert!(fit.assignments[..n_content].iter().all(|a| a.topic_id >= -1));
    assert!(fit.topics.len() >= 4, "{} topics", fit.topics.len());
    for t in &fit.topics {
        assert!(t.topic_id >= 0);
        assert_clean("a Fit topic", &format!("{t:?}"));
    }

    c.merge(proto::MergeRequest {
        tenant_id: "acme".into(),
        day_version: fit.version.clone(),
        base_version: None,
        force: false,
    })
    .await
    .unwrap();

    // The prompt the label provider saw: masked samples only.
    let requests = fake.requests();
    assert!(!requests.is_empty(), "the label provider was not called");
    let prompt = requests[0].body["contents"][0]["parts"][0]["text"].as_str().unwrap().to_string();
    assert_clean("the label prompt", &prompt);
    assert!(prompt.contains("[email]") || prompt.contains("[card]"), "{prompt}");

    // The dashboard snapshot.
    let top = c
        .get_top_topics(proto::GetTopTopicsRequest {
            tenant_id: "acme".into(),
            limit: 10,
            include_trend: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!top.topics.is_empty());
    for t in &top.topics {
        assert!(t.topic_id >= 0);
        assert_clean("a top topic", &format!("{t:?}"));
        for g in GREETINGS {
            assert!(!t.sample_messages.iter().any(|s| s == g), "{g:?} in {t:?}");
            let bare = g.trim_end_matches('!');
            assert!(!t.keywords.iter().any(|k| k.word == bare), "{g:?} a keyword of {t:?}");
        }
    }

    // Transform with texts: small talk is tagged -2 "small talk", content gets a topic.
    {
        let texts = vec!["thanks!".to_string(), "ok".to_string(), data.texts[rows[100]].clone()];
        let tagged = c
            .transform(proto::TransformRequest {
                tenant_id: "acme".into(),
                texts,
                embeddings: vec![],
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(tagged.results.len(), 3);
        assert_eq!(tagged.small_talk, 2);
        for r in &tagged.results[..2] {
            assert_eq!((r.topic_id, r.label.as_str(), r.score), (-2, "small talk", 0.0));
        }
        assert!(tagged.results[2].topic_id >= -1);
    }

    server.stop().await;
    // Every byte the server wrote: model files, database, journal.
    let mut files = Vec::new();
    all_files(dir.path(), &mut files);
    assert!(
        files.iter().any(|(p, _)| p.ends_with("config.json")),
        "no model files under the data dir"
    );
    for (path, bytes) in &files {
        for p in planted().into_iter().chain(fragments()) {
            assert!(!bytes.windows(p.len()).any(|w| w == p.as_bytes()), "{path} contains {p:?}");
        }
    }
}
