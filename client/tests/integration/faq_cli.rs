//! `topics faq` (issue 29) against a real server: one night through `topics nightly --jsonl`
//! (three synthetic intents with their embeddings, a planted email), then the FAQ as JSON,
//! Markdown and CSV, and clear errors for an unknown tenant and a bad format.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use tokio::sync::oneshot;

fn topics(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_topics"))
        .args(args)
        .env_remove("TOPICS_TOKEN")
        .env_remove("TOPICS_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("topics runs")
}

/// 60 messages of three intents (20 each) on 2026-11-24, with 8-d embeddings near one axis
/// per intent.
fn write_night(path: &Path) {
    let intents = [
        ("how do I get a refund for my order", 0),
        ("why was my card declined at the shop", 1),
        ("what is the weather tomorrow in town", 2),
    ];
    let mut out = String::new();
    for i in 0..60usize {
        let (text, axis) = intents[i % 3];
        let mut row = vec![0.02 * ((i * 7 % 11) as f32 - 5.0); 8];
        row[axis] = 1.0;
        let text = if i == 3 {
            format!("{text} {i}, mail me at ann@example.com")
        } else {
            format!("{text} {i}")
        };
        let line = serde_json::json!({
            "tenant_id": "acme",
            "id": format!("m{i}"),
            "text": text,
            "created_at": format!("2026-11-24T{:02}:00:00Z", 4 + i % 12),
            "embedding": row,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_command_prints_json_markdown_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = topicd::config::Config::for_data_dir(dir.path().join("data"));
    config.device = "cpu".into();
    let app = topicd::app::App::build(config).await.expect("topicd builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(topicd::app::serve(app, listener, async move {
        let _ = stopped.await;
    }));
    let night = dir.path().join("night.jsonl");
    write_night(&night);
    let server = url.clone();
    let n = tokio::task::spawn_blocking(move || {
        topics(&[
            "--server",
            &server,
            "nightly",
            "--jsonl",
            night.to_str().unwrap(),
            "--since",
            "2026-11-24T00:00:00Z",
            "--until",
            "2026-11-25T00:00:00Z",
        ])
    })
    .await
    .unwrap();
    assert!(n.status.success(), "{}", String::from_utf8_lossy(&n.stderr));

    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            topics(&a)
        })
    };
    let args = |extra: &[&str]| -> Vec<String> {
        ["--server", url.as_str(), "faq"].iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let json = run(args(&["--tenant", "acme"])).await.unwrap();
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["tenant_id"], "acme");
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{v}");
    for e in entries {
        assert!(e["article"].is_null());
        assert!(e["message_count"].as_u64().unwrap() >= 10);
        assert!(e["question"].as_str().unwrap().ends_with('?'), "{e}");
        let ex = e["examples"].as_array().unwrap();
        assert!(!ex.is_empty() && ex.len() <= 8);
    }
    let all = String::from_utf8_lossy(&json.stdout).to_string();
    assert!(!all.contains("ann@example.com"), "{all}");

    let md = run(args(&["--tenant", "acme", "--format", "markdown"])).await.unwrap();
    assert!(md.status.success());
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("# FAQ of acme\n") && md.contains("## 3. "), "{md}");
    let csv = run(args(&["--tenant", "acme", "--format", "csv"])).await.unwrap();
    assert!(csv.status.success());
    assert_eq!(String::from_utf8(csv.stdout).unwrap().lines().count(), 4);

    let bad = run(args(&["--tenant", "nobody"])).await.unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("GetFaq") && err.contains("nobody") && err.contains("no active model"),
        "{err}"
    );
    let bad = run(args(&["--tenant", "acme", "--format", "xml"])).await.unwrap();
    assert_eq!(bad.status.code(), Some(2), "clap rejects the format");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("markdown"));

    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
