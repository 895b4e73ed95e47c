//! The HTTP/JSON API against a real server: every route, the same auth and validation as gRPC,
//! JSON error bodies with the right HTTP status, body limits, CORS, and `/openapi.json`
//! describing exactly the routes served.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use common::{tokens_file, Clinc, TestServer, ACME_READ, ACME_WRITE, ADMIN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Sends a request and returns the status and the JSON body.
async fn call(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = http.request(method, url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }));
    (status, value)
}

/// Asserts an error answer: HTTP status, gRPC code name, and a message containing `needle`.
fn assert_error(got: &(StatusCode, Value), status: u16, code: &str, needle: &str) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{}", got.1);
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fit_merge_transform_top_models_activate_delete() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_http(common::config(dir.path())).await;
    let http = reqwest::Client::new();
    let data = Clinc::load();

    let (s, v) = call(&http, Method::GET, &server.url("/health"), None, None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("SERVING")));

    // Fit one day of five intents (embeddings in the row shorthand), then merge it.
    let rows: Vec<usize> =
        data.intents(5).iter().flat_map(|l| data.rows_of(l).into_iter().take(40)).collect();
    let documents: Vec<Value> = rows
        .iter()
        .map(|&i| {
            json!({"id": format!("doc-{i}"), "text": data.texts[i], "created_at": "2026-11-24T12:00:00Z"})
        })
        .collect();
    let embeddings: Vec<Vec<f32>> = rows.iter().map(|&i| data.row(i).to_vec()).collect();
    let fit = json!({
        "documents": documents,
        "embeddings": embeddings,
        "window": {"start": "2026-11-24T00:00:00Z", "end": "2026-11-25T00:00:00Z"},
        "params": {"min_topic_size": 10, "seed": 42},
    });
    let (s, fitted) =
        call(&http, Method::POST, &server.url("/v1/tenants/acme/fit"), None, Some(fit)).await;
    assert_eq!(s, StatusCode::OK, "{fitted}");
    assert_eq!(fitted["tenant_id"], "acme");
    assert_eq!(fitted["assignments"].as_array().unwrap().len(), rows.len());
    assert!(fitted["topics"].as_array().unwrap().len() >= 3, "{}", fitted["topics"]);
    let day_version = fitted["version"].as_str().unwrap().to_string();

    let (s, merged) = call(
        &http,
        Method::POST,
        &server.url("/v1/tenants/acme/merge"),
        None,
        Some(json!({"day_version": day_version})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{merged}");
    let active = merged["version"].as_str().unwrap().to_string();
    // The same window again is a conflict, as ALREADY_EXISTS is on gRPC.
    let again = call(
        &http,
        Method::POST,
        &server.url("/v1/tenants/acme/merge"),
        None,
        Some(json!({"day_version": day_version})),
    )
    .await;
    assert_eq!(again.0, StatusCode::CONFLICT, "{}", again.1);
    assert_eq!(again.1["error"]["code"], "ALREADY_EXISTS");

    // Transform: the row shorthand and the proto form give the same answer as Fit's topic.
    let first = rows[0];
    let want = fitted["assignments"][0]["topic_id"].clone();
    for embeddings in [json!([data.row(first)]), json!([{"values": data.row(first)}])] {
        let (s, t) = call(
            &http,
            Method::POST,
            &server.url("/v1/tenants/acme/transform"),
            None,
            Some(json!({ "embeddings": embeddings })),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        assert_eq!(t["version"], active.as_str());
        assert_eq!(t["results"][0]["topic_id"], want, "{t}");
        assert!(t["results"][0]["label"].as_str().is_some_and(|l| !l.is_empty()));
        // Embeddings are never small talk; the count is there (a uint64: a JSON string).
        assert_eq!(t["small_talk"], "0", "{t}");
    }

    let (s, top) = call(
        &http,
        Method::GET,
        &server.url("/v1/tenants/acme/topics?limit=3&trend=true"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{top}");
    let topics = top["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 3);
    assert_eq!(topics[0]["rank"], 1);
    assert!(!topics[0]["trend"].as_array().unwrap().is_empty());

    let (s, models) =
        call(&http, Method::GET, &server.url("/v1/tenants/acme/models"), None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(models["models"].as_array().unwrap().len(), 2, "{models}");
    let (s, m) =
        call(&http, Method::GET, &server.url("/v1/tenants/acme/models/active"), None, None).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["info"]["version"], active.as_str());
    let (s, m) = call(
        &http,
        Method::GET,
        &server.url(&format!("/v1/tenants/acme/models/{day_version}")),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["info"]["kind"], "candidate");
    let (s, w) =
        call(&http, Method::GET, &server.url("/v1/tenants/acme/windows"), None, None).await;
    assert_eq!(s, StatusCode::OK, "{w}");
    assert_eq!(w["windows"].as_array().unwrap().len(), 1, "{w}");

    // Activating an unknown version is NOT_FOUND; the active one is accepted.
    let missing = call(
        &http,
        Method::POST,
        &server.url("/v1/tenants/acme/models/20200101_000000/activate"),
        None,
        None,
    )
    .await;
    assert_error(&missing, 404, "NOT_FOUND", "20200101_000000");
    let (s, a) = call(
        &http,
        Method::POST,
        &server.url(&format!("/v1/tenants/acme/models/{active}/activate")),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");

    let (s, d) = call(&http, Method::DELETE, &server.url("/v1/tenants/acme"), None, None).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["models_deleted"], "2", "uint64 is a string in the proto3 JSON mapping: {d}");
    let gone = call(&http, Method::GET, &server.url("/v1/tenants/acme/topics"), None, None).await;
    assert_eq!(gone.0, StatusCode::NOT_FOUND, "{}", gone.1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_auth_as_grpc() {
    let dir = tempfile::tempdir().unwrap();
    common::seed_model(dir.path(), "acme").await;
    common::seed_model(dir.path(), "globex").await;
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    let server = TestServer::start_with_http(cfg).await;
    let http = reqwest::Client::new();
    let top = |t: &str| server.url(&format!("/v1/tenants/{t}/topics"));

    // Health and the API description stay open.
    assert_eq!(call(&http, Method::GET, &server.url("/health"), None, None).await.0, 200);
    assert_eq!(call(&http, Method::GET, &server.url("/openapi.json"), None, None).await.0, 200);

    let none = call(&http, Method::GET, &top("acme"), None, None).await;
    assert_error(&none, 401, "UNAUTHENTICATED", "missing bearer token");
    let wrong = call(&http, Method::GET, &top("acme"), Some("not-a-token-0123456789"), None).await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED, "{}", wrong.1);
    let (s, _) = call(&http, Method::GET, &top("acme"), Some(ACME_READ), None).await;
    assert_eq!(s, StatusCode::OK);
    let other = call(&http, Method::GET, &top("globex"), Some(ACME_READ), None).await;
    assert_error(&other, 403, "PERMISSION_DENIED", "no access to tenant globex");
    // A read token cannot merge; a write token cannot delete; admin can.
    let merge = call(
        &http,
        Method::POST,
        &server.url("/v1/tenants/acme/merge"),
        Some(ACME_READ),
        Some(json!({"day_version": "20261124_000000"})),
    )
    .await;
    assert_error(&merge, 403, "PERMISSION_DENIED", "needs write");
    let delete =
        call(&http, Method::DELETE, &server.url("/v1/tenants/acme"), Some(ACME_WRITE), None).await;
    assert_error(&delete, 403, "PERMISSION_DENIED", "needs admin");
    let all =
        call(&http, Method::GET, &server.url("/v1/tenants/*/models"), Some(ACME_READ), None).await;
    assert_eq!(all.0, StatusCode::FORBIDDEN, "{}", all.1);
    let (s, all) =
        call(&http, Method::GET, &server.url("/v1/tenants/*/models"), Some(ADMIN), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(all["models"].as_array().unwrap().len(), 2);
    let (s, _) =
        call(&http, Method::DELETE, &server.url("/v1/tenants/globex"), Some(ADMIN), None).await;
    assert_eq!(s, StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_json_error_with_the_right_status() {
    let dir = tempfile::tempdir().unwrap();
    common::seed_model(dir.path(), "acme").await;
    let mut cfg = common::config(dir.path());
    cfg.limits.max_request_bytes = 64 << 10;
    let server = TestServer::start_with_http(cfg).await;
    let http = reqwest::Client::new();
    let transform = server.url("/v1/tenants/acme/transform");

    let r = http.post(&transform).body("{not json").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "INVALID_ARGUMENT");
    assert!(v["error"]["message"].as_str().unwrap().contains("not valid JSON"), "{v}");

    let wrong_type =
        call(&http, Method::POST, &transform, None, Some(json!({"texts": "one string"}))).await;
    assert_error(&wrong_type, 400, "INVALID_ARGUMENT", "TransformRequest");
    let dim =
        call(&http, Method::POST, &transform, None, Some(json!({"embeddings": [[1.0, 0.0]]})))
            .await;
    assert_error(&dim, 400, "INVALID_ARGUMENT", "dimension");
    let empty = call(&http, Method::POST, &transform, None, Some(json!({}))).await;
    assert_eq!(empty.0, StatusCode::BAD_REQUEST, "{}", empty.1);
    let other_tenant = call(
        &http,
        Method::POST,
        &transform,
        None,
        Some(json!({"tenant_id": "globex", "embeddings": [[1.0, 0.0, 0.0, 0.0]]})),
    )
    .await;
    assert_error(&other_tenant, 400, "INVALID_ARGUMENT", "differs from the tenant in the path");
    let bad_tenant =
        call(&http, Method::GET, &server.url("/v1/tenants/bad%20tenant/topics"), None, None).await;
    assert_error(&bad_tenant, 400, "INVALID_ARGUMENT", "tenant");
    let unknown =
        call(&http, Method::GET, &server.url("/v1/tenants/nobody/topics"), None, None).await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND, "{}", unknown.1);
    let bad_version =
        call(&http, Method::GET, &server.url("/v1/tenants/acme/models/yesterday"), None, None)
            .await;
    assert_error(&bad_version, 400, "INVALID_ARGUMENT", "yesterday");
    let bad_query =
        call(&http, Method::GET, &server.url("/v1/tenants/acme/topics?limit=ten"), None, None)
            .await;
    assert_error(&bad_query, 400, "INVALID_ARGUMENT", "query string");
    let no_route = call(&http, Method::GET, &server.url("/v2/anything"), None, None).await;
    assert_error(&no_route, 404, "NOT_FOUND", "no route GET /v2/anything");

    // Larger than limits.max_request_bytes: 413 with a JSON body, like RESOURCE_EXHAUSTED.
    let big: Vec<String> =
        (0..2_000).map(|i| format!("a fairly long message number {i}")).collect();
    let too_big = call(&http, Method::POST, &transform, None, Some(json!({ "texts": big }))).await;
    assert_error(&too_big, 413, "RESOURCE_EXHAUSTED", "max_request_bytes");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_exactly_the_served_routes_and_cors_is_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    common::seed_model(dir.path(), "acme").await;
    let mut cfg = common::config(dir.path());
    cfg.http_cors_origins = vec!["https://dash.example".into()];
    let server = TestServer::start_with_http(cfg).await;
    let http = reqwest::Client::new();

    let (s, doc) = call(&http, Method::GET, &server.url("/openapi.json"), None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, topicd::http::openapi::ROUTES.len());
    for route in topicd::http::openapi::ROUTES {
        let path = route
            .path
            .replace("{tenant}", "acme")
            .replace("{version}", "active")
            .replace("{topic_id}", "0");
        let method = Method::from_bytes(route.method.to_uppercase().as_bytes()).unwrap();
        let body = (method == Method::POST || method == Method::PUT).then(|| json!({}));
        let got = call(&http, method, &server.url(&path), None, body).await;
        let message = got.1["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.starts_with("no route"),
            "{} {path} is documented but not served",
            route.method
        );
    }
    // Everything served is documented: an undocumented method on a documented path is 405.
    let r = http.put(server.url("/v1/tenants/acme/topics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);

    // CORS: the configured origin gets a preflight answer, another does not.
    let preflight = |origin: &'static str| {
        http.request(Method::OPTIONS, server.url("/v1/tenants/acme/topics"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://dash.example").await.unwrap();
    assert_eq!(
        ok.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()),
        Some("https://dash.example")
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    server.stop().await;
}
