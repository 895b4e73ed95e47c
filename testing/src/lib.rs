//! Test support for the topicd workspace (`publish = false`, a dev-dependency only).
//!
//! Throwaway real backends:
//!
//! - [`PgCluster`]: a PostgreSQL cluster made with `initdb` in a temp dir and run with `pg_ctl`
//!   on a free loopback port (as the `postgres` user when running as root, since PostgreSQL
//!   refuses root), or the server at `DATABASE_URL` when that is set.
//! - [`MotoServer`]: `moto_server` (an S3 emulator) on a free loopback port with a bucket.
//!
//! - [`TcpProxy`]: a cuttable loopback proxy, for outages that must keep the backend's data.
//! - [`FakeHttp`]: a scripted HTTP server speaking JSON, standing in for a provider's API.
//!
//! All stop and clean up on drop, and can be stopped and started again to test outages.
//!
//! And the one place that says where test data lives ([`locate`]): the shared datasets
//! (`$TOPICD_DATASETS`, default `../shared/datasets` beside the repository) and the local
//! encoder's weights (`$TOPICD_MODEL_DIR`, default `models/all-MiniLM-L6-v2` in the repository,
//! where `scripts/fetch-model.sh` puts them). A test that needs either and does not find it
//! fails with a message saying how to get it; it never passes silently.

pub mod locate;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection;

/// A backend could not be started.
#[derive(Debug, thiserror::Error)]
#[error("test backend: {0}")]
pub struct TestSupportError(String);

type Result<T> = std::result::Result<T, TestSupportError>;

fn err(msg: impl Into<String>) -> TestSupportError {
    TestSupportError(msg.into())
}

/// A free TCP port on 127.0.0.1 (bound and released; a tiny race with other processes remains).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| err(format!("no free port: {e}")))?;
    l.local_addr().map(|a| a.port()).map_err(|e| err(e.to_string()))
}

fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .is_ok()
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The effective uid of this process (the owner of `/proc/self`).
fn euid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// `(uid, gid)` of a local user, from `/etc/passwd`.
fn user_ids(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn find_pg_bin() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Ok(dir);
            }
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| err("PostgreSQL binaries not found: install postgresql, set PG_BIN_DIR, or set DATABASE_URL"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p).ok_or_else(|| err("no /usr/lib/postgresql/*/bin/initdb found"))
}

struct OwnedCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Run commands as this user (when we are root).
    run_as: Option<String>,
}

impl OwnedCluster {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<()> {
        let out = self
            .command(program)
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| err(format!("cannot run {program}: {e}")))?;
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default();
            return Err(err(format!(
                "{program} {args:?} failed: {}\n{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    fn pg_ctl_start(&self) -> Result<()> {
        let data = self.data();
        let log = self.dir.path().join("postgres.log");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    fn pg_ctl_stop(&self, mode: &str) -> Result<()> {
        self.run(
            "pg_ctl",
            &["-D", &self.data().to_string_lossy(), "-m", mode, "-w", "-t", "30", "stop"],
        )
    }
}

/// A throwaway PostgreSQL cluster (or the server at `DATABASE_URL`).
pub struct PgCluster {
    owned: Option<OwnedCluster>,
    /// URL of the maintenance database (`postgres`).
    url: String,
}

static DB_COUNTER: AtomicU32 = AtomicU32::new(0);

impl PgCluster {
    /// Start a cluster: `DATABASE_URL` when set (nothing started), otherwise `initdb` + `pg_ctl`
    /// in a temp dir on a free loopback port, trust auth, user `topicd`.
    pub fn start() -> Result<Self> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if url.starts_with("postgres") {
                return Ok(PgCluster { owned: None, url });
            }
        }
        let bin = find_pg_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("topicd-pg-")
            .tempdir()
            .map_err(|e| err(e.to_string()))?;
        let run_as = if euid() == Some(0) {
            let user = ["postgres", "nobody"].into_iter().find(|u| user_ids(u).is_some()).ok_or_else(|| {
                err("running as root and no `postgres` or `nobody` user exists to run PostgreSQL")
            })?;
            let (uid, gid) = user_ids(user).ok_or_else(|| err("user lookup failed"))?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .map_err(|e| err(format!("chown {}: {e}", dir.path().display())))?;
            Some(user.to_owned())
        } else {
            None
        };
        let port = free_port()?;
        let c = OwnedCluster { dir, bin, port, run_as };
        let data = c.data();
        c.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "topicd",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )?;
        c.pg_ctl_start()?;
        let url = format!("postgres://topicd@127.0.0.1:{port}/postgres");
        Ok(PgCluster { owned: Some(c), url })
    }

    /// URL of the maintenance database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// True when this cluster was started here (not `DATABASE_URL`), so it can be stopped.
    pub fn is_owned(&self) -> bool {
        self.owned.is_some()
    }

    /// Create a fresh, uniquely named database and return its URL.
    pub async fn create_database(&self) -> Result<String> {
        let name = format!(
            "topicd_test_{}_{}_{}",
            std::process::id(),
            DB_COUNTER.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_micros()
        );
        let mut conn = sqlx::PgConnection::connect(&self.url)
            .await
            .map_err(|e| err(format!("connect: {e}")))?;
        // `name` is made above from digits and `_` only.
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .map_err(|e| err(format!("create database: {e}")))?;
        let _ = conn.close().await;
        let (base, _) =
            self.url.rsplit_once('/').ok_or_else(|| err("database URL has no database name"))?;
        let base = base.to_owned();
        let query = self.url.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
        Ok(format!("{base}/{name}{query}"))
    }

    fn owned(&self) -> Result<&OwnedCluster> {
        self.owned
            .as_ref()
            .ok_or_else(|| err("cannot stop or start the external DATABASE_URL server"))
    }

    /// Stop the server (fast shutdown: connections are cut), keeping its data.
    pub fn stop(&self) -> Result<()> {
        self.owned()?.pg_ctl_stop("fast")
    }

    /// Start the server again on the same port with the same data.
    pub fn start_again(&self) -> Result<()> {
        self.owned()?.pg_ctl_start()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(c) = &self.owned {
            let _ = c.pg_ctl_stop("immediate");
        }
    }
}

/// A `moto_server` S3 emulator with one bucket. Data lives in its memory only: a restart
/// empties it (the bucket is re-created).
pub struct MotoServer {
    child: Mutex<Option<Child>>,
    port: u16,
    bucket: String,
}

/// Region, access key and secret key used with [`MotoServer`] (moto accepts any).
pub const MOTO_REGION: &str = "us-east-1";

impl MotoServer {
    /// Start `moto_server` (or `$MOTO_SERVER`) on a free port and create bucket `topicd-test`.
    pub fn start() -> Result<Self> {
        let m = MotoServer {
            child: Mutex::new(None),
            port: free_port()?,
            bucket: "topicd-test".into(),
        };
        m.start_again()?;
        Ok(m)
    }

    /// Start the server again (after [`MotoServer::stop`]) on the same port, with an empty
    /// bucket.
    pub fn start_again(&self) -> Result<()> {
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                err(format!("cannot start {program} (pip install 'moto[server]'): {e}"))
            })?;
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        if !wait_for_port(self.port, Duration::from_secs(60)) {
            let _ = self.stop();
            return Err(err(format!("{program} did not listen on port {} within 60 s", self.port)));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match http_put(self.port, &format!("/{}", self.bucket)) {
                Ok(status) if (200..300).contains(&status) || status == 409 => return Ok(()),
                r if Instant::now() > deadline => {
                    return Err(err(format!("cannot create bucket {}: {r:?}", self.bucket)));
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Kill the server (an outage).
    pub fn stop(&self) -> Result<()> {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        Ok(())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `s3://bucket/prefix` for `topicd::store::ModelStore::from_url`.
    pub fn store_url(&self, prefix: &str) -> String {
        format!("s3://{}/{}", self.bucket, prefix.trim_matches('/'))
    }

    /// Options for `topicd::store::ModelStore::from_url_with_options`.
    pub fn s3_options(&self) -> Vec<(String, String)> {
        vec![
            ("endpoint".into(), self.endpoint()),
            ("region".into(), MOTO_REGION.into()),
            ("access_key_id".into(), "test".into()),
            ("secret_access_key".into(), "test".into()),
            ("allow_http".into(), "true".into()),
        ]
    }

    /// The address moto listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    /// The same settings as AWS environment variables (for a `topicd` child process).
    pub fn s3_env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_REGION".into(), MOTO_REGION.into()),
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
            ("AWS_ALLOW_HTTP".into(), "true".into()),
        ]
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A bodiless `PUT path` on 127.0.0.1:port; returns the HTTP status.
fn http_put(port: u16, path: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad HTTP response: {:.100}", head)))
}

/// A loopback TCP proxy that can be cut and restored, to simulate a backend outage without
/// losing the backend's data (e.g. in front of `moto_server`, which keeps objects only in
/// memory). Cutting it drops the listener and every open connection.
pub struct TcpProxy {
    port: u16,
    upstream: std::net::SocketAddr,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TcpProxy {
    /// Listen on a free loopback port and forward every connection to `upstream`.
    pub async fn start(upstream: std::net::SocketAddr) -> Result<Self> {
        let p = TcpProxy { port: free_port()?, upstream, task: Mutex::new(None) };
        p.start_again().await?;
        Ok(p)
    }

    /// Listen again on the same port after [`TcpProxy::stop`].
    pub async fn start_again(&self) -> Result<()> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(|e| err(format!("proxy bind 127.0.0.1:{}: {e}", self.port)))?;
        let upstream = self.upstream;
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        if let Some(old) = self.task.lock().unwrap_or_else(|e| e.into_inner()).replace(task) {
            old.abort();
        }
        Ok(())
    }

    /// Cut: stop listening and drop every open connection.
    pub fn stop(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            t.abort();
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---- A fake HTTP API -------------------------------------------------------------------

/// One request [`FakeHttp`] received.
#[derive(Debug, Clone)]
pub struct FakeRequest {
    /// The request path (`/v1/embeddings`, …) with its query.
    pub path: String,
    /// Header names and values as sent.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`null` when it was not JSON).
    pub body: serde_json::Value,
}

impl FakeRequest {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the fake server answers.
pub struct FakeResponse {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (`retry-after`, …).
    pub headers: Vec<(&'static str, String)>,
    /// The body, sent as `application/json`.
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl FakeResponse {
    /// A JSON answer with `status`, sent at once.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self { status, headers: vec![], body: body.to_string(), delay: Duration::ZERO }
    }
}

type FakeHandler = Arc<dyn Fn(usize, &FakeRequest) -> FakeResponse + Send + Sync>;

/// A tiny HTTP/1.1 server on 127.0.0.1 (one request per connection) that answers every request
/// with what its handler returns for (request number, request): a stand-in for Gemini's or
/// OpenAI's API speaking their real JSON, so provider code is tested without network or keys.
pub struct FakeHttp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    requests: Arc<Mutex<Vec<FakeRequest>>>,
}

impl FakeHttp {
    /// Starts the server on a free loopback port; it runs until the runtime ends.
    ///
    /// # Panics
    /// When no loopback port can be bound (a test environment problem).
    #[allow(clippy::unwrap_used)]
    pub async fn start(
        handler: impl Fn(usize, &FakeRequest) -> FakeResponse + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<FakeRequest>>> = Arc::default();
        let handler: FakeHandler = Arc::new(handler);
        let count = Arc::new(AtomicUsize::new(0));
        let reqs = Arc::clone(&requests);
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let (handler, reqs, count) =
                    (Arc::clone(&handler), Arc::clone(&reqs), Arc::clone(&count));
                tokio::spawn(async move {
                    let Some(req) = read_fake_request(&mut sock).await else { return };
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut r) = reqs.lock() {
                        r.push(req.clone());
                    }
                    let resp = handler(n, &req);
                    tokio::time::sleep(resp.delay).await;
                    let mut head = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                        resp.status,
                        resp.body.len()
                    );
                    for (k, v) in &resp.headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = tokio::io::AsyncWriteExt::write_all(&mut sock, head.as_bytes()).await;
                    let _ =
                        tokio::io::AsyncWriteExt::write_all(&mut sock, resp.body.as_bytes()).await;
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut sock).await;
                });
            }
        });
        Self { base, requests }
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<FakeRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

async fn read_fake_request(sock: &mut tokio::net::TcpStream) -> Option<FakeRequest> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[header_end..]).unwrap_or(serde_json::Value::Null);
    Some(FakeRequest { path, headers, body })
}
