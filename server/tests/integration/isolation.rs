//! Cross-tenant isolation matrix (issue 9): every tenant-scoped RPC × every way a caller can be
//! unauthenticated, scoped to another tenant, too weak, or send a malformed tenant id → the exact
//! gRPC status, no secret echoed back, and nothing read or written: afterwards acme's models,
//! snapshot and merged windows are unchanged and the data directory holds exactly the files it
//! held before.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use common::{with_token, TestServer};
use tonic::transport::Channel;
use tonic::{Code, Status};
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Document, Embedding};

const ADMIN: &str = "isolation-admin-secret-0123456789";
const ACME_READ: &str = "isolation-acme-read-0123456789";
const ACME_WRITE: &str = "isolation-acme-write-0123456789";
const GLOBEX_ADMIN: &str = "isolation-globex-admin-0123456789";
const JWT_SECRET: &str = "isolation-jwt-secret-0123456789abcdef";
const OTHER_JWT_SECRET: &str = "not-the-server-secret-0123456789abcdef";

fn tokens_file(dir: &Path) -> PathBuf {
    let path = dir.join("tokens.toml");
    let entry = |name: &str, secret: &str, tenants: &str, role: &str| {
        format!(
            "[[token]]\nname = \"{name}\"\nsecret = \"{secret}\"\ntenants = {tenants}\nrole = \"{role}\"\n\n"
        )
    };
    let text = [
        entry("ops", ADMIN, r#"["*"]"#, "admin"),
        entry("acme-dashboard", ACME_READ, r#"["acme"]"#, "read"),
        entry("acme-nightly", ACME_WRITE, r#"["acme"]"#, "write"),
        entry("globex-ops", GLOBEX_ADMIN, r#"["globex"]"#, "admin"),
    ]
    .concat();
    std::fs::write(&path, text).unwrap();
    path
}

/// Unpadded base64url, for hand-made JWTs.
fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn jwt_with(claims: serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn jwt(tenants: &[&str], role: &str, exp_offset: i64) -> String {
    let exp = chrono::Utc::now().timestamp() + exp_offset;
    jwt_with(
        serde_json::json!({"sub": "svc", "tenants": tenants, "role": role, "exp": exp}),
        JWT_SECRET,
    )
}

/// A JWT with a hand-written header and an arbitrary signature.
fn jwt_raw(header: &str, claims: serde_json::Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64url(header.as_bytes()), b64url(claims.to_string().as_bytes()))
}

/// The tenant-scoped RPCs of `topics.v1.Topics` (every RPC of the service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rpc {
    Fit,
    Merge,
    Transform,
    GetTopTopics,
    ListModels,
    GetModel,
    ActivateModel,
    DeleteTenant,
    ListMergedWindows,
    GetTopicMap,
    FindTopics,
    GetTopicChanges,
    SetTopicLabel,
}

/// The role each RPC needs on its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Read,
    Write,
    Admin,
}

impl Rpc {
    /// (ListTenants names no tenant: it answers only the tenants the token may read, see
    /// `dashboard.rs`.)
    const ALL: [Rpc; 13] = [
        Rpc::Fit,
        Rpc::Merge,
        Rpc::Transform,
        Rpc::GetTopTopics,
        Rpc::ListModels,
        Rpc::GetModel,
        Rpc::ActivateModel,
        Rpc::DeleteTenant,
        Rpc::ListMergedWindows,
        Rpc::GetTopicMap,
        Rpc::FindTopics,
        Rpc::GetTopicChanges,
        Rpc::SetTopicLabel,
    ];

    fn role(self) -> Role {
        match self {
            Rpc::Fit | Rpc::Merge | Rpc::SetTopicLabel => Role::Write,
            Rpc::ActivateModel | Rpc::DeleteTenant => Role::Admin,
            _ => Role::Read,
        }
    }

    /// Calls the RPC for `tenant` with a request that would read or change acme's data if it
    /// were let through (a real Fit, a forced Merge, an activation, a deletion).
    async fn call(
        self,
        c: &mut TopicsClient<Channel>,
        tenant: &str,
        header: Option<&str>,
        acme_version: &str,
    ) -> Result<(), Status> {
        let t = tenant.to_string();
        match self {
            Rpc::Fit => c.fit(req(fit_request(&t), header)).await.map(|_| ()),
            Rpc::Merge => c
                .merge(req(
                    proto::MergeRequest {
                        tenant_id: t,
                        day_version: acme_version.into(),
                        base_version: None,
                        force: true,
                    },
                    header,
                ))
                .await
                .map(|_| ()),
            Rpc::Transform => c
                .transform(req(
                    proto::TransformRequest {
                        tenant_id: t,
                        texts: vec![],
                        embeddings: vec![Embedding { values: vec![1.0, 0.0, 0.0, 0.0] }],
                    },
                    header,
                ))
                .await
                .map(|_| ()),
            Rpc::GetTopTopics => c
                .get_top_topics(req(
                    proto::GetTopTopicsRequest { tenant_id: t, limit: 0, include_trend: true },
                    header,
                ))
                .await
                .map(|_| ()),
            Rpc::ListModels => c
                .list_models(req(proto::ListModelsRequest { tenant_id: t, limit: 0 }, header))
                .await
                .map(|_| ()),
            Rpc::GetModel => c
                .get_model(req(
                    proto::GetModelRequest { tenant_id: t, version: None, include_retired: true },
                    header,
                ))
                .await
                .map(|_| ()),
            Rpc::ActivateModel => c
                .activate_model(req(
                    proto::ActivateModelRequest { tenant_id: t, version: acme_version.into() },
                    header,
                ))
                .await
                .map(|_| ()),
            Rpc::DeleteTenant => c
                .delete_tenant(req(proto::DeleteTenantRequest { tenant_id: t }, header))
                .await
                .map(|_| ()),
            Rpc::ListMergedWindows => c
                .list_merged_windows(req(proto::ListMergedWindowsRequest { tenant_id: t }, header))
                .await
                .map(|_| ()),
            Rpc::GetTopicMap => c
                .get_topic_map(req(
                    proto::GetTopicMapRequest { tenant_id: t, version: None },
                    header,
                ))
                .await
                .map(|_| ()),
            Rpc::FindTopics => c
                .find_topics(req(
                    proto::FindTopicsRequest { tenant_id: t, query: "alpha".into(), limit: 0 },
                    header,
                ))
                .await
                .map(|_| ()),
            Rpc::GetTopicChanges => c
                .get_topic_changes(req(
                    proto::GetTopicChangesRequest { tenant_id: t, limit: 0 },
                    header,
                ))
                .await
                .map(|_| ()),
            Rpc::SetTopicLabel => c
                .set_topic_label(req(
                    proto::SetTopicLabelRequest {
                        tenant_id: t,
                        topic_id: 0,
                        label: "renamed by an intruder".into(),
                    },
                    header,
                ))
                .await
                .map(|_| ()),
        }
    }
}

fn req<T>(m: T, header: Option<&str>) -> tonic::Request<T> {
    let mut r = tonic::Request::new(m);
    if let Some(h) = header {
        r.metadata_mut().insert("authorization", h.parse().unwrap());
    }
    r
}

/// A valid Fit: 45 documents in three tight 4-d clusters with precomputed embeddings.
fn fit_request(tenant: &str) -> proto::FitRequest {
    let words = ["alpha", "beta", "gamma"];
    let mut documents = Vec::new();
    let mut embeddings = Vec::new();
    for i in 0..45usize {
        let k = i % 3;
        documents.push(Document {
            id: format!("d{i}"),
            text: format!("{} {} message number {i}", words[k], words[k]),
            created_at: "2026-11-25T12:00:00Z".into(),
        });
        let mut v = vec![0.02 * ((i * 7 % 5) as f32); 4];
        v[k] = 1.0;
        embeddings.push(Embedding { values: v });
    }
    proto::FitRequest {
        tenant_id: tenant.into(),
        documents,
        window: Some(proto::Window {
            start: "2026-11-25T00:00:00Z".into(),
            end: "2026-11-26T00:00:00Z".into(),
        }),
        params: Some(proto::FitParams {
            min_topic_size: Some(5),
            n_neighbors: Some(5),
            ..Default::default()
        }),
        embeddings,
    }
}

/// One row of the matrix.
struct Case {
    name: String,
    header: Option<String>,
    tenant: String,
    expect: Code,
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

/// Tenant ids that break the rule (1..=64 of `[A-Za-z0-9_-]`, starting alphanumeric), each with
/// a readable name. The empty id is handled per RPC (ListModels treats it as "all tenants").
fn malformed_tenants() -> Vec<(&'static str, String)> {
    vec![
        ("`../x`", "../x".into()),
        ("`a/b`", "a/b".into()),
        ("`..`", "..".into()),
        ("`.`", ".".into()),
        ("`acme/../globex`", "acme/../globex".into()),
        ("`acme/`", "acme/".into()),
        ("`/acme`", "/acme".into()),
        ("`acme\\x`", "acme\\x".into()),
        ("`..\\\\acme`", "..\\acme".into()),
        ("300 chars", "a".repeat(300)),
        ("65 chars", "a".repeat(65)),
        ("Cyrillic look-alike `асme`", "\u{0430}\u{0441}me".into()),
        ("Greek look-alike `αcme`", "\u{03b1}cme".into()),
        ("fullwidth `ａｃｍｅ`", "\u{ff41}\u{ff43}\u{ff4d}\u{ff45}".into()),
        ("zero-width space `acme\\u200b`", "acme\u{200b}".into()),
        ("NUL `acme\\0`", "acme\0".into()),
        ("newline `acme\\n`", "acme\n".into()),
        ("leading space", " acme".into()),
        ("trailing space", "acme ".into()),
        ("inner space", "ac me".into()),
        ("tab", "acme\t".into()),
        ("leading `-`", "-acme".into()),
        ("leading `_`", "_acme".into()),
        ("wildcard `*`", "*".into()),
        ("percent-encoded slash", "acme%2F..".into()),
        ("SQL quote", "acme'--".into()),
        ("SQL statement", "acme;DROP TABLE models".into()),
        ("accented `acmé`", "acm\u{e9}".into()),
    ]
}

fn cases_for(rpc: Rpc) -> Vec<Case> {
    let mut out = Vec::new();
    let mut add = |name: &str, header: Option<String>, tenant: &str, expect: Code| {
        out.push(Case { name: name.into(), header, tenant: tenant.into(), expect })
    };
    let unauth = Code::Unauthenticated;
    let denied = Code::PermissionDenied;
    let invalid = Code::InvalidArgument;
    let exp_past = chrono::Utc::now().timestamp() - 3600;
    let exp_future = chrono::Utc::now().timestamp() + 600;

    // Not authenticated → UNAUTHENTICATED, whatever the tenant.
    add("no token", None, "acme", unauth);
    add("`Bearer` without a token", Some("Bearer".into()), "acme", unauth);
    add("Basic scheme", Some("Basic YWxhZGRpbjpvcGVuc2VzYW1l".into()), "acme", unauth);
    add("unknown static token", bearer("not-a-real-token-0123456789"), "acme", unauth);
    add("admin token plus a byte", bearer(&format!("{ADMIN}x")), "acme", unauth);
    add("admin token minus a byte", bearer(&ADMIN[..ADMIN.len() - 1]), "acme", unauth);
    add("admin token upper-cased", bearer(&ADMIN.to_uppercase()), "acme", unauth);
    add("two tokens in one header", Some(format!("Bearer {ADMIN} {ADMIN}")), "acme", unauth);
    add("JWT secret used as a token", bearer(JWT_SECRET), "acme", unauth);
    add("expired JWT (admin of *)", bearer(&jwt(&["*"], "admin", -3600)), "acme", unauth);
    add("JWT expired beyond the leeway", bearer(&jwt(&["*"], "admin", -120)), "acme", unauth);
    add(
        "JWT signed with another secret",
        bearer(&jwt_with(
            serde_json::json!({"sub": "x", "tenants": ["*"], "role": "admin", "exp": exp_future}),
            OTHER_JWT_SECRET,
        )),
        "acme",
        unauth,
    );
    let mut tampered = jwt(&["acme"], "read", 600);
    tampered.push('A');
    add("JWT with a tampered signature", bearer(&tampered), "acme", unauth);
    add(
        "JWT alg=none",
        bearer(&jwt_raw(
            r#"{"alg":"none","typ":"JWT"}"#,
            serde_json::json!({"sub": "x", "tenants": ["*"], "role": "admin", "exp": exp_future}),
            "",
        )),
        "acme",
        unauth,
    );
    add(
        "JWT RS256 (no public key configured)",
        bearer(&jwt_raw(
            r#"{"alg":"RS256","typ":"JWT"}"#,
            serde_json::json!({"sub": "x", "tenants": ["*"], "role": "admin", "exp": exp_future}),
            "c2lnbmF0dXJl",
        )),
        "acme",
        unauth,
    );
    add(
        "JWT without exp",
        bearer(&jwt_with(
            serde_json::json!({"sub": "x", "tenants": ["*"], "role": "admin"}),
            JWT_SECRET,
        )),
        "acme",
        unauth,
    );
    add(
        "JWT with an empty tenant list",
        bearer(&jwt_with(
            serde_json::json!({"sub": "x", "tenants": [], "role": "admin", "exp": exp_future}),
            JWT_SECRET,
        )),
        "acme",
        unauth,
    );
    add("JWT scoped to `../acme`", bearer(&jwt(&["../acme"], "admin", 600)), "acme", unauth);
    add(
        "JWT with an unknown role",
        bearer(&jwt_with(
            serde_json::json!({"sub": "x", "tenants": ["acme"], "role": "root", "exp": exp_future}),
            JWT_SECRET,
        )),
        "acme",
        unauth,
    );
    add(
        "expired JWT on a malformed tenant",
        bearer(&jwt_with(
            serde_json::json!({"sub": "x", "tenants": ["*"], "role": "admin", "exp": exp_past}),
            JWT_SECRET,
        )),
        "../x",
        unauth,
    );
    add("no token on `../x`", None, "../x", unauth);
    add("no token on an empty tenant", None, "", unauth);
    add("unknown token on `a/b`", bearer("not-a-real-token-0123456789"), "a/b", unauth);

    // Authenticated, but for another tenant → PERMISSION_DENIED.
    add("static token for globex only", bearer(GLOBEX_ADMIN), "acme", denied);
    add("JWT for globex only", bearer(&jwt(&["globex"], "admin", 600)), "acme", denied);
    add("JWT for `ACME` (case differs)", bearer(&jwt(&["ACME"], "admin", 600)), "acme", denied);
    add("JWT for `acme2`", bearer(&jwt(&["acme2", "globex"], "admin", 600)), "acme", denied);
    add("acme write token on globex", bearer(ACME_WRITE), "globex", denied);
    add("acme read token on globex", bearer(ACME_READ), "globex", denied);
    add("acme write token on `ACME`", bearer(ACME_WRITE), "ACME", denied);
    add("acme write token on `acme-x`", bearer(ACME_WRITE), "acme-x", denied);
    add("acme write token on `acm`", bearer(ACME_WRITE), "acm", denied);
    add("acme JWT on an unknown tenant", bearer(&jwt(&["acme"], "admin", 600)), "initech", denied);

    // The right tenant, a role below what the RPC needs → PERMISSION_DENIED.
    if rpc.role() >= Role::Write {
        add("read token on acme", bearer(ACME_READ), "acme", denied);
        add("read JWT on acme", bearer(&jwt(&["acme"], "read", 600)), "acme", denied);
    }
    if rpc.role() >= Role::Admin {
        add("write token on acme", bearer(ACME_WRITE), "acme", denied);
        add("write JWT on acme", bearer(&jwt(&["acme"], "write", 600)), "acme", denied);
    }
    if rpc == Rpc::ListModels {
        // An empty tenant id lists every tenant: admin of `*` only.
        add("acme read token on all tenants", bearer(ACME_READ), "", denied);
        add("acme write token on all tenants", bearer(ACME_WRITE), "", denied);
        add("acme admin JWT on all tenants", bearer(&jwt(&["acme"], "admin", 600)), "", denied);
        add("globex admin token on all tenants", bearer(GLOBEX_ADMIN), "", denied);
    }

    // A malformed tenant id → INVALID_ARGUMENT, before any scope check, for every token.
    let mut ids = malformed_tenants();
    if rpc != Rpc::ListModels {
        ids.push(("empty", String::new()));
    }
    for (what, id) in &ids {
        add(&format!("admin token, tenant {what}"), bearer(ADMIN), id, invalid);
        add(&format!("acme read token, tenant {what}"), bearer(ACME_READ), id, invalid);
    }
    for (what, id) in ids.iter().take(6) {
        add(&format!("admin JWT, tenant {what}"), bearer(&jwt(&["*"], "admin", 600)), id, invalid);
    }
    out
}

/// Every file under `dir` with its size and modification time (the SQLite files excluded:
/// their pages change on reads too; the database is compared through the API instead).
fn files(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let meta = e.metadata().unwrap();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            if meta.is_dir() {
                out.insert(rel.join(""), (0, SystemTime::UNIX_EPOCH));
                stack.push(path);
            } else if !rel.to_string_lossy().starts_with("topicd.db") {
                out.insert(rel, (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    out
}

/// What acme's state looks like through the API (admin token).
#[derive(Debug, PartialEq)]
struct Observed {
    models: proto::ListModelsResponse,
    all_models: proto::ListModelsResponse,
    top: proto::GetTopTopicsResponse,
    windows: proto::ListMergedWindowsResponse,
    model: proto::GetModelResponse,
}

async fn observe(c: &mut TopicsClient<Channel>) -> Observed {
    Observed {
        models: c
            .list_models(with_token(
                proto::ListModelsRequest { tenant_id: "acme".into(), limit: 0 },
                ADMIN,
            ))
            .await
            .unwrap()
            .into_inner(),
        all_models: c
            .list_models(with_token(proto::ListModelsRequest::default(), ADMIN))
            .await
            .unwrap()
            .into_inner(),
        top: c
            .get_top_topics(with_token(
                proto::GetTopTopicsRequest {
                    tenant_id: "acme".into(),
                    limit: 0,
                    include_trend: true,
                },
                ADMIN,
            ))
            .await
            .unwrap()
            .into_inner(),
        windows: c
            .list_merged_windows(with_token(
                proto::ListMergedWindowsRequest { tenant_id: "acme".into() },
                ADMIN,
            ))
            .await
            .unwrap()
            .into_inner(),
        model: c
            .get_model(with_token(
                proto::GetModelRequest {
                    tenant_id: "acme".into(),
                    version: None,
                    include_retired: true,
                },
                ADMIN,
            ))
            .await
            .unwrap()
            .into_inner(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_tenant_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let acme_version = common::seed_model(&data, "acme").await;
    common::seed_model(&data, "globex").await;
    let mut cfg = common::config(&data);
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    cfg.auth.jwt_secret = Some(topicd::auth::Secret::new(JWT_SECRET));
    cfg.limits.rate_per_second = 0.0; // the matrix sends hundreds of calls per token
    let server = TestServer::start(cfg).await;
    let mut c = server.client().await;

    let before = observe(&mut c).await;
    assert_eq!(before.models.models.len(), 1);
    assert_eq!(before.top.topics.len(), 3);
    let files_before = files(&data);
    assert!(files_before.keys().any(|p| p.starts_with("models/acme")), "{files_before:?}");

    let secrets = [ADMIN, ACME_READ, ACME_WRITE, GLOBEX_ADMIN, JWT_SECRET];
    let mut total = 0usize;
    let mut failures = Vec::new();
    for rpc in Rpc::ALL {
        for case in cases_for(rpc) {
            total += 1;
            let what = format!("{rpc:?} × {} (tenant {:?})", case.name, case.tenant);
            let r = rpc.call(&mut c, &case.tenant, case.header.as_deref(), &acme_version).await;
            match r {
                Ok(()) => failures.push(format!("{what}: succeeded, expected {:?}", case.expect)),
                Err(s) if s.code() != case.expect => failures.push(format!(
                    "{what}: got {:?} ({}), expected {:?}",
                    s.code(),
                    s.message(),
                    case.expect
                )),
                Err(s) => {
                    let presented =
                        case.header.as_deref().and_then(|h| h.split_whitespace().nth(1));
                    for secret in secrets.iter().copied().chain(presented) {
                        if s.message().contains(secret) {
                            failures.push(format!("{what}: the status message echoes a token"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 100, "only {total} cases");
    eprintln!("isolation matrix: {total} cases passed");

    // Nothing was read into or written to acme (or anyone): same API view, same files.
    let after = observe(&mut c).await;
    assert_eq!(before, after, "acme's state changed during the matrix");
    let files_after = files(&data);
    assert_eq!(files_before, files_after, "the data directory changed during the matrix");

    // Control: the same requests with the right token get past authentication, so the matrix
    // requests were live ones.
    for rpc in [
        Rpc::Transform,
        Rpc::GetTopTopics,
        Rpc::ListModels,
        Rpc::GetModel,
        Rpc::ListMergedWindows,
        Rpc::GetTopicMap,
        Rpc::GetTopicChanges,
    ] {
        let h = bearer(ACME_READ);
        rpc.call(&mut c, "acme", h.as_deref(), &acme_version)
            .await
            .unwrap_or_else(|e| panic!("{rpc:?} with the acme read token: {e:?}"));
    }
    // A forced Merge of a merged version passes auth and fails on the request itself.
    let e = Rpc::Merge
        .call(&mut c, "acme", bearer(ACME_WRITE).as_deref(), &acme_version)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    Rpc::ActivateModel.call(&mut c, "acme", bearer(ADMIN).as_deref(), &acme_version).await.unwrap();
    Rpc::Fit.call(&mut c, "acme", bearer(ACME_WRITE).as_deref(), &acme_version).await.unwrap();
    let listed = c
        .list_models(with_token(
            proto::ListModelsRequest { tenant_id: "acme".into(), limit: 0 },
            ACME_READ,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.models.len(), 2, "the control Fit stored a candidate");
    Rpc::SetTopicLabel
        .call(&mut c, "acme", bearer(ACME_WRITE).as_deref(), &acme_version)
        .await
        .unwrap();
    Rpc::DeleteTenant
        .call(&mut c, "globex", bearer(GLOBEX_ADMIN).as_deref(), &acme_version)
        .await
        .unwrap();
    assert!(!data.join("models/globex").exists() || files(&data.join("models/globex")).is_empty());
    server.stop().await;
}
