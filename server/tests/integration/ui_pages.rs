//! The web dashboard's routes on the HTTP port: `/`, `/tenants/{tenant}` and `/ui/{asset}` serve
//! the embedded files with their content types, validators and security headers, without a
//! token even when auth is on (the data routes the page calls still need one).

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use common::{tokens_file, TestServer, ACME_READ};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_assets_are_served_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    common::seed_model(dir.path(), "acme").await;
    let mut cfg = common::config(dir.path());
    cfg.auth.tokens_file = Some(tokens_file(dir.path()));
    let server = TestServer::start_with_http(cfg).await;
    let http = reqwest::Client::new();

    for page in ["/", "/tenants/acme", "/tenants/anyone"] {
        let r = http.get(server.url(page)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{page}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        assert_eq!(h["cache-control"], "no-cache");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"), "{csp}");
        assert_eq!(h["etag"].to_str().unwrap(), topicd_dashboard::index().etag);
        let body = r.text().await.unwrap();
        assert_eq!(body, topicd_dashboard::INDEX_HTML);
    }

    for (name, content_type, body) in [
        ("app.js", "text/javascript; charset=utf-8", topicd_dashboard::APP_JS),
        ("app.css", "text/css; charset=utf-8", topicd_dashboard::APP_CSS),
    ] {
        let url = server.url(&format!("/ui/{name}"));
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        assert_eq!(r.headers()["content-type"], content_type);
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(r.text().await.unwrap(), body);
        // A browser revalidating its copy gets 304 and no body; a stale copy gets the file.
        let again = http.get(&url).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
        assert!(again.text().await.unwrap().is_empty());
        let stale = http.get(&url).header("if-none-match", "\"0000\"").send().await.unwrap();
        assert_eq!(stale.status(), StatusCode::OK);
    }

    let missing = http.get(server.url("/ui/secrets.toml")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let v: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(v["error"]["code"], "NOT_FOUND");
    assert!(v["error"]["message"].as_str().unwrap().contains("app.js"), "{v}");
    let traversal = http.get(server.url("/ui/..%2FCargo.toml")).send().await.unwrap();
    assert_eq!(traversal.status(), StatusCode::NOT_FOUND);

    // The data behind the page still needs the token the page asks for.
    let api = server.url("/v1/tenants/acme/topics?limit=10&trend=true");
    assert_eq!(http.get(&api).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let ok = http.get(&api).bearer_auth(ACME_READ).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    server.stop().await;
}
