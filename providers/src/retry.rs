//! One robust way to call a remote provider: per-try timeout, bounded concurrency, retries with
//! exponential backoff and jitter on 429 / 5xx / connection errors (honouring `Retry-After` and
//! Google's `RetryInfo.retryDelay`), metrics, and errors that never contain the API key.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::ProviderError;

/// Retry, timeout and concurrency settings of a remote provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Tries per request, the first included (≥ 1). Default 5.
    pub max_attempts: u32,
    /// Timeout of one try, in milliseconds. Default 60 000.
    pub timeout_ms: u64,
    /// First backoff, in milliseconds; doubles each retry. Default 500.
    pub initial_backoff_ms: u64,
    /// Largest backoff between tries, in milliseconds. Default 30 000.
    pub max_backoff_ms: u64,
    /// Largest server-requested delay (`Retry-After`, `retryDelay`) we wait, in milliseconds;
    /// a longer one ends the request with a clear error. Default 120 000.
    pub max_retry_after_ms: u64,
    /// Requests in flight at once, per provider. Default 4.
    pub max_concurrency: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            timeout_ms: 60_000,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            max_retry_after_ms: 120_000,
            max_concurrency: 4,
        }
    }
}

impl RetryPolicy {
    /// Rejects settings that can never work.
    pub fn validate(&self) -> Result<(), ProviderError> {
        if self.max_attempts == 0 {
            return Err(ProviderError::Config("retry.max_attempts must be at least 1".into()));
        }
        if self.timeout_ms == 0 {
            return Err(ProviderError::Config("retry.timeout_ms must be at least 1".into()));
        }
        if self.max_concurrency == 0 {
            return Err(ProviderError::Config("retry.max_concurrency must be at least 1".into()));
        }
        Ok(())
    }

    /// The backoff before retry number `retry` (1-based), without a server-given delay:
    /// `initial · 2^(retry-1)`, capped, times a random factor in [0.5, 1] so that many clients
    /// rate-limited together do not come back together.
    pub fn backoff(&self, retry: u32) -> Duration {
        Backoff {
            initial: Duration::from_millis(self.initial_backoff_ms),
            max: Duration::from_millis(self.max_backoff_ms),
        }
        .delay(retry, &mut rand::rng())
    }
}

/// Exponential backoff with jitter: the one backoff rule of topicd, used by the providers'
/// HTTP calls ([`RetryPolicy`]) and by the `topics` scheduler's gRPC calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait before the first retry; doubled for each further one.
    pub initial: Duration,
    /// Longest wait between two tries.
    pub max: Duration,
}

impl Backoff {
    /// The wait before retry number `retry` (1-based): `initial · 2^(retry-1)`, capped at
    /// `max`, times a random factor in [0.5, 1] so that many clients failing together do not
    /// come back together.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let exponent = retry.saturating_sub(1).min(30);
        let nominal = self.initial.saturating_mul(1u32 << exponent).min(self.max);
        let jitter: f64 = rng.random_range(0.5..=1.0);
        nominal.mul_f64(jitter)
    }
}

/// Why one try failed.
#[derive(Debug)]
enum TryError {
    /// Worth another try (429, 5xx, connection error, timeout), after `delay` if the server said.
    Retryable { message: String, delay: Option<Duration>, timeout: bool },
    /// Not worth another try (4xx other than 429).
    Fatal(ProviderError),
}

/// An HTTP client for one provider, applying a [`RetryPolicy`].
#[derive(Clone)]
pub struct RemoteClient {
    http: reqwest::Client,
    policy: RetryPolicy,
    permits: Arc<Semaphore>,
    provider: &'static str,
    /// Redacted from every error message.
    secret: Option<String>,
}

impl std::fmt::Debug for RemoteClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteClient")
            .field("provider", &self.provider)
            .field("policy", &self.policy)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl RemoteClient {
    /// A client for `provider`; `secret` (the API key) is scrubbed from every error message.
    pub fn new(
        provider: &'static str,
        policy: RetryPolicy,
        secret: Option<String>,
    ) -> Result<Self, ProviderError> {
        policy.validate()?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(policy.timeout_ms.min(10_000)))
            .user_agent(concat!("topicd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::Config(format!("{provider}: building the HTTP client: {e}"))
            })?;
        let permits = Arc::new(Semaphore::new(policy.max_concurrency));
        Ok(Self { http, policy, permits, provider, secret: secret.filter(|s| !s.is_empty()) })
    }

    /// The provider name used in errors and metrics.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// POSTs `body` as JSON to `url` with `headers` and returns the JSON answer, retrying as the
    /// policy says. `op` names the operation in metrics ("embed", "label").
    pub async fn post_json(
        &self,
        op: &'static str,
        url: &str,
        headers: &[(&'static str, String)],
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ProviderError> {
        let provider = self.provider;
        let mut last_message = String::new();
        let mut last_was_timeout = false;
        for attempt in 1..=self.policy.max_attempts {
            metrics::counter!("topicd_provider_calls_total", "provider" => provider, "op" => op)
                .increment(1);
            let result = {
                let _permit =
                    self.permits.acquire().await.map_err(|_| {
                        ProviderError::Config(format!("{provider}: client shut down"))
                    })?;
                self.try_once(url, headers, body).await
            };
            match result {
                Ok(value) => return Ok(value),
                Err(TryError::Fatal(e)) => {
                    metrics::counter!("topicd_provider_failures_total", "provider" => provider, "op" => op).increment(1);
                    return Err(e);
                }
                Err(TryError::Retryable { message, delay, timeout }) => {
                    last_message = message;
                    last_was_timeout = timeout;
                    if attempt == self.policy.max_attempts {
                        break;
                    }
                    let wait = match delay {
                        Some(d) if d > Duration::from_millis(self.policy.max_retry_after_ms) => {
                            metrics::counter!("topicd_provider_failures_total", "provider" => provider, "op" => op)
                                .increment(1);
                            return Err(ProviderError::Remote {
                                provider,
                                message: format!(
                                    "{last_message}; the service asked to retry after {:.1}s, longer than the \
                                     configured maximum of {:.1}s",
                                    d.as_secs_f64(),
                                    self.policy.max_retry_after_ms as f64 / 1000.0
                                ),
                            });
                        }
                        Some(d) => d,
                        None => self.policy.backoff(attempt),
                    };
                    metrics::counter!("topicd_provider_retries_total", "provider" => provider, "op" => op).increment(1);
                    tracing::warn!(provider, op, attempt, wait_ms = wait.as_millis() as u64, error = %last_message,
                        "provider call failed, retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
        metrics::counter!("topicd_provider_failures_total", "provider" => provider, "op" => op)
            .increment(1);
        let attempts = self.policy.max_attempts;
        if last_was_timeout {
            Err(ProviderError::Timeout { provider, attempts })
        } else {
            Err(ProviderError::Remote {
                provider,
                message: format!("giving up after {attempts} attempt(s): {last_message}"),
            })
        }
    }

    async fn try_once(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, TryError> {
        let mut req =
            self.http.post(url).timeout(Duration::from_millis(self.policy.timeout_ms)).json(body);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Err(self.transport_error(&e)),
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => return Err(self.transport_error(&e)),
        };
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| {
                TryError::Fatal(ProviderError::Malformed {
                    provider: self.provider,
                    message: self.redact(&format!("answer is not JSON ({e}): {}", snippet(&text))),
                })
            });
        }
        let body_json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        let detail = body_json.as_ref().and_then(error_message).unwrap_or_else(|| snippet(&text));
        let message = self.redact(&format!("HTTP {}: {detail}", status.as_u16()));
        if status.as_u16() == 429 || status.is_server_error() {
            let delay = retry_after.or_else(|| body_json.as_ref().and_then(google_retry_delay));
            Err(TryError::Retryable { message, delay, timeout: false })
        } else {
            Err(TryError::Fatal(ProviderError::Remote { provider: self.provider, message }))
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> TryError {
        // reqwest's message names the URL; ours never carry the key there, but redact anyway.
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        let mut message = format!("{kind}: {e}");
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        TryError::Retryable { message: self.redact(&message), delay: None, timeout: e.is_timeout() }
    }

    /// Replaces the secret in `s` with `<redacted>`.
    pub fn redact(&self, s: &str) -> String {
        match &self.secret {
            Some(k) => s.replace(k.as_str(), "<redacted>"),
            None => s.to_string(),
        }
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Google's `error.details[].retryDelay` ("1.5s") of a `google.rpc.RetryInfo`.
pub fn google_retry_delay(body: &serde_json::Value) -> Option<Duration> {
    let details = body.get("error")?.get("details")?.as_array()?;
    details.iter().find_map(|d| {
        let is_retry_info = d
            .get("@type")
            .and_then(|t| t.as_str())
            .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"));
        if !is_retry_info {
            return None;
        }
        let s = d.get("retryDelay")?.as_str()?.trim();
        let secs: f64 = s.strip_suffix('s')?.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
    })
}

/// `error.message` (Google and OpenAI both use it).
fn error_message(body: &serde_json::Value) -> Option<String> {
    let err = body.get("error")?;
    err.get("message")
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .or_else(|| err.as_str().map(str::to_string))
}

/// The start of a response body for an error message.
fn snippet(text: &str) -> String {
    const MAX: usize = 300;
    let t = text.trim();
    if t.chars().count() <= MAX {
        t.to_string()
    } else {
        format!("{}…", t.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-3"), None);
    }

    #[test]
    fn google_retry_info() {
        let body = serde_json::json!({"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.25s"}]}});
        assert_eq!(google_retry_delay(&body), Some(Duration::from_millis(1250)));
        assert_eq!(google_retry_delay(&serde_json::json!({"error": {}})), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy { initial_backoff_ms: 100, max_backoff_ms: 1000, ..Default::default() };
        for _ in 0..20 {
            let b1 = p.backoff(1).as_millis();
            assert!((50..=100).contains(&b1), "{b1}");
            let b3 = p.backoff(3).as_millis();
            assert!((200..=400).contains(&b3), "{b3}");
            let b10 = p.backoff(10).as_millis();
            assert!((500..=1000).contains(&b10), "{b10}");
        }
    }

    #[test]
    fn bad_policy_is_rejected() {
        assert!(RetryPolicy { max_attempts: 0, ..Default::default() }.validate().is_err());
        assert!(RetryPolicy { max_concurrency: 0, ..Default::default() }.validate().is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let c = RemoteClient::new("gemini", RetryPolicy::default(), Some("sk-123".into())).unwrap();
        assert_eq!(c.redact("bad key sk-123 here"), "bad key <redacted> here");
        assert!(!format!("{c:?}").contains("sk-123"));
    }
}
