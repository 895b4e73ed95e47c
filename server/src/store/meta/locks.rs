//! Tenant write locks across replicas: PostgreSQL session advisory locks, each held on a
//! dedicated connection of a separate pool. SQLite has none (one process owns the file).

use std::fmt;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::{db_err, MetaStore, Result, StoreError, TenantId};

/// Connections (per process) that may hold tenant advisory locks at once: at most this many
/// tenants are written concurrently by one replica; further writes wait for a free one (up to
/// [`LOCK_ACQUIRE_TIMEOUT`]).
pub const MAX_LOCK_CONNECTIONS: u32 = 32;

/// Longest wait for a lock connection (as for the main pool: while PostgreSQL is down, writes
/// fail with `UNAVAILABLE` after this long).
pub const LOCK_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The lock pool: lazy, so no connection is made until the first write.
pub(super) fn lock_pool(opts: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(MAX_LOCK_CONNECTIONS)
        .min_connections(0)
        .idle_timeout(Some(Duration::from_secs(60)))
        .acquire_timeout(LOCK_ACQUIRE_TIMEOUT)
        .connect_lazy_with(opts)
}

/// The key of a tenant's PostgreSQL advisory lock: FNV-1a (64 bit) of `topicd:<tenant>`. Stable
/// across processes and versions (every replica must compute the same key); a collision between
/// two tenants only serialises their writes.
pub fn advisory_key(tenant: &TenantId) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in b"topicd:".iter().chain(tenant.as_str().as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// A tenant's cross-replica write lock: a PostgreSQL session advisory lock held on a dedicated
/// connection. Dropping it releases the lock (`pg_advisory_unlock_all` on that connection, in
/// a spawned task; when that fails, or outside a runtime, the connection is closed instead,
/// which releases it too — a lock is never returned to the pool still held).
pub struct TenantDbLock {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
    key: i64,
}

impl fmt::Debug for TenantDbLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantDbLock").field("key", &self.key).finish()
    }
}

impl Drop for TenantDbLock {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let key = self.key;
                rt.spawn(async move {
                    if let Err(e) =
                        sqlx::query("SELECT pg_advisory_unlock_all()").execute(&mut *conn).await
                    {
                        tracing::warn!(key, error = %e, "advisory unlock failed; closing its connection");
                        conn.close_on_drop();
                    }
                });
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

impl MetaStore {
    /// PostgreSQL: waits for the tenant's cross-replica write lock ([`advisory_key`]) and
    /// returns it (released on drop). SQLite: `Ok(None)` (one process owns the file; the
    /// caller's in-process lock is enough). Polls `pg_try_advisory_lock` (10 ms, backing off
    /// to 100 ms) rather than blocking in `pg_advisory_lock`, so that a caller that gives up
    /// (the request is cancelled) never leaves a lock acquired behind it.
    pub async fn lock_tenant(&self, tenant: &TenantId) -> Result<Option<TenantDbLock>> {
        let Some(pool) = &self.lock_pool else { return Ok(None) };
        let key = advisory_key(tenant);
        let conn = pool.acquire().await.map_err(db_err)?;
        let mut lock = TenantDbLock { conn: Some(conn), key };
        let mut wait = Duration::from_millis(10);
        let started = std::time::Instant::now();
        loop {
            let Some(conn) = lock.conn.as_mut() else {
                return Err(StoreError::Unavailable("advisory lock connection lost".into()));
            };
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut **conn)
                .await
                .map_err(db_err)?;
            if got {
                let waited = started.elapsed();
                if waited > Duration::from_millis(50) {
                    tracing::info!(tenant = %tenant, ms = waited.as_millis() as u64,
                        "waited for the tenant's write lock (a write on another replica)");
                }
                return Ok(Some(lock));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(100));
        }
    }
}
