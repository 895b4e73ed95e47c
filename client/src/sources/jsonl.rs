//! JSONL message source: one `{"tenant_id", "text", "created_at"}` object per line.
//!
//! `user_id` is accepted in place of `tenant_id` (the Python job's name for it), ids may be
//! strings or integers, and an optional `id` field becomes the message id (default: the line
//! number), and an optional `embedding` (list of floats) is sent to the server as the
//! message's precomputed embedding. `created_at` is RFC 3339, or `YYYY-MM-DD HH:MM:SS[.fff]` read as UTC. Blank lines are
//! ignored; messages whose text is empty or only whitespace are dropped, as the server would
//! reject them. Any other malformed line is an error naming the file and line.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::{Message, MessageSource, SourceError, Window};

/// Messages of one window, grouped by tenant (each tenant's sorted oldest first).
type Grouped = BTreeMap<String, Vec<Message>>;

/// A JSONL file of messages. The file is read once per window; only the messages inside the
/// window are kept in memory.
#[derive(Debug)]
pub struct JsonlSource {
    path: PathBuf,
    cache: Mutex<Option<(Window, std::sync::Arc<Grouped>)>>,
}

#[derive(Debug, Deserialize)]
struct Line {
    #[serde(default)]
    tenant_id: Option<IdValue>,
    #[serde(default)]
    user_id: Option<IdValue>,
    #[serde(default)]
    id: Option<IdValue>,
    text: Option<String>,
    created_at: Option<String>,
    #[serde(default)]
    embedding: Option<Vec<f32>>,
}

/// A string or integer id.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IdValue {
    Text(String),
    Int(i64),
}

impl IdValue {
    fn into_string(self) -> String {
        match self {
            IdValue::Text(s) => s,
            IdValue::Int(i) => i.to_string(),
        }
    }
}

/// Parses a timestamp: RFC 3339, or a naive `YYYY-MM-DD HH:MM:SS[.f]` / `YYYY-MM-DDTHH:MM:SS[.f]`
/// taken as UTC.
pub fn parse_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(t.and_utc());
        }
    }
    None
}

/// One parsed line: `(tenant, message)`, or `None` for a line to ignore.
fn parse_line(raw: &str, line_no: usize) -> Result<Option<(String, Message)>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let line: Line = serde_json::from_str(raw).map_err(|e| format!("not a JSON object: {e}"))?;
    let tenant = line
        .tenant_id
        .or(line.user_id)
        .map(IdValue::into_string)
        .ok_or_else(|| "missing \"tenant_id\" (or \"user_id\")".to_string())?;
    if tenant.is_empty() {
        return Err("empty \"tenant_id\"".into());
    }
    let text = line.text.ok_or_else(|| "missing \"text\"".to_string())?;
    let raw_time = line.created_at.ok_or_else(|| "missing \"created_at\"".to_string())?;
    let created_at = parse_timestamp(&raw_time).ok_or_else(|| {
        format!("\"created_at\" {raw_time:?} is not RFC 3339 (e.g. 2026-11-25T03:00:00Z)")
    })?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let id = line.id.map(IdValue::into_string).unwrap_or_else(|| line_no.to_string());
    if let Some(embedding) = &line.embedding {
        if embedding.is_empty() || embedding.iter().any(|v| !v.is_finite()) {
            return Err("\"embedding\" must be a non-empty list of finite numbers".into());
        }
    }
    Ok(Some((tenant, Message { id, text, created_at, embedding: line.embedding })))
}

impl JsonlSource {
    /// A source reading `path`; fails when the file cannot be opened.
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        std::fs::File::open(path)
            .map_err(|source| SourceError::Io { path: path.display().to_string(), source })?;
        Ok(Self { path: path.to_path_buf(), cache: Mutex::new(None) })
    }

    /// Reads the file and keeps the messages inside `window`, grouped by tenant.
    pub fn read_window(&self, window: &Window) -> Result<Grouped, SourceError> {
        let path = self.path.display().to_string();
        let file = std::fs::File::open(&self.path)
            .map_err(|source| SourceError::Io { path: path.clone(), source })?;
        let mut grouped = Grouped::new();
        for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line_no = index + 1;
            let line = line.map_err(|source| SourceError::Io { path: path.clone(), source })?;
            let parsed = parse_line(&line, line_no).map_err(|message| SourceError::Parse {
                path: path.clone(),
                line: line_no,
                message,
            })?;
            if let Some((tenant, message)) = parsed {
                if window.contains(message.created_at) {
                    grouped.entry(tenant).or_default().push(message);
                }
            }
        }
        for messages in grouped.values_mut() {
            // Stable: equal timestamps keep file order.
            messages.sort_by_key(|m| m.created_at);
        }
        Ok(grouped)
    }

    fn grouped(&self, window: &Window) -> Result<std::sync::Arc<Grouped>, SourceError> {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((cached_window, grouped)) = cache.as_ref() {
            if cached_window == window {
                return Ok(grouped.clone());
            }
        }
        let grouped = std::sync::Arc::new(self.read_window(window)?);
        *cache = Some((*window, grouped.clone()));
        Ok(grouped)
    }
}

#[async_trait::async_trait]
impl MessageSource for JsonlSource {
    fn describe(&self) -> String {
        format!("jsonl:{}", self.path.display())
    }

    async fn tenants(&self, window: &Window) -> Result<Vec<String>, SourceError> {
        Ok(self.grouped(window)?.keys().cloned().collect())
    }

    async fn messages(&self, tenant: &str, window: &Window) -> Result<Vec<Message>, SourceError> {
        Ok(self.grouped(window)?.get(tenant).cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::io::Write;

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn write(lines: &[&str]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
        file
    }

    #[test]
    fn parses_tenant_and_user_id_and_filters_by_window() {
        let file = write(&[
            r#"{"tenant_id":"acme","text":"where is my card","created_at":"2026-11-24T10:00:00Z"}"#,
            "",
            r#"{"user_id":42,"text":"book a flight","created_at":"2026-11-24 11:30:00","id":7,"embedding":[0.5,-1]}"#,
            // Outside the window: before the start and exactly at the (exclusive) end.
            r#"{"tenant_id":"acme","text":"old","created_at":"2026-11-23T23:59:59Z"}"#,
            r#"{"tenant_id":"acme","text":"at end","created_at":"2026-11-25T00:00:00Z"}"#,
            // Offsets are converted to UTC: 01:00+02:00 is 23:00Z the day before the window.
            r#"{"tenant_id":"acme","text":"tz","created_at":"2026-11-24T01:00:00+02:00"}"#,
            r#"{"tenant_id":"acme","text":"   ","created_at":"2026-11-24T12:00:00Z"}"#,
            r#"{"tenant_id":"acme","text":"earlier","created_at":"2026-11-24T09:00:00Z"}"#,
        ]);
        let source = JsonlSource::open(file.path()).unwrap();
        let window = Window::new(t(24, 0), t(25, 0)).unwrap();
        let grouped = source.read_window(&window).unwrap();
        assert_eq!(grouped.keys().collect::<Vec<_>>(), vec!["42", "acme"]);
        let acme: Vec<_> = grouped["acme"].iter().map(|m| m.text.as_str()).collect();
        assert_eq!(acme, vec!["earlier", "where is my card"]);
        assert_eq!(grouped["acme"][1].id, "1", "the line number is the default id");
        assert_eq!(grouped["42"][0].id, "7");
        assert_eq!(grouped["42"][0].embedding, Some(vec![0.5, -1.0]));
        assert_eq!(grouped["acme"][0].embedding, None);
        assert_eq!(
            grouped["42"][0].created_at,
            Utc.with_ymd_and_hms(2026, 11, 24, 11, 30, 0).unwrap()
        );
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let cases = [
            (r#"{"text":"x","created_at":"2026-11-24T10:00:00Z"}"#, "tenant_id"),
            (r#"{"tenant_id":"a","created_at":"2026-11-24T10:00:00Z"}"#, "text"),
            (r#"{"tenant_id":"a","text":"x"}"#, "created_at"),
            (r#"{"tenant_id":"a","text":"x","created_at":"yesterday"}"#, "RFC 3339"),
            (
                r#"{"tenant_id":"a","text":"x","created_at":"2026-11-24T10:00:00Z","embedding":[]}"#,
                "embedding",
            ),
            ("not json", "JSON"),
        ];
        for (line, needle) in cases {
            let file = write(&[
                r#"{"tenant_id":"a","text":"ok","created_at":"2026-11-24T10:00:00Z"}"#,
                line,
            ]);
            let source = JsonlSource::open(file.path()).unwrap();
            let window = Window::new(t(24, 0), t(25, 0)).unwrap();
            let err = source.read_window(&window).unwrap_err().to_string();
            assert!(err.contains(":2:"), "{err}");
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = JsonlSource::open(Path::new("/nonexistent/messages.jsonl")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/messages.jsonl"));
    }

    #[test]
    fn empty_window_is_rejected() {
        assert!(Window::new(t(24, 0), t(24, 0)).is_err());
        assert!(Window::new(t(25, 0), t(24, 0)).is_err());
    }

    #[tokio::test]
    async fn trait_methods_share_one_read_per_window() {
        let file = write(&[
            r#"{"tenant_id":"b","text":"one","created_at":"2026-11-24T10:00:00Z"}"#,
            r#"{"tenant_id":"a","text":"two","created_at":"2026-11-24T11:00:00Z"}"#,
        ]);
        let source = JsonlSource::open(file.path()).unwrap();
        let window = Window::new(t(24, 0), t(25, 0)).unwrap();
        assert_eq!(source.tenants(&window).await.unwrap(), vec!["a", "b"]);
        assert_eq!(source.messages("b", &window).await.unwrap().len(), 1);
        assert!(source.messages("zzz", &window).await.unwrap().is_empty());
        let other = Window::new(t(25, 0), t(26, 0)).unwrap();
        assert!(source.tenants(&other).await.unwrap().is_empty());
    }
}
