//! Message sources for `topics nightly`: where a tenant's inbound messages of a window come from.
//!
//! Two sources exist: the application's own PostgreSQL database ([`postgres::PgSource`], read one
//! tenant at a time with a streaming cursor) and JSONL files ([`jsonl::JsonlSource`], for tests,
//! demos and batch imports). Both answer the same two questions: which tenants have messages in
//! the window, and what are one tenant's messages.

pub mod config;
pub mod jsonl;
pub mod postgres;

use chrono::{DateTime, SecondsFormat, Utc};

/// A half-open time window `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

impl Window {
    /// A window, or an error when `start` is not before `end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, SourceError> {
        if start >= end {
            return Err(SourceError::Window(format!(
                "the window start ({}) must be before its end ({})",
                rfc3339(start),
                rfc3339(end)
            )));
        }
        Ok(Self { start, end })
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {})", rfc3339(self.start), rfc3339(self.end))
    }
}

/// `t` as RFC 3339 with a `Z` suffix and whole seconds unless it has a fraction.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// One inbound message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The application's id for the message (may be empty when the source has none).
    pub id: String,
    /// The message text.
    pub text: String,
    /// When the message was created.
    pub created_at: DateTime<Utc>,
    /// A precomputed embedding (JSONL `"embedding"` field), sent to the server instead of
    /// having it embed the text.
    pub embedding: Option<Vec<f32>>,
}

/// Errors of message sources. Their messages never contain message text.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// An invalid window.
    #[error("invalid window: {0}")]
    Window(String),
    /// The JSONL file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A JSONL line is not a valid message object.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The source configuration is invalid.
    #[error("invalid source configuration: {0}")]
    Config(String),
    /// A database error.
    #[error("database error while {context}: {source}")]
    Database {
        /// What we were doing.
        context: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A source of inbound messages, grouped by tenant.
#[async_trait::async_trait]
pub trait MessageSource: Send + Sync {
    /// A short description for logs (never a password).
    fn describe(&self) -> String;
    /// The tenants with at least one message in the window, sorted.
    async fn tenants(&self, window: &Window) -> Result<Vec<String>, SourceError>;
    /// One tenant's messages in the window, oldest first.
    async fn messages(&self, tenant: &str, window: &Window) -> Result<Vec<Message>, SourceError>;
}

/// Opens the source named by `spec`: a `postgres://` / `postgresql://` URL or a JSONL file path.
pub async fn open(
    spec: &str,
    pg: &config::PgSourceConfig,
) -> Result<Box<dyn MessageSource>, SourceError> {
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        Ok(Box::new(postgres::PgSource::connect(spec, pg.clone()).await?))
    } else {
        let path = spec.strip_prefix("file://").unwrap_or(spec);
        Ok(Box::new(jsonl::JsonlSource::open(std::path::Path::new(path))?))
    }
}
