//! Acceptance test of `topics nightly` (issue 7): the real `topics` binary against a throwaway
//! PostgreSQL holding the default `conversation_messages` table and an in-process `topicd`
//! (SQLite + a local model directory, texts embedded by the local encoder).
//!
//! Three tenants have inbound messages in the window: `tiny` (under 10: skipped), `broken` (one
//! message over the server's `limits.max_text_bytes`, so its Fit is refused with
//! INVALID_ARGUMENT, which is not retried: failed) and `acme` (120 CLINC150 questions over 8
//! intents: fitted and merged). Outbound messages, messages outside the window and a tenant with
//! only old messages must all be ignored. A second run for the same window changes nothing;
//! `--force` fits and merges again.
//!
//! Skipped, with a notice, when the encoder weights (`scripts/fetch-model.sh`) or the CLINC150
//! data set are absent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use tokio::sync::oneshot;
use topicd_proto::topics_client::TopicsClient;
use topicd_proto::{self as proto, ModelInfo};
use topicd_testing::PgCluster;

/// The window of every run: since 2026-11-24T03:00Z until 2026-11-25T03:00Z.
const SINCE: &str = "2026-11-24T03:00:00Z";
const UNTIL: &str = "2026-11-25T03:00:00Z";
/// The server's text limit in this test; `broken` has one message over it.
const MAX_TEXT_BYTES: usize = 2048;
/// CLINC150 intents and questions per intent for `acme`.
const ACME_INTENTS: usize = 8;
const PER_INTENT: usize = 15;

fn window_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap()
}

/// CLINC150: texts and labels in file order, and (when asked for) the reference embeddings.
struct Clinc {
    texts: Vec<String>,
    labels: Vec<String>,
    dim: usize,
    embeddings: Vec<f32>,
}

impl Clinc {
    fn load(jsonl: &Path, with_embeddings: bool) -> Clinc {
        let mut texts = Vec::new();
        let mut labels = Vec::new();
        for line in std::fs::read_to_string(jsonl).unwrap().lines() {
            let row: Value = serde_json::from_str(line).unwrap();
            texts.push(row["text"].as_str().unwrap().to_string());
            labels.push(row["label"].as_str().unwrap().to_string());
        }
        let (dim, embeddings) = if with_embeddings {
            // .npy v1/v2: magic(6) version(2) header length(2 or 4) header, then f32 rows.
            let npy = std::fs::read(jsonl.with_extension("npy")).unwrap();
            assert_eq!(&npy[..6], b"\x93NUMPY");
            let (header, offset) = if npy[6] == 1 {
                (u16::from_le_bytes([npy[8], npy[9]]) as usize, 10)
            } else {
                (u32::from_le_bytes([npy[8], npy[9], npy[10], npy[11]]) as usize, 12)
            };
            let values: Vec<f32> = npy[offset + header..]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (values.len() / texts.len(), values)
        } else {
            (0, Vec::new())
        };
        Clinc { texts, labels, dim, embeddings }
    }

    /// Rows `skip .. skip + per_intent` of each of the first `intents` intents (not `oos`), in
    /// file order.
    fn rows(&self, intents: usize, skip: usize, per_intent: usize) -> Vec<usize> {
        let mut by_intent: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, label) in self.labels.iter().enumerate() {
            if label == "oos" {
                continue;
            }
            if let Some(k) = by_intent.iter().position(|(l, _)| l == label) {
                by_intent[k].1.push(i);
            } else if by_intent.len() < intents {
                by_intent.push((label, vec![i]));
            }
        }
        assert_eq!(by_intent.len(), intents);
        by_intent
            .into_iter()
            .flat_map(|(_, rows)| {
                assert!(rows.len() >= skip + per_intent);
                rows.into_iter().skip(skip).take(per_intent)
            })
            .collect()
    }

    fn texts(&self, rows: &[usize]) -> Vec<String> {
        rows.iter().map(|&i| self.texts[i].clone()).collect()
    }

    fn embedding(&self, row: usize) -> &[f32] {
        &self.embeddings[row * self.dim..(row + 1) * self.dim]
    }
}

/// One row of `conversation_messages`.
struct Row {
    tenant: &'static str,
    direction: &'static str,
    text: String,
    created_at: DateTime<Utc>,
}

impl Row {
    fn new(tenant: &'static str, direction: &'static str, text: &str, minutes: i64) -> Self {
        Row {
            tenant,
            direction,
            text: text.to_string(),
            created_at: window_start() + chrono::Duration::minutes(minutes),
        }
    }
}

/// The table's rows; returns them and `acme`'s inbound count in the window.
fn rows(clinc: &Clinc) -> (Vec<Row>, usize) {
    let acme_texts = clinc.texts(&clinc.rows(ACME_INTENTS, 0, PER_INTENT));
    let other_texts = clinc.texts(&clinc.rows(ACME_INTENTS, PER_INTENT, PER_INTENT));
    let mut rows = Vec::new();
    // acme: 120 inbound questions spread over the window (every 11 minutes: 0 … 1309 min).
    for (i, text) in acme_texts.iter().enumerate() {
        rows.push(Row::new("acme", "inbound", text, i as i64 * 11));
    }
    let acme_inbound = acme_texts.len();
    // acme: agent replies in the window, and inbound messages just outside it on both sides
    // (the end is exclusive).
    for (i, text) in other_texts.iter().take(20).enumerate() {
        rows.push(Row::new("acme", "outbound", text, i as i64 * 11 + 1));
    }
    for (i, text) in other_texts.iter().skip(20).take(10).enumerate() {
        rows.push(Row::new("acme", "inbound", text, -1 - i as i64 * 30));
    }
    for (i, text) in other_texts.iter().skip(30).take(5).enumerate() {
        rows.push(Row::new("acme", "inbound", text, 24 * 60 + i as i64 * 30));
    }
    // tiny: 6 inbound in the window; its 12 replies and 12 older questions must not lift it to
    // the minimum of 10.
    for (i, text) in other_texts.iter().take(6).enumerate() {
        rows.push(Row::new("tiny", "inbound", text, 60 + i as i64 * 60));
    }
    for (i, text) in other_texts.iter().skip(6).take(12).enumerate() {
        rows.push(Row::new("tiny", "outbound", text, 61 + i as i64 * 60));
        rows.push(Row::new("tiny", "inbound", text, -600 - i as i64 * 60));
    }
    // broken: 30 ordinary questions and one pasted log over the server's text limit.
    for (i, text) in other_texts.iter().skip(40).take(30).enumerate() {
        rows.push(Row::new("broken", "inbound", text, 30 + i as i64 * 40));
    }
    let pasted = "ERROR 500 stack trace follows: ".repeat(MAX_TEXT_BYTES / 20);
    assert!(pasted.len() > MAX_TEXT_BYTES);
    rows.push(Row::new("broken", "inbound", &pasted, 700));
    // stale: plenty of inbound messages, all the day before the window; quiet: only outbound.
    for (i, text) in other_texts.iter().take(20).enumerate() {
        rows.push(Row::new("stale", "inbound", text, -24 * 60 + i as i64 * 10));
        rows.push(Row::new("quiet", "outbound", text, i as i64 * 10));
    }
    (rows, acme_inbound)
}

/// `topicd` served in this process on a loopback port.
struct Server {
    url: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Serves `topicd` with its data under `data_dir`, embedding texts with the local encoder in
/// `model` (`None`: every Fit brings its embeddings).
async fn start_server(data_dir: &Path, model: Option<&Path>) -> Server {
    let mut config = topicd::config::Config::for_data_dir(data_dir);
    config.device = "cpu".into();
    config.embedding.device = "cpu".into();
    config.embedding.model = model.map(|m| m.to_string_lossy().into_owned());
    config.embedding.allow_download = false;
    config.limits.max_text_bytes = MAX_TEXT_BYTES;
    let app = topicd::app::App::build(config).await.expect("topicd builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(topicd::app::serve(app, listener, async move {
        let _ = stopped.await;
    }));
    Server { url, stop, task }
}

async fn client(url: &str) -> TopicsClient<tonic::transport::Channel> {
    for _ in 0..100 {
        if let Ok(c) = TopicsClient::connect(url.to_string()).await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("topicd at {url} did not accept connections");
}

/// Runs `topics --server URL nightly --source PG --since … --until … [extra]`; returns the exit
/// code and the JSON summary printed on stdout.
async fn nightly(server: &str, source: &str, extra: &[&str]) -> (i32, Value) {
    let source = source.to_string();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_topics"))
        .args(["--server", server, "nightly", "--source", &source, "--since", SINCE])
        .args(["--until", UNTIL, "--concurrency", "2", "--retry-backoff", "10ms"])
        .args(extra)
        .env_remove("TOPICS_TOKEN")
        .env_remove("TOPICS_CONFIG")
        .env("RUST_LOG", "warn,topics=info")
        .output()
        .await
        .expect("topics runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not the JSON summary ({e}):\n{}\nstderr:\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    eprintln!("topics nightly {extra:?}: {}\nstderr:\n{stderr}", output.status);
    (output.status.code().expect("exited, not killed"), summary)
}

/// The summary's counters, in the Python job's order, plus the already-merged count.
fn counts(summary: &Value) -> [u64; 6] {
    [
        "total_users",
        "processed_users",
        "skipped_users",
        "failed_users",
        "total_messages_processed",
        "already_merged_users",
    ]
    .map(|k| summary[k].as_u64().unwrap_or_else(|| panic!("{k} missing: {summary}")))
}

/// The result of `tenant` in the summary.
fn tenant<'a>(summary: &'a Value, id: &str) -> &'a Value {
    summary["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant_id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}: {summary}"))
}

async fn acme_models(c: &mut TopicsClient<tonic::transport::Channel>) -> Vec<ModelInfo> {
    let mut models = c
        .list_models(proto::ListModelsRequest { tenant_id: "acme".into(), limit: 0 })
        .await
        .expect("ListModels")
        .into_inner()
        .models;
    models.sort_by(|a, b| a.version.cmp(&b.version));
    models
}

fn versions(models: &[ModelInfo]) -> Vec<&str> {
    models.iter().map(|m| m.version.as_str()).collect()
}

fn active(models: &[ModelInfo]) -> &str {
    let active: Vec<&ModelInfo> = models.iter().filter(|m| m.is_active).collect();
    assert_eq!(active.len(), 1, "{models:?}");
    &active[0].version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nightly_over_postgres_counts_skips_failures_and_is_idempotent() {
    let model = topicd_testing::locate::model_dir();
    let clinc = topicd_testing::locate::clinc150_dir().join("clinc150.jsonl");

    // The application's database.
    let pg = PgCluster::start().unwrap();
    let source = pg.create_database().await.unwrap();
    let pool = sqlx::PgPool::connect(&source).await.unwrap();
    sqlx::query(
        "CREATE TABLE conversation_messages (id BIGSERIAL PRIMARY KEY, tenant_id TEXT NOT NULL, \
         direction TEXT NOT NULL, text TEXT, created_at TIMESTAMPTZ NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (rows, acme_inbound) = rows(&Clinc::load(&clinc, false));
    let mut tx = pool.begin().await.unwrap();
    for row in &rows {
        sqlx::query(
            "INSERT INTO conversation_messages (tenant_id, direction, text, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(row.tenant)
        .bind(row.direction)
        .bind(&row.text)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    pool.close().await;

    let data = tempfile::tempdir().unwrap();
    let server = start_server(data.path(), Some(&model)).await;
    let mut c = client(&server.url).await;

    // First run: exact counts; 1 failed of 2 eligible (tiny is skipped) is over 20 %: exit 1.
    let (code, first) = nightly(&server.url, &source, &[]).await;
    assert_eq!(counts(&first), [3, 1, 1, 1, acme_inbound as u64, 0], "{first:#}");
    assert_eq!(
        (first["not_run_users"].as_u64(), first["failure_rate"].as_f64()),
        (Some(0), Some(0.5))
    );
    assert_eq!(first["failed"], true);
    assert_eq!(code, 1, "more than 20 % of the eligible tenants failed");
    assert_eq!(
        (first["window_start"].as_str(), first["window_end"].as_str()),
        (Some(SINCE), Some(UNTIL))
    );
    let ids: Vec<&str> = first["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["acme", "broken", "tiny"],
        "stale and quiet have no inbound message in the window"
    );

    let tiny = tenant(&first, "tiny");
    assert_eq!((tiny["status"].as_str(), tiny["messages"].as_u64()), (Some("skipped"), Some(6)));
    assert_eq!(tiny["attempts"], 0, "a skipped tenant makes no call");

    let broken = tenant(&first, "broken");
    assert_eq!(
        (broken["status"].as_str(), broken["messages"].as_u64()),
        (Some("failed"), Some(31))
    );
    let reason = broken["reason"].as_str().unwrap();
    assert!(reason.starts_with("Fit: ") && reason.contains("max_text_bytes"), "{reason}");
    assert_eq!(
        broken["attempts"], 2,
        "ListMergedWindows + one Fit: INVALID_ARGUMENT is not retried"
    );

    let acme = tenant(&first, "acme");
    assert_eq!(acme["status"], "merged", "{acme:#}");
    assert_eq!(acme["messages"].as_u64(), Some(acme_inbound as u64));
    assert_eq!(acme["previous_version"], "", "acme's first model");
    assert!(acme["day_topics"].as_u64().unwrap() >= 2, "{acme:#}");
    assert_eq!(acme["total_topics"], acme["new_topics"]);
    let acme_version = acme["version"].as_str().unwrap().to_string();

    // The normal tenant's snapshot is served.
    let top = c
        .get_top_topics(proto::GetTopTopicsRequest {
            tenant_id: "acme".into(),
            limit: 10,
            include_trend: false,
        })
        .await
        .expect("GetTopTopics for acme")
        .into_inner();
    assert_eq!(top.version, acme_version);
    assert!(top.topics.len() >= 2, "{top:?}");
    assert_eq!(top.date_range_start, "2026-11-24");
    let sizes: u64 = top.topics.iter().map(|t| t.message_count).sum();
    assert!(sizes > 0 && sizes <= acme_inbound as u64, "{sizes}");
    let models = acme_models(&mut c).await;
    assert_eq!(active(&models), acme_version);
    assert_eq!(models.len(), 2, "the day candidate and the merged model: {models:?}");
    // The failed and skipped tenants have nothing.
    for t in ["broken", "tiny"] {
        let err = c
            .get_top_topics(proto::GetTopTopicsRequest {
                tenant_id: t.into(),
                limit: 10,
                include_trend: false,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound, "{t}: {err:?}");
    }

    // Second run, same window: acme is already merged (counted as skipped), no new version.
    let (code, second) = nightly(&server.url, &source, &[]).await;
    assert_eq!(counts(&second), [3, 0, 2, 1, 0, 1], "{second:#}");
    assert_eq!(code, 1, "broken still fails: 1 of 1 eligible tenant");
    let acme = tenant(&second, "acme");
    assert_eq!(acme["status"], "already_merged", "{acme:#}");
    assert_eq!(acme["version"].as_str(), Some(acme_version.as_str()));
    assert_eq!(acme["attempts"], 1, "only ListMergedWindows");
    let after_second = acme_models(&mut c).await;
    assert_eq!(versions(&after_second), versions(&models), "a second run changes nothing");
    assert_eq!(active(&after_second), acme_version);

    // --force: fitted and merged again on top of the first merge.
    let (code, forced) = nightly(&server.url, &source, &["--force"]).await;
    assert_eq!(counts(&forced), [3, 1, 1, 1, acme_inbound as u64, 0], "{forced:#}");
    assert_eq!(code, 1);
    let acme = tenant(&forced, "acme");
    assert_eq!(acme["status"], "merged", "{acme:#}");
    assert_eq!(acme["previous_version"].as_str(), Some(acme_version.as_str()));
    let forced_version = acme["version"].as_str().unwrap();
    assert_ne!(forced_version, acme_version);
    let after_force = acme_models(&mut c).await;
    assert_eq!(after_force.len(), models.len() + 2, "a new candidate and a new merged model");
    let kept = versions(&after_force);
    assert!(versions(&models).iter().all(|v| kept.contains(v)), "{kept:?}");
    assert_eq!(active(&after_force), forced_version);

    drop(c);
    let _ = server.stop.send(());
    server.task.await.unwrap().unwrap();
}

/// The same counts through the JSONL source, with CLINC150's precomputed embeddings (no encoder
/// needed): `tiny` skipped, `broken` failed, `acme` merged, lines outside the window ignored;
/// a second run merges nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nightly_over_jsonl_with_embeddings_counts_and_is_idempotent() {
    let clinc_path = topicd_testing::locate::clinc150_dir().join("clinc150.jsonl");
    let clinc = Clinc::load(&clinc_path, true);
    let line = |tenant: &str, row: usize, text: &str, minutes: i64| {
        let at = window_start() + chrono::Duration::minutes(minutes);
        serde_json::json!({
            "tenant_id": tenant,
            "text": text,
            "created_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "embedding": clinc.embedding(row),
        })
        .to_string()
    };
    let acme = clinc.rows(ACME_INTENTS, 0, PER_INTENT);
    let other = clinc.rows(ACME_INTENTS, PER_INTENT, PER_INTENT);
    let mut lines = Vec::new();
    for (k, &i) in acme.iter().enumerate() {
        lines.push(line("acme", i, &clinc.texts[i], k as i64 * 11));
    }
    for (k, &i) in other.iter().take(7).enumerate() {
        lines.push(line("tiny", i, &clinc.texts[i], 30 + k as i64 * 60));
        // The day before and the day after the window: ignored.
        lines.push(line("tiny", i, &clinc.texts[i], -30 - k as i64 * 60));
        lines.push(line("tiny", i, &clinc.texts[i], 24 * 60 + k as i64 * 60));
    }
    for (k, &i) in other.iter().skip(10).take(20).enumerate() {
        lines.push(line("broken", i, &clinc.texts[i], 40 + k as i64 * 50));
        lines.push(line("stale", i, &clinc.texts[i], -24 * 60 + k as i64 * 50));
    }
    let pasted = "ERROR 500 stack trace follows: ".repeat(MAX_TEXT_BYTES / 20);
    lines.push(line("broken", other[40], &pasted, 900));
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("messages.jsonl");
    std::fs::write(&source, lines.join("\n") + "\n").unwrap();
    let source = source.to_str().unwrap();

    let server = start_server(&dir.path().join("data"), None).await;
    let (code, first) = nightly(&server.url, source, &[]).await;
    assert_eq!(counts(&first), [3, 1, 1, 1, acme.len() as u64, 0], "{first:#}");
    assert_eq!(code, 1, "1 of 2 eligible tenants failed");
    assert_eq!(
        (tenant(&first, "tiny")["status"].as_str(), tenant(&first, "tiny")["messages"].as_u64()),
        (Some("skipped"), Some(7))
    );
    let broken = tenant(&first, "broken");
    assert_eq!(
        (broken["status"].as_str(), broken["messages"].as_u64()),
        (Some("failed"), Some(21))
    );
    assert!(broken["reason"].as_str().unwrap().contains("max_text_bytes"), "{broken:#}");
    let acme_result = tenant(&first, "acme");
    assert_eq!(acme_result["status"], "merged", "{acme_result:#}");
    let version = acme_result["version"].as_str().unwrap().to_string();

    let (code, second) = nightly(&server.url, source, &[]).await;
    assert_eq!(counts(&second), [3, 0, 2, 1, 0, 1], "{second:#}");
    assert_eq!(code, 1);
    assert_eq!(tenant(&second, "acme")["version"].as_str(), Some(version.as_str()));

    let _ = server.stop.send(());
    server.task.await.unwrap().unwrap();
}

/// `topics nightly --help` describes every option, and has the interface names scripts use.
#[test]
fn nightly_help_documents_every_option() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_topics"))
        .args(["nightly", "--help"])
        .env_remove("TOPICS_SERVER")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    // Each entry: an option line ("  -h, --help", "      --since <SINCE>") and its description,
    // on the same line after the value name or on the following indented lines.
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in help.lines().skip_while(|l| !l.starts_with("Options:")).skip(1) {
        let trimmed = line.trim_start();
        if trimmed.starts_with('-') && line.len() - trimmed.len() <= 6 {
            let mut words = trimmed.split_whitespace().peekable();
            let mut flag = String::new();
            while let Some(w) = words.next_if(|w| w.starts_with('-') || w.starts_with('<')) {
                if w.starts_with("--") {
                    flag = w.trim_end_matches(',').to_string();
                }
            }
            entries.push((flag, words.collect::<Vec<_>>().join(" ")));
        } else if let Some((_, text)) = entries.last_mut() {
            text.push_str(trimmed);
        }
    }
    for (flag, text) in &entries {
        assert!(!text.trim().is_empty(), "{flag} has no description:\n{help}");
    }
    let flags: Vec<&str> = entries.iter().map(|(f, _)| f.as_str()).collect();
    for name in [
        "--server",
        "--token",
        "--source",
        "--jsonl",
        "--since",
        "--until",
        "--concurrency",
        "--deadline",
        "--tenant-timeout",
        "--retries",
        "--min-messages",
        "--force",
        "--summary",
    ] {
        assert!(flags.contains(&name), "{name} missing from {flags:?}");
    }
}
