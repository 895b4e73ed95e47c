//! The outlier policy (issue 30) through a real server: a Fit with `outliers = "reduce"` makes
//! the outliers exactly the messages below the threshold to every topic, Transform with the
//! active model agrees with the Fit on every training message, GetTopTopics (gRPC and HTTP) reports the
//! outlier share, and bad policy parameters are a clear INVALID_ARGUMENT. CLINC150 messages with
//! their reference embeddings, out-of-scope ones among them (they make the outliers).

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use common::{fit_request, with_token, Clinc, TestServer, ACME_WRITE};
use tonic::transport::Channel;
use tonic::Code;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Embedding};

type Client = TopicsClient<Channel>;

/// Six intents × 40 messages and 80 out-of-scope ones.
fn rows(data: &Clinc) -> Vec<usize> {
    let mut rows: Vec<usize> =
        data.intents(6).iter().flat_map(|i| data.rows_of(i)[..40].to_vec()).collect();
    rows.extend(&data.rows_of("oos")[..80]);
    rows
}

async fn fit(
    c: &mut Client,
    data: &Clinc,
    tenant: &str,
    params: proto::FitParams,
) -> Result<proto::FitResponse, tonic::Status> {
    let (docs, embs) = data.batch(&rows(data), "2026-11-23");
    let mut req = fit_request(tenant, docs, embs, "2026-11-23", "2026-11-24");
    req.params = Some(params);
    c.fit(with_token(req, common::ADMIN)).await.map(|r| r.into_inner())
}

fn policy(mode: &str, threshold: Option<f32>) -> proto::FitParams {
    proto::FitParams {
        outliers: Some(mode.into()),
        outlier_threshold: threshold,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reduce_leaves_fewer_outliers_and_transform_agrees_with_the_fit() {
    let data = Clinc::load();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(common::tokens_file(dir.path()));
    let server = TestServer::start_with_http(cfg).await;
    let mut c = server.client().await;

    let keep = fit(&mut c, &data, "keep", policy("keep", None)).await.unwrap();
    assert!(keep.outliers > 0, "out-of-scope messages make outliers");
    // At -1 every message is within the threshold of a topic: no outlier is left.
    let all_in = fit(&mut c, &data, "all-in", policy("reduce", Some(-1.0))).await.unwrap();
    assert_eq!(all_in.outliers, 0);
    // At 0.3 the outliers are the messages no topic embedding is that close to: HDBSCAN's
    // outliers that are, join a topic; members of a loose cluster that are not, leave it.
    let reduce = fit(&mut c, &data, "acme", policy("reduce", Some(0.3))).await.unwrap();
    let fitted: Vec<i64> = reduce.assignments.iter().map(|a| a.topic_id).collect();
    assert_eq!(fitted.iter().filter(|&&t| t == -1).count() as u64, reduce.outliers);

    let merge = proto::MergeRequest {
        tenant_id: "acme".into(),
        day_version: reduce.version.clone(),
        base_version: None,
        force: false,
    };
    c.merge(with_token(merge, ACME_WRITE)).await.unwrap();

    // Transform (no threshold given: the model's own) on every training document.
    let rows = rows(&data);
    let embeddings: Vec<Embedding> =
        rows.iter().map(|&i| Embedding { values: data.row(i).to_vec() }).collect();
    let req = proto::TransformRequest { tenant_id: "acme".into(), texts: vec![], embeddings };
    let tagged = c.transform(with_token(req, common::ACME_READ)).await.unwrap().into_inner();
    // The first model is the day model with the same ids: Fit and Transform agree on every
    // training message, outliers included.
    assert_eq!(tagged.results.len(), fitted.len());
    for (i, (r, &f)) in tagged.results.iter().zip(&fitted).enumerate() {
        assert_eq!(r.topic_id, f, "document {i}: fit {f}, transform {}", r.topic_id);
        assert_eq!(r.topic_id == -1, r.score < 0.3, "document {i}: score {}", r.score);
    }

    // The outlier share, over gRPC and HTTP.
    let req =
        proto::GetTopTopicsRequest { tenant_id: "acme".into(), limit: 5, include_trend: false };
    let top = c.get_top_topics(with_token(req, common::ACME_READ)).await.unwrap().into_inner();
    assert_eq!(top.outliers, reduce.outliers);
    assert_eq!(top.documents, rows.len() as u64);
    assert!((top.outlier_share - reduce.outliers as f64 / rows.len() as f64).abs() < 1e-12);
    let body: serde_json::Value = reqwest::Client::new()
        .get(server.url("/v1/tenants/acme/topics?limit=5"))
        .bearer_auth(common::ACME_READ)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // proto3 JSON: 64-bit integers as strings.
    assert_eq!(body["outliers"], reduce.outliers.to_string(), "{body}");
    assert_eq!(body["outlier_share"].as_f64(), Some(top.outlier_share), "{body}");

    // Bad policy parameters.
    for (params, needle) in [
        (policy("drop", None), "keep"),
        (policy("reduce", Some(1.5)), "outlier_threshold"),
        (policy("reduce", Some(f32::NAN)), "outlier_threshold"),
    ] {
        let e = fit(&mut c, &data, "acme", params).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        assert!(e.message().contains(needle), "{:?} lacks {needle:?}", e.message());
    }
}
