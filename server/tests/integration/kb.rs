//! Help-centre articles (issue 29, knowledge gaps) through a real server, over gRPC and HTTP:
//! SetArticles / `PUT /v1/tenants/{t}/articles` replace a tenant's articles (write role),
//! ListArticles / `GET` read them back (read role); bad input gets a clear status; the articles
//! survive a restart and go with the tenant. One night of CLINC150 messages with their
//! reference embeddings; articles are embedded by the local encoder.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use common::{
    fit_and_merge, tokens_file, with_token, Clinc, TestServer, ACME_READ, ACME_WRITE, ADMIN,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tonic::transport::Channel;
use tonic::Code;
use topicd::config::Config;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Article};

type Client = TopicsClient<Channel>;

fn server_config(dir: &std::path::Path) -> Config {
    let mut cfg = common::config(dir);
    cfg.auth.tokens_file = Some(tokens_file(dir));
    cfg.embedding.model = Some(topicd_testing::locate::model_dir().to_string_lossy().into_owned());
    cfg.embedding.device = "cpu".into();
    cfg.embedding.allow_download = false;
    cfg
}

fn article(id: &str, title: &str) -> Article {
    Article { id: id.into(), title: title.into(), url: String::new(), summary: String::new() }
}

async fn set(
    c: &mut Client,
    token: &str,
    tenant: &str,
    articles: Vec<Article>,
) -> Result<proto::SetArticlesResponse, tonic::Status> {
    let req = proto::SetArticlesRequest { tenant_id: tenant.into(), articles };
    c.set_articles(with_token(req, token)).await.map(|r| r.into_inner())
}

async fn list(
    c: &mut Client,
    token: &str,
    tenant: &str,
) -> Result<proto::ListArticlesResponse, tonic::Status> {
    let req = proto::ListArticlesRequest { tenant_id: tenant.into() };
    c.list_articles(with_token(req, token)).await.map(|r| r.into_inner())
}

async fn http(
    client: &reqwest::Client,
    method: Method,
    url: String,
    token: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut r = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        r = r.header("content-type", "application/json").body(b.to_string());
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_set_list_validate_persist_and_delete() {
    let data = Clinc::load();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_http(server_config(dir.path())).await;
    let mut c = server.client().await;

    // Unknown tenant (no model yet): NotFound, over both APIs.
    let e = set(&mut c, ACME_WRITE, "acme", vec![article("a", "Card arrival")]).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    assert!(e.message().contains("no active model"), "{}", e.message());
    assert_eq!(list(&mut c, ACME_READ, "acme").await.unwrap_err().code(), Code::NotFound);

    // One night of six intents makes acme known.
    let intents = data.intents(6);
    let rows: Vec<usize> = intents.iter().flat_map(|i| data.rows_of(i)[..40].to_vec()).collect();
    let (docs, embs) = data.batch(&rows, "2026-11-23");
    fit_and_merge(&mut c, "acme", ACME_WRITE, docs, embs, "2026-11-23", "2026-11-24").await;
    assert!(list(&mut c, ACME_READ, "acme").await.unwrap().articles.is_empty());

    // gRPC: set three, read them back in order, embedded by the server's model.
    let mut first = vec![
        article("kb-2", "Timer"),
        article("kb-1", "Translate"),
        Article {
            id: "kb-3".into(),
            title: "  Card arrival  ".into(),
            url: "https://help.example/cards".into(),
            summary: "When your new card\narrives".into(),
        },
    ];
    let r = set(&mut c, ACME_WRITE, "acme", first.clone()).await.unwrap();
    assert_eq!(r.count, 3);
    assert!(r.embedding_model.contains("all-MiniLM-L6-v2"), "{}", r.embedding_model);
    let got = list(&mut c, ACME_READ, "acme").await.unwrap();
    first[2].title = "Card arrival".into(); // trimmed
    assert_eq!(got.articles, first);
    assert_eq!(got.embedding_model, r.embedding_model);
    assert!(got.updated_at.ends_with('Z'), "{}", got.updated_at);

    // Roles: a read token may list, not set; no token at all is unauthenticated.
    let e = set(&mut c, ACME_READ, "acme", vec![article("x", "y")]).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let e = c
        .set_articles(proto::SetArticlesRequest { tenant_id: "acme".into(), articles: vec![] })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    assert_eq!(
        list(&mut c, ACME_WRITE, "globex").await.unwrap_err().code(),
        Code::PermissionDenied
    );

    // Bad input over gRPC: each a clear InvalidArgument naming the field; nothing changes.
    let long = "x".repeat(301);
    let cases: Vec<(Vec<Article>, &str)> = vec![
        (vec![article("a", "")], "articles[0].title is missing"),
        (vec![article("", "t")], "articles[0].id is missing"),
        (vec![article("a", "t"), article("a", "u")], "also the id of articles[0]"),
        (vec![article("a", &long)], "at most 300"),
        (vec![article("a", "bell\u{7}")], "control characters"),
        (
            (0..2001).map(|i| article(&format!("a{i}"), "t")).collect(),
            "2001 articles; at most 2000",
        ),
        (vec![Article { url: "javascript:alert(1)".into(), ..article("a", "t") }], "not an http"),
    ];
    for (articles, want) in cases {
        let e = set(&mut c, ACME_WRITE, "acme", articles).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{want}: {e:?}");
        assert!(e.message().contains(want), "{want}: {}", e.message());
    }
    let e = set(&mut c, ACME_WRITE, "bad tenant!", vec![]).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(list(&mut c, ACME_READ, "acme").await.unwrap().articles, first, "unchanged");

    // HTTP: the list itself as the body replaces the set; GET reads it back.
    let h = reqwest::Client::new();
    let url = server.url("/v1/tenants/acme/articles");
    let body = r#"[{"id": "h1", "title": "Timer", "url": "https://help.example/timer"},
                   {"id": "h2", "title": "Translate", "summary": "Translating phrases"}]"#;
    let (s, v) = http(&h, Method::PUT, url.clone(), ACME_WRITE, Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["count"], 2);
    let (s, v) = http(&h, Method::GET, url.clone(), ACME_READ, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ids: Vec<&str> =
        v["articles"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["h1", "h2"]);
    assert_eq!(v["articles"][1]["summary"], "Translating phrases");
    // The request message works too.
    let wrapped = json!({"articles": [{"id": "w", "title": "Timer"}]}).to_string();
    let (s, v) = http(&h, Method::PUT, url.clone(), ACME_WRITE, Some(&wrapped)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["count"], 1);

    // HTTP errors: status, gRPC code name and an actionable message.
    let http_cases: Vec<(&str, &str, StatusCode, &str)> = vec![
        (ACME_WRITE, "[{\"id\": \"a\", ", StatusCode::BAD_REQUEST, "not valid JSON"),
        (ACME_WRITE, r#"[{"id": "a"}]"#, StatusCode::BAD_REQUEST, "articles[0].title is missing"),
        (ACME_WRITE, r#"[{"id": "a", "title": 5}]"#, StatusCode::BAD_REQUEST, "list of articles"),
        (ACME_READ, r#"[{"id": "a", "title": "t"}]"#, StatusCode::FORBIDDEN, ""),
        ("wrong-token", r#"[]"#, StatusCode::UNAUTHORIZED, ""),
    ];
    for (token, body, status, want) in http_cases {
        let (s, v) = http(&h, Method::PUT, url.clone(), token, Some(body)).await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(want), "{body}: {v}");
    }
    let (s, v) = http(
        &h,
        Method::PUT,
        server.url("/v1/tenants/nobody/articles"),
        ADMIN,
        Some(r#"[{"id": "a", "title": "t"}]"#),
    )
    .await;
    assert_eq!((s, v["error"]["code"].as_str().unwrap()), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (s, v) = http(&h, Method::GET, url.clone(), ACME_READ, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["articles"].as_array().unwrap().len(), 1, "failed writes changed nothing");

    // A restart keeps them (the SQLite file under the data directory).
    set(&mut c, ACME_WRITE, "acme", first.clone()).await.unwrap();
    drop(c);
    server.stop().await;
    let server = TestServer::start(server_config(dir.path())).await;
    let mut c = server.client().await;
    let got = list(&mut c, ACME_READ, "acme").await.unwrap();
    assert_eq!(got.articles, first, "survive a restart");

    // An empty set removes them; DeleteTenant removes them with the tenant.
    assert_eq!(set(&mut c, ACME_WRITE, "acme", vec![]).await.unwrap().count, 0);
    assert!(list(&mut c, ACME_READ, "acme").await.unwrap().updated_at.is_empty());
    set(&mut c, ACME_WRITE, "acme", first.clone()).await.unwrap();
    let del = proto::DeleteTenantRequest { tenant_id: "acme".into() };
    c.delete_tenant(with_token(del, ADMIN)).await.unwrap();
    assert_eq!(list(&mut c, ADMIN, "acme").await.unwrap_err().code(), Code::NotFound);
    server.stop().await;
}

/// The majority topic Transform gives `rows` (their reference embeddings).
async fn majority_topic(c: &mut Client, data: &Clinc, rows: &[usize]) -> i64 {
    let embeddings =
        rows.iter().map(|&i| proto::Embedding { values: data.row(i).to_vec() }).collect();
    let req = proto::TransformRequest { tenant_id: "acme".into(), texts: vec![], embeddings };
    let r = c.transform(with_token(req, ACME_READ)).await.unwrap().into_inner();
    let mut counts = std::collections::BTreeMap::new();
    for x in r.results {
        *counts.entry(x.topic_id).or_insert(0usize) += 1;
    }
    counts.into_iter().max_by_key(|(id, n)| (*n, -id)).unwrap().0
}

async fn get_faq(c: &mut Client, gaps_only: bool) -> proto::GetFaqResponse {
    let req = proto::GetFaqRequest { tenant_id: "acme".into(), format: String::new(), gaps_only };
    c.get_faq(with_token(req, ACME_READ)).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_entries_get_their_article_and_gaps_rank_by_last_week() {
    let data = Clinc::load();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_http(server_config(dir.path())).await;
    let mut c = server.client().await;
    let intents = data.intents(6);
    let rows: Vec<usize> = intents.iter().flat_map(|i| data.rows_of(i)[..40].to_vec()).collect();
    let (docs, embs) = data.batch(&rows, "2026-11-23");
    fit_and_merge(&mut c, "acme", ACME_WRITE, docs, embs, "2026-11-23", "2026-11-24").await;

    // No articles: every entry is a gap.
    let all = get_faq(&mut c, false).await;
    assert!(all.entries.len() >= 4, "{} entries", all.entries.len());
    assert!(all.entries.iter().all(|e| e.article.is_none()));
    assert_eq!(get_faq(&mut c, true).await.entries.len(), all.entries.len());

    // An article written from intent 0's own messages covers its topic; one about gardening
    // covers nothing.
    let covered_rows = &data.rows_of(&intents[0])[40..43];
    let summary: Vec<&str> = covered_rows.iter().map(|&i| data.texts[i].as_str()).collect();
    let articles = vec![
        Article {
            id: "kb-0".into(),
            title: intents[0].replace('_', " "),
            url: "https://help.example/kb-0".into(),
            summary: summary.join(" "),
        },
        article("kb-garden", "Pruning tomato plants in a greenhouse"),
    ];
    set(&mut c, ACME_WRITE, "acme", articles).await.unwrap();
    let covered_topic = majority_topic(&mut c, &data, &data.rows_of(&intents[0])[..40]).await;
    let all = get_faq(&mut c, false).await;
    let entry = all.entries.iter().find(|e| e.topic_id == covered_topic).unwrap();
    let a = entry.article.as_ref().expect("intent 0's topic is covered");
    assert_eq!((a.id.as_str(), a.url.as_str()), ("kb-0", "https://help.example/kb-0"));
    assert!(a.score >= 0.68 && a.score <= 1.0, "{}", a.score);
    // The other intents' topics (those the FAQ shows: not outliers) are gaps.
    let mut checked = 0;
    for i in &intents[1..] {
        let t = majority_topic(&mut c, &data, &data.rows_of(i)[..40]).await;
        if t == covered_topic {
            continue;
        }
        if let Some(e) = all.entries.iter().find(|e| e.topic_id == t) {
            assert!(e.article.is_none(), "{i}: no article is about it, {:?}", e.article);
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked} other intents' topics in the FAQ");
    assert!(all.entries.iter().all(|e| e.article.as_ref().is_none_or(|a| a.id == "kb-0")));

    // Gaps only: the entries without an article, most messages in the last 7 days first.
    let gaps = get_faq(&mut c, true).await;
    let want: Vec<i64> = {
        let mut g: Vec<&proto::FaqEntry> =
            all.entries.iter().filter(|e| e.article.is_none()).collect();
        g.sort_by(|a, b| {
            topicd::lifecycle::kb::gap_order(
                (a.last_7_days, a.previous_7_days, a.topic_id),
                (b.last_7_days, b.previous_7_days, b.topic_id),
            )
        });
        g.iter().map(|e| e.topic_id).collect()
    };
    assert_eq!(gaps.entries.iter().map(|e| e.topic_id).collect::<Vec<_>>(), want);
    assert!(!want.is_empty() && !want.contains(&covered_topic));
    for w in gaps.entries.windows(2) {
        assert!(w[0].last_7_days >= w[1].last_7_days);
    }

    // HTTP: the article on the entry, `?gaps=true`, Markdown of the gaps.
    let h = reqwest::Client::new();
    let (s, v) = http(&h, Method::GET, server.url("/v1/tenants/acme/faq"), ACME_READ, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let e = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["topic_id"].as_str().and_then(|s| s.parse::<i64>().ok()) == Some(covered_topic))
        .unwrap();
    assert_eq!(e["article"]["id"], "kb-0");
    let (s, v) =
        http(&h, Method::GET, server.url("/v1/tenants/acme/faq?gaps=true"), ACME_READ, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ids: Vec<String> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["topic_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, want.iter().map(|t| t.to_string()).collect::<Vec<_>>());
    assert!(v["entries"].as_array().unwrap().iter().all(|e| e["article"].is_null()));
    let (s, v) =
        http(&h, Method::GET, server.url("/v1/tenants/acme/faq?gaps=maybe"), ACME_READ, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let md = h
        .get(server.url("/v1/tenants/acme/faq?gaps=true&format=markdown"))
        .bearer_auth(ACME_READ)
        .send()
        .await
        .unwrap();
    assert_eq!(md.status(), StatusCode::OK);
    assert!(!md.text().await.unwrap().is_empty());
    server.stop().await;
}
