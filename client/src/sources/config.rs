//! Configuration of the PostgreSQL message source: table and column names, or whole queries.
//!
//! Read from the `[postgres]` table of the TOML file given to `--config`, then overridden by the
//! `--pg-*` flags. Every application names its tables differently, so nothing is hard-coded
//! beyond the defaults below.
//!
//! ```toml
//! [postgres]
//! table = "conversation_messages"
//! tenant_column = "tenant_id"   # e.g. "user_id"
//! id_column = "id"
//! text_column = "text"
//! created_at_column = "created_at"
//! direction_column = "direction" # "" to read every row
//! inbound_value = "inbound"
//! # Or whole queries ($1 = window start, $2 = window end; messages: $1 = tenant, $2, $3 = window)
//! # tenants_query = "SELECT DISTINCT tenant_id FROM ..."
//! # messages_query = "SELECT id, text, created_at FROM ... WHERE tenant_id = $1 AND ..."
//! ```

use serde::Deserialize;

use super::SourceError;

/// Where a tenant's inbound messages are in the application's PostgreSQL database.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PgSourceConfig {
    /// Table of messages (optionally `schema.table`). Default `conversation_messages`.
    pub table: String,
    /// Column holding the tenant (user) id. Default `tenant_id`.
    pub tenant_column: String,
    /// Column holding the message id. Default `id`.
    pub id_column: String,
    /// Column holding the message text. Default `text`.
    pub text_column: String,
    /// Column holding the creation time (`timestamptz` or `timestamp` in UTC). Default `created_at`.
    pub created_at_column: String,
    /// Column holding the direction; empty reads every row. Default `direction`.
    pub direction_column: String,
    /// Value of `direction_column` for inbound messages. Default `inbound`.
    pub inbound_value: String,
    /// Full tenants query replacing the generated one: one column (text or integer),
    /// `$1` = window start, `$2` = window end (timestamptz).
    pub tenants_query: Option<String>,
    /// Full messages query replacing the generated one: columns `(id, text, created_at)` in that
    /// order, `$1` = tenant (as returned by the tenants query), `$2`/`$3` = window start/end.
    pub messages_query: Option<String>,
    /// Largest number of pooled connections. Default 4.
    pub max_connections: u32,
}

impl Default for PgSourceConfig {
    fn default() -> Self {
        Self {
            table: "conversation_messages".into(),
            tenant_column: "tenant_id".into(),
            id_column: "id".into(),
            text_column: "text".into(),
            created_at_column: "created_at".into(),
            direction_column: "direction".into(),
            inbound_value: "inbound".into(),
            tenants_query: None,
            messages_query: None,
            max_connections: 4,
        }
    }
}

/// The client's TOML configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// The PostgreSQL source.
    pub postgres: PgSourceConfig,
}

impl ClientConfig {
    /// Parses a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Self, SourceError> {
        toml::from_str(text).map_err(|e| SourceError::Config(e.to_string()))
    }

    /// Reads and parses a TOML configuration file.
    pub fn load(path: &std::path::Path) -> Result<Self, SourceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SourceError::Io { path: path.display().to_string(), source })?;
        Self::from_toml(&text).map_err(|e| SourceError::Config(format!("{}: {e}", path.display())))
    }
}

/// Quotes an SQL identifier (`name` or `schema.name`), rejecting anything but letters, digits
/// and `_` so a configured name can never inject SQL.
pub fn quote_identifier(name: &str) -> Result<String, SourceError> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.is_empty() || parts.len() > 2 {
        return Err(SourceError::Config(format!("invalid SQL name {name:?}")));
    }
    let mut quoted = Vec::with_capacity(parts.len());
    for part in parts {
        let mut chars = part.chars();
        let valid_start = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !valid_start || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(SourceError::Config(format!(
                "invalid SQL name {name:?}: use letters, digits and _ (optionally schema.table)"
            )));
        }
        quoted.push(format!("\"{part}\""));
    }
    Ok(quoted.join("."))
}

/// An SQL string literal (single quotes doubled).
fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

impl PgSourceConfig {
    /// The `AND direction = 'inbound'` filter, or nothing when no direction column is set.
    fn direction_filter(&self) -> Result<String, SourceError> {
        if self.direction_column.is_empty() {
            return Ok(String::new());
        }
        Ok(format!(
            " AND {} = {}",
            quote_identifier(&self.direction_column)?,
            quote_literal(&self.inbound_value)
        ))
    }

    /// The tenants query: configured, or generated from the table and column names.
    pub fn tenants_sql(&self) -> Result<String, SourceError> {
        if let Some(query) = &self.tenants_query {
            return Ok(query.clone());
        }
        let created = quote_identifier(&self.created_at_column)?;
        Ok(format!(
            "SELECT DISTINCT {tenant} FROM {table} WHERE {created} >= $1 AND {created} < $2{direction} \
             ORDER BY 1",
            tenant = quote_identifier(&self.tenant_column)?,
            table = quote_identifier(&self.table)?,
            direction = self.direction_filter()?,
        ))
    }

    /// The messages query: configured, or generated from the table and column names.
    pub fn messages_sql(&self) -> Result<String, SourceError> {
        if let Some(query) = &self.messages_query {
            return Ok(query.clone());
        }
        let id = quote_identifier(&self.id_column)?;
        let created = quote_identifier(&self.created_at_column)?;
        Ok(format!(
            "SELECT CAST({id} AS TEXT), {text}, {created} FROM {table} \
             WHERE {tenant} = $1 AND {created} >= $2 AND {created} < $3{direction} \
             ORDER BY {created}, {id}",
            text = quote_identifier(&self.text_column)?,
            table = quote_identifier(&self.table)?,
            tenant = quote_identifier(&self.tenant_column)?,
            direction = self.direction_filter()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_queries_match_the_python_job() {
        let config = PgSourceConfig::default();
        assert_eq!(
            config.tenants_sql().unwrap(),
            "SELECT DISTINCT \"tenant_id\" FROM \"conversation_messages\" WHERE \"created_at\" >= $1 \
             AND \"created_at\" < $2 AND \"direction\" = 'inbound' ORDER BY 1"
        );
        let messages = config.messages_sql().unwrap();
        assert!(messages.starts_with("SELECT CAST(\"id\" AS TEXT), \"text\", \"created_at\" FROM"));
        assert!(messages.contains("\"tenant_id\" = $1"));
    }

    #[test]
    fn toml_overrides_names_and_queries() {
        let config = ClientConfig::from_toml(
            "[postgres]\ntable = \"app.messages\"\ntenant_column = \"user_id\"\n\
             direction_column = \"\"\nmessages_query = \"SELECT 1\"\n",
        )
        .unwrap();
        let pg = &config.postgres;
        assert_eq!(pg.tenants_sql().unwrap(),
            "SELECT DISTINCT \"user_id\" FROM \"app\".\"messages\" WHERE \"created_at\" >= $1 AND \"created_at\" < $2 ORDER BY 1");
        assert_eq!(pg.messages_sql().unwrap(), "SELECT 1");
        assert_eq!(pg.text_column, "text", "unset keys keep their defaults");
    }

    #[test]
    fn unknown_keys_and_bad_names_are_rejected() {
        assert!(ClientConfig::from_toml("[postgres]\ntabel = \"x\"\n").is_err());
        for bad in ["", "a;drop table x", "a.b.c", "1abc", "na\"me"] {
            let config = PgSourceConfig { table: bad.into(), ..Default::default() };
            assert!(config.tenants_sql().is_err(), "{bad:?} should be rejected");
        }
        let config = PgSourceConfig { inbound_value: "it's".into(), ..Default::default() };
        assert!(config.tenants_sql().unwrap().contains("'it''s'"));
    }
}
