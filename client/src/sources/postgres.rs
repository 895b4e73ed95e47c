//! PostgreSQL message source: the application's own database, read one tenant at a time.
//!
//! A small pool of plain PostgreSQL connections (`tokio-postgres` + `deadpool`; TLS by rustls
//! with the public web PKI roots when the URL asks for it with `sslmode=prefer|require`). The
//! tenants query lists the tenants with messages in the window; each tenant's messages are then
//! streamed row by row rather than buffered by the driver. Tenant ids may be text or integer
//! columns: the value the tenants query returned is bound back, with its type, into the
//! messages query, so an index on the tenant column stays usable. The window's bounds are bound
//! as `timestamptz`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::{pin_mut, TryStreamExt};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::config::PgSourceConfig;
use super::{Message, MessageSource, SourceError, Window};

/// A tenant id as the database stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TenantKey {
    Text(String),
    Int(i64),
}

/// Messages from a PostgreSQL database.
pub struct PgSource {
    pool: Pool,
    tenants_sql: String,
    messages_sql: String,
    /// The typed key of each tenant returned by the last tenants query.
    keys: Mutex<HashMap<String, TenantKey>>,
    /// `host/database` for logs.
    description: String,
}

impl std::fmt::Debug for PgSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSource").field("database", &self.description).finish_non_exhaustive()
    }
}

fn db_error<E>(context: &str) -> impl FnOnce(E) -> SourceError + '_
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |source| SourceError::Database { context: context.to_string(), source: Box::new(source) }
}

/// A PostgreSQL error as a person reads it: tokio-postgres prints a server error as "db error",
/// so the server's severity, SQLSTATE and message are spelled out here.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PgMessage(String);

fn pg_error(context: &str) -> impl FnOnce(tokio_postgres::Error) -> SourceError + '_ {
    move |e| {
        let message = match e.as_db_error() {
            Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
            None => e.to_string(),
        };
        SourceError::Database { context: context.to_string(), source: Box::new(PgMessage(message)) }
    }
}

fn pool_error(context: &str) -> impl FnOnce(deadpool_postgres::PoolError) -> SourceError + '_ {
    move |e| match e {
        deadpool_postgres::PoolError::Backend(e) => pg_error(context)(e),
        other => db_error(context)(other),
    }
}

/// `postgres://user:pass@host:port/db?x` → `postgres://host:port/db` (no credentials in logs).
fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let rest = rest.split('?').next().unwrap_or(rest);
    format!("{scheme}://{rest}")
}

/// rustls (ring) with the public web PKI roots; used only when the URL's `sslmode` asks for TLS.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, SourceError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(db_error("setting up TLS"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Reads column 0 as a tenant key: any text type, or an integer.
fn decode_tenant(row: &Row) -> Result<TenantKey, tokio_postgres::Error> {
    match *row.columns()[0].type_() {
        Type::INT8 => row.try_get::<_, i64>(0).map(TenantKey::Int),
        Type::INT4 => row.try_get::<_, i32>(0).map(|v| TenantKey::Int(i64::from(v))),
        Type::INT2 => row.try_get::<_, i16>(0).map(|v| TenantKey::Int(i64::from(v))),
        _ => row.try_get::<_, String>(0).map(TenantKey::Text),
    }
}

/// Reads `(id, text, created_at)`; `timestamp without time zone` columns are taken as UTC.
fn decode_message(row: &Row) -> Result<Message, tokio_postgres::Error> {
    let id = match *row.columns()[0].type_() {
        Type::INT8 => row.try_get::<_, Option<i64>>(0)?.map(|v| v.to_string()),
        Type::INT4 => row.try_get::<_, Option<i32>>(0)?.map(|v| v.to_string()),
        _ => row.try_get::<_, Option<String>>(0)?,
    };
    let text: Option<String> = row.try_get(1)?;
    let created_at = match *row.columns()[2].type_() {
        Type::TIMESTAMP => row.try_get::<_, NaiveDateTime>(2)?.and_utc(),
        _ => row.try_get::<_, DateTime<Utc>>(2)?,
    };
    Ok(Message {
        id: id.unwrap_or_default(),
        text: text.unwrap_or_default(),
        created_at,
        embedding: None,
    })
}

/// Checks that a query returns at least `n` columns (a clear error instead of a panic).
fn check_columns(row: &Row, n: usize, query: &str) -> Result<(), SourceError> {
    if row.len() < n {
        return Err(SourceError::Config(format!(
            "the {query} query returns {} column(s); it must return {n}",
            row.len()
        )));
    }
    Ok(())
}

impl PgSource {
    /// Connects to `url` (checking the queries' names first, and opening one connection so a
    /// wrong URL or password fails here).
    pub async fn connect(url: &str, config: PgSourceConfig) -> Result<Self, SourceError> {
        let tenants_sql = config.tenants_sql()?;
        let messages_sql = config.messages_sql()?;
        if config.max_connections == 0 {
            return Err(SourceError::Config("postgres.max_connections must be at least 1".into()));
        }
        let pg: tokio_postgres::Config =
            url.parse().map_err(db_error("reading the message database URL"))?;
        let manager = Manager::from_config(
            pg,
            tls()?,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(config.max_connections as usize)
            .build()
            .map_err(db_error("creating the connection pool"))?;
        drop(pool.get().await.map_err(pool_error("connecting to the message database"))?);
        Ok(Self {
            pool,
            tenants_sql,
            messages_sql,
            keys: Mutex::new(HashMap::new()),
            description: redact(url),
        })
    }
}

#[async_trait::async_trait]
impl MessageSource for PgSource {
    fn describe(&self) -> String {
        self.description.clone()
    }

    async fn tenants(&self, window: &Window) -> Result<Vec<String>, SourceError> {
        let client =
            self.pool.get().await.map_err(pool_error("connecting to the message database"))?;
        let statement = client
            .prepare_typed(&self.tenants_sql, &[Type::TIMESTAMPTZ, Type::TIMESTAMPTZ])
            .await
            .map_err(pg_error("listing tenants"))?;
        let params: [&(dyn ToSql + Sync); 2] = [&window.start, &window.end];
        let rows =
            client.query_raw(&statement, params).await.map_err(pg_error("listing tenants"))?;
        pin_mut!(rows);
        let mut keys = HashMap::new();
        let mut tenants = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(pg_error("listing tenants"))? {
            check_columns(&row, 1, "tenants")?;
            let key = decode_tenant(&row).map_err(pg_error("reading a tenant id"))?;
            let name = match &key {
                TenantKey::Text(s) => s.clone(),
                TenantKey::Int(i) => i.to_string(),
            };
            if keys.insert(name.clone(), key).is_none() {
                tenants.push(name);
            }
        }
        tenants.sort();
        *self.keys.lock().unwrap_or_else(|p| p.into_inner()) = keys;
        Ok(tenants)
    }

    async fn messages(&self, tenant: &str, window: &Window) -> Result<Vec<Message>, SourceError> {
        let key = self
            .keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
            .cloned()
            .unwrap_or_else(|| TenantKey::Text(tenant.to_string()));
        let client =
            self.pool.get().await.map_err(pool_error("connecting to the message database"))?;
        let key_type = match key {
            TenantKey::Text(_) => Type::TEXT,
            TenantKey::Int(_) => Type::INT8,
        };
        let statement = client
            .prepare_typed(&self.messages_sql, &[key_type, Type::TIMESTAMPTZ, Type::TIMESTAMPTZ])
            .await
            .map_err(pg_error("reading messages"))?;
        let key: Box<dyn ToSql + Sync + Send> = match key {
            TenantKey::Text(s) => Box::new(s),
            TenantKey::Int(i) => Box::new(i),
        };
        let params: [&(dyn ToSql + Sync); 3] = [key.as_ref(), &window.start, &window.end];
        let rows =
            client.query_raw(&statement, params).await.map_err(pg_error("reading messages"))?;
        pin_mut!(rows);
        let mut messages = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(pg_error("reading messages"))? {
            check_columns(&row, 3, "messages")?;
            let message = decode_message(&row).map_err(pg_error("decoding a message row"))?;
            if !message.text.trim().is_empty() {
                messages.push(message);
            }
        }
        Ok(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_and_options() {
        assert_eq!(
            redact("postgres://app:s3cret@db.internal:5432/app?sslmode=require"),
            "postgres://db.internal:5432/app"
        );
        assert_eq!(redact("postgresql://localhost/app"), "postgresql://localhost/app");
    }
}
