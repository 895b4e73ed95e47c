//! PostgreSQL message source: the application's own database, read one tenant at a time.
//!
//! The tenants query lists the tenants with messages in the window; each tenant's messages are
//! then streamed with a cursor (`fetch`) rather than loaded by one huge query. Tenant ids may be
//! text or integer columns: the value the tenants query returned is bound back, with its type,
//! into the messages query, so an index on the tenant column stays usable.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDateTime, Utc};
use futures::TryStreamExt;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::Row;

use super::config::PgSourceConfig;
use super::{Message, MessageSource, SourceError, Window};

/// A tenant id as the database stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TenantKey {
    Text(String),
    Int(i64),
}

/// Messages from a PostgreSQL database.
#[derive(Debug)]
pub struct PgSource {
    pool: PgPool,
    tenants_sql: String,
    messages_sql: String,
    /// The typed key of each tenant returned by the last tenants query.
    keys: Mutex<HashMap<String, TenantKey>>,
    /// `host/database` for logs.
    description: String,
}

fn db_error(context: &str) -> impl FnOnce(sqlx::Error) -> SourceError + '_ {
    move |source| SourceError::Database { context: context.to_string(), source }
}

/// `postgres://user:pass@host:port/db?x` → `postgres://host:port/db` (no credentials in logs).
fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let rest = rest.split('?').next().unwrap_or(rest);
    format!("{scheme}://{rest}")
}

fn decode_tenant(row: &PgRow) -> Result<TenantKey, sqlx::Error> {
    if let Ok(value) = row.try_get::<String, _>(0) {
        return Ok(TenantKey::Text(value));
    }
    if let Ok(value) = row.try_get::<i64, _>(0) {
        return Ok(TenantKey::Int(value));
    }
    row.try_get::<i32, _>(0).map(|v| TenantKey::Int(i64::from(v)))
}

fn decode_message(row: &PgRow) -> Result<Message, sqlx::Error> {
    let id = match row.try_get::<Option<String>, _>(0) {
        Ok(id) => id.unwrap_or_default(),
        Err(_) => match row.try_get::<i64, _>(0) {
            Ok(id) => id.to_string(),
            Err(_) => row.try_get::<i32, _>(0)?.to_string(),
        },
    };
    let text: Option<String> = row.try_get(1)?;
    let created_at = match row.try_get::<DateTime<Utc>, _>(2) {
        Ok(t) => t,
        // `timestamp without time zone` columns are taken as UTC.
        Err(_) => row.try_get::<NaiveDateTime, _>(2)?.and_utc(),
    };
    Ok(Message { id, text: text.unwrap_or_default(), created_at, embedding: None })
}

impl PgSource {
    /// Connects to `url` (checking the queries' names first).
    pub async fn connect(url: &str, config: PgSourceConfig) -> Result<Self, SourceError> {
        let tenants_sql = config.tenants_sql()?;
        let messages_sql = config.messages_sql()?;
        if config.max_connections == 0 {
            return Err(SourceError::Config("postgres.max_connections must be at least 1".into()));
        }
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .connect(url)
            .await
            .map_err(db_error("connecting to the message database"))?;
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
        let mut rows =
            sqlx::query(&self.tenants_sql).bind(window.start).bind(window.end).fetch(&self.pool);
        let mut keys = HashMap::new();
        let mut tenants = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(db_error("listing tenants"))? {
            let key = decode_tenant(&row).map_err(db_error("reading a tenant id"))?;
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
        let query = sqlx::query(&self.messages_sql);
        let query = match key {
            TenantKey::Text(s) => query.bind(s),
            TenantKey::Int(i) => query.bind(i),
        };
        let mut rows = query.bind(window.start).bind(window.end).fetch(&self.pool);
        let mut messages = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(db_error("reading messages"))? {
            let message = decode_message(&row).map_err(db_error("decoding a message row"))?;
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
