//! Shared helpers for the server's integration tests: a real `topicd` on a loopback port, and
//! CLINC150 documents with their reference embeddings.
#![allow(dead_code, clippy::unwrap_used)] // test helpers may unwrap

use std::path::Path;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use topicd::config::Config;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Document, Embedding};

/// A server running in this process on 127.0.0.1:<free port>.
pub struct TestServer {
    pub addr: std::net::SocketAddr,
    /// The HTTP/JSON API's address, when started with [`TestServer::start_with_http`].
    pub http: Option<std::net::SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// Builds the app from `config` and serves it.
    pub async fn start(config: Config) -> TestServer {
        let app = topicd::app::App::build(config).await.expect("app builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(topicd::app::serve(app, listener, async move {
            let _ = rx.await;
        }));
        TestServer { addr, http: None, stop: Some(tx), task: Some(task) }
    }

    /// [`TestServer::start`] with the HTTP/JSON API on another free port.
    pub async fn start_with_http(config: Config) -> TestServer {
        let app = topicd::app::App::build(config).await.expect("app builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind http");
        let addr = listener.local_addr().expect("addr");
        let http_addr = http.local_addr().expect("http addr");
        let (tx, rx) = oneshot::channel::<()>();
        let task =
            tokio::spawn(topicd::app::serve_with_http(app, listener, Some(http), async move {
                let _ = rx.await;
            }));
        TestServer { addr, http: Some(http_addr), stop: Some(tx), task: Some(task) }
    }

    /// `http://{http addr}{path}` (panics when the HTTP API was not started).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http.expect("started with start_with_http"))
    }

    /// A client (no token).
    pub async fn client(&self) -> TopicsClient<Channel> {
        let url = format!("http://{}", self.addr);
        for _ in 0..100 {
            if let Ok(c) = TopicsClient::connect(url.clone()).await {
                return c.max_decoding_message_size(256 << 20).max_encoding_message_size(256 << 20);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server at {url} did not accept connections");
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("server task").expect("server ran cleanly");
        }
    }
}

/// Config for a test: everything under `dir`, keyword labels, no metrics, CPU.
pub fn config(dir: &Path) -> Config {
    let mut c = Config::for_data_dir(dir);
    c.device = "cpu".into();
    c
}

/// Throwaway PostgreSQL (a fresh database) and `moto_server` (S3) for a test; stopped on drop.
pub struct PgS3 {
    /// The PostgreSQL cluster.
    pub pg: topicd_testing::PgCluster,
    /// The S3 emulator.
    pub moto: topicd_testing::MotoServer,
    /// URL of this test's database.
    pub database_url: String,
}

impl PgS3 {
    /// Starts both (PostgreSQL with `initdb`/`pg_ctl` unless `DATABASE_URL` is set).
    pub async fn start() -> PgS3 {
        let (pg, moto) = tokio::task::spawn_blocking(|| {
            let pg = topicd_testing::PgCluster::start().expect("PostgreSQL starts");
            let moto = topicd_testing::MotoServer::start().expect("moto_server starts");
            (pg, moto)
        })
        .await
        .unwrap();
        let database_url = pg.create_database().await.expect("create database");
        PgS3 { pg, moto, database_url }
    }

    /// [`config`] on this PostgreSQL database and the bucket under `prefix`.
    pub fn config(&self, dir: &Path, prefix: &str) -> Config {
        let mut c = config(dir);
        c.database_url = Some(self.database_url.clone());
        c.store_url = Some(self.moto.store_url(prefix));
        c.store_options = self.moto.s3_options().into_iter().collect();
        c
    }
}

/// The model store a config points at (to look at files from a test).
pub fn model_store(c: &Config) -> topicd::store::ModelStore {
    topicd::store::ModelStore::from_url_with_options(&c.store_url(), c.store_options.clone())
        .expect("model store")
}

/// Adds a bearer token to a request.
pub fn with_token<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().expect("ascii token"));
    r
}

/// CLINC150 rows: `(text, label)` in file order, and the reference embeddings (384-d).
pub struct Clinc {
    pub texts: Vec<String>,
    pub labels: Vec<String>,
    pub dim: usize,
    pub embeddings: Vec<f32>,
}

impl Clinc {
    /// Loads the dataset (panics with a clear message when it is missing: see
    /// `topicd_testing::locate`).
    pub fn load() -> Clinc {
        let dir = topicd_testing::locate::clinc150_dir();
        let jsonl = std::fs::read_to_string(dir.join("clinc150.jsonl")).expect("clinc150.jsonl");
        let npy = std::fs::read(dir.join("clinc150.npy")).expect("clinc150.npy");
        let mut texts = Vec::new();
        let mut labels = Vec::new();
        for line in jsonl.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("jsonl row");
            texts.push(v["text"].as_str().expect("text").to_string());
            labels.push(v["label"].as_str().expect("label").to_string());
        }
        // .npy v1/v2: magic(6) ver(2) header_len(2 or 4) header, then little-endian f32 rows.
        assert_eq!(&npy[..6], b"\x93NUMPY");
        let (hlen, off) = if npy[6] == 1 {
            (u16::from_le_bytes([npy[8], npy[9]]) as usize, 10)
        } else {
            (u32::from_le_bytes([npy[8], npy[9], npy[10], npy[11]]) as usize, 12)
        };
        let data = &npy[off + hlen..];
        let embeddings: Vec<f32> =
            data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let dim = embeddings.len() / texts.len();
        assert_eq!(dim, 384);
        Clinc { texts, labels, dim, embeddings }
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.embeddings[i * self.dim..(i + 1) * self.dim]
    }

    /// Indices of the rows of `label`, in file order.
    pub fn rows_of(&self, label: &str) -> Vec<usize> {
        (0..self.labels.len()).filter(|&i| self.labels[i] == label).collect()
    }

    /// The first distinct labels in file order, skipping `oos`.
    pub fn intents(&self, n: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for l in &self.labels {
            if l != "oos" && !out.contains(l) {
                out.push(l.clone());
                if out.len() == n {
                    break;
                }
            }
        }
        out
    }

    /// Documents and embeddings of rows `idx`, all created at `day` (YYYY-MM-DD).
    pub fn batch(&self, idx: &[usize], day: &str) -> (Vec<Document>, Vec<Embedding>) {
        let docs = idx
            .iter()
            .map(|&i| Document {
                id: format!("doc-{i}"),
                text: self.texts[i].clone(),
                created_at: format!("{day}T12:00:00Z"),
            })
            .collect();
        let embs = idx.iter().map(|&i| Embedding { values: self.row(i).to_vec() }).collect();
        (docs, embs)
    }
}

/// A Fit request for one day.
pub fn fit_request(
    tenant: &str,
    docs: Vec<Document>,
    embs: Vec<Embedding>,
    day: &str,
    next_day: &str,
) -> proto::FitRequest {
    proto::FitRequest {
        tenant_id: tenant.into(),
        documents: docs,
        window: Some(proto::Window {
            start: format!("{day}T00:00:00Z"),
            end: format!("{next_day}T00:00:00Z"),
        }),
        params: None,
        embeddings: embs,
    }
}

/// Fits `docs` as the day `day` (YYYY-MM-DD, window up to `next_day`) of `tenant` with
/// `token`, merges the candidate into the active model and returns the new active version:
/// one night of the nightly job.
pub async fn fit_and_merge(
    c: &mut TopicsClient<Channel>,
    tenant: &str,
    token: &str,
    docs: Vec<Document>,
    embs: Vec<Embedding>,
    day: &str,
    next_day: &str,
) -> String {
    let fit = c
        .fit(with_token(fit_request(tenant, docs, embs, day, next_day), token))
        .await
        .unwrap()
        .into_inner();
    let merge = proto::MergeRequest {
        tenant_id: tenant.into(),
        day_version: fit.version,
        base_version: None,
        force: false,
    };
    c.merge(with_token(merge, token)).await.unwrap().into_inner().version
}

/// A small hand-made model: 3 topics in 4-d (unit-vector embeddings), all seen on `day`, with
/// `bump` added to every topic's size (so two models of one tenant differ).
pub fn toy_model(day: chrono::NaiveDate, bump: u64) -> topic_engine::TopicModel {
    use topic_engine::model::{DailyCount, LabelSource, TopicStatus};
    use topic_engine::{FitParams, Keyword, MergeParams, Topic, TopicModel};

    let words = ["alpha", "beta", "gamma"];
    let topics = (0..3)
        .map(|i| {
            let mut embedding = vec![0.0f32; 4];
            embedding[i] = 1.0;
            let size = 30 - i as u64 * 5 + bump;
            Topic {
                id: i as i64,
                label: format!("{} topic", words[i]),
                label_source: LabelSource::Keywords,
                label_override: None,
                keywords: vec![Keyword { word: words[i].into(), weight: 0.5 }],
                size,
                embedding,
                term_counts: vec![(i as u32, 10)],
                samples: vec![format!("{} sample", words[i])],
                first_seen: day,
                last_seen: day,
                status: TopicStatus::Active,
                memory: Default::default(),
                faq: Default::default(),
                daily_counts: vec![DailyCount { date: day, count: size }],
            }
        })
        .collect::<Vec<_>>();
    TopicModel {
        embedding_model: "test-4d".into(),
        dim: 4,
        fit_params: FitParams::default(),
        merge_params: MergeParams::default(),
        vocabulary: words.iter().map(|w| w.to_string()).collect(),
        n_documents: topics.iter().map(|t| t.size).sum(),
        topics,
        next_topic_id: 3,
        date_range: Some((day, day)),
    }
}

/// Writes `model` through the real stores of `c` as a new version of `tenant` and returns the
/// version: a candidate day model (as Fit makes, with its window in the metadata) when `day`
/// is set, else a merged model that is activated (snapshot and history included).
pub async fn seed_version(
    c: &Config,
    tenant: &str,
    model: &topic_engine::TopicModel,
    day: Option<chrono::NaiveDate>,
) -> String {
    use topicd::store::{
        DailyCountRow, MetaStore, ModelKind, ModelStore, NewModel, SnapshotTopic, TenantId, Version,
    };

    if c.database_url.is_none() {
        std::fs::create_dir_all(&c.data_dir).unwrap();
    }
    let meta = MetaStore::connect(&c.database_url()).await.unwrap();
    let models =
        ModelStore::from_url_with_options(&c.store_url(), c.store_options.clone()).unwrap();
    let t = TenantId::parse(tenant).unwrap();
    let latest = meta.latest_version(&t).await.unwrap();
    let v = Version::now_after(latest.as_ref());
    let path = models.put(&t, &v, model).await.unwrap();
    let (kind, metadata) = match day {
        Some(d) => (
            ModelKind::Day,
            serde_json::json!({"window": {"first_day": d.to_string(), "last_day": d.to_string()}}),
        ),
        None => (ModelKind::Merged, serde_json::json!({})),
    };
    meta.insert_model(&NewModel::for_model(t.clone(), v, kind, path, model, metadata))
        .await
        .unwrap();
    if day.is_none() {
        let on = model.date_range.map(|r| r.1).unwrap();
        let snap = SnapshotTopic::top_of(model, 10, on, v);
        meta.activate(&t, &v, &snap, &DailyCountRow::all_of(model), model.date_range)
            .await
            .unwrap();
    }
    meta.close().await;
    v.to_string()
}

/// A small hand-made model (3 topics in 4-d, unit-vector embeddings) written through the real
/// stores and activated, so serving RPCs can be tested without running a fit.
pub async fn seed_model(dir: &Path, tenant: &str) -> String {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    seed_version(&config(dir), tenant, &toy_model(day, 0), None).await
}

/// Tokens of the shared tokens file ([`tokens_file`]): an admin on every tenant, and acme's
/// read and write tokens.
pub const ADMIN: &str = "admin-secret-0123456789";
pub const ACME_READ: &str = "acme-read-secret-0123456789";
pub const ACME_WRITE: &str = "acme-write-secret-0123456789";

/// Writes a tokens file with [`ADMIN`] (`*`, admin), [`ACME_READ`] and [`ACME_WRITE`] (acme)
/// under `dir` and returns its path.
pub fn tokens_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("tokens.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[token]]
name = "ops"
secret = "{ADMIN}"
tenants = ["*"]
role = "admin"

[[token]]
name = "acme-dashboard"
secret = "{ACME_READ}"
tenants = ["acme"]
role = "read"

[[token]]
name = "acme-nightly"
secret = "{ACME_WRITE}"
tenants = ["acme"]
role = "write"
"#
        ),
    )
    .expect("write tokens file");
    path
}
