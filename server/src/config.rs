//! Server configuration: built-in defaults, then an optional TOML file (`--config` /
//! `TOPICD_CONFIG`), then command-line flags and `TOPICD_*` environment variables (clap reads
//! both; a flag wins over its variable). [`Config::validate`] rejects settings that cannot work
//! with a message that names the key.
//!
//! ```toml
//! listen = "127.0.0.1:50051"
//! metrics_listen = "127.0.0.1:9090"
//! data_dir = "./data"                  # SQLite file + local model store live here by default
//! # database_url = "postgres://topicd@db/topicd"
//! # store_url = "s3://bucket/prefix"
//! device = "auto"                      # auto | cpu | cuda:N
//!
//! [server]
//! request_timeout_secs = 600
//! max_concurrent_requests = 256
//! max_concurrent_fits = 2
//! keep_versions = 14
//!
//! [tls]                                # optional; TOPICD_TLS_CERT / _KEY / _CLIENT_CA
//! cert_file = "/etc/topicd/server.pem"
//! key_file = "/etc/topicd/server.key"
//! # client_ca_file = "/etc/topicd/clients-ca.pem"   # mTLS: client certificates required
//!
//! [cache]
//! max_bytes = 1073741824
//! refresh_secs = 5
//! fitted_max_bytes = 268435456         # day models just fitted, kept for their Merge (0 = off)
//!
//! [fit]                                # topic_engine::FitParams defaults for Fit
//! min_topic_size = 10
//! max_fit_documents = 200000           # larger Fits: fit a day-stratified sample, transform the rest
//! outliers = "keep"                    # keep | reduce (outliers ≥ outlier_threshold join their nearest topic)
//! outlier_threshold = 0.35             # for "reduce"; Transform then uses it for that model too
//! [fit.text]                           # text handling (topic_engine::text::TextOptions)
//! language = "auto"                    # auto | en | fr | de | es | it | pt | nl
//! default_language = "en"              # for texts too short to detect
//! small_talk = true                    # "hi", "thanks!", "ok" left out of topics (topic -2)
//! mask = true                          # e-mails, phones, cards, IBANs, IPs, URLs masked
//! bertopic_compat = false              # BERTopic's exact English preprocessing
//! # extra_patterns = [{ name = "order", pattern = "ORD-\\d+" }]
//! [faq]
//! article_threshold = 0.68             # cosine entry–article for "covered"; below: a gap
//! [merge]                              # topic_engine::MergeParams
//! rule = "members"                     # members (issue 24) | centroid (BERTopic's cosine rule)
//! min_similarity = 0.7
//! retire_after_days = 30
//! history_days = 90
//! max_terms_per_topic = 2000
//! [transform]                          # topic_engine::TransformParams
//! outlier_threshold = 0.35             # models fitted with outliers = "reduce" use theirs
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use topic_engine::device::DevicePreference;
use topic_engine::{FitParams, MergeParams, TransformParams};

use crate::providers::EnvOverrides;

/// Errors in the configuration. Each names the key or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML for this schema.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error (names the key and line).
        message: String,
    },
    /// A value that can never work.
    #[error("invalid setting `{key}`: {reason}")]
    Invalid {
        /// The config key (TOML path; the env variable is `TOPICD_` + its upper-case name).
        key: &'static str,
        /// Why, and what to do.
        reason: String,
    },
}

impl ConfigError {
    fn invalid(key: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid { key, reason: reason.into() }
    }
}

/// Default gRPC listen address when authentication is configured.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:50051";
/// Default gRPC listen address without authentication (loopback only).
pub const DEFAULT_LOCAL_LISTEN: &str = "127.0.0.1:50051";
/// Default Prometheus listen address.
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9090";
/// Default HTTP/JSON API address.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8080";
/// Default data directory (SQLite file and local model store).
pub const DEFAULT_DATA_DIR: &str = "./data";

/// Request handling knobs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Longest a request may run when the client sets no (shorter) `grpc-timeout` (default 600 s).
    pub request_timeout_secs: u64,
    /// Requests served at once over all connections; more wait (default 256).
    pub max_concurrent_requests: usize,
    /// Fits (embedding + pipeline) running at once; more wait for a slot (default 2).
    pub max_concurrent_fits: usize,
    /// Versions kept per tenant after a merge; older files and rows are deleted (default 14).
    pub keep_versions: usize,
    /// Seconds to wait for in-flight requests at shutdown (default 30).
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            request_timeout_secs: 600,
            max_concurrent_requests: 256,
            max_concurrent_fits: 2,
            keep_versions: 14,
            shutdown_grace_secs: 30,
        }
    }
}

/// The FAQ's knowledge gaps (issue 29).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaqConfig {
    /// Cosine between an FAQ entry and its best help-centre article at or above which the
    /// entry counts as covered by that article; below it the entry is a knowledge gap
    /// (default [`crate::lifecycle::kb::DEFAULT_ARTICLE_THRESHOLD`], chosen on CLINC150 and
    /// Banking77, see benches/RESULTS.md).
    pub article_threshold: f32,
}

impl Default for FaqConfig {
    fn default() -> Self {
        FaqConfig { article_threshold: crate::lifecycle::kb::DEFAULT_ARTICLE_THRESHOLD }
    }
}

/// The hot-model cache.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Memory budget for loaded models, in bytes (default 1 GiB).
    pub max_bytes: u64,
    /// How often (seconds) a cached model is re-checked against the database's active version,
    /// so replicas converge after another replica activates a version (default 5; 0 = every
    /// request).
    pub refresh_secs: u64,
    /// Memory budget, in bytes, for the day models this process has just fitted, so the Merge
    /// that follows does not read them back from the model store (default 256 MiB; 0 turns it
    /// off, and Merge always reads the store).
    pub fitted_max_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig { max_bytes: 1 << 30, refresh_secs: 5, fitted_max_bytes: 256 << 20 }
    }
}

/// Optional TLS (rustls) for the gRPC port; metrics stay plaintext on their own address.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert_file: Option<PathBuf>,
    /// PEM private key.
    pub key_file: Option<PathBuf>,
    /// PEM CA bundle: when set, clients must present a certificate it signed (mTLS).
    pub client_ca_file: Option<PathBuf>,
}

impl TlsConfig {
    /// True when a certificate and key are configured.
    pub fn is_enabled(&self) -> bool {
        self.cert_file.is_some() || self.key_file.is_some()
    }
}

/// The whole server configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address (default 0.0.0.0:50051 with auth, 127.0.0.1:50051 without).
    pub listen: Option<SocketAddr>,
    /// Prometheus `/metrics` listen address (default 127.0.0.1:9090); `metrics_enabled = false`
    /// turns the exporter off.
    pub metrics_listen: SocketAddr,
    /// Serve `/metrics` at all (default true).
    pub metrics_enabled: bool,
    /// HTTP/JSON API listen address (default 127.0.0.1:8080); `http_enabled = false` turns the
    /// HTTP API off.
    pub http_listen: SocketAddr,
    /// Serve the HTTP/JSON API at all (default true).
    pub http_enabled: bool,
    /// Origins allowed to call the HTTP API from a browser (CORS); empty (default): CORS off.
    /// `["*"]` allows any origin.
    pub http_cors_origins: Vec<String>,
    /// Data directory: default home of the SQLite file and the local model store.
    pub data_dir: PathBuf,
    /// Metadata database URL (default `sqlite://{data_dir}/topicd.db`; `postgres://…`).
    pub database_url: Option<String>,
    /// Model store URL (default `{data_dir}/models`; a directory, `file://…` or `s3://bucket/prefix`).
    pub store_url: Option<String>,
    /// Extra object-store options (`endpoint`, `region`, `access_key_id`, `allow_http`, ...);
    /// without them S3 settings come from the usual `AWS_*` environment variables.
    pub store_options: std::collections::BTreeMap<String, String>,
    /// Compute device: `auto`, `cpu` or `cuda:N` (default auto).
    pub device: String,
    /// Refuse to start without authentication on a non-loopback address unless this is set.
    pub allow_insecure_no_auth: bool,
    /// Request handling.
    pub server: ServerConfig,
    /// Hot-model cache.
    pub cache: CacheConfig,
    /// Request limits.
    pub limits: crate::limits::LimitsConfig,
    /// Authentication (tokens file, JWT keys).
    pub auth: crate::auth::AuthConfig,
    /// TLS.
    pub tls: TlsConfig,
    /// Default fit parameters (a request may override some).
    pub fit: FitParams,
    /// Merge parameters.
    pub merge: MergeParams,
    /// Transform parameters.
    pub transform: TransformParams,
    /// Embedding provider (`[embedding]`; `TOPICD_EMBED_*` environment variables).
    pub embedding: crate::providers::EmbeddingConfig,
    /// Label provider (`[labels]`; `TOPICD_LABEL_*` environment variables).
    pub labels: crate::providers::LabelConfig,
    /// The FAQ and its knowledge gaps (`[faq]`).
    pub faq: FaqConfig,
}

/// The server's fit defaults: the engine's, with fits of more than 200,000 documents done on a
/// sample (`fit.max_fit_documents`) so one huge tenant cannot hold a core for many minutes.
fn default_fit_params() -> FitParams {
    let mut p = FitParams::default();
    p.max_fit_documents = Some(200_000);
    p
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: None,
            metrics_listen: parse_addr(DEFAULT_METRICS_LISTEN),
            metrics_enabled: true,
            http_listen: parse_addr(DEFAULT_HTTP_LISTEN),
            http_enabled: true,
            http_cors_origins: Vec::new(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            store_url: None,
            store_options: Default::default(),
            device: "auto".into(),
            allow_insecure_no_auth: false,
            server: ServerConfig::default(),
            cache: CacheConfig::default(),
            limits: crate::limits::LimitsConfig::default(),
            auth: crate::auth::AuthConfig::default(),
            tls: TlsConfig::default(),
            fit: default_fit_params(),
            merge: MergeParams::default(),
            transform: TransformParams::default(),
            embedding: crate::providers::EmbeddingConfig::default(),
            labels: crate::providers::LabelConfig::default(),
            faq: FaqConfig::default(),
        }
    }
}

fn parse_addr(s: &str) -> SocketAddr {
    // The constants above are valid literals; the fallback only guards against editing mistakes.
    s.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// Command-line flags, each with its `TOPICD_*` environment variable. They override the file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    /// TOML configuration file.
    #[arg(long, env = "TOPICD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// gRPC listen address [default: 127.0.0.1:50051 without auth, 0.0.0.0:50051 with auth].
    #[arg(long, env = "TOPICD_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Prometheus /metrics listen address [default: 127.0.0.1:9090].
    #[arg(long, env = "TOPICD_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Turn the Prometheus exporter off.
    #[arg(long, env = "TOPICD_NO_METRICS")]
    pub no_metrics: bool,
    /// HTTP/JSON API listen address [default: 127.0.0.1:8080].
    #[arg(long, env = "TOPICD_HTTP_LISTEN", value_name = "ADDR")]
    pub http_listen: Option<SocketAddr>,
    /// Turn the HTTP/JSON API off.
    #[arg(long, env = "TOPICD_NO_HTTP")]
    pub no_http: bool,
    /// Origins allowed to call the HTTP API from a browser (CORS), comma-separated; `*` for any.
    #[arg(long, env = "TOPICD_HTTP_CORS_ORIGINS", value_name = "ORIGINS", value_delimiter = ',')]
    pub http_cors_origins: Option<Vec<String>>,
    /// Data directory holding the default SQLite file and local model store [default: ./data].
    #[arg(long, env = "TOPICD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Metadata database: sqlite://FILE or postgres://… [default: sqlite://DATA_DIR/topicd.db].
    #[arg(long, env = "TOPICD_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Model store: a directory, file://DIR or s3://bucket/prefix [default: DATA_DIR/models].
    #[arg(long, env = "TOPICD_STORE_URL", value_name = "URL")]
    pub store_url: Option<String>,
    /// Compute device: auto, cpu or cuda:N [default: auto].
    #[arg(long, env = "TOPICD_DEVICE", value_name = "DEVICE")]
    pub device: Option<String>,
    /// Static tokens file (TOML `[[token]]` entries with secret, tenants, role).
    #[arg(long, env = "TOPICD_AUTH_TOKENS", value_name = "FILE")]
    pub auth_tokens: Option<PathBuf>,
    /// HS256 secret for JWT bearer tokens (prefer the environment variable).
    #[arg(long, env = "TOPICD_JWT_SECRET", value_name = "SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// RS256 public key (PEM file) for JWT bearer tokens.
    #[arg(long, env = "TOPICD_JWT_PUBLIC_KEY", value_name = "FILE")]
    pub jwt_public_key: Option<String>,
    /// Allow serving without authentication on a non-loopback address.
    #[arg(long, env = "TOPICD_ALLOW_INSECURE_NO_AUTH")]
    pub allow_insecure_no_auth: bool,
    /// TLS certificate chain (PEM). With --tls-key the gRPC port speaks TLS only (rustls).
    #[arg(long, env = "TOPICD_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM: PKCS#8, PKCS#1 or SEC1) for --tls-cert.
    #[arg(long, env = "TOPICD_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// CA bundle (PEM): clients must present a certificate it signed (mTLS); bearer tokens are
    /// still checked. Needs --tls-cert and --tls-key.
    #[arg(long, env = "TOPICD_TLS_CLIENT_CA", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Hot-model cache budget in bytes [default: 1073741824].
    #[arg(long, env = "TOPICD_CACHE_BYTES", value_name = "BYTES")]
    pub cache_bytes: Option<u64>,
    /// Seconds between re-checks of a cached model's active version [default: 5].
    #[arg(long, env = "TOPICD_CACHE_REFRESH_SECS", value_name = "SECS")]
    pub cache_refresh_secs: Option<u64>,
    /// Memory for just-fitted day models kept for their Merge, in bytes; 0 = off
    /// [default: 268435456].
    #[arg(long, env = "TOPICD_CACHE_FITTED_BYTES", value_name = "BYTES")]
    pub cache_fitted_bytes: Option<u64>,
    /// Longest a request may run [default: 600].
    #[arg(long, env = "TOPICD_REQUEST_TIMEOUT_SECS", value_name = "SECS")]
    pub request_timeout_secs: Option<u64>,
    /// Most documents in one Fit request [default: 1000000]; above `fit.max_fit_documents`
    /// (200000) the topics are fitted on a sample and the rest assigned by transform.
    #[arg(long, env = "TOPICD_MAX_FIT_DOCUMENTS", value_name = "N")]
    pub max_fit_documents: Option<usize>,
    /// Most texts in one Transform [default: 1000].
    #[arg(long, env = "TOPICD_MAX_TRANSFORM_BATCH", value_name = "N")]
    pub max_transform_batch: Option<usize>,
    /// Most bytes in one text [default: 32768].
    #[arg(long, env = "TOPICD_MAX_TEXT_BYTES", value_name = "BYTES")]
    pub max_text_bytes: Option<usize>,
    /// Most bytes in one request message [default: 268435456].
    #[arg(long, env = "TOPICD_MAX_REQUEST_BYTES", value_name = "BYTES")]
    pub max_request_bytes: Option<usize>,
    /// Sustained requests per second per token, 0 = unlimited [default: 200].
    #[arg(long, env = "TOPICD_RATE_PER_SECOND", value_name = "N")]
    pub rate_per_second: Option<f64>,
    /// Versions kept per tenant [default: 14].
    #[arg(long, env = "TOPICD_KEEP_VERSIONS", value_name = "N")]
    pub keep_versions: Option<usize>,
}

impl Config {
    /// Reads `overrides.config` (if any), applies the overrides and validates the result.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut config = match &overrides.config {
            Some(path) => Self::from_file(path)?,
            None => Config::default(),
        };
        config.apply(overrides);
        config
            .embedding
            .apply_env()
            .map_err(|e| ConfigError::invalid("embedding", e.to_string()))?;
        config.labels.apply_env().map_err(|e| ConfigError::invalid("labels", e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML file (no overrides, no validation).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::from_toml(&text)
            .map_err(|message| ConfigError::Parse { path: path.to_path_buf(), message })
    }

    /// Parses TOML text (no overrides, no validation).
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let mut c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        // A `[fit]` section without it starts from the engine's default (no sampling).
        if c.fit.max_fit_documents.is_none() {
            c.fit.max_fit_documents = default_fit_params().max_fit_documents;
        }
        Ok(c)
    }

    /// A configuration for tests and embedding: everything under `data_dir`, loopback on an
    /// OS-chosen port, no metrics exporter, no HTTP API (pass a listener to
    /// [`crate::app::serve_with_http`] for one).
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            metrics_enabled: false,
            http_enabled: false,
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }

    /// Applies flags / environment variables on top of the file.
    pub fn apply(&mut self, o: &Overrides) {
        fn set<T: Clone>(dst: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                *dst = v.clone();
            }
        }
        if o.listen.is_some() {
            self.listen = o.listen;
        }
        set(&mut self.metrics_listen, &o.metrics_listen);
        if o.no_metrics {
            self.metrics_enabled = false;
        }
        set(&mut self.http_listen, &o.http_listen);
        if o.no_http {
            self.http_enabled = false;
        }
        set(&mut self.http_cors_origins, &o.http_cors_origins);
        set(&mut self.data_dir, &o.data_dir);
        if o.database_url.is_some() {
            self.database_url = o.database_url.clone();
        }
        if o.store_url.is_some() {
            self.store_url = o.store_url.clone();
        }
        set(&mut self.device, &o.device);
        if o.auth_tokens.is_some() {
            self.auth.tokens_file = o.auth_tokens.clone();
        }
        if let Some(s) = &o.jwt_secret {
            self.auth.jwt_secret = Some(crate::auth::Secret::new(s.clone()));
        }
        if o.jwt_public_key.is_some() {
            self.auth.jwt_public_key = o.jwt_public_key.clone();
        }
        if o.allow_insecure_no_auth {
            self.allow_insecure_no_auth = true;
        }
        if o.tls_cert.is_some() {
            self.tls.cert_file = o.tls_cert.clone();
        }
        if o.tls_key.is_some() {
            self.tls.key_file = o.tls_key.clone();
        }
        if o.tls_client_ca.is_some() {
            self.tls.client_ca_file = o.tls_client_ca.clone();
        }
        set(&mut self.cache.max_bytes, &o.cache_bytes);
        set(&mut self.cache.refresh_secs, &o.cache_refresh_secs);
        set(&mut self.cache.fitted_max_bytes, &o.cache_fitted_bytes);
        set(&mut self.server.request_timeout_secs, &o.request_timeout_secs);
        set(&mut self.limits.max_fit_documents, &o.max_fit_documents);
        set(&mut self.limits.max_transform_batch, &o.max_transform_batch);
        set(&mut self.limits.max_text_bytes, &o.max_text_bytes);
        set(&mut self.limits.max_request_bytes, &o.max_request_bytes);
        set(&mut self.limits.rate_per_second, &o.rate_per_second);
        set(&mut self.server.keep_versions, &o.keep_versions);
    }

    /// The gRPC address to bind: the configured one, else loopback without auth and all
    /// interfaces with auth.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| {
            if self.auth.is_enabled() {
                parse_addr(DEFAULT_LISTEN)
            } else {
                parse_addr(DEFAULT_LOCAL_LISTEN)
            }
        })
    }

    /// The metadata database URL (explicit, or the SQLite file under the data directory).
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("topicd.db").display()),
        }
    }

    /// The model store URL (explicit, or `models/` under the data directory).
    pub fn store_url(&self) -> String {
        match &self.store_url {
            Some(u) => u.clone(),
            None => self.data_dir.join("models").display().to_string(),
        }
    }

    /// The parsed device preference.
    pub fn device_preference(&self) -> Result<DevicePreference, ConfigError> {
        self.device
            .parse()
            .map_err(|e: topic_engine::EngineError| ConfigError::invalid("device", e.to_string()))
    }

    /// Rejects settings that can never work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.device_preference()?;
        let listen = self.listen_addr();
        if !self.auth.is_enabled() && !listen.ip().is_loopback() && !self.allow_insecure_no_auth {
            return Err(ConfigError::invalid(
                "listen",
                format!(
                    "{listen} is not a loopback address and no authentication is configured; set \
                     --auth-tokens FILE or --jwt-secret/--jwt-public-key (TOPICD_AUTH_TOKENS, \
                     TOPICD_JWT_SECRET, TOPICD_JWT_PUBLIC_KEY), listen on 127.0.0.1, or pass \
                     --allow-insecure-no-auth"
                ),
            ));
        }
        if self.http_enabled && !self.http_listen.ip().is_loopback() {
            if !self.auth.is_enabled() && !self.allow_insecure_no_auth {
                return Err(ConfigError::invalid(
                    "http_listen",
                    format!(
                        "{} is not a loopback address and no authentication is configured; \
                         configure authentication, listen on 127.0.0.1, pass --no-http, or \
                         pass --allow-insecure-no-auth",
                        self.http_listen
                    ),
                ));
            }
            if self.tls.is_enabled() {
                return Err(ConfigError::invalid(
                    "http_listen",
                    format!(
                        "the HTTP API is plain HTTP and [tls] is configured: bind it to loopback \
                         behind your TLS-terminating proxy (e.g. --http-listen 127.0.0.1:8080), \
                         or pass --no-http (it is {})",
                        self.http_listen
                    ),
                ));
            }
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err(ConfigError::invalid(
                "tls",
                "set both cert_file (--tls-cert) and key_file (--tls-key), or neither",
            ));
        }
        if self.tls.client_ca_file.is_some() && !self.tls.is_enabled() {
            return Err(ConfigError::invalid(
                "tls.client_ca_file",
                "mTLS needs cert_file and key_file too",
            ));
        }
        if self.server.request_timeout_secs == 0 {
            return Err(ConfigError::invalid("server.request_timeout_secs", "must be at least 1"));
        }
        if self.server.max_concurrent_requests == 0 {
            return Err(ConfigError::invalid(
                "server.max_concurrent_requests",
                "must be at least 1",
            ));
        }
        if self.server.max_concurrent_fits == 0 {
            return Err(ConfigError::invalid("server.max_concurrent_fits", "must be at least 1"));
        }
        if self.server.keep_versions < 2 {
            return Err(ConfigError::invalid(
                "server.keep_versions",
                "must be at least 2 (the active version and one to roll back to)",
            ));
        }
        if self.cache.max_bytes < 1 << 20 {
            return Err(ConfigError::invalid(
                "cache.max_bytes",
                "must be at least 1 MiB (1048576)",
            ));
        }
        let l = &self.limits;
        for (key, v) in [
            ("limits.max_fit_documents", l.max_fit_documents),
            ("limits.max_transform_batch", l.max_transform_batch),
            ("limits.max_text_bytes", l.max_text_bytes),
            ("limits.max_request_bytes", l.max_request_bytes),
            ("limits.max_concurrent_writes_per_tenant", l.max_concurrent_writes_per_tenant),
        ] {
            if v == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        if !(l.rate_per_second >= 0.0 && l.rate_per_second.is_finite()) {
            return Err(ConfigError::invalid(
                "limits.rate_per_second",
                "must be a finite number ≥ 0 (0 = unlimited)",
            ));
        }
        if l.rate_per_second > 0.0 && l.rate_burst == 0 {
            return Err(ConfigError::invalid(
                "limits.rate_burst",
                "must be at least 1 when rate_per_second > 0",
            ));
        }
        self.fit.check().map_err(|e| ConfigError::invalid("fit", e.to_string()))?;
        let m = &self.merge;
        if !(m.min_similarity > 0.0 && m.min_similarity <= 1.0) {
            return Err(ConfigError::invalid("merge.min_similarity", "must be in (0, 1]"));
        }
        m.check().map_err(|e| ConfigError::invalid("merge", e.to_string()))?;
        let t = self.transform.outlier_threshold;
        if !(-1.0..=1.0).contains(&t) {
            return Err(ConfigError::invalid(
                "transform.outlier_threshold",
                "must be a cosine in [-1, 1]",
            ));
        }
        let a = self.faq.article_threshold;
        if !(-1.0..=1.0).contains(&a) {
            return Err(ConfigError::invalid(
                "faq.article_threshold",
                "must be a cosine in [-1, 1]",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_loopback_without_auth() {
        let c = Config::default();
        c.validate().unwrap();
        assert!(c.listen_addr().ip().is_loopback());
        assert_eq!(c.database_url(), "sqlite://./data/topicd.db");
        assert_eq!(c.store_url(), "./data/models");
    }

    #[test]
    fn toml_file_then_overrides() {
        let c = Config::from_toml(
            "listen = \"127.0.0.1:6000\"\ndevice = \"cpu\"\n[cache]\nmax_bytes = 2097152\n[fit]\nmin_topic_size = 5\n",
        )
        .unwrap();
        assert_eq!(c.fit.min_topic_size, 5);
        assert_eq!(c.fit.max_fit_documents, Some(200_000), "the server samples larger fits");
        assert_eq!(c.fit.text, topic_engine::text::TextOptions::default());
        assert_eq!(c.cache.max_bytes, 2 << 20);
        let t = Config::from_toml(
            "[fit.text]\nlanguage = \"fr\"\ndefault_language = \"fr\"\nmask = false\nsmall_talk = false\n",
        )
        .unwrap();
        assert!(!t.fit.text.mask && !t.fit.text.small_talk);
        assert_eq!(t.fit.text.default_language, topic_engine::text::Language::Fr);
        assert!(Config::from_toml("[fit.text]\nlanguage = \"xx\"\n").is_err());
        assert!(Config::from_toml("[fit.text]\nmasking = false\n").is_err());
        let mut c2 = c.clone();
        c2.apply(&Overrides {
            listen: Some("127.0.0.1:7000".parse().unwrap()),
            ..Default::default()
        });
        assert_eq!(c2.listen_addr().port(), 7000);
        c2.validate().unwrap();
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let e = Config::from_toml("lisen = \"127.0.0.1:1\"").unwrap_err();
        assert!(e.contains("lisen"), "{e}");
    }

    #[test]
    fn public_listen_without_auth_is_refused() {
        let mut c = Config { listen: Some("0.0.0.0:50051".parse().unwrap()), ..Config::default() };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("--auth-tokens"), "{e}");
        c.allow_insecure_no_auth = true;
        c.validate().unwrap();
    }

    #[test]
    fn tls_section_and_flags() {
        let c = Config::from_toml(
            "[tls]\ncert_file = \"s.pem\"\nkey_file = \"s.key\"\nclient_ca_file = \"ca.pem\"\n",
        )
        .unwrap();
        assert_eq!(c.tls.client_ca_file.as_deref(), Some(Path::new("ca.pem")));
        c.validate().unwrap();
        // TLS alone is not authentication: the default address stays loopback.
        assert!(c.listen_addr().ip().is_loopback());
        let mut c2 = Config::default();
        c2.apply(&Overrides {
            tls_cert: Some("a.pem".into()),
            tls_key: Some("a.key".into()),
            ..Default::default()
        });
        assert!(c2.tls.is_enabled() && c2.tls.client_ca_file.is_none());
        c2.validate().unwrap();
        let c3 = Config::from_toml("[tls]\nclient_ca_file = \"ca.pem\"\n").unwrap();
        assert!(c3.validate().unwrap_err().to_string().contains("tls.client_ca_file"));
    }

    #[test]
    fn bad_values_name_their_key() {
        let c = Config { device: "tpu".into(), ..Config::default() };
        assert!(c.validate().unwrap_err().to_string().contains("`device`"));
        let mut c = Config::default();
        c.limits.max_fit_documents = 0;
        assert!(c.validate().unwrap_err().to_string().contains("max_fit_documents"));
        let mut c = Config::default();
        c.tls.cert_file = Some("cert.pem".into());
        assert!(c.validate().unwrap_err().to_string().contains("tls"));
        let c = Config::from_toml("[merge]\nmax_terms_per_topic = 0\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("max_terms_per_topic"));
        let c = Config::from_toml("[merge]\nretire_after_days = 0\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("retire_after_days"));
        // The merge rule: the member rule by default, BERTopic's centroid rule on request.
        assert_eq!(Config::default().merge.rule, topic_engine::MergeRule::Members);
        let c = Config::from_toml("[merge]\nrule = \"centroid\"\n").unwrap();
        assert_eq!(c.merge.rule, topic_engine::MergeRule::Centroid);
        assert!(Config::from_toml("[merge]\nrule = \"bertopic\"\n").is_err());
        let c = Config::from_toml("[merge]\nmin_member_overlap = 0\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("min_member_overlap"));
    }
}
