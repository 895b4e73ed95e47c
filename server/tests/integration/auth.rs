//! Bearer tokens on every Topics RPC (health and reflection stay open), tenant scopes, roles and
//! the per-token rate limit.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use common::{tokens_file, with_token, TestServer, ACME_READ, ACME_WRITE, ADMIN};
use tonic::Code;
use topicd::proto::{self, Embedding};

const JWT_SECRET: &str = "jwt-test-secret-0123456789abcdef";

fn req<T>(m: T, header: Option<&str>) -> tonic::Request<T> {
    let mut r = tonic::Request::new(m);
    if let Some(h) = header {
        r.metadata_mut().insert("authorization", h.parse().unwrap());
    }
    r
}

fn jwt(tenants: &[&str], role: &str, exp_offset: i64) -> String {
    let exp = chrono::Utc::now().timestamp() + exp_offset;
    let claims = serde_json::json!({"sub": "svc", "tenants": tenants, "role": role, "exp": exp});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_scopes_and_roles() {
    let dir = tempfile::tempdir().unwrap();
    common::seed_model(dir.path(), "acme").await;
    common::seed_model(dir.path(), "globex").await;
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    cfg.auth.jwt_secret = Some(topicd::auth::Secret::new(JWT_SECRET));
    let server = TestServer::start(cfg).await;
    let mut c = server.client().await;

    let top = |t: &str| proto::GetTopTopicsRequest {
        tenant_id: t.into(),
        limit: 0,
        include_trend: false,
    };
    let tr = |t: &str| proto::TransformRequest {
        tenant_id: t.into(),
        texts: vec![],
        embeddings: vec![Embedding { values: vec![1.0, 0.0, 0.0, 0.0] }],
    };
    let fit = |t: &str| proto::FitRequest {
        tenant_id: t.into(),
        documents: vec![],
        ..Default::default()
    };
    let del = |t: &str| proto::DeleteTenantRequest { tenant_id: t.into() };

    // No token, a wrong token, a malformed header → UNAUTHENTICATED on every RPC.
    let code = |r: Result<(), tonic::Status>| r.unwrap_err().code();
    for token in
        [None, Some("Bearer not-a-real-token-123456"), Some("Basic YWxhZGRpbjpvcGVuc2VzYW1l")]
    {
        assert_eq!(
            code(c.get_top_topics(req(top("acme"), token)).await.map(|_| ())),
            Code::Unauthenticated
        );
        assert_eq!(
            code(c.transform(req(tr("acme"), token)).await.map(|_| ())),
            Code::Unauthenticated
        );
        assert_eq!(code(c.fit(req(fit("acme"), token)).await.map(|_| ())), Code::Unauthenticated);
        assert_eq!(
            code(c.list_models(req(proto::ListModelsRequest::default(), token)).await.map(|_| ())),
            Code::Unauthenticated
        );
        assert_eq!(
            code(c.delete_tenant(req(del("acme"), token)).await.map(|_| ())),
            Code::Unauthenticated
        );
    }

    // A read token for acme: reads acme, nothing of globex, no writes, no admin calls.
    let ok = c.get_top_topics(with_token(top("acme"), ACME_READ)).await.unwrap().into_inner();
    assert_eq!(ok.topics.len(), 3);
    c.transform(with_token(tr("acme"), ACME_READ)).await.unwrap();
    for e in [
        c.get_top_topics(with_token(top("globex"), ACME_READ)).await.map(|_| ()).unwrap_err(),
        c.transform(with_token(tr("globex"), ACME_READ)).await.map(|_| ()).unwrap_err(),
        c.fit(with_token(fit("acme"), ACME_READ)).await.map(|_| ()).unwrap_err(),
        c.merge(with_token(
            proto::MergeRequest {
                tenant_id: "acme".into(),
                day_version: "20260101_000000".into(),
                ..Default::default()
            },
            ACME_READ,
        ))
        .await
        .map(|_| ())
        .unwrap_err(),
        c.delete_tenant(with_token(del("acme"), ACME_READ)).await.map(|_| ()).unwrap_err(),
        c.list_models(with_token(proto::ListModelsRequest::default(), ACME_READ))
            .await
            .map(|_| ())
            .unwrap_err(),
        c.activate_model(with_token(
            proto::ActivateModelRequest {
                tenant_id: "acme".into(),
                version: "20260101_000000".into(),
            },
            ACME_READ,
        ))
        .await
        .map(|_| ())
        .unwrap_err(),
    ] {
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    }
    // A write token: Fit passes auth (then fails validation), DeleteTenant is admin-only.
    let e = c.fit(with_token(fit("acme"), ACME_WRITE)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    let e = c.delete_tenant(with_token(del("acme"), ACME_WRITE)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = c.fit(with_token(fit("globex"), ACME_WRITE)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // A malformed tenant id with a scoped token is still INVALID_ARGUMENT (checked first).
    let e = c.get_top_topics(with_token(top("../acme"), ACME_READ)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);

    // Admin: every tenant.
    let all = c
        .list_models(with_token(proto::ListModelsRequest::default(), ADMIN))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.models.len(), 2);

    // JWTs: valid, expired, wrong tenant, wrong signature.
    c.get_top_topics(with_token(top("acme"), &jwt(&["acme"], "read", 600))).await.unwrap();
    let e = c
        .get_top_topics(with_token(top("acme"), &jwt(&["acme"], "read", -3600)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    assert!(e.message().contains("expired"), "{e:?}");
    let e = c
        .get_top_topics(with_token(top("globex"), &jwt(&["acme"], "read", 600)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let mut forged = jwt(&["*"], "admin", 600);
    forged.push('x');
    let e =
        c.list_models(with_token(proto::ListModelsRequest::default(), &forged)).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);

    // Health needs no token.
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let h = health
        .check(tonic_health::pb::HealthCheckRequest { service: "topics.v1.Topics".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(h.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_is_per_token() {
    let dir = tempfile::tempdir().unwrap();
    common::seed_model(dir.path(), "acme").await;
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    cfg.limits.rate_per_second = 0.001;
    cfg.limits.rate_burst = 3;
    let server = TestServer::start(cfg).await;
    let mut c = server.client().await;
    let top =
        || proto::GetTopTopicsRequest { tenant_id: "acme".into(), limit: 0, include_trend: false };
    for _ in 0..3 {
        c.get_top_topics(with_token(top(), ACME_READ)).await.unwrap();
    }
    let e = c.get_top_topics(with_token(top(), ACME_READ)).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(e.message().contains("rate limit"), "{e:?}");
    // Another token has its own bucket.
    c.get_top_topics(with_token(top(), ADMIN)).await.unwrap();
    server.stop().await;
}
