//! A Fit whose client gives up (here: its gRPC deadline passes) stops the engine work too, not
//! only the response: the engine checks the request's cancellation token inside its loops and
//! the server counts the stopped fit in `topicd_fits_cancelled_total`.
//!
//! Alone in its test binary: it reads the process-wide metrics recorder.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use metrics_exporter_prometheus::PrometheusHandle;
use tonic::Code;
use topicd::proto::{self, Document, Embedding};

/// `n` documents in `k` topics: 384-d embeddings around `k` random directions, texts made of the
/// topic's words. A fixed xorshift stream keeps it deterministic.
fn synthetic(n: usize, k: usize) -> (Vec<Document>, Vec<Embedding>) {
    let dim = 384;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
    };
    let centres: Vec<Vec<f32>> = (0..k).map(|_| (0..dim).map(|_| next()).collect()).collect();
    let mut docs = Vec::with_capacity(n);
    let mut embs = Vec::with_capacity(n);
    for i in 0..n {
        let t = i % k;
        let w = (next().abs() * 5.0) as usize;
        docs.push(Document {
            id: format!("d{i}"),
            text: format!("topic{t}word{w} and topic{t}word{} of topic{t}", (w + 1) % 5),
            created_at: "2026-11-24T12:00:00Z".into(),
        });
        embs.push(Embedding { values: centres[t].iter().map(|c| c + 0.3 * next()).collect() });
    }
    (docs, embs)
}

/// The value of the first sample line starting with `prefix` (0 when absent).
fn metric(handle: &PrometheusHandle, prefix: &str) -> f64 {
    handle
        .render()
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fit_past_its_deadline_stops_the_engine() {
    let handle = topicd::metrics::install().expect("no other metrics recorder in this binary");
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(common::config(dir.path())).await;
    let mut c = server.client().await;

    // 12,000 documents: NN-descent, the Lanczos spectral init and 200 SGD epochs, many seconds
    // of work even on a fast machine.
    let (docs, embs) = synthetic(12_000, 40);
    let embed_count = "topicd_fit_stage_seconds_count{stage=\"embed\"}";
    let cancelled_count = "topicd_fits_cancelled_total";
    let mut deadline = Duration::from_millis(500);
    let gave_up = loop {
        let before = metric(&handle, embed_count);
        let mut req = tonic::Request::new(proto::FitRequest {
            tenant_id: "acme".into(),
            documents: docs.clone(),
            embeddings: embs.clone(),
            ..Default::default()
        });
        req.set_timeout(deadline);
        let e = c.fit(req).await.expect_err("a 12,000-document fit cannot beat its deadline");
        let gave_up = Instant::now();
        assert!(matches!(e.code(), Code::DeadlineExceeded | Code::Cancelled), "{e:?}");
        // The "embed" stage is recorded just before the engine starts: when it is missing, the
        // deadline passed while the request was still being received (a slow box), so the
        // engine never ran. Try again with more time.
        if metric(&handle, embed_count) > before {
            break gave_up;
        }
        deadline *= 2;
        assert!(deadline <= Duration::from_secs(8), "the request never reached the engine");
    };

    // The engine notices the cancelled token and the server counts the stopped fit. Without
    // cancellation inside the engine the fit would run to the end and never be counted.
    let stopped = loop {
        if metric(&handle, cancelled_count) >= 1.0 {
            break gave_up.elapsed();
        }
        assert!(gave_up.elapsed() < Duration::from_secs(120), "the engine did not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("engine stopped {} ms after the client's deadline", stopped.as_millis());

    // The tenant is usable right away: a small fit succeeds.
    let (small_docs, small_embs) = synthetic(300, 5);
    let r = c
        .fit(proto::FitRequest {
            tenant_id: "acme".into(),
            documents: small_docs,
            embeddings: small_embs,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!r.topics.is_empty());
    assert_eq!(metric(&handle, cancelled_count), 1.0);
    server.stop().await;
}
