//! `topics providers check` and `topics embed` against a fake OpenAI-compatible server (real
//! request/response JSON, no network, no keys) and, when its weights are present, the local
//! encoder.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use topicd_testing::{FakeHttp, FakeRequest, FakeResponse};
use topics::providers::{check, Status, Which};

const KEY: &str = "sk-test-NEVER-PRINTED";

fn topics_bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_topics"));
    // Nothing from the developer's own environment decides what is checked.
    for var in [
        "TOPICD_EMBED_PROVIDER",
        "TOPICD_EMBED_MODEL",
        "TOPICD_EMBED_BASE_URL",
        "TOPICD_EMBED_DIMENSION",
        "TOPICD_EMBED_BATCH_SIZE",
        "TOPICD_LABEL_PROVIDER",
        "TOPICD_LABEL_MODEL",
        "TOPICD_LABEL_BASE_URL",
        "GEMINI_API_KEY",
        "OPENAI_API_KEY",
    ] {
        c.env_remove(var);
    }
    c
}

/// An OpenAI-compatible server: texts about money map near [1, 0.1, 0], others to [0, 0.2, 1]
/// (not unit length: the client re-normalises); labels for every topic id asked about.
async fn fake_openai(vector_count_delta: isize) -> FakeHttp {
    FakeHttp::start(move |_, req: &FakeRequest| {
        if req.path.ends_with("/embeddings") {
            let input = req.body["input"].as_array().cloned().unwrap_or_default();
            let n = (input.len() as isize + vector_count_delta).max(0) as usize;
            let data: Vec<Value> = (0..n)
                .map(|i| {
                    let text = input.get(i).and_then(Value::as_str).unwrap_or("");
                    let v = if text.contains("refund") || text.contains("money") {
                        [2.0, 0.2, 0.0]
                    } else {
                        [0.0, 0.4, 2.0]
                    };
                    json!({"object": "embedding", "index": i, "embedding": v})
                })
                .collect();
            return FakeResponse::json(
                200,
                json!({"object": "list", "data": data, "model": req.body["model"],
                       "usage": {"prompt_tokens": 12, "total_tokens": 12}}),
            );
        }
        let content = json!({ "labels": [{"topic_id": 0, "label": "Refunds"},
                                         {"topic_id": 1, "label": "Password resets"}] });
        FakeResponse::json(
            200,
            json!({"id": "chatcmpl-1", "object": "chat.completion", "model": req.body["model"],
                   "choices": [{"index": 0, "message": {"role": "assistant",
                       "content": content.to_string()}, "finish_reason": "stop"}]}),
        )
    })
    .await
}

fn openai_vars(base: &str) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| match k {
        "OPENAI_API_KEY" => Some(KEY.into()),
        "TOPICD_EMBED_PROVIDER" | "TOPICD_LABEL_PROVIDER" => Some("openai".into()),
        "TOPICD_EMBED_BASE_URL" | "TOPICD_LABEL_BASE_URL" => Some(format!("{base}/v1")),
        "TOPICD_EMBED_MODEL" => Some("nomic-embed-text".into()),
        _ => None,
    }
}

#[tokio::test]
async fn without_keys_or_weights_every_check_is_skipped() {
    let vars = |k: &str| (k == "TOPICD_EMBED_MODEL").then(|| "/no/such/model".to_string());
    let results = check(Which::All, &vars).await.unwrap();
    let seen: Vec<(&str, &str)> = results.iter().map(|r| (r.provider, r.kind)).collect();
    assert_eq!(
        seen,
        [
            ("local", "embed"),
            ("gemini", "embed"),
            ("gemini", "labels"),
            ("openai", "embed"),
            ("openai", "labels")
        ]
    );
    assert!(results.iter().all(|r| r.status == Status::Skipped), "{results:?}");
    assert!(results[1].detail.contains("GEMINI_API_KEY"), "{results:?}");
    assert!(results[0].detail.contains("fetch-model"), "{results:?}");
}

#[tokio::test]
async fn openai_compatible_endpoint_passes_the_check() {
    let fake = fake_openai(0).await;
    let vars = openai_vars(&fake.base);
    let results = check(Which::Openai, &vars).await.unwrap();
    assert_eq!(results.len(), 2, "{results:?}");
    for r in &results {
        assert_eq!(r.status, Status::Ok, "{r:?}");
    }
    assert_eq!(results[0].model, "nomic-embed-text");
    assert!(results[0].detail.starts_with("3 dims"), "{results:?}");
    assert!(results[1].detail.contains("\"Refunds\""), "{results:?}");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "one embedding call and one label call");
    assert_eq!(reqs[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
}

#[tokio::test]
async fn a_wrong_answer_fails_the_check_without_leaking_the_key() {
    let fake = fake_openai(-1).await;
    let vars = openai_vars(&fake.base);
    let results = check(Which::Openai, &vars).await.unwrap();
    assert_eq!(results[0].status, Status::Failed, "{results:?}");
    assert!(results[0].detail.contains("2 vectors for 3 texts"), "{results:?}");
    assert!(!format!("{results:?}").contains(KEY));
}

#[tokio::test]
async fn the_command_reports_skips_and_exits_zero_without_keys() {
    let out = tokio::task::spawn_blocking(|| {
        topics_bin()
            .args(["providers", "check", "--provider", "gemini", "--json"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["failed"], 0);
    let checks = body["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert!(checks.iter().all(|c| c["status"] == "skipped"), "{body}");
}

#[tokio::test]
async fn the_command_fails_when_a_configured_provider_answers_wrong() {
    let fake = fake_openai(1).await;
    let base = fake.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        topics_bin()
            .args(["providers", "check", "--provider", "openai"])
            .env("OPENAI_API_KEY", KEY)
            .env("TOPICD_EMBED_BASE_URL", format!("{base}/v1"))
            .env("TOPICD_EMBED_PROVIDER", "openai")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("FAILED") && stdout.contains("4 vectors for 3 texts"), "{stdout}");
    assert!(!stdout.contains(KEY));
}

/// `topics embed --docs DOCS --out OUT` with a clean environment.
fn embed_cmd(docs: &Path, out: &Path) -> Command {
    let mut c = topics_bin();
    c.arg("embed").arg("--docs").arg(docs).arg("--out").arg(out);
    c
}

fn write_docs(dir: &Path, texts: &[&str]) -> PathBuf {
    let p = dir.join("docs.jsonl");
    let body: String =
        texts.iter().map(|t| format!("{}\n", json!({ "text": t, "tenant_id": "t1" }))).collect();
    std::fs::write(&p, body).unwrap();
    p
}

fn read_npy(p: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(p).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec().unwrap())
}

#[tokio::test]
async fn embed_writes_normalised_rows_in_input_order_through_an_openai_endpoint() {
    let fake = fake_openai(0).await;
    let base = fake.base.clone();
    let dir = tempfile::tempdir().unwrap();
    let docs = write_docs(dir.path(), &["weather today", "refund please", "more money", "hi"]);
    let out = dir.path().join("e.npy");
    let (docs2, out2) = (docs.clone(), out.clone());
    let run = tokio::task::spawn_blocking(move || {
        embed_cmd(&docs2, &out2)
            .args(["--provider", "openai", "--model", "m", "--batch-size", "3"])
            .arg("--base-url")
            .arg(format!("{base}/v1"))
            .env("OPENAI_API_KEY", KEY)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (shape, data) = read_npy(&out);
    assert_eq!(shape, [4, 3]);
    let norm = (2.0f32 * 2.0 + 0.2 * 0.2).sqrt();
    assert!((data[3] - 2.0 / norm).abs() < 1e-5, "{data:?}"); // row 1 is about a refund
    assert!(data[0].abs() < 1e-6 && (data[2] - 2.0 / (4.16f32).sqrt()).abs() < 1e-5);
    let mut inputs: Vec<usize> =
        fake.requests().iter().map(|r| r.body["input"].as_array().unwrap().len()).collect();
    inputs.sort_unstable(); // the batches are sent concurrently
    assert_eq!(inputs, [1, 3], "batches of --batch-size");
    // No temporary file is left next to the output.
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn embed_refuses_bad_input_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let docs = write_docs(dir.path(), &["fine", "  "]);
    let out = dir.path().join("e.npy");
    let run = embed_cmd(&docs, &out)
        .args(["--provider", "openai"])
        .env("OPENAI_API_KEY", KEY)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(err.contains("document 2 has an empty text"), "{err}");
    assert!(!out.exists());

    let docs = write_docs(dir.path(), &["fine"]);
    let run = embed_cmd(&docs, &out).args(["--provider", "gemini"]).output().unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(err.contains("GEMINI_API_KEY"), "{err}");
    assert!(!out.exists());
}

#[test]
fn embed_with_the_local_encoder_matches_the_engine() {
    let model = topicd_testing::locate::model_dir();
    let texts = ["how do I reset my password", "my card has not arrived yet", "thanks!"];
    let dir = tempfile::tempdir().unwrap();
    let docs = write_docs(dir.path(), &texts);
    let out = dir.path().join("e.npy");
    let run = embed_cmd(&docs, &out)
        .arg("--model")
        .arg(&model)
        .args(["--device", "cpu"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (shape, data) = read_npy(&out);
    assert_eq!(shape, [3, 384]);
    let enc = topic_encoder::LocalEncoder::load(
        model.to_str().unwrap(),
        &topic_engine::device::TensorDevice::Cpu,
    )
    .unwrap();
    let want = enc.encode(&texts.map(String::from)).unwrap();
    for (a, b) in data.iter().zip(want.as_slice()) {
        assert!((a - b).abs() < 1e-5);
    }
}
