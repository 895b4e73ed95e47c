//! Every RPC's bad inputs return the right gRPC status with a message that says what to fix.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use common::TestServer;
use tonic::Code;
use topicd::proto::{self, Document, Embedding};

fn doc(text: &str) -> Document {
    Document { id: String::new(), text: text.into(), created_at: String::new() }
}

fn emb(v: &[f32]) -> Embedding {
    Embedding { values: v.to_vec() }
}

fn assert_status<T: std::fmt::Debug>(
    r: Result<tonic::Response<T>, tonic::Status>,
    code: Code,
    needle: &str,
) {
    let e = r.expect_err("expected an error");
    assert_eq!(e.code(), code, "{e:?}");
    assert!(e.message().contains(needle), "message {:?} lacks {needle:?}", e.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_the_right_status() {
    let dir = tempfile::tempdir().unwrap();
    let version = common::seed_model(dir.path(), "acme").await;
    let mut cfg = common::config(dir.path());
    cfg.limits.max_fit_documents = 50;
    cfg.limits.max_transform_batch = 5;
    cfg.limits.max_text_bytes = 100;
    let server = TestServer::start(cfg).await;
    let mut c = server.client().await;

    // Malformed tenant ids, on every RPC.
    for bad in ["", "../x", "a/b", "ａcme", "acme!", &"x".repeat(300)] {
        let t = bad.to_string();
        assert_status(
            c.fit(proto::FitRequest {
                tenant_id: t.clone(),
                documents: vec![doc("hi")],
                ..Default::default()
            })
            .await,
            Code::InvalidArgument,
            "tenant",
        );
        assert_status(
            c.merge(proto::MergeRequest {
                tenant_id: t.clone(),
                day_version: version.clone(),
                ..Default::default()
            })
            .await,
            Code::InvalidArgument,
            "tenant",
        );
        assert_status(
            c.transform(proto::TransformRequest {
                tenant_id: t.clone(),
                texts: vec!["hi".into()],
                embeddings: vec![],
            })
            .await,
            Code::InvalidArgument,
            "tenant",
        );
        assert_status(
            c.get_top_topics(proto::GetTopTopicsRequest {
                tenant_id: t.clone(),
                ..Default::default()
            })
            .await,
            Code::InvalidArgument,
            "tenant",
        );
        assert_status(
            c.get_model(proto::GetModelRequest { tenant_id: t.clone(), ..Default::default() })
                .await,
            Code::InvalidArgument,
            "tenant",
        );
        assert_status(
            c.activate_model(proto::ActivateModelRequest {
                tenant_id: t.clone(),
                version: version.clone(),
            })
            .await,
            Code::InvalidArgument,
            "tenant",
        );
        assert_status(
            c.delete_tenant(proto::DeleteTenantRequest { tenant_id: t.clone() }).await,
            Code::InvalidArgument,
            "tenant",
        );
        assert_status(
            c.list_merged_windows(proto::ListMergedWindowsRequest { tenant_id: t.clone() }).await,
            Code::InvalidArgument,
            "tenant",
        );
        if !bad.is_empty() {
            assert_status(
                c.list_models(proto::ListModelsRequest { tenant_id: t.clone(), limit: 0 }).await,
                Code::InvalidArgument,
                "tenant",
            );
        }
    }

    // Fit.
    let fit = |docs: Vec<Document>, embeddings: Vec<Embedding>| proto::FitRequest {
        tenant_id: "acme".into(),
        documents: docs,
        window: None,
        params: None,
        embeddings,
    };
    assert_status(c.fit(fit(vec![], vec![])).await, Code::InvalidArgument, "documents is empty");
    assert_status(
        c.fit(fit(vec![doc("hi"); 51], vec![])).await,
        Code::ResourceExhausted,
        "max_fit_documents",
    );
    assert_status(
        c.fit(fit(vec![doc("hi"), doc("   ")], vec![])).await,
        Code::InvalidArgument,
        "documents.text[1]",
    );
    assert_status(
        c.fit(fit(vec![doc(&"x".repeat(101))], vec![])).await,
        Code::InvalidArgument,
        "max_text_bytes",
    );
    let docs20 = vec![doc("some text"); 20];
    let good = vec![emb(&[1.0, 0.0, 0.0, 0.0]); 20];
    assert_status(
        c.fit(fit(docs20.clone(), good[..19].to_vec())).await,
        Code::InvalidArgument,
        "19 embeddings for 20",
    );
    let mut nan = good.clone();
    nan[3] = emb(&[f32::NAN, 0.0, 0.0, 0.0]);
    assert_status(
        c.fit(fit(docs20.clone(), nan)).await,
        Code::InvalidArgument,
        "embeddings[3] contains NaN",
    );
    let mut ragged = good.clone();
    ragged[7] = emb(&[1.0, 0.0]);
    assert_status(
        c.fit(fit(docs20.clone(), ragged)).await,
        Code::InvalidArgument,
        "embeddings[7] has dimension 2",
    );
    let mut p = fit(docs20.clone(), good.clone());
    p.params = Some(proto::FitParams { min_topic_size: Some(1), ..Default::default() });
    assert_status(c.fit(p).await, Code::InvalidArgument, "min_topic_size");
    let mut p = fit(docs20.clone(), good.clone());
    p.params = Some(proto::FitParams { nr_topics: Some("many".into()), ..Default::default() });
    assert_status(c.fit(p).await, Code::InvalidArgument, "nr_topics");
    let mut p = fit(docs20.clone(), good.clone());
    p.params = Some(proto::FitParams { language: Some("klingon".into()), ..Default::default() });
    assert_status(
        c.fit(p).await,
        Code::InvalidArgument,
        "params.language = \"klingon\"; expected \"auto\" or one of en, fr, de, es, it, pt, nl",
    );
    let mut p = fit(docs20.clone(), good.clone());
    p.window = Some(proto::Window {
        start: "2026-11-25T00:00:00Z".into(),
        end: "2026-11-24T00:00:00Z".into(),
    });
    assert_status(c.fit(p).await, Code::InvalidArgument, "window.start must be before");
    let mut bad_ts = docs20.clone();
    bad_ts[0].created_at = "last tuesday".into();
    assert_status(c.fit(fit(bad_ts, good.clone())).await, Code::InvalidArgument, "RFC 3339");
    assert_status(
        c.fit(fit(docs20[..5].to_vec(), good[..5].to_vec())).await,
        Code::InvalidArgument,
        "min_topic_size",
    );

    // Merge.
    let merge = |day: &str| proto::MergeRequest {
        tenant_id: "acme".into(),
        day_version: day.into(),
        ..Default::default()
    };
    assert_status(c.merge(merge("")).await, Code::InvalidArgument, "day_version is required");
    assert_status(c.merge(merge("yesterday")).await, Code::InvalidArgument, "YYYYMMDD_HHMMSS");
    assert_status(
        c.merge(merge("20200101_000000")).await,
        Code::NotFound,
        "no model version 20200101_000000",
    );
    assert_status(c.merge(merge(&version)).await, Code::FailedPrecondition, "not a candidate");
    let mut m = merge(&version);
    m.base_version = Some("2020-01-01".into());
    assert_status(c.merge(m).await, Code::InvalidArgument, "base_version");

    // Transform.
    let tr = |texts: Vec<String>, embeddings: Vec<Embedding>| proto::TransformRequest {
        tenant_id: "acme".into(),
        texts,
        embeddings,
    };
    assert_status(c.transform(tr(vec![], vec![])).await, Code::InvalidArgument, "texts is empty");
    assert_status(
        c.transform(tr(vec!["a".into()], vec![emb(&[1.0; 4])])).await,
        Code::InvalidArgument,
        "not both",
    );
    assert_status(
        c.transform(tr(vec!["a".into(); 6], vec![])).await,
        Code::ResourceExhausted,
        "max_transform_batch",
    );
    assert_status(
        c.transform(tr(vec!["ok".into(), " ".into()], vec![])).await,
        Code::InvalidArgument,
        "texts[1]",
    );
    assert_status(
        c.transform(tr(vec![], vec![emb(&[1.0; 3])])).await,
        Code::InvalidArgument,
        "dimension 3",
    );
    assert_status(
        c.transform(tr(vec![], vec![emb(&[1.0, f32::INFINITY, 0.0, 0.0])])).await,
        Code::InvalidArgument,
        "NaN",
    );
    let unknown = proto::TransformRequest {
        tenant_id: "nobody".into(),
        texts: vec![],
        embeddings: vec![emb(&[1.0; 4])],
    };
    assert_status(c.transform(unknown).await, Code::NotFound, "no active model");
    let ok = c
        .transform(tr(vec![], vec![emb(&[0.0, 2.0, 0.0, 0.0]), emb(&[-1.0, -1.0, -1.0, 0.0])]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.version, version);
    assert_eq!((ok.results[0].topic_id, ok.results[0].label.as_str()), (1, "beta topic"));
    assert_eq!(ok.results[1].topic_id, -1);

    // GetTopTopics.
    let top = |t: &str, limit: u32| proto::GetTopTopicsRequest {
        tenant_id: t.into(),
        limit,
        include_trend: true,
    };
    assert_status(c.get_top_topics(top("acme", 101)).await, Code::InvalidArgument, "limit");
    assert_status(c.get_top_topics(top("nobody", 0)).await, Code::NotFound, "no active model");
    let t = c.get_top_topics(top("acme", 0)).await.unwrap().into_inner();
    assert_eq!(t.topics.iter().map(|t| t.topic_id).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(t.topics[0].trend.len(), 1);

    // Model operations.
    assert_status(
        c.get_model(proto::GetModelRequest {
            tenant_id: "acme".into(),
            version: Some("20200101_000000".into()),
            include_retired: false,
        })
        .await,
        Code::NotFound,
        "20200101_000000",
    );
    assert_status(
        c.get_model(proto::GetModelRequest { tenant_id: "nobody".into(), ..Default::default() })
            .await,
        Code::NotFound,
        "no active model",
    );
    assert_status(
        c.activate_model(proto::ActivateModelRequest {
            tenant_id: "acme".into(),
            version: "20200101_000000".into(),
        })
        .await,
        Code::NotFound,
        "20200101_000000",
    );
    assert_status(
        c.activate_model(proto::ActivateModelRequest {
            tenant_id: "acme".into(),
            version: String::new(),
        })
        .await,
        Code::InvalidArgument,
        "version is required",
    );
    assert_status(
        c.delete_tenant(proto::DeleteTenantRequest { tenant_id: "nobody".into() }).await,
        Code::NotFound,
        "no models",
    );
    let g = c
        .get_model(proto::GetModelRequest { tenant_id: "acme".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((g.embedding_dim, g.topics.len()), (4, 3));
    server.stop().await;
}
