//! Request limits: a per-caller token-bucket [`RateLimiter`] and per-tenant write permits
//! ([`TenantWriteLocks`]) that serialise (or bound) concurrent writes of one tenant.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::TenantId;

/// Limits applied to requests. Every rejection is `RESOURCE_EXHAUSTED` (rates, concurrency) or
/// `INVALID_ARGUMENT` (sizes).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Most documents in one Fit.
    pub max_fit_documents: usize,
    /// Most texts in one Transform.
    pub max_transform_batch: usize,
    /// Most bytes in one text.
    pub max_text_bytes: usize,
    /// Most bytes in one request message.
    pub max_request_bytes: usize,
    /// Concurrent writes (Fit, Merge, Activate, Delete) per tenant; 1 serialises them.
    pub max_concurrent_writes_per_tenant: usize,
    /// Sustained requests per second per token (0 = unlimited).
    pub rate_per_second: f64,
    /// Burst size of the per-token bucket.
    pub rate_burst: u32,
    /// Most callers tracked by the rate limiter at once.
    pub rate_max_keys: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_fit_documents: 1_000_000,
            max_transform_batch: 1_000,
            max_text_bytes: 32 * 1024,
            max_request_bytes: 256 * 1024 * 1024,
            max_concurrent_writes_per_tenant: 1,
            rate_per_second: 200.0,
            rate_burst: 400,
            rate_max_keys: 100_000,
        }
    }
}

/// A caller went over its request rate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("rate limit exceeded ({per_second} requests/s, burst {burst}); retry in {:.0} ms", retry_after.as_secs_f64() * 1000.0)]
pub struct RateLimited {
    /// When a request would be admitted again.
    pub retry_after: Duration,
    /// Configured sustained rate.
    pub per_second: f64,
    /// Configured burst.
    pub burst: u32,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token-bucket rate limiter keyed by caller (a token name or JWT subject, never the token).
///
/// Each key refills at `per_second` up to `burst`. The map of keys is bounded by `max_keys`:
/// when full, buckets that have refilled completely (indistinguishable from new ones) are dropped
/// first, then the least recently used.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: u32,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter admitting `per_second` requests per key with bursts of `burst`; `per_second <=
    /// 0` or `burst == 0` admits everything.
    pub fn new(per_second: f64, burst: u32, max_keys: usize) -> Self {
        RateLimiter {
            per_second,
            burst,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The limiter described by `limits`.
    pub fn from_limits(limits: &LimitsConfig) -> Self {
        Self::new(limits.rate_per_second, limits.rate_burst, limits.rate_max_keys)
    }

    /// True when the limiter admits everything.
    pub fn is_unlimited(&self) -> bool {
        !(self.per_second > 0.0 && self.burst > 0)
    }

    /// Take one request for `key` now.
    pub fn check(&self, key: &str) -> Result<(), RateLimited> {
        self.check_at(key, Instant::now())
    }

    /// Take one request for `key` at `now` (an explicit clock, for tests).
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), RateLimited> {
        if self.is_unlimited() {
            return Ok(());
        }
        let burst = f64::from(self.burst);
        // A poisoned lock only means another thread panicked mid-update of plain numbers.
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(key) && map.len() >= self.max_keys {
            self.evict(&mut map, now);
        }
        let b = map.entry(key.to_owned()).or_insert(Bucket { tokens: burst, last: now });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(burst);
        b.last = now.max(b.last);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - b.tokens) / self.per_second;
            Err(RateLimited {
                retry_after: Duration::from_secs_f64(wait),
                per_second: self.per_second,
                burst: self.burst,
            })
        }
    }

    fn evict(&self, map: &mut HashMap<String, Bucket>, now: Instant) {
        let burst = f64::from(self.burst);
        let per_second = self.per_second;
        map.retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * per_second < burst
        });
        if map.len() >= self.max_keys {
            if let Some(oldest) = map.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
    }

    /// Keys currently tracked.
    pub fn tracked_keys(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A tenant has too many writes in flight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tenant {tenant} already has {limit} write(s) in progress; retry when it finishes")]
pub struct WriteBusy {
    /// The tenant.
    pub tenant: TenantId,
    /// Its concurrent-write limit.
    pub limit: usize,
}

/// Permission to write one tenant; released on drop.
#[derive(Debug)]
pub struct WritePermit {
    _permit: OwnedSemaphorePermit,
}

/// Per-key semaphores bounding concurrent writes of one tenant (1 permit = fully serialised).
/// Idle entries are dropped so the map stays small.
#[derive(Debug)]
pub struct KeyedSemaphores<K> {
    permits: usize,
    map: Mutex<HashMap<K, Arc<Semaphore>>>,
}

/// [`KeyedSemaphores`] keyed by tenant.
pub type TenantWriteLocks = KeyedSemaphores<TenantId>;

/// Entries kept before idle ones are swept.
const SWEEP_AT: usize = 1024;

impl<K: Clone + Eq + Hash + std::fmt::Display> KeyedSemaphores<K> {
    /// `permits` concurrent holders per key (at least 1).
    pub fn new(permits: usize) -> Self {
        KeyedSemaphores { permits: permits.max(1), map: Mutex::new(HashMap::new()) }
    }

    fn semaphore(&self, key: &K) -> Arc<Semaphore> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT && !map.contains_key(key) {
            let permits = self.permits;
            map.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < permits);
        }
        map.entry(key.clone()).or_insert_with(|| Arc::new(Semaphore::new(self.permits))).clone()
    }

    /// Wait for a write permit of `key`.
    pub async fn acquire(&self, key: &K) -> WritePermit {
        let permit = self
            .semaphore(key)
            .acquire_owned()
            .await
            .expect("write-lock semaphores are never closed");
        WritePermit { _permit: permit }
    }

    /// A write permit of `key` if one is free now.
    pub fn try_acquire(&self, key: &K) -> Option<WritePermit> {
        self.semaphore(key).try_acquire_owned().ok().map(|p| WritePermit { _permit: p })
    }

    /// Wait at most `timeout` for a write permit of `key`.
    pub async fn acquire_timeout(&self, key: &K, timeout: Duration) -> Option<WritePermit> {
        tokio::time::timeout(timeout, self.acquire(key)).await.ok()
    }

    /// Keys currently tracked (held, waited on, or idle and not yet swept).
    pub fn tracked_keys(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Permits per key.
    pub fn permits(&self) -> usize {
        self.permits
    }
}

impl TenantWriteLocks {
    /// [`KeyedSemaphores::try_acquire`] with a ready-made error for the caller.
    pub fn try_acquire_tenant(&self, tenant: &TenantId) -> Result<WritePermit, WriteBusy> {
        self.try_acquire(tenant)
            .ok_or_else(|| WriteBusy { tenant: tenant.clone(), limit: self.permits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refills() {
        let rl = RateLimiter::new(10.0, 3, 100);
        let t0 = Instant::now();
        for _ in 0..3 {
            rl.check_at("a", t0).unwrap();
        }
        let e = rl.check_at("a", t0).unwrap_err();
        assert!((e.retry_after.as_secs_f64() - 0.1).abs() < 1e-6, "{e:?}");
        assert!(e.to_string().contains("rate limit exceeded"));
        // Another key has its own bucket.
        rl.check_at("b", t0).unwrap();
        // 100 ms later one token is back, not two.
        let t1 = t0 + Duration::from_millis(100);
        rl.check_at("a", t1).unwrap();
        assert!(rl.check_at("a", t1).is_err());
        // After a long pause the bucket is full again but capped at the burst.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            rl.check_at("a", t2).unwrap();
        }
        assert!(rl.check_at("a", t2).is_err());
    }

    #[test]
    fn map_is_bounded() {
        let rl = RateLimiter::new(1.0, 2, 4);
        let t0 = Instant::now();
        for i in 0..100 {
            rl.check_at(&format!("k{i}"), t0 + Duration::from_millis(i)).unwrap();
            assert!(rl.tracked_keys() <= 4);
        }
        // A key that was evicted comes back with a fresh bucket; a busy key is kept.
        let busy = "busy";
        let t = t0 + Duration::from_millis(200);
        rl.check_at(busy, t).unwrap();
        rl.check_at(busy, t).unwrap();
        assert!(rl.check_at(busy, t).is_err());
        assert!(rl.tracked_keys() <= 4);
    }

    #[test]
    fn zero_rate_is_unlimited() {
        let rl = RateLimiter::new(0.0, 10, 10);
        assert!(rl.is_unlimited());
        let t0 = Instant::now();
        for _ in 0..10_000 {
            rl.check_at("a", t0).unwrap();
        }
        assert_eq!(rl.tracked_keys(), 0);
    }

    #[tokio::test]
    async fn writes_of_one_tenant_are_serialised() {
        let locks = TenantWriteLocks::new(1);
        let a = TenantId::parse("a").unwrap();
        let b = TenantId::parse("b").unwrap();
        let p = locks.acquire(&a).await;
        let e = locks.try_acquire_tenant(&a).unwrap_err();
        assert!(e.to_string().contains("already has 1 write"));
        // Another tenant is independent.
        let _pb = locks.try_acquire_tenant(&b).unwrap();
        // A waiter gets the permit once the holder drops it.
        let locks = Arc::new(locks);
        let l2 = locks.clone();
        let a2 = a.clone();
        let waiter = tokio::spawn(async move { l2.acquire(&a2).await });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(p);
        let _p2 = waiter.await.unwrap();
        assert!(locks.try_acquire(&a).is_none());
        assert!(locks.acquire_timeout(&a, Duration::from_millis(1)).await.is_none());
    }

    #[tokio::test]
    async fn idle_entries_are_swept() {
        let locks = TenantWriteLocks::new(2);
        for i in 0..3000 {
            let t = TenantId::parse(&format!("t{i}")).unwrap();
            let _p = locks.acquire(&t).await;
        }
        assert!(locks.tracked_keys() <= SWEEP_AT + 1, "{}", locks.tracked_keys());
        let t = TenantId::parse("x").unwrap();
        let _p1 = locks.try_acquire(&t).unwrap();
        let _p2 = locks.try_acquire(&t).unwrap();
        assert!(locks.try_acquire(&t).is_none());
    }
}
