//! Retries of gRPC calls: only transient codes, with the providers' [`Backoff`] rule.

use std::future::Future;
use std::time::Duration;

use tonic::Code;
pub use topicd_providers::retry::Backoff;

/// Whether a status is worth retrying: the server or network was briefly unable to answer.
/// Everything else (bad input, permission, not found, an internal fit error) fails the same way
/// again, so it is reported at once.
pub fn is_transient(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted
    )
}

/// How often and how patiently the scheduler retries a transient gRPC failure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallRetries {
    /// Retries after the first attempt (0: one attempt only).
    pub retries: u32,
    /// The wait between attempts.
    pub backoff: Backoff,
}

impl Default for CallRetries {
    fn default() -> Self {
        Self {
            retries: 2,
            backoff: Backoff { initial: Duration::from_secs(2), max: Duration::from_secs(60) },
        }
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
pub async fn with_retries<T, F, Fut>(policy: &CallRetries, what: &str, mut call: F) -> Retried<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    let mut attempt = 1;
    loop {
        match call(attempt).await {
            Ok(value) => return Retried { result: Ok(value), attempts: attempt },
            Err(status) if is_transient(status.code()) && attempt <= policy.retries => {
                let delay = policy.backoff.delay(attempt, &mut rand::rng());
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

    fn fast(retries: u32) -> CallRetries {
        CallRetries {
            retries,
            backoff: Backoff { initial: Duration::from_millis(1), max: Duration::from_millis(2) },
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
        let backoff = Backoff { initial: Duration::from_secs(2), max: Duration::from_secs(10) };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..100 {
            let first = backoff.delay(1, &mut rng);
            assert!(first >= Duration::from_secs(1) && first <= Duration::from_secs(2));
            let second = backoff.delay(2, &mut rng);
            assert!(second >= Duration::from_secs(2) && second <= Duration::from_secs(4));
            assert!(backoff.delay(9, &mut rng) <= Duration::from_secs(10));
        }
    }
}
