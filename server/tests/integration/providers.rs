//! Remote providers against a local fake HTTP server that speaks Gemini's and OpenAI's real
//! request and response JSON: batching, re-normalisation, retries (429 with a retry delay, 5xx,
//! slow answers), malformed answers, label validation, and the API key never leaking.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use topicd::providers::{
    build_embedder, build_labeler, label_or_keywords, ApiKey, EmbedProvider, EmbeddingConfig,
    LabelConfig, LabelProvider, ProviderError, RetryPolicy, TopicToLabel,
};
use topicd_testing::{FakeHttp as Fake, FakeRequest as Req, FakeResponse as Resp};

const KEY: &str = "SECRET-KEY-0123456789";

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        timeout_ms: 5_000,
        initial_backoff_ms: 1,
        max_backoff_ms: 5,
        ..Default::default()
    }
}

fn gemini_embed_cfg(base: &str, retry: RetryPolicy) -> EmbeddingConfig {
    EmbeddingConfig {
        provider: EmbedProvider::Gemini,
        base_url: Some(format!("{base}/v1beta")),
        api_key: Some(ApiKey::new(KEY)),
        retry,
        ..Default::default()
    }
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("text {i}")).collect()
}

/// A Gemini `batchEmbedContents` answer: text "text i" → a non-unit vector starting [i+1, 2, 0, …].
fn gemini_vectors(req: &Req, dim: usize) -> Value {
    let embeddings: Vec<Value> = req.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = r["content"]["parts"][0]["text"].as_str().unwrap();
            let i: f32 = text.trim_start_matches("text ").parse().unwrap();
            let mut v = vec![0.0f32; dim];
            v[0] = i + 1.0;
            v[1] = 2.0;
            json!({ "values": v })
        })
        .collect();
    json!({ "embeddings": embeddings })
}

fn check_rows(m: &topic_engine::Matrix, n: usize) {
    assert_eq!(m.rows(), n);
    for i in 0..n {
        let r = m.row(i);
        let norm = ((i as f32 + 1.0).powi(2) + 4.0).sqrt();
        assert!(
            (r[0] - (i as f32 + 1.0) / norm).abs() < 1e-6,
            "row {i} out of order or not normalised"
        );
        assert!((r[1] - 2.0 / norm).abs() < 1e-6);
        let len: f32 = r.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((len - 1.0).abs() < 1e-5);
    }
}

#[tokio::test]
async fn gemini_embeddings_batch_at_100_and_are_renormalised() {
    let fake = Fake::start(|_, req| Resp::json(200, gemini_vectors(req, 768))).await;
    let emb = build_embedder(&gemini_embed_cfg(&fake.base, fast_retry(1))).unwrap();
    assert_eq!(
        (emb.dimension(), emb.max_batch(), emb.model_name()),
        (768, 100, "gemini-embedding-001")
    );
    let m = emb.embed(&texts(250)).await.unwrap();
    check_rows(&m, 250);

    let reqs = fake.requests();
    let mut sizes: Vec<usize> =
        reqs.iter().map(|r| r.body["requests"].as_array().unwrap().len()).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![50, 100, 100]);
    for r in &reqs {
        assert_eq!(r.path, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
        assert_eq!(r.header("x-goog-api-key"), Some(KEY));
        assert!(!r.path.contains(KEY));
        let first = &r.body["requests"][0];
        assert_eq!(first["model"], "models/gemini-embedding-001");
        assert_eq!(first["taskType"], "CLUSTERING");
        assert_eq!(first["outputDimensionality"], 768);
    }
    assert_eq!(emb.embed(&[]).await.unwrap().rows(), 0);
}

#[tokio::test]
async fn gemini_429_with_retry_delay_then_success() {
    let fake = Fake::start(|n, req| {
        if n == 0 {
            Resp::json(
                429,
                json!({"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED",
                    "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.05s"}]}}),
            )
        } else {
            Resp::json(200, gemini_vectors(req, 768))
        }
    })
    .await;
    let emb = build_embedder(&gemini_embed_cfg(&fake.base, fast_retry(3))).unwrap();
    let m = emb.embed(&texts(3)).await.unwrap();
    check_rows(&m, 3);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn openai_429_with_retry_after_then_success_and_index_order() {
    let fake = Fake::start(|n, req| {
        if n == 0 {
            let mut r = Resp::json(429, json!({"error": {"message": "Rate limit reached", "type": "requests"}}));
            r.headers.push(("retry-after", "0".into()));
            return r;
        }
        let input = req.body["input"].as_array().unwrap();
        // Answer in reverse order with explicit indices.
        let data: Vec<Value> = (0..input.len())
            .rev()
            .map(|i| {
                let t: f32 = input[i].as_str().unwrap().trim_start_matches("text ").parse().unwrap();
                json!({"object": "embedding", "index": i, "embedding": [t + 1.0, 2.0, 0.0]})
            })
            .collect();
        Resp::json(200, json!({"object": "list", "data": data, "model": "m", "usage": {"prompt_tokens": 9, "total_tokens": 9}}))
    })
    .await;
    let cfg = EmbeddingConfig {
        provider: EmbedProvider::Openai,
        model: Some("nomic-embed-text".into()),
        base_url: Some(format!("{}/v1", fake.base)),
        api_key: Some(ApiKey::new(KEY)),
        batch_size: Some(4),
        retry: fast_retry(3),
        ..Default::default()
    };
    let emb = build_embedder(&cfg).unwrap();
    let m = emb.embed(&texts(3)).await.unwrap();
    check_rows(&m, 3);
    assert_eq!(emb.dimension(), 3);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].path, "/v1/embeddings");
    assert_eq!(reqs[1].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(reqs[1].body["model"], "nomic-embed-text");
}

#[tokio::test]
async fn repeated_500_ends_in_a_clear_error() {
    let fake = Fake::start(|_, _| {
        Resp::json(500, json!({"error": {"code": 500, "message": "Internal error encountered."}}))
    })
    .await;
    let emb = build_embedder(&gemini_embed_cfg(&fake.base, fast_retry(3))).unwrap();
    let err = emb.embed(&texts(2)).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ProviderError::Remote { provider: "gemini", .. }), "{err:?}");
    assert!(
        msg.contains("giving up after 3 attempt(s)")
            && msg.contains("HTTP 500: Internal error encountered."),
        "{msg}"
    );
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let fake = Fake::start(|_, _| {
        Resp::json(
            400,
            json!({"error": {"code": 400, "message": "Request contains an invalid argument."}}),
        )
    })
    .await;
    let emb = build_embedder(&gemini_embed_cfg(&fake.base, fast_retry(4))).unwrap();
    let msg = emb.embed(&texts(2)).await.unwrap_err().to_string();
    assert!(msg.contains("HTTP 400: Request contains an invalid argument."), "{msg}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn slow_answers_time_out() {
    let fake = Fake::start(|_, req| {
        let mut r = Resp::json(200, gemini_vectors(req, 768));
        r.delay = Duration::from_secs(3);
        r
    })
    .await;
    let retry = RetryPolicy { timeout_ms: 100, ..fast_retry(2) };
    let emb = build_embedder(&gemini_embed_cfg(&fake.base, retry)).unwrap();
    let err = emb.embed(&texts(1)).await.unwrap_err();
    assert!(matches!(err, ProviderError::Timeout { provider: "gemini", attempts: 2 }), "{err:?}");
}

#[tokio::test]
async fn wrong_vector_count_and_bad_json_are_malformed() {
    let fake = Fake::start(|n, _| {
        if n == 0 {
            Resp::json(200, json!({"embeddings": [{"values": [1.0, 0.0]}]}))
        } else {
            Resp { status: 200, headers: vec![], body: "<html>oops".into(), delay: Duration::ZERO }
        }
    })
    .await;
    let emb = build_embedder(&gemini_embed_cfg(&fake.base, fast_retry(1))).unwrap();
    let err = emb.embed(&texts(2)).await.unwrap_err();
    assert!(err.to_string().contains("1 vectors for 2 texts"), "{err}");
    let err = emb.embed(&texts(2)).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Malformed { .. }) && err.to_string().contains("not JSON"),
        "{err}"
    );
}

#[tokio::test]
async fn wrong_dimension_is_malformed() {
    let fake = Fake::start(|_, req| Resp::json(200, gemini_vectors(req, 10))).await;
    let emb = build_embedder(&gemini_embed_cfg(&fake.base, fast_retry(1))).unwrap();
    let err = emb.embed(&texts(2)).await.unwrap_err();
    assert!(err.to_string().contains("has 10 values, expected 768"), "{err}");
}

/// A buffer the tracing subscriber writes into, to check what the logs say.
#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_never_appears_in_errors_or_logs() {
    let logs = LogBuf::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // A service that echoes the key back in its error bodies (some do).
    let fake = Fake::start(|n, _| {
        let status = if n == 0 { 503 } else { 401 };
        Resp::json(status, json!({"error": {"message": format!("API key {KEY} not valid. Please pass a valid API key.")}}))
    })
    .await;
    let cfg = gemini_embed_cfg(&fake.base, fast_retry(3));
    assert!(!format!("{cfg:?}").contains(KEY));
    let emb = build_embedder(&cfg).unwrap();
    let err = emb.embed(&texts(1)).await.unwrap_err();
    let msg = format!("{err} {err:?}");
    assert!(msg.contains("HTTP 401") && msg.contains("<redacted>"), "{msg}");
    assert!(!msg.contains(KEY), "{msg}");
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("retrying"), "the 503 should have been logged: {logged}");
    assert!(!logged.contains(KEY), "{logged}");
}

fn twenty_topics() -> Vec<TopicToLabel> {
    let themes = [
        ("card", "delivery", "when will my new card arrive"),
        ("transfer", "bank", "move money to my savings account"),
        ("weather", "rain", "will it rain tomorrow in boston"),
        ("flight", "status", "is my flight to denver on time"),
        ("pto", "days", "how many vacation days do i have left"),
        ("recipe", "dinner", "give me a recipe for lasagna"),
        ("alarm", "wake", "set an alarm for 6am"),
        ("translate", "spanish", "how do you say thank you in spanish"),
        ("credit", "score", "what is my credit score"),
        ("insurance", "claim", "file an insurance claim for my car"),
        ("music", "play", "play some jazz music"),
        ("timer", "minutes", "set a timer for ten minutes"),
        ("pin", "change", "i want to change my pin number"),
        ("bill", "due", "when is my electricity bill due"),
        ("restaurant", "reservation", "book a table for two at 7"),
        ("uber", "ride", "get me an uber to the airport"),
        ("calories", "food", "how many calories are in an apple"),
        ("meeting", "schedule", "schedule a meeting with tom friday"),
        ("oil", "change", "when do i need an oil change"),
        ("password", "reset", "i forgot my password\u{0} \u{7}please reset it"),
    ];
    themes
        .iter()
        .enumerate()
        .map(|(i, (a, b, s))| TopicToLabel {
            topic_id: i as i64,
            keywords: vec![a.to_string(), b.to_string(), format!("{a} {b}")],
            samples: vec![s.to_string(), format!("{a} {b} question")],
            ..Default::default()
        })
        .collect()
}

fn gemini_label_cfg(base: &str) -> LabelConfig {
    LabelConfig {
        provider: LabelProvider::Gemini,
        base_url: Some(format!("{base}/v1beta")),
        api_key: Some(ApiKey::new(KEY)),
        retry: fast_retry(2),
        ..Default::default()
    }
}

fn gemini_text_answer(text: &str) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 812, "candidatesTokenCount": 240, "totalTokenCount": 1052},
        "modelVersion": "gemini-2.5-flash"
    })
}

#[tokio::test]
async fn gemini_labels_twenty_topics_in_one_call_with_fallbacks() {
    // The model answers 18 of the 20 topics (not 7, not 19) and one id it was not asked about.
    let fake = Fake::start(|_, _| {
        let mut labels: Vec<Value> = (0..20)
            .filter(|i| *i != 7 && *i != 19)
            .map(|i| json!({"topic_id": i, "label": format!("Label for topic {i}")}))
            .collect();
        labels.push(json!({"topic_id": 99, "label": "Invented"}));
        Resp::json(200, gemini_text_answer(&json!({ "labels": labels }).to_string()))
    })
    .await;
    let labeler = build_labeler(&gemini_label_cfg(&fake.base)).unwrap();
    assert_eq!(labeler.name(), "gemini:gemini-2.5-flash");
    let topics = twenty_topics();
    let out = labeler.label(&topics).await.unwrap();

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1, "all topics go in one call");
    let req = &reqs[0];
    assert_eq!(req.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(req.header("x-goog-api-key"), Some(KEY));
    let gen = &req.body["generationConfig"];
    assert_eq!(gen["temperature"], 0);
    assert_eq!(gen["responseMimeType"], "application/json");
    assert_eq!(gen["responseSchema"]["properties"]["labels"]["type"], "ARRAY");
    let prompt = req.body["contents"][0]["parts"][0]["text"].as_str().unwrap();
    eprintln!("---- prompt sent for 20 topics ----\n{prompt}\n---- parsed labels ----");
    for (id, label) in &out.labels {
        eprintln!(
            "{id:>3}: {label}{}",
            if out.fallbacks.contains(id) { "  (keyword fallback)" } else { "" }
        );
    }
    assert!(prompt.starts_with("Label these 20 topics."));
    assert!(prompt.contains("Topic 0\nKeywords: card, delivery, card delivery\nMessages:\n- \"when will my new card arrive\"\n"));
    assert!(
        prompt.contains("- \"i forgot my password please reset it\""),
        "control characters must be stripped"
    );
    assert!(!prompt.contains('\u{0}'));

    assert_eq!(out.labels.len(), 20);
    assert_eq!(out.labels[&0], "Label for topic 0");
    assert_eq!(out.fallbacks, vec![7, 19]);
    assert_eq!(out.labels[&7], "Translate spanish");
    assert_eq!(out.labels[&19], "Password reset");
    assert!(!out.labels.contains_key(&99));
}

#[tokio::test]
async fn gemini_non_json_label_answer_falls_back_to_keywords() {
    let fake = Fake::start(|_, _| {
        Resp::json(200, gemini_text_answer("Here are your labels: card stuff, weather"))
    })
    .await;
    let labeler = build_labeler(&gemini_label_cfg(&fake.base)).unwrap();
    let topics = twenty_topics();
    let out = labeler.label(&topics[..3]).await.unwrap();
    assert_eq!(out.fallbacks, vec![0, 1, 2]);
    assert_eq!(out.labels[&1], "Transfer bank");
}

#[tokio::test]
async fn labeling_failure_is_an_error_and_label_or_keywords_falls_back() {
    let fake =
        Fake::start(|_, _| Resp::json(503, json!({"error": {"message": "overloaded"}}))).await;
    let labeler = build_labeler(&gemini_label_cfg(&fake.base)).unwrap();
    let topics = twenty_topics();
    let err = labeler.label(&topics[..2]).await.unwrap_err();
    assert!(err.to_string().contains("HTTP 503: overloaded"), "{err}");
    let out = label_or_keywords(labeler.as_ref(), &topics[..2]).await;
    assert_eq!(out.fallbacks, vec![0, 1]);
    assert_eq!(out.labels[&0], "Card delivery");
}

#[tokio::test]
async fn openai_labels_use_json_response_format() {
    let fake = Fake::start(|_, req| {
        let content = json!({"labels": [{"topic_id": 0, "label": "Card delivery"}, {"topic_id": 1, "label": "Bank transfers"}]});
        let _ = req;
        Resp::json(
            200,
            json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}}),
        )
    })
    .await;
    let cfg = LabelConfig {
        provider: LabelProvider::Openai,
        base_url: Some(format!("{}/v1", fake.base)),
        api_key: Some(ApiKey::new(KEY)),
        retry: fast_retry(1),
        ..Default::default()
    };
    let labeler = build_labeler(&cfg).unwrap();
    let topics = twenty_topics();
    let out = labeler.label(&topics[..3]).await.unwrap();
    assert_eq!(out.labels[&0], "Card delivery");
    assert_eq!(out.labels[&1], "Bank transfers");
    assert_eq!(out.fallbacks, vec![2]);
    let req = &fake.requests()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.body["response_format"]["type"], "json_object");
    assert_eq!(req.body["temperature"], 0);
    assert_eq!(req.body["messages"][0]["role"], "system");
    assert!(req.body["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("Topic 2\nKeywords: weather, rain, weather rain"));
}

#[tokio::test]
async fn model_hub_download_lays_out_the_cache() {
    let fake = Fake::start(|_, req| {
        let mut r = Resp {
            status: 200,
            headers: vec![],
            body: format!("contents of {}", req.path),
            delay: Duration::ZERO,
        };
        r.headers.push(("x-repo-commit", "abc123".into()));
        r
    })
    .await;
    let cache = tempfile::tempdir().unwrap();
    let dir = topicd::providers::local::download_hub_model(
        &fake.base,
        cache.path(),
        "org/model",
        Some("hf-token"),
    )
    .await
    .unwrap();
    assert_eq!(dir, cache.path().join("models--org--model/snapshots/abc123"));
    let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap();
    assert_eq!(cfg, "contents of /org/model/resolve/main/config.json");
    assert!(dir.join("tokenizer.json").is_file() && dir.join("model.safetensors").is_file());
    assert_eq!(
        std::fs::read_to_string(cache.path().join("models--org--model/refs/main")).unwrap(),
        "abc123"
    );
    assert_eq!(fake.requests()[0].header("authorization"), Some("Bearer hf-token"));
}

#[tokio::test]
async fn local_embedder_is_the_offline_default() {
    let dir = topicd_testing::locate::model_dir();
    let cfg = EmbeddingConfig {
        model: Some(dir.to_string_lossy().into_owned()),
        device: "cpu".into(),
        ..Default::default()
    };
    let emb = build_embedder(&cfg).unwrap();
    assert_eq!(
        (emb.model_name(), emb.dimension(), emb.max_batch()),
        ("sentence-transformers/all-MiniLM-L6-v2", 384, 64)
    );
    let texts = vec![
        "when will my card arrive".to_string(),
        "is it going to rain".to_string(),
        "where is my new card".to_string(),
    ];
    let m = emb.embed(&texts).await.unwrap();
    assert_eq!((m.rows(), m.cols()), (3, 384));
    let dot = |a: usize, b: usize| m.row(a).iter().zip(m.row(b)).map(|(x, y)| x * y).sum::<f32>();
    assert!((dot(0, 0) - 1.0).abs() < 1e-4);
    assert!(dot(0, 2) > dot(0, 1), "the two card questions must be closer than card vs rain");
}
