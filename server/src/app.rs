//! Building the server from a [`Config`] ([`App::build`]) and running it ([`serve`]): the Topics
//! service behind authentication, plus gRPC health and reflection, request limits, deadlines,
//! metrics and graceful shutdown — all assembled here, in one place.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

use crate::auth::Authenticator;
use crate::config::{Config, TlsConfig};
use crate::lifecycle::Lifecycle;
use crate::limits::RateLimiter;
use crate::proto::topics_server::TopicsServer;
use crate::providers::{Embedder, LabelProvider, Labeler};
use crate::service::auth::AuthInterceptor;
use crate::service::TopicsService;
use crate::store::{MetaStore, ModelStore};

pub use crate::lifecycle::retention::STARTUP_ORPHAN_GRACE_SECS;

/// Everything a running server shares: the configuration, the domain layer ([`Lifecycle`]:
/// stores, providers, device, models in memory, tenant locks) and the request guards
/// (authentication, rate limits).
pub struct App {
    config: Config,
    lifecycle: Lifecycle,
    auth: Arc<Authenticator>,
    rate: Arc<RateLimiter>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("lifecycle", &self.lifecycle).finish_non_exhaustive()
    }
}

impl App {
    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The domain layer every API calls.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Bearer-token checks.
    pub fn auth(&self) -> &Arc<Authenticator> {
        &self.auth
    }

    /// Per-caller request rate.
    pub fn rate(&self) -> &Arc<RateLimiter> {
        &self.rate
    }

    /// Connects the stores (running migrations), opens the device and builds the providers.
    /// An embedding provider that cannot be built (e.g. the local encoder's weights are not
    /// downloaded) is not fatal: the server starts and accepts precomputed embeddings, and
    /// text requests get `FAILED_PRECONDITION` saying why.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let device = topic_engine::device::select(config.device_preference()?)
            .context("opening the compute device")?;
        let device_name = topic_engine::device::name(&device);
        tracing::info!(device = %device_name, requested = %config.device, "compute device");
        crate::metrics::set_device(&device_name);

        if config.database_url.is_none() || config.store_url.is_none() {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating data directory {}", config.data_dir.display())
            })?;
        }
        let db_url = config.database_url();
        let meta = MetaStore::connect(&db_url)
            .await
            .with_context(|| format!("connecting to the database {}", redact_url(&db_url)))?;
        let store_url = config.store_url();
        let models = ModelStore::from_url_with_options(&store_url, config.store_options.clone())
            .with_context(|| format!("opening the model store {store_url}"))?;
        tracing::info!(database = %redact_url(&db_url), store = %store_url, "storage ready");

        // Providers. A missing embedding provider is not fatal (precomputed embeddings still
        // work, text requests get FAILED_PRECONDITION with the reason); a broken label
        // provider configuration is, since every merge would silently fall back.
        let embedder: Result<Arc<dyn Embedder>, String> =
            match crate::providers::local::ensure_model(&config.embedding).await {
                Err(e) => Err(e.to_string()),
                Ok(_) => {
                    crate::providers::build_embedder(&config.embedding).map_err(|e| e.to_string())
                }
            };
        match &embedder {
            Ok(e) => tracing::info!(
                model = e.model_name(),
                dimension = e.dimension(),
                "embedding provider ready"
            ),
            Err(why) => tracing::warn!(
                reason = %why,
                "no embedding provider: only requests with precomputed embeddings will work"
            ),
        }
        let labeler = crate::providers::build_labeler(&config.labels)
            .context("building the label provider ([labels])")?;
        tracing::info!(labeler = labeler.name(), "label provider ready");
        // Keyword labels are what the engine already gives every topic: no provider to call.
        let labeler: Option<Arc<dyn Labeler>> =
            (config.labels.provider != LabelProvider::Keywords).then_some(labeler);

        let auth =
            Authenticator::from_config(&config.auth).context("loading authentication settings")?;
        if auth.is_enabled() {
            tracing::info!("authentication enabled: every RPC except health and reflection needs a bearer token");
        } else {
            tracing::warn!(
                "AUTHENTICATION DISABLED: every caller is an admin of every tenant. Listening on loopback only; \
                 set --auth-tokens FILE or --jwt-secret/--jwt-public-key before exposing this server"
            );
        }
        let lifecycle = Lifecycle::new(&config, meta, models, embedder, labeler, device);
        Ok(App {
            rate: Arc::new(RateLimiter::from_limits(&config.limits)),
            auth: Arc::new(auth),
            config,
            lifecycle,
        })
    }
}

/// Deletes the files of versions that have no database row and are older than
/// [`STARTUP_ORPHAN_GRACE_SECS`] (left by a crash between the file write and the commit), for
/// every tenant with rows or files, each under the tenant's write lock. Returns how many
/// versions' files were deleted; errors are logged, never fatal. Run at start by [`serve`].
pub async fn cleanup_orphans_at_start(app: &App) -> usize {
    app.lifecycle.cleanup_orphans_at_start().await
}

/// Hides a password in a database URL for logs.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Reads the PEM files named by `[tls]`: `None` when TLS is off. With `client_ca_file`, clients
/// must present a certificate signed by that CA (mTLS); bearer tokens, when configured, are
/// still checked on top.
pub fn server_tls(tls: &TlsConfig) -> anyhow::Result<Option<ServerTlsConfig>> {
    let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) else {
        return Ok(None);
    };
    let read = |what: &str, path: &std::path::Path| {
        std::fs::read(path).with_context(|| format!("reading the TLS {what} {}", path.display()))
    };
    let mut config = ServerTlsConfig::new().identity(Identity::from_pem(
        read("certificate (tls.cert_file)", cert)?,
        read("private key (tls.key_file)", key)?,
    ));
    if let Some(ca) = &tls.client_ca_file {
        config = config
            .client_ca_root(Certificate::from_pem(read("client CA (tls.client_ca_file)", ca)?))
            .client_auth_optional(false);
    }
    Ok(Some(config))
}

/// Runs the server on `listener` until `shutdown` resolves, then drains in-flight requests,
/// over TLS when `[tls]` names a certificate and key. Also serves `/metrics` on
/// `config.metrics_listen` and the HTTP/JSON API on `config.http_listen` when enabled.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let http = if app.config.http_enabled {
        let addr = app.config.http_listen;
        Some(TcpListener::bind(addr).await.with_context(|| {
            format!("binding the HTTP API address {addr} (--http-listen; --no-http turns it off)")
        })?)
    } else {
        None
    };
    serve_with_http(app, listener, http, shutdown).await
}

/// [`serve`] with the HTTP/JSON API on a listener of the caller's (none: no HTTP API),
/// whatever `config.http_enabled` says.
pub async fn serve_with_http(
    app: App,
    listener: TcpListener,
    http: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = Arc::new(app);
    let cfg = &app.config;
    let addr = listener.local_addr().context("reading the listener address")?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut metrics_task = None;
    if cfg.metrics_enabled {
        if let Some(handle) = crate::metrics::install() {
            let ml = TcpListener::bind(cfg.metrics_listen)
                .await
                .with_context(|| format!("binding the metrics address {}", cfg.metrics_listen))?;
            tracing::info!(addr = %ml.local_addr().unwrap_or(cfg.metrics_listen), "serving Prometheus metrics at /metrics");
            let mut rx = stop_rx.clone();
            metrics_task = Some(tokio::spawn(crate::metrics::serve(ml, handle, async move {
                let _ = rx.wait_for(|s| *s).await;
            })));
        }
    }

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<TopicsServer<TopicsService>>().await;
    // Reflection in both versions: grpcurl and recent tools speak v1; grpcio-reflection's
    // ProtoReflectionDescriptorDatabase and older tools speak only v1alpha.
    let reflection_builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection =
        reflection_builder().build_v1().context("building the reflection service (v1)")?;
    let reflection_v1alpha = reflection_builder()
        .build_v1alpha()
        .context("building the reflection service (v1alpha)")?;

    // One concurrency limit for gRPC and HTTP together.
    let slots = Arc::new(tokio::sync::Semaphore::new(cfg.server.max_concurrent_requests));
    let mut http_task = None;
    if let Some(http) = http {
        let http_addr = http.local_addr().context("reading the HTTP listener address")?;
        tracing::info!(addr = %http_addr, cors = ?cfg.http_cors_origins, "serving the HTTP/JSON API");
        let mut rx = stop_rx.clone();
        http_task =
            Some(tokio::spawn(crate::http::serve(app.clone(), slots.clone(), http, async move {
                let _ = rx.wait_for(|s| *s).await;
            })));
    }

    let max_bytes = cfg.limits.max_request_bytes;
    let topics = TopicsServer::new(TopicsService::new(app.clone()))
        .max_decoding_message_size(max_bytes)
        .max_encoding_message_size(max_bytes.max(64 << 20));
    let topics =
        InterceptedService::new(topics, AuthInterceptor::new(app.auth.clone(), app.rate.clone()));

    let mut builder = Server::builder()
        .timeout(Duration::from_secs(cfg.server.request_timeout_secs))
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)));
    if let Some(tls) = server_tls(&cfg.tls)? {
        builder = builder.tls_config(tls).context("building the TLS configuration ([tls])")?;
    }
    let tls_mode = match (&cfg.tls.cert_file, &cfg.tls.client_ca_file) {
        (None, _) => "off",
        (Some(_), None) => "tls",
        (Some(_), Some(_)) => "mtls",
    };
    let router = builder
        .layer(crate::metrics::RequestLayer)
        .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(slots.clone()))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_v1alpha)
        .add_service(topics);

    // Other replicas' activations drop this one's cached copies (PostgreSQL LISTEN/NOTIFY).
    let listen_task = app.lifecycle.meta().pg_pool().map(|pool| {
        tokio::spawn(crate::hot::listen_for_changes(
            pool.clone(),
            app.lifecycle.active_models().clone(),
            stop_rx.clone(),
        ))
    });
    // Orphaned files from a crash before this start, in the background.
    let cleanup_app = app.clone();
    let cleanup = tokio::spawn(async move {
        cleanup_orphans_at_start(&cleanup_app).await;
    });
    tracing::info!(%addr, auth = app.auth.is_enabled(), tls = tls_mode, "topicd serving gRPC");
    let grace = Duration::from_secs(cfg.server.shutdown_grace_secs);
    let mut rx = stop_rx.clone();
    let drained = async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    // `Server::tcp_nodelay` only applies to listeners tonic binds itself; set it on the
    // accepted sockets here, or Nagle adds ~40 ms to every small response.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let server = router.serve_with_incoming_shutdown(incoming, drained);
    tokio::pin!(server);
    let health = health_reporter.clone();
    let result = tokio::select! {
        r = &mut server => r,
        _ = shutdown => {
            tracing::info!("shutdown requested: not serving, draining in-flight requests");
            health.set_not_serving::<TopicsServer<TopicsService>>().await;
            let _ = stop_tx.send(true);
            match tokio::time::timeout(grace, &mut server).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; stopping");
                    Ok(())
                }
            }
        }
    };
    let _ = stop_tx.send(true);
    cleanup.abort();
    if let Some(t) = listen_task {
        let _ = t.await;
    }
    if let Some(t) = metrics_task {
        let _ = t.await;
    }
    if let Some(t) = http_task {
        match t.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "the HTTP API stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "the HTTP API task failed"),
            Ok(Ok(())) => {}
        }
    }
    result.context("gRPC server failed")?;
    tracing::info!("topicd stopped");
    Ok(())
}
