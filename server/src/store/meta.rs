//! [`MetaStore`]: model versions, the active model, the top-topics snapshot and topic history in
//! SQL — an embedded SQLite file by default, PostgreSQL by URL. Migrations (`migrations/sqlite`,
//! `migrations/postgres`) are applied on connect. All SQL is parameterised.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use topic_engine::{Keyword, TopicModel};

use super::{Result, StoreError, TenantId, Version};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Default metadata database: an SQLite file under `./data`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/topicd.db";

/// What a stored model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// A model fitted on one window of documents (a Fit result, a merge candidate).
    Day,
    /// A model produced by merging a day model into the tenant's base model.
    Merged,
}

impl ModelKind {
    /// `"day"` or `"merged"`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Day => "day",
            ModelKind::Merged => "merged",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "day" => Ok(ModelKind::Day),
            "merged" => Ok(ModelKind::Merged),
            other => Err(StoreError::Corrupt(format!("unknown model kind {other:?}"))),
        }
    }
}

/// A model version to record (its files are already in the model store).
#[derive(Debug, Clone, PartialEq)]
pub struct NewModel {
    /// Owner.
    pub tenant: TenantId,
    /// Version (unique per tenant).
    pub version: Version,
    /// Day or merged model.
    pub kind: ModelKind,
    /// Storage path returned by [`ModelStore::put`](super::ModelStore::put).
    pub storage_path: String,
    /// Active, non-outlier topics in the model.
    pub total_topics: u64,
    /// Documents behind the model.
    pub total_documents: u64,
    /// First and last day of its documents.
    pub date_range: Option<(NaiveDate, NaiveDate)>,
    /// Free-form metadata (parameters, timings, embedding model, ...).
    pub metadata: serde_json::Value,
}

impl NewModel {
    /// The row for `model`, with its topic and document counts and date range.
    pub fn for_model(
        tenant: TenantId,
        version: Version,
        kind: ModelKind,
        storage_path: String,
        model: &TopicModel,
        metadata: serde_json::Value,
    ) -> Self {
        NewModel {
            tenant,
            version,
            kind,
            storage_path,
            total_topics: model.active_topics().count() as u64,
            total_documents: model.n_documents,
            date_range: model.date_range,
            metadata,
        }
    }
}

/// A recorded model version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRecord {
    /// Database id.
    pub id: i64,
    /// Owner.
    pub tenant: TenantId,
    /// Version.
    pub version: Version,
    /// Day or merged model.
    pub kind: ModelKind,
    /// Where its files are in the model store.
    pub storage_path: String,
    /// Active, non-outlier topics.
    pub total_topics: u64,
    /// Documents behind the model.
    pub total_documents: u64,
    /// First and last day of its documents.
    pub date_range: Option<(NaiveDate, NaiveDate)>,
    /// True for the tenant's served model (at most one per tenant).
    pub is_active: bool,
    /// Free-form metadata.
    pub metadata: serde_json::Value,
    /// When the row was inserted.
    pub created_at: DateTime<Utc>,
    /// When the row last changed (activation, deactivation).
    pub updated_at: DateTime<Utc>,
}

/// One entry of a tenant's top-topics snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTopic {
    /// 1-based rank (1 = largest topic).
    pub rank: u32,
    /// Topic id in the model.
    pub topic_id: i64,
    /// Label.
    pub label: String,
    /// Top keywords with weights, best first.
    pub keywords: Vec<Keyword>,
    /// Documents in the topic.
    pub message_count: u64,
    /// Representative messages (at most 5).
    pub samples: Vec<String>,
    /// First day the topic was seen.
    pub first_seen: NaiveDate,
    /// Last day the topic was seen.
    pub last_seen: NaiveDate,
    /// Day the snapshot describes.
    pub analysis_date: NaiveDate,
    /// Version the snapshot was taken from ([`MetaStore::activate`] sets it to the activated
    /// version).
    pub model_version: Version,
}

/// Most samples kept per snapshot topic.
pub const SNAPSHOT_SAMPLES: usize = 5;

impl SnapshotTopic {
    /// The `limit` largest active, non-outlier topics of `model` (by size desc, then id asc),
    /// ranked from 1.
    pub fn top_of(
        model: &TopicModel,
        limit: usize,
        analysis_date: NaiveDate,
        version: Version,
    ) -> Vec<Self> {
        model
            .top_topics(limit)
            .into_iter()
            .enumerate()
            .map(|(i, t)| SnapshotTopic {
                rank: i as u32 + 1,
                topic_id: t.id,
                label: t.label.clone(),
                keywords: t.keywords.clone(),
                message_count: t.size,
                samples: t.samples.iter().take(SNAPSHOT_SAMPLES).cloned().collect(),
                first_seen: t.first_seen,
                last_seen: t.last_seen,
                analysis_date,
                model_version: version,
            })
            .collect()
    }
}

/// Documents of one topic on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCountRow {
    /// Topic id.
    pub topic_id: i64,
    /// Day.
    pub day: NaiveDate,
    /// Documents.
    pub count: u64,
}

impl DailyCountRow {
    /// Every `(topic, day, count)` of `model`'s non-outlier topics.
    pub fn all_of(model: &TopicModel) -> Vec<Self> {
        model
            .topics
            .iter()
            .filter(|t| !t.is_outlier())
            .flat_map(|t| {
                t.daily_counts.iter().map(move |d| DailyCountRow {
                    topic_id: t.id,
                    day: d.date,
                    count: d.count,
                })
            })
            .collect()
    }
}

/// A date window merged into a tenant's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedWindow {
    /// First day of the window.
    pub window_start: NaiveDate,
    /// Last day of the window.
    pub window_end: NaiveDate,
    /// The merged version that took it in.
    pub model_version: Version,
}

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

/// PostgreSQL channel notified (in the activating or deleting transaction) when a tenant's
/// active model changes. Payload: `<tenant>` (tenant deleted) or `<tenant> <version>` (the
/// new active version).
pub const MODEL_CHANGES_CHANNEL: &str = "topicd_model_changes";

/// Connections (per process) that may hold tenant advisory locks at once: at most this many
/// tenants are written concurrently by one replica; further writes wait for a free one (up to
/// [`LOCK_ACQUIRE_TIMEOUT`]).
pub const MAX_LOCK_CONNECTIONS: u32 = 32;

/// Longest wait for a lock connection (as for the main pool: while PostgreSQL is down, writes
/// fail with `UNAVAILABLE` after this long).
pub const LOCK_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

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

impl fmt::Debug for MetaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaStore").field("backend", &self.backend()).finish()
    }
}

/// Run `$body` with `$p` bound to the concrete pool (the body is compiled once per backend).
macro_rules! with_pool {
    ($self:expr, $p:ident => $body:expr) => {
        match &$self.pool {
            Pool::Sqlite($p) => $body,
            Pool::Pg($p) => $body,
        }
    };
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

fn insert_sql() -> String {
    format!(
        "INSERT INTO models (tenant_id, version, kind, storage_path, total_topics, total_documents, \
         date_range_start, date_range_end, is_active, metadata, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING {MODEL_COLUMNS}"
    )
}

fn insert_err(e: sqlx::Error, m: &NewModel) -> StoreError {
    match db_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "tenant {} already has a model version {}",
            m.tenant, m.version
        )),
        e => e,
    }
}

/// Bind a [`NewModel`] to the parameters of [`insert_sql`] (counts checked first).
macro_rules! bind_new_model {
    ($q:expr, $m:expr, $now:expr) => {
        match (
            to_i64($m.total_topics, "total_topics"),
            to_i64($m.total_documents, "total_documents"),
        ) {
            (Ok(topics), Ok(documents)) => Ok($q
                .bind($m.tenant.as_str())
                .bind($m.version.to_string())
                .bind($m.kind.as_str())
                .bind(&$m.storage_path)
                .bind(topics)
                .bind(documents)
                .bind($m.date_range.map(|r| r.0))
                .bind($m.date_range.map(|r| r.1))
                .bind(false)
                .bind(Json(&$m.metadata))
                .bind($now)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    };
}

#[derive(sqlx::FromRow)]
struct ModelRow {
    id: i64,
    tenant_id: String,
    version: String,
    kind: String,
    storage_path: String,
    total_topics: i64,
    total_documents: i64,
    date_range_start: Option<NaiveDate>,
    date_range_end: Option<NaiveDate>,
    is_active: bool,
    metadata: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const MODEL_COLUMNS: &str =
    "id, tenant_id, version, kind, storage_path, total_topics, total_documents, \
     date_range_start, date_range_end, is_active, metadata, created_at, updated_at";

impl TryFrom<ModelRow> for ModelRecord {
    type Error = StoreError;
    fn try_from(r: ModelRow) -> Result<Self> {
        let date_range = match (r.date_range_start, r.date_range_end) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        Ok(ModelRecord {
            id: r.id,
            tenant: TenantId::parse(&r.tenant_id)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            version: Version::parse(&r.version).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            kind: r.kind.parse()?,
            storage_path: r.storage_path,
            total_topics: to_u64(r.total_topics, "total_topics")?,
            total_documents: to_u64(r.total_documents, "total_documents")?,
            date_range,
            is_active: r.is_active,
            metadata: r.metadata.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SnapshotRow {
    rank: i64,
    topic_id: i64,
    label: String,
    keywords: Json<Vec<Keyword>>,
    message_count: i64,
    samples: Json<Vec<String>>,
    first_seen: NaiveDate,
    last_seen: NaiveDate,
    analysis_date: NaiveDate,
    model_version: String,
}

impl TryFrom<SnapshotRow> for SnapshotTopic {
    type Error = StoreError;
    fn try_from(r: SnapshotRow) -> Result<Self> {
        Ok(SnapshotTopic {
            rank: u32::try_from(r.rank)
                .map_err(|_| StoreError::Corrupt(format!("snapshot rank {}", r.rank)))?,
            topic_id: r.topic_id,
            label: r.label,
            keywords: r.keywords.0,
            message_count: to_u64(r.message_count, "message_count")?,
            samples: r.samples.0,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            analysis_date: r.analysis_date,
            model_version: Version::parse(&r.model_version)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DailyRow {
    topic_id: i64,
    day: NaiveDate,
    count: i64,
}

#[derive(sqlx::FromRow)]
struct WindowRow {
    window_start: NaiveDate,
    window_end: NaiveDate,
    model_version: String,
}

impl MetaStore {
    /// Connect and apply migrations. `url` is `sqlite://path/to/file.db` (the file and its
    /// directory are created when missing; WAL journal), `sqlite::memory:` (tests), or
    /// `postgres://user:pass@host:port/db`.
    pub async fn connect(url: &str) -> Result<Self> {
        let url = url.trim();
        let mut lock_pool = None;
        let pool = if url.starts_with("sqlite:") {
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
            Pool::Sqlite(pool)
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
            // Lazy: no connection until the first write.
            lock_pool = Some(
                PgPoolOptions::new()
                    .max_connections(MAX_LOCK_CONNECTIONS)
                    .min_connections(0)
                    .idle_timeout(Some(Duration::from_secs(60)))
                    .acquire_timeout(LOCK_ACQUIRE_TIMEOUT)
                    .connect_lazy_with(opts),
            );
            Pool::Pg(pool)
        } else {
            return Err(StoreError::Config(
                "unsupported database URL (use sqlite://path/file.db or postgres://user@host/db)"
                    .into(),
            ));
        };
        Ok(MetaStore { pool, lock_pool })
    }

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

    /// The statement that starts a write transaction. SQLite: `BEGIN IMMEDIATE` takes the write
    /// lock up front (waiting up to the busy timeout), so a transaction that reads before it
    /// writes cannot fail with `SQLITE_BUSY_SNAPSHOT` (517) when another connection committed
    /// in between, as a deferred `BEGIN` can under concurrent writers.
    fn begin_write(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "BEGIN IMMEDIATE",
            Pool::Pg(_) => "BEGIN",
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Pg(_) => "postgres",
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

    /// Record a model version (inactive). Fails with [`StoreError::Conflict`] when the tenant
    /// already has this version.
    pub async fn insert_model(&self, m: &NewModel) -> Result<ModelRecord> {
        let now = Utc::now();
        let sql = insert_sql();
        let row: ModelRow = with_pool!(self, p => {
            bind_new_model!(sqlx::query_as(&sql), m, now)?.fetch_one(p).await.map_err(|e| insert_err(e, m))?
        });
        row.try_into()
    }

    /// In ONE transaction: make `version` the tenant's only active model, replace the tenant's
    /// snapshot with `snapshot` (each entry's `model_version` is set to `version`), upsert
    /// `daily_counts`, and record `merged_window` (first and last day merged) when given.
    /// On any error nothing changes: the previous active model and snapshot stay.
    pub async fn activate(
        &self,
        tenant: &TenantId,
        version: &Version,
        snapshot: &[SnapshotTopic],
        daily_counts: &[DailyCountRow],
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<ModelRecord> {
        self.activate_inner(None, tenant, version, snapshot, daily_counts, merged_window).await
    }

    /// [`MetaStore::insert_model`] and [`MetaStore::activate`] in ONE transaction: the Merge
    /// commit. On any error no row of the new version exists (its files, already written, are
    /// orphans for [`cleanup_orphans`](super::cleanup_orphans)) and the previous active model and
    /// snapshot stay.
    pub async fn insert_and_activate(
        &self,
        model: &NewModel,
        snapshot: &[SnapshotTopic],
        daily_counts: &[DailyCountRow],
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<ModelRecord> {
        self.activate_inner(
            Some(model),
            &model.tenant,
            &model.version,
            snapshot,
            daily_counts,
            merged_window,
        )
        .await
    }

    async fn activate_inner(
        &self,
        new: Option<&NewModel>,
        tenant: &TenantId,
        version: &Version,
        snapshot: &[SnapshotTopic],
        daily_counts: &[DailyCountRow],
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<ModelRecord> {
        let now = Utc::now();
        let v = version.to_string();
        let t = tenant.as_str();
        let select =
            format!("SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 AND version = $2");
        let row: ModelRow = with_pool!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await.map_err(db_err)?;
            if let Some(m) = new {
                let insert_sql = insert_sql();
                bind_new_model!(sqlx::query(&insert_sql), m, now)?
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| insert_err(e, m))?;
                failpoint!("meta::activate::after_insert");
            }
            let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM models WHERE tenant_id = $1 AND version = $2")
                .bind(t)
                .bind(&v)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound(format!("tenant {tenant} has no model version {version}")));
            }
            sqlx::query("UPDATE models SET is_active = $1, updated_at = $2 WHERE tenant_id = $3 AND is_active AND version <> $4")
                .bind(false)
                .bind(now)
                .bind(t)
                .bind(&v)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("UPDATE models SET is_active = $1, updated_at = $2 WHERE tenant_id = $3 AND version = $4")
                .bind(true)
                .bind(now)
                .bind(t)
                .bind(&v)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            failpoint!("meta::activate::after_switch");
            sqlx::query("DELETE FROM topic_snapshot WHERE tenant_id = $1")
                .bind(t)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            failpoint!("meta::activate::before_snapshot");
            for s in snapshot {
                sqlx::query(
                    "INSERT INTO topic_snapshot (tenant_id, rank, topic_id, label, keywords, message_count, samples, \
                     first_seen, last_seen, analysis_date, model_version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(t)
                .bind(i64::from(s.rank))
                .bind(s.topic_id)
                .bind(&s.label)
                .bind(Json(&s.keywords))
                .bind(to_i64(s.message_count, "message_count")?)
                .bind(Json(&s.samples))
                .bind(s.first_seen)
                .bind(s.last_seen)
                .bind(s.analysis_date)
                .bind(&v)
                .execute(&mut *tx)
                .await
                .map_err(|e| match db_err(e) {
                    StoreError::Conflict(m) => StoreError::Conflict(format!("snapshot rank {}: {m}", s.rank)),
                    e => e,
                })?;
            }
            for d in daily_counts {
                sqlx::query(
                    "INSERT INTO topic_daily_counts (tenant_id, topic_id, day, count) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant_id, topic_id, day) DO UPDATE SET count = excluded.count",
                )
                .bind(t)
                .bind(d.topic_id)
                .bind(d.day)
                .bind(to_i64(d.count, "daily count")?)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            if let Some((start, end)) = merged_window {
                sqlx::query(
                    "INSERT INTO merged_windows (tenant_id, window_start, window_end, model_version, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(t)
                .bind(start)
                .bind(end)
                .bind(&v)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            failpoint!("meta::activate::before_commit");
            let row: ModelRow = sqlx::query_as(&select).bind(t).bind(&v).fetch_one(&mut *tx).await.map_err(db_err)?;
            if self.lock_pool.is_some() {
                // PostgreSQL: delivered to the other replicas' listeners at commit, never
                // when the transaction rolls back.
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(MODEL_CHANGES_CHANNEL)
                    .bind(format!("{t} {v}"))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
            row
        });
        tracing::info!(tenant = %tenant, version = %version, topics = snapshot.len(), "model activated");
        row.try_into()
    }

    /// The tenant's active model, if any.
    pub async fn active(&self, tenant: &TenantId) -> Result<Option<ModelRecord>> {
        let sql = format!("SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 AND is_active");
        let row: Option<ModelRow> =
            with_pool!(self, p => sqlx::query_as(&sql).bind(tenant.as_str()).fetch_optional(p).await).map_err(db_err)?;
        row.map(TryInto::try_into).transpose()
    }

    /// One version of the tenant's models, if it exists.
    pub async fn get(&self, tenant: &TenantId, version: &Version) -> Result<Option<ModelRecord>> {
        let sql =
            format!("SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 AND version = $2");
        let row: Option<ModelRow> = with_pool!(self, p => sqlx::query_as(&sql)
            .bind(tenant.as_str())
            .bind(version.to_string())
            .fetch_optional(p)
            .await)
        .map_err(db_err)?;
        row.map(TryInto::try_into).transpose()
    }

    /// All versions of one tenant, or of every tenant, by tenant then version (oldest first).
    pub async fn list(&self, tenant: Option<&TenantId>) -> Result<Vec<ModelRecord>> {
        let rows: Vec<ModelRow> = match tenant {
            Some(t) => {
                let sql = format!(
                    "SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 ORDER BY version"
                );
                with_pool!(self, p => sqlx::query_as(&sql).bind(t.as_str()).fetch_all(p).await)
            }
            None => {
                let sql = format!("SELECT {MODEL_COLUMNS} FROM models ORDER BY tenant_id, version");
                with_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await)
            }
        }
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The tenant's newest version (for [`Version::now_after`]).
    pub async fn latest_version(&self, tenant: &TenantId) -> Result<Option<Version>> {
        let row: Option<(Option<String>,)> = with_pool!(self, p => sqlx::query_as(
            "SELECT MAX(version) FROM models WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(p)
            .await)
        .map_err(db_err)?;
        match row.and_then(|r| r.0) {
            Some(v) => {
                Ok(Some(Version::parse(&v).map_err(|e| StoreError::Corrupt(e.to_string()))?))
            }
            None => Ok(None),
        }
    }

    /// Tenant ids that have at least one model, sorted.
    pub async fn tenants(&self) -> Result<Vec<TenantId>> {
        let rows: Vec<(String,)> =
            with_pool!(self, p => sqlx::query_as("SELECT DISTINCT tenant_id FROM models ORDER BY tenant_id")
                .fetch_all(p)
                .await)
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(t,)| TenantId::parse(&t).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    /// The tenant's top-topics snapshot, by rank (empty when it has no active model).
    pub async fn snapshot(&self, tenant: &TenantId) -> Result<Vec<SnapshotTopic>> {
        let rows: Vec<SnapshotRow> = with_pool!(self, p => sqlx::query_as(
            "SELECT rank, topic_id, label, keywords, message_count, samples, first_seen, last_seen, \
             analysis_date, model_version FROM topic_snapshot WHERE tenant_id = $1 ORDER BY rank")
            .bind(tenant.as_str())
            .fetch_all(p)
            .await)
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Daily counts of the given topics (all topics when `topic_ids` is empty) on days
    /// `>= since` (all days when `None`), by topic then day.
    pub async fn daily_counts(
        &self,
        tenant: &TenantId,
        topic_ids: &[i64],
        since: Option<NaiveDate>,
    ) -> Result<Vec<DailyCountRow>> {
        // Year 1 rather than NaiveDate::MIN, which PostgreSQL's DATE cannot hold.
        let since = since.or(NaiveDate::from_ymd_opt(1, 1, 1)).unwrap_or_default();
        let mut rows: Vec<DailyRow> = Vec::new();
        if topic_ids.is_empty() {
            rows = with_pool!(self, p => sqlx::query_as(
                "SELECT topic_id, day, count FROM topic_daily_counts WHERE tenant_id = $1 AND day >= $2 \
                 ORDER BY topic_id, day")
                .bind(tenant.as_str())
                .bind(since)
                .fetch_all(p)
                .await)
            .map_err(db_err)?;
        } else {
            let mut ids = topic_ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                let part: Vec<DailyRow> = with_pool!(self, p => sqlx::query_as(
                    "SELECT topic_id, day, count FROM topic_daily_counts \
                     WHERE tenant_id = $1 AND topic_id = $2 AND day >= $3 ORDER BY day")
                    .bind(tenant.as_str())
                    .bind(id)
                    .bind(since)
                    .fetch_all(p)
                    .await)
                .map_err(db_err)?;
                rows.extend(part);
            }
        }
        rows.into_iter()
            .map(|r| {
                Ok(DailyCountRow {
                    topic_id: r.topic_id,
                    day: r.day,
                    count: to_u64(r.count, "daily count")?,
                })
            })
            .collect()
    }

    /// Windows merged into the tenant's models, oldest version first.
    pub async fn merged_windows(&self, tenant: &TenantId) -> Result<Vec<MergedWindow>> {
        let rows: Vec<WindowRow> = with_pool!(self, p => sqlx::query_as(
            "SELECT window_start, window_end, model_version FROM merged_windows WHERE tenant_id = $1 \
             ORDER BY model_version")
            .bind(tenant.as_str())
            .fetch_all(p)
            .await)
        .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(MergedWindow {
                    window_start: r.window_start,
                    window_end: r.window_end,
                    model_version: Version::parse(&r.model_version)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// Delete every row of the tenant (models, snapshot, history, windows) in one transaction.
    /// Returns the storage paths its models had, so the caller can delete the files.
    pub async fn delete_tenant(&self, tenant: &TenantId) -> Result<Vec<String>> {
        let t = tenant.as_str();
        let paths: Vec<(String,)> = with_pool!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await.map_err(db_err)?;
            let paths: Vec<(String,)> = sqlx::query_as("SELECT storage_path FROM models WHERE tenant_id = $1")
                .bind(t)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            for table in ["topic_snapshot", "topic_daily_counts", "merged_windows", "models"] {
                // The table name is one of the constants above; the tenant is a bound parameter.
                sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                    .bind(t)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            if self.lock_pool.is_some() {
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
        Ok(paths.into_iter().map(|(p,)| p).collect())
    }

    /// Delete one inactive version's row (and its merged-window row). Fails with
    /// [`StoreError::Conflict`] for the active version and [`StoreError::NotFound`] for an
    /// unknown one. Returns the deleted record (its files are the caller's to delete).
    pub async fn delete_model(&self, tenant: &TenantId, version: &Version) -> Result<ModelRecord> {
        let t = tenant.as_str();
        let v = version.to_string();
        let select =
            format!("SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 AND version = $2");
        let row: ModelRow = with_pool!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await.map_err(db_err)?;
            let row: Option<ModelRow> = sqlx::query_as(&select).bind(t).bind(&v).fetch_optional(&mut *tx).await.map_err(db_err)?;
            let Some(row) = row else {
                return Err(StoreError::NotFound(format!("tenant {tenant} has no model version {version}")));
            };
            if row.is_active {
                return Err(StoreError::Conflict(format!(
                    "model {version} is tenant {tenant}'s active model; activate another version first"
                )));
            }
            sqlx::query("DELETE FROM merged_windows WHERE tenant_id = $1 AND model_version = $2")
                .bind(t)
                .bind(&v)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("DELETE FROM models WHERE tenant_id = $1 AND version = $2")
                .bind(t)
                .bind(&v)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            row
        });
        row.try_into()
    }

    /// Retention: delete the rows of the tenant's oldest versions so that at most `keep`
    /// remain, never the active one. Returns the deleted records (their files are the caller's
    /// to delete; a crash in between leaves orphans that [`cleanup_orphans`](super::cleanup_orphans)
    /// removes).
    pub async fn prune_versions(&self, tenant: &TenantId, keep: usize) -> Result<Vec<ModelRecord>> {
        let all = self.list(Some(tenant)).await?;
        let excess = all.len().saturating_sub(keep);
        let mut deleted = Vec::new();
        for m in all.into_iter().filter(|m| !m.is_active).take(excess) {
            deleted.push(self.delete_model(tenant, &m.version).await?);
        }
        Ok(deleted)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_util::{day, model, tid, ver};
    use topicd_testing::PgCluster;

    fn new_model(t: &TenantId, v: &Version, kind: ModelKind) -> NewModel {
        NewModel::for_model(
            t.clone(),
            *v,
            kind,
            format!("{t}/{v}"),
            &model(),
            serde_json::json!({"k": v.to_string()}),
        )
    }

    /// The same behaviour on every backend.
    async fn exercise(meta: &MetaStore) {
        let acme = tid("acme");
        let globex = tid("globex");
        let v1 = ver("20250301_000000");
        let v2 = ver("20250302_000000");
        let v3 = ver("20250303_000000");
        assert!(meta.active(&acme).await.unwrap().is_none());
        assert!(meta.latest_version(&acme).await.unwrap().is_none());

        let r1 = meta.insert_model(&new_model(&acme, &v1, ModelKind::Day)).await.unwrap();
        assert_eq!(r1.tenant, acme);
        assert_eq!(r1.version, v1);
        assert_eq!(r1.kind, ModelKind::Day);
        assert_eq!(r1.total_topics, 4, "active non-outlier topics");
        assert_eq!(r1.total_documents, 201);
        assert_eq!(r1.date_range, Some((day(1), day(2))));
        assert!(!r1.is_active);
        assert_eq!(r1.metadata["k"], "20250301_000000");
        let dup = meta.insert_model(&new_model(&acme, &v1, ModelKind::Merged)).await.unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(ref m) if m.contains("already has")), "{dup}");
        meta.insert_model(&new_model(&acme, &v2, ModelKind::Merged)).await.unwrap();
        meta.insert_model(&new_model(&globex, &v1, ModelKind::Day)).await.unwrap();
        assert_eq!(meta.latest_version(&acme).await.unwrap(), Some(v2));

        // First activation: snapshot, counts and window land together.
        let snap1 = SnapshotTopic::top_of(&model(), 10, day(2), v1);
        assert_eq!(snap1.iter().map(|s| s.topic_id).collect::<Vec<_>>(), vec![1, 2, 0, 4]);
        assert!(snap1.iter().all(|s| s.samples.len() == 5));
        let counts = DailyCountRow::all_of(&model());
        let rec = meta.activate(&acme, &v1, &snap1, &counts, Some((day(1), day(2)))).await.unwrap();
        assert!(rec.is_active);
        assert_eq!(meta.active(&acme).await.unwrap().unwrap().version, v1);
        assert!(meta.active(&globex).await.unwrap().is_none(), "tenants are separate");
        let got = meta.snapshot(&acme).await.unwrap();
        assert_eq!(got, snap1);
        assert!(meta.snapshot(&globex).await.unwrap().is_empty());
        assert_eq!(meta.daily_counts(&acme, &[], None).await.unwrap().len(), counts.len());
        assert_eq!(
            meta.merged_windows(&acme).await.unwrap(),
            vec![MergedWindow { window_start: day(1), window_end: day(2), model_version: v1 }]
        );

        // Second activation replaces the snapshot and upserts counts.
        let mut snap2 = SnapshotTopic::top_of(&model(), 2, day(3), v2);
        snap2[0].label = "renamed".into();
        let upd = [
            DailyCountRow { topic_id: 1, day: day(2), count: 1000 },
            DailyCountRow { topic_id: 1, day: day(3), count: 7 },
        ];
        meta.activate(&acme, &v2, &snap2, &upd, Some((day(3), day(3)))).await.unwrap();
        let all = meta.list(Some(&acme)).await.unwrap();
        assert_eq!(
            all.iter().map(|m| (m.version, m.is_active)).collect::<Vec<_>>(),
            vec![(v1, false), (v2, true)]
        );
        assert_eq!(meta.snapshot(&acme).await.unwrap(), snap2);
        let t1 = meta.daily_counts(&acme, &[1], None).await.unwrap();
        assert_eq!(
            t1,
            vec![
                DailyCountRow { topic_id: 1, day: day(1), count: 20 },
                DailyCountRow { topic_id: 1, day: day(2), count: 1000 },
                DailyCountRow { topic_id: 1, day: day(3), count: 7 },
            ]
        );
        assert_eq!(meta.daily_counts(&acme, &[1, 2], Some(day(2))).await.unwrap().len(), 3);
        assert_eq!(meta.merged_windows(&acme).await.unwrap().len(), 2);

        // The database itself refuses a second active model for a tenant.
        let e = meta
            .execute_raw(
                "UPDATE models SET is_active = TRUE WHERE tenant_id = $1 AND version = $2",
                "acme",
                "20250301_000000",
            )
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        let e = meta
            .execute_raw(
                "INSERT INTO models (tenant_id, version, kind, storage_path, total_topics, total_documents, is_active, \
                 metadata, created_at, updated_at) VALUES ($1, $2, 'day', 'x', 0, 0, TRUE, '{}', '2025-01-01T00:00:00Z', \
                 '2025-01-01T00:00:00Z')",
                "acme",
                "20250309_000000",
            )
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");

        // An error in the middle of the transaction (a duplicate rank, after the switch and the
        // snapshot delete) leaves the old active model and the old snapshot.
        let mut bad = SnapshotTopic::top_of(&model(), 3, day(4), v1);
        bad[2].rank = 1;
        let e = meta.activate(&acme, &v1, &bad, &[], Some((day(4), day(4)))).await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(ref m) if m.contains("rank")), "{e}");
        assert_eq!(meta.active(&acme).await.unwrap().unwrap().version, v2);
        assert_eq!(meta.snapshot(&acme).await.unwrap(), snap2);
        assert_eq!(meta.merged_windows(&acme).await.unwrap().len(), 2);
        // Unknown version: not found, nothing changes.
        let e = meta.activate(&acme, &v3, &snap1, &[], None).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound(_)), "{e}");
        assert_eq!(meta.active(&acme).await.unwrap().unwrap().version, v2);
        // Another tenant's version cannot be activated for this tenant.
        let e = meta.activate(&globex, &v2, &snap1, &[], None).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound(_)), "{e}");

        // Rollback to v1.
        meta.activate(&acme, &v1, &snap1, &[], None).await.unwrap();
        assert_eq!(meta.active(&acme).await.unwrap().unwrap().version, v1);
        assert_eq!(meta.get(&acme, &v2).await.unwrap().map(|m| m.is_active), Some(false));
        assert!(meta.get(&acme, &v3).await.unwrap().is_none());

        // Listing, deletion, retention.
        assert_eq!(meta.list(None).await.unwrap().len(), 3);
        assert_eq!(meta.tenants().await.unwrap(), vec![acme.clone(), globex.clone()]);
        let e = meta.delete_model(&acme, &v1).await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(ref m) if m.contains("active")), "{e}");
        assert!(matches!(meta.delete_model(&acme, &v3).await, Err(StoreError::NotFound(_))));
        meta.insert_model(&new_model(&acme, &v3, ModelKind::Day)).await.unwrap();
        let pruned = meta.prune_versions(&acme, 2).await.unwrap();
        assert_eq!(
            pruned.iter().map(|m| m.version).collect::<Vec<_>>(),
            vec![v2],
            "oldest inactive goes first"
        );
        assert_eq!(
            meta.merged_windows(&acme).await.unwrap().len(),
            1,
            "v2's window row went with it"
        );
        let pruned = meta.prune_versions(&acme, 0).await.unwrap();
        assert_eq!(
            pruned.iter().map(|m| m.version).collect::<Vec<_>>(),
            vec![v3],
            "the active one is kept"
        );

        let mut paths = meta.delete_tenant(&acme).await.unwrap();
        paths.sort();
        assert_eq!(paths, vec!["acme/20250301_000000".to_string()]);
        assert!(meta.list(Some(&acme)).await.unwrap().is_empty());
        assert!(meta.snapshot(&acme).await.unwrap().is_empty());
        assert!(meta.daily_counts(&acme, &[], None).await.unwrap().is_empty());
        assert!(meta.merged_windows(&acme).await.unwrap().is_empty());
        assert_eq!(meta.list(None).await.unwrap().len(), 1, "the other tenant is untouched");
    }

    #[tokio::test]
    async fn sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/topicd.db");
        let url = format!("sqlite://{}", path.display());
        let meta = MetaStore::connect(&url).await.unwrap();
        assert_eq!(meta.backend(), "sqlite");
        exercise(&meta).await;
        meta.close().await;
        assert!(path.is_file());
        // Reopening runs the migrations again harmlessly and sees the data.
        let meta = MetaStore::connect(&url).await.unwrap();
        assert_eq!(meta.list(None).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn sqlite_memory() {
        let meta = MetaStore::connect("sqlite::memory:").await.unwrap();
        exercise(&meta).await;
    }

    #[tokio::test]
    async fn postgres() {
        let pg = PgCluster::start().unwrap();
        let url = pg.create_database().await.unwrap();
        let meta = MetaStore::connect(&url).await.unwrap();
        assert_eq!(meta.backend(), "postgres");
        assert!(meta.pg_pool().is_some());
        exercise(&meta).await;
    }

    #[tokio::test]
    async fn bad_urls_are_config_errors() {
        for url in ["mysql://x", "", "http://db"] {
            assert!(matches!(MetaStore::connect(url).await, Err(StoreError::Config(_))), "{url}");
        }
    }
}
