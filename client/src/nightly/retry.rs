//! Retries of gRPC calls: only transient codes, exponential backoff with jitter.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tonic::Code;

/// Whether a status is worth retrying: the server or network was briefly unable to answer.
/// Everything else (bad input, permission, not found, an internal fit error) fails the same way
/// again, so it is reported at once.
pub fn is_transient(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted
    )
}

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: one attempt only).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { retries: 2, base_delay: Duration::from_secs(2), max_delay: Duration::from_secs(60) }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): `base · 2^(retry-1)`, capped, with up to
    /// ±25 % jitter so many tenants retrying together do not hit the server at the same instant.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let exponent = retry.saturating_sub(1).min(30);
        let nominal = self.base_delay.saturating_mul(1u32 << exponent).min(self.max_delay);
        let jitter: f64 = rng.random_range(0.75..=1.25);
        nominal.mul_f64(jitter).min(self.max_delay)
    }
}

/// The result of a call made with retries: the value or the last status, and the attempts made.
#[derive(Debug)]
pub struct Retried<T> {
    /// The last attempt's outcome.
    pub result: Result<T, tonic::Status>,
    /// Attempts made (≥ 1).
    pub attempts: u32,
}

/// Calls `call` until it succeeds, fails with a non-transient code, or `policy.retries` retries
/// are spent. `call` receives the attempt number (1-based).
pub async fn with_retries<T, F, Fut>(policy: &RetryPolicy, what: &str, mut call: F) -> Retried<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    let mut attempt = 1;
    loop {
        match call(attempt).await {
            Ok(value) => return Retried { result: Ok(value), attempts: attempt },
            Err(status) if is_transient(status.code()) && attempt <= policy.retries => {
                let delay = policy.delay(attempt, &mut rand::rng());
                tracing::warn!(
                    call = what,
                    attempt,
                    code = ?status.code(),
                    message = status.message(),
                    delay_ms = delay.as_millis() as u64,
                    "transient error, retrying"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(status) => return Retried { result: Err(status), attempts: attempt },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast(retries: u32) -> RetryPolicy {
        RetryPolicy {
            retries,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        }
    }

    /// A call failing with `code` for its first `failures` attempts, then succeeding.
    async fn run(code: Code, failures: u32, retries: u32) -> (Retried<&'static str>, u32) {
        let calls = AtomicU32::new(0);
        let retried = with_retries(&fast(retries), "test", |_| {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                if n <= failures {
                    Err(tonic::Status::new(code, "boom"))
                } else {
                    Ok("done")
                }
            }
        })
        .await;
        (retried, calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn transient_codes_are_retried_until_success() {
        for code in
            [Code::Unavailable, Code::DeadlineExceeded, Code::ResourceExhausted, Code::Aborted]
        {
            let (retried, calls) = run(code, 2, 2).await;
            assert_eq!(retried.result.unwrap(), "done", "{code:?}");
            assert_eq!((retried.attempts, calls), (3, 3));
        }
    }

    #[tokio::test]
    async fn transient_failures_stop_after_the_retry_budget() {
        let (retried, calls) = run(Code::Unavailable, 10, 2).await;
        assert_eq!(retried.result.unwrap_err().code(), Code::Unavailable);
        assert_eq!((retried.attempts, calls), (3, 3));
        let (retried, calls) = run(Code::Unavailable, 10, 0).await;
        assert!(retried.result.is_err());
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn other_codes_are_never_retried() {
        for code in [
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::FailedPrecondition,
            Code::Internal,
            Code::Unknown,
            Code::Cancelled,
        ] {
            let (retried, calls) = run(code, 1, 5).await;
            assert_eq!(retried.result.unwrap_err().code(), code);
            assert_eq!(calls, 1, "{code:?} must not be retried");
        }
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter_and_a_cap() {
        let policy = RetryPolicy {
            retries: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..100 {
            let first = policy.delay(1, &mut rng);
            assert!(first >= Duration::from_millis(1500) && first <= Duration::from_millis(2500));
            let second = policy.delay(2, &mut rng);
            assert!(second >= Duration::from_secs(3) && second <= Duration::from_secs(5));
            assert!(policy.delay(9, &mut rng) <= Duration::from_secs(10));
        }
    }
}
