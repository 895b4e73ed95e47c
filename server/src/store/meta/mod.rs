//! [`MetaStore`]: model versions, the active model, the top-topics snapshot and topic history in
//! SQL — an embedded SQLite file by default, PostgreSQL by URL. Migrations (`migrations/sqlite`,
//! `migrations/postgres`) are applied on connect. All SQL is parameterised.
//!
//! One module per table: `models` (versions), `snapshot` (top topics), `history` (daily
//! counts), `windows` (merged windows), `locks` (tenant advisory locks); `activate` is the one
//! transaction that writes them together, and `backend` says which database is behind the pool
//! and what it allows ([`Backend`]).

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{Result, StoragePath, StoreError, TenantId, Version};

/// Run `$body` with `$p` bound to the concrete pool (the body is compiled once per backend).
macro_rules! with_pool {
    ($self:expr, $p:ident => $body:expr) => {
        match &$self.pool {
            Pool::Sqlite($p) => $body,
            Pool::Pg($p) => $body,
        }
    };
}

mod activate;
mod articles;
mod backend;
mod defined;
mod history;
mod locks;
mod models;
mod snapshot;
#[cfg(test)]
mod tests;
mod windows;

pub use articles::{ArticleRows, StoredArticle};
pub use backend::Backend;
pub use defined::DefinedTopicsRow;
pub use history::DailyCountRow;
pub use locks::{advisory_key, TenantDbLock, LOCK_ACQUIRE_TIMEOUT, MAX_LOCK_CONNECTIONS};
pub use models::{ModelKind, ModelRecord, NewModel};
pub use snapshot::{SnapshotTopic, SNAPSHOT_SAMPLES};
pub use windows::MergedWindow;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Default metadata database: an SQLite file under `./data`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/topicd.db";

/// PostgreSQL channel notified (in the activating or deleting transaction) when a tenant's
/// active model changes. Payload: `<tenant>` (tenant deleted) or `<tenant> <version>` (the
/// new active version).
pub const MODEL_CHANGES_CHANNEL: &str = "topicd_model_changes";

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// The metadata store. Cheap to clone (a connection pool).
#[derive(Clone)]
pub struct MetaStore {
    pool: Pool,
    /// PostgreSQL: a separate, lazily connected pool whose connections hold tenant advisory
    /// locks for the duration of a write (separate so that held locks can never starve the
    /// writes themselves of connections).
    lock_pool: Option<PgPool>,
}

impl std::fmt::Debug for MetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaStore").field("backend", &self.backend()).finish()
    }
}

fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::Database(d) if d.is_check_violation() || d.is_foreign_key_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::RowNotFound => StoreError::NotFound("row".into()),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(format!("metadata database: {e}")),
        _ => StoreError::Unavailable(format!("metadata database: {e}")),
    }
}

fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v)
        .map_err(|_| StoreError::Conflict(format!("{what} {v} does not fit the database")))
}

fn to_u64(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v)
        .map_err(|_| StoreError::Corrupt(format!("negative {what} {v} in the database")))
}

/// A version read back from the database.
fn stored_version(v: &str) -> Result<Version> {
    Version::parse(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A tenant id read back from the database.
fn stored_tenant(t: &str) -> Result<TenantId> {
    TenantId::parse(t).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A storage path read back from the database.
fn stored_path(p: &str) -> Result<StoragePath> {
    StoragePath::parse(p).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl MetaStore {
    /// Connect and apply migrations. `url` is `sqlite://path/to/file.db` (the file and its
    /// directory are created when missing; WAL journal), `sqlite::memory:` (tests), or
    /// `postgres://user:pass@host:port/db`.
    pub async fn connect(url: &str) -> Result<Self> {
        let url = url.trim();
        if url.starts_with("sqlite:") {
            Ok(MetaStore { pool: Pool::Sqlite(connect_sqlite(url).await?), lock_pool: None })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(opts.clone())
                .await
                .map_err(|e| {
                    StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}"))
                })?;
            POSTGRES_MIGRATIONS
                .run(&pool)
                .await
                .map_err(|e| StoreError::Unavailable(format!("PostgreSQL migrations: {e}")))?;
            Ok(MetaStore { pool: Pool::Pg(pool), lock_pool: Some(locks::lock_pool(opts)) })
        } else {
            Err(StoreError::Config(
                "unsupported database URL (use sqlite://path/file.db or postgres://user@host/db)"
                    .into(),
            ))
        }
    }

    /// The PostgreSQL pool, when the backend is PostgreSQL (advisory locks, LISTEN/NOTIFY).
    pub fn pg_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Pg(p) => Some(p),
            Pool::Sqlite(_) => None,
        }
    }

    /// Close the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        if let Some(p) = &self.lock_pool {
            p.close().await;
        }
        with_pool!(self, p => p.close().await)
    }

    /// Delete every row of the tenant (models, snapshot, history, windows, articles) in one
    /// transaction.
    /// Returns the storage paths its models had, so the caller can delete the files.
    pub async fn delete_tenant(&self, tenant: &TenantId) -> Result<Vec<StoragePath>> {
        let t = tenant.as_str();
        let notify = self.backend().notifies();
        let paths: Vec<(String,)> = with_pool!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await.map_err(db_err)?;
            let paths: Vec<(String,)> = sqlx::query_as("SELECT storage_path FROM models WHERE tenant_id = $1")
                .bind(t)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            for table in [
                "topic_snapshot",
                "topic_daily_counts",
                "merged_windows",
                "kb_articles",
                "defined_topics",
                "models",
            ] {
                // The table name is one of the constants above; the tenant is a bound parameter.
                sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                    .bind(t)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            if notify {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(MODEL_CHANGES_CHANNEL)
                    .bind(t)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
            paths
        });
        paths.iter().map(|(p,)| stored_path(p)).collect()
    }
}

/// Open (creating when missing) an SQLite database and apply its migrations.
async fn connect_sqlite(url: &str) -> Result<SqlitePool> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let filename = opts.get_filename().to_path_buf();
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !in_memory {
        if let Some(dir) = filename.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Config(format!(
                    "cannot create the database directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
    }
    // An in-memory database exists once per connection: keep exactly one.
    let max = if in_memory { 1 } else { 8 };
    let pool = SqlitePoolOptions::new()
        .max_connections(max)
        .min_connections(if in_memory { 1 } else { 0 })
        .idle_timeout(if in_memory { None } else { Some(Duration::from_secs(600)) })
        .max_lifetime(if in_memory { None } else { Some(Duration::from_secs(1800)) })
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot open SQLite database {}: {e}",
                filename.display()
            ))
        })?;
    SQLITE_MIGRATIONS
        .run(&pool)
        .await
        .map_err(|e| StoreError::Unavailable(format!("SQLite migrations: {e}")))?;
    Ok(pool)
}

#[cfg(test)]
impl MetaStore {
    /// Run raw SQL (tests that bypass the API to check database constraints).
    pub(crate) async fn execute_raw(&self, sql: &str, tenant: &str, version: &str) -> Result<u64> {
        let r = with_pool!(self, p => sqlx::query(sql).bind(tenant).bind(version).execute(p).await.map(|r| r.rows_affected()))
            .map_err(db_err)?;
        Ok(r)
    }
}
