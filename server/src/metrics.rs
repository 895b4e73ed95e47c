//! Prometheus metrics: one process-wide recorder, `/metrics` served on a side port, and a tower
//! layer that counts and times every gRPC call by method and status code.
//!
//! Metric names:
//! - `topicd_requests_total{rpc, code}` and `topicd_request_duration_seconds{rpc}` (histogram)
//! - `topicd_fit_stage_seconds{stage}` (embed, knn, umap, hdbscan, ctfidf, reduction, total, store)
//! - `topicd_merge_seconds`, `topicd_merges_total{outcome}`
//! - `topicd_fits_cancelled_total` (fits the engine stopped because the client gave up)
//! - `topicd_cache_hits_total`, `topicd_cache_misses_total`, `topicd_cache_bytes`,
//!   `topicd_models_loaded`
//! - `topicd_provider_calls_total{provider, op, outcome}`, `topicd_provider_seconds{provider, op}`
//! - `topicd_device_info{device}` (always 1)

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets (seconds) for request and stage histograms: 1 ms .. 30 min.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0, 600.0, 1800.0,
];

/// Installs the process-wide Prometheus recorder once and returns its handle (`None` if another
/// recorder was installed first by the embedding program).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = match PrometheusBuilder::new().set_buckets(BUCKETS) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics buckets rejected; using summaries");
                    PrometheusBuilder::new()
                }
            };
            match builder.install_recorder() {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "a metrics recorder is already installed; /metrics will be empty");
                    None
                }
            }
        })
        .clone()
}

/// Serves `GET /metrics` (Prometheus text format) on `listener` until `shutdown` resolves. Any
/// other path gets 404. A tiny HTTP/1.1 responder: scrapes are small and infrequent.
pub async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (mut stream, _) = tokio::select! {
            _ = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut len = 0;
            // Read until the end of the request head (or the buffer is full / 5 s pass).
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                while len < buf.len() {
                    match stream.read(&mut buf[len..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            len += n;
                            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                                break;
                            }
                        }
                    }
                }
            })
            .await;
            if read.is_err() {
                return;
            }
            let head = String::from_utf8_lossy(&buf[..len]);
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = if path == "/metrics" || path.starts_with("/metrics?") {
                ("200 OK", handle.render())
            } else {
                ("404 Not Found", "not found; scrape /metrics\n".to_string())
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// Records one finished gRPC call.
pub fn record_request(rpc: &str, code: &'static str, elapsed: Duration) {
    metrics::counter!("topicd_requests_total", "rpc" => rpc.to_string(), "code" => code)
        .increment(1);
    metrics::histogram!("topicd_request_duration_seconds", "rpc" => rpc.to_string())
        .record(elapsed.as_secs_f64());
}

/// Records the duration of one fit stage.
pub fn record_stage(stage: &'static str, elapsed: Duration) {
    metrics::histogram!("topicd_fit_stage_seconds", "stage" => stage).record(elapsed.as_secs_f64());
}

/// Records a provider call.
pub fn record_provider(provider: &str, op: &'static str, ok: bool, elapsed: Duration) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!("topicd_provider_calls_total", "provider" => provider.to_string(), "op" => op, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("topicd_provider_seconds", "provider" => provider.to_string(), "op" => op)
        .record(elapsed.as_secs_f64());
}

/// Records a merge.
pub fn record_merge(ok: bool, elapsed: Duration) {
    metrics::counter!("topicd_merges_total", "outcome" => if ok { "ok" } else { "error" })
        .increment(1);
    metrics::histogram!("topicd_merge_seconds").record(elapsed.as_secs_f64());
}

/// Counts a fit that the engine stopped part-way because the client cancelled or its deadline
/// passed.
pub fn record_fit_cancelled() {
    metrics::counter!("topicd_fits_cancelled_total").increment(1);
}

/// Records a hot-model cache lookup.
pub fn record_cache(hit: bool) {
    if hit {
        metrics::counter!("topicd_cache_hits_total").increment(1);
    } else {
        metrics::counter!("topicd_cache_misses_total").increment(1);
    }
}

/// Records a hot model dropped because another replica changed the tenant's active version
/// (`source`: `notify` = LISTEN/NOTIFY, `recheck` = the periodic database re-check).
pub fn record_cache_invalidation(source: &'static str) {
    metrics::counter!("topicd_cache_invalidations_total", "source" => source).increment(1);
}

/// Publishes the cache's size.
pub fn set_cache_size(bytes: u64, models: u64) {
    metrics::gauge!("topicd_cache_bytes").set(bytes as f64);
    metrics::gauge!("topicd_models_loaded").set(models as f64);
}

/// Publishes the compute device.
pub fn set_device(name: &str) {
    metrics::gauge!("topicd_device_info", "device" => name.to_string()).set(1.0);
}

/// The short RPC name of a gRPC path (`/topics.v1.Topics/Fit` → `Fit`).
pub fn rpc_name(path: &str) -> &str {
    path.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("unknown")
}

/// A request id carried in request extensions and echoed as `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Tower layer: per-request id, a tracing span, and request metrics by RPC and status code.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestLayer;

impl<S> tower::Layer<S> for RequestLayer {
    type Service = RequestService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestService { inner }
    }
}

/// The service of [`RequestLayer`].
#[derive(Debug, Clone)]
pub struct RequestService<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for RequestService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<ReqBody>) -> Self::Future {
        let path = req.uri().path().to_string();
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        req.extensions_mut().insert(RequestId(id.clone()));
        let span = tracing::info_span!("rpc", rpc = %rpc_name(&path), request_id = %id);
        let start = Instant::now();
        let fut = {
            let _g = span.enter();
            self.inner.call(req)
        };
        let is_internal = path.starts_with("/grpc.");
        Box::pin(async move {
            let res = fut.await;
            if let Ok(resp) = &res {
                // Unary errors are "trailers-only" responses: grpc-status is in the headers. A
                // response without it in the headers carries OK (its status is in the trailers).
                let code = resp
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .map(tonic::Code::from_i32)
                    .unwrap_or(tonic::Code::Ok);
                let elapsed = start.elapsed();
                if !is_internal {
                    record_request(
                        rpc_name(&path),
                        crate::service::status::code_name(code),
                        elapsed,
                    );
                }
                let _g = span.enter();
                if code == tonic::Code::Ok {
                    tracing::debug!(code = ?code, ms = elapsed.as_millis() as u64, "rpc done");
                } else {
                    tracing::info!(code = ?code, ms = elapsed.as_millis() as u64, "rpc failed");
                }
            }
            res.map(|mut r| {
                if let Ok(v) = http::HeaderValue::from_str(&id) {
                    r.headers_mut().insert("x-request-id", v);
                }
                r
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_names() {
        assert_eq!(rpc_name("/topics.v1.Topics/Fit"), "Fit");
        assert_eq!(rpc_name("/"), "unknown");
    }
}
