//! Request validation: every field is checked before any work is done, and every rejection is
//! `INVALID_ARGUMENT` (or `RESOURCE_EXHAUSTED` for a batch over a configured limit) with a message
//! that names the field and says what to send instead.

use chrono::{DateTime, NaiveDate, Utc};
use tonic::Status;
use topic_engine::text::LanguageSetting;
use topic_engine::{FitParams, NrTopics};

pub use crate::lifecycle::vectors::MAX_EMBEDDING_DIM;
pub use crate::lifecycle::Window;
use crate::limits::LimitsConfig;
use crate::proto;
use crate::store::{TenantId, Version};

/// Largest `limit` accepted by GetTopTopics.
pub const MAX_TOP_TOPICS: u32 = 100;
/// Default `limit` of GetTopTopics.
pub const DEFAULT_TOP_TOPICS: u32 = 10;

/// The tenant id of a request.
pub fn tenant(s: &str) -> Result<TenantId, Status> {
    TenantId::parse(s).map_err(|e| Status::invalid_argument(format!("tenant_id: {e}")))
}

/// A model version field.
pub fn version(field: &str, s: &str) -> Result<Version, Status> {
    if s.trim().is_empty() {
        return Err(Status::invalid_argument(format!(
            "{field} is required (a version such as 20250101_093000)"
        )));
    }
    Version::parse(s).map_err(|e| Status::invalid_argument(format!("{field}: {e}")))
}

/// An optional RFC 3339 timestamp.
fn timestamp(field: &str, s: &str) -> Result<Option<DateTime<Utc>>, Status> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(s.trim()).map(|t| Some(t.with_timezone(&Utc))).map_err(|e| {
        Status::invalid_argument(format!(
            "{field}: {s:?} is not an RFC 3339 timestamp ({e}); send e.g. \"2026-11-25T03:00:00Z\""
        ))
    })
}

/// The optional window of a Fit.
pub fn window(w: Option<&proto::Window>) -> Result<Option<Window>, Status> {
    let Some(w) = w else { return Ok(None) };
    let start = timestamp("window.start", &w.start)?;
    let end = timestamp("window.end", &w.end)?;
    match (start, end) {
        (None, None) => Ok(None),
        (Some(start), Some(end)) if start < end => Ok(Some(Window { start, end })),
        (Some(_), Some(_)) => {
            Err(Status::invalid_argument("window.start must be before window.end"))
        }
        _ => {
            Err(Status::invalid_argument("window needs both start and end (RFC 3339), or neither"))
        }
    }
}

/// Checks one text: not blank, within the byte limit.
fn text(field: &str, i: usize, s: &str, limits: &LimitsConfig) -> Result<(), Status> {
    if s.trim().is_empty() {
        return Err(Status::invalid_argument(format!(
            "{field}[{i}] is empty or whitespace; drop it or send real text"
        )));
    }
    if s.len() > limits.max_text_bytes {
        return Err(Status::invalid_argument(format!(
            "{field}[{i}] is {} bytes, over the limit of {} bytes (limits.max_text_bytes); truncate it",
            s.len(),
            limits.max_text_bytes
        )));
    }
    Ok(())
}

/// Validated Fit documents.
#[derive(Debug, Clone)]
pub struct Documents {
    /// Caller ids (may be empty strings).
    pub ids: Vec<String>,
    /// Texts.
    pub texts: Vec<String>,
    /// Per-document day, when every document has `created_at`.
    pub dates: Option<Vec<NaiveDate>>,
}

/// Fit documents: non-empty batch within the limit, non-blank texts within the byte limit,
/// well-formed timestamps.
pub fn documents(docs: Vec<proto::Document>, limits: &LimitsConfig) -> Result<Documents, Status> {
    if docs.is_empty() {
        return Err(Status::invalid_argument(
            "documents is empty; send at least min_topic_size documents",
        ));
    }
    if docs.len() > limits.max_fit_documents {
        return Err(Status::resource_exhausted(format!(
            "{} documents in one Fit, over the limit of {} (limits.max_fit_documents); split the window",
            docs.len(),
            limits.max_fit_documents
        )));
    }
    let mut ids = Vec::with_capacity(docs.len());
    let mut texts = Vec::with_capacity(docs.len());
    let mut dates = Vec::with_capacity(docs.len());
    let mut dated = 0usize;
    for (i, d) in docs.into_iter().enumerate() {
        text("documents.text", i, &d.text, limits)?;
        if let Some(t) = timestamp(&format!("documents[{i}].created_at"), &d.created_at)? {
            dated += 1;
            dates.push(t.date_naive());
        }
        ids.push(d.id);
        texts.push(d.text);
    }
    let dates = match dated {
        0 => None,
        n if n == texts.len() => Some(dates),
        _ => return Err(Status::invalid_argument(
            "created_at is set on some documents but not all; set it on every document or on none",
        )),
    };
    Ok(Documents { ids, texts, dates })
}

/// Transform texts: non-empty batch within the limit, each within the byte limit.
pub fn transform_texts(texts: &[String], limits: &LimitsConfig) -> Result<(), Status> {
    if texts.len() > limits.max_transform_batch {
        return Err(Status::resource_exhausted(format!(
            "{} texts in one Transform, over the limit of {} (limits.max_transform_batch); send smaller batches",
            texts.len(),
            limits.max_transform_batch
        )));
    }
    for (i, t) in texts.iter().enumerate() {
        text("texts", i, t, limits)?;
    }
    Ok(())
}

/// Precomputed embedding rows of a request (checked by the lifecycle, which knows the
/// dimension to expect).
pub fn embedding_rows(rows: Vec<proto::Embedding>) -> Vec<Vec<f32>> {
    rows.into_iter().map(|r| r.values).collect()
}

/// Fit parameters: the server's defaults with the request's overrides, range-checked.
pub fn fit_params(
    defaults: &FitParams,
    p: Option<&proto::FitParams>,
    n_docs: usize,
) -> Result<FitParams, Status> {
    let mut out = defaults.clone();
    if let Some(p) = p {
        if let Some(v) = p.min_topic_size {
            if !(2..=100_000).contains(&v) {
                return Err(Status::invalid_argument(format!(
                    "params.min_topic_size = {v}; expected 2..=100000"
                )));
            }
            out.min_topic_size = v as usize;
        }
        if let Some(v) = &p.nr_topics {
            out.nr_topics = v
                .parse::<NrTopics>()
                .map_err(|e| Status::invalid_argument(format!("params.nr_topics: {e}")))?;
        }
        if let Some(v) = p.top_n_words {
            if !(1..=100).contains(&v) {
                return Err(Status::invalid_argument(format!(
                    "params.top_n_words = {v}; expected 1..=100"
                )));
            }
            out.top_n_words = v as usize;
        }
        if let Some(v) = p.seed {
            out.seed = v;
        }
        if let Some(v) = p.n_neighbors {
            if !(2..=200).contains(&v) {
                return Err(Status::invalid_argument(format!(
                    "params.n_neighbors = {v}; expected 2..=200"
                )));
            }
            out.n_neighbors = v as usize;
        }
        if let Some(v) = &p.language {
            out.text.language = language(v)?;
        }
        if let Some(v) = p.n_components {
            if !(1..=100).contains(&v) {
                return Err(Status::invalid_argument(format!(
                    "params.n_components = {v}; expected 1..=100"
                )));
            }
            out.n_components = v as usize;
        }
        if let Some(v) = &p.outliers {
            out.outliers =
                v.parse().map_err(|e| Status::invalid_argument(format!("params.outliers: {e}")))?;
        }
        if let Some(v) = p.outlier_threshold {
            if !(v.is_finite() && (-1.0..=1.0).contains(&v)) {
                return Err(Status::invalid_argument(format!(
                    "params.outlier_threshold = {v}; expected a cosine in [-1, 1]"
                )));
            }
            out.outlier_threshold = v;
        }
    }
    out.check().map_err(|e| Status::invalid_argument(format!("params: {e}")))?;
    if n_docs < out.min_topic_size {
        return Err(Status::invalid_argument(format!(
            "{n_docs} documents cannot form a topic of min_topic_size {}; send more documents or lower params.min_topic_size",
            out.min_topic_size
        )));
    }
    Ok(out)
}

/// The languages a request may name in `params.language`, besides `auto`.
pub const LANGUAGES: [&str; 7] = ["en", "fr", "de", "es", "it", "pt", "nl"];

/// `params.language`: `auto` or one of [`LANGUAGES`].
fn language(v: &str) -> Result<LanguageSetting, Status> {
    let code = v.trim().to_ascii_lowercase();
    if code == "auto" || LANGUAGES.contains(&code.as_str()) {
        if let Ok(setting) = LanguageSetting::try_from(code) {
            return Ok(setting);
        }
    }
    Err(Status::invalid_argument(format!(
        "params.language = {v:?}; expected \"auto\" or one of {}",
        LANGUAGES.join(", ")
    )))
}

/// GetTopTopics `limit`: 0 = default 10, at most 100.
pub fn top_limit(limit: u32) -> Result<usize, Status> {
    match limit {
        0 => Ok(DEFAULT_TOP_TOPICS as usize),
        l if l <= MAX_TOP_TOPICS => Ok(l as usize),
        l => Err(Status::invalid_argument(format!(
            "limit = {l}; expected 1..={MAX_TOP_TOPICS} (0 = 10)"
        ))),
    }
}

/// Default `limit` of FindTopics and GetTopicChanges (per list).
pub const DEFAULT_DASHBOARD_LIMIT: u32 = 5;
/// Largest `limit` of FindTopics and GetTopicChanges (per list).
pub const MAX_DASHBOARD_LIMIT: u32 = 50;
/// Longest FindTopics query, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;

/// FindTopics and GetTopicChanges `limit`: 0 = default 5, at most 50.
pub fn dashboard_limit(limit: u32) -> Result<usize, Status> {
    match limit {
        0 => Ok(DEFAULT_DASHBOARD_LIMIT as usize),
        l if l <= MAX_DASHBOARD_LIMIT => Ok(l as usize),
        l => Err(Status::invalid_argument(format!(
            "limit = {l}; expected 1..={MAX_DASHBOARD_LIMIT} (0 = {DEFAULT_DASHBOARD_LIMIT})"
        ))),
    }
}

/// A FindTopics query: not blank, at most [`MAX_QUERY_CHARS`] characters. Returned trimmed.
pub fn search_query(query: &str) -> Result<String, Status> {
    let q = query.trim();
    if q.is_empty() {
        return Err(Status::invalid_argument(
            "query is empty; send a phrase to look for, e.g. \"refund for a late order\"",
        ));
    }
    let n = q.chars().count();
    if n > MAX_QUERY_CHARS {
        return Err(Status::invalid_argument(format!(
            "query has {n} characters, over the limit of {MAX_QUERY_CHARS}; send a short phrase"
        )));
    }
    Ok(q.to_string())
}

/// An optional version field (`None` or blank: the active version).
pub fn optional_version(field: &str, v: Option<&str>) -> Result<Option<Version>, Status> {
    match v {
        Some(v) if !v.trim().is_empty() => Ok(Some(version(field, v)?)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    fn doc(text: &str, created: &str) -> proto::Document {
        proto::Document { id: String::new(), text: text.into(), created_at: created.into() }
    }

    #[test]
    fn tenant_rules() {
        assert!(tenant("acme-1").is_ok());
        for bad in ["", "../x", "a/b", "é", &"x".repeat(300)] {
            assert_eq!(tenant(bad).unwrap_err().code(), Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn documents_rules() {
        let l =
            LimitsConfig { max_fit_documents: 3, max_text_bytes: 10, ..LimitsConfig::default() };
        assert_eq!(documents(vec![], &l).unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(
            documents(vec![doc("a", ""); 4], &l).unwrap_err().code(),
            Code::ResourceExhausted
        );
        assert!(documents(vec![doc("  ", "")], &l)
            .unwrap_err()
            .message()
            .contains("documents.text[0]"));
        assert!(documents(vec![doc("0123456789x", "")], &l)
            .unwrap_err()
            .message()
            .contains("max_text_bytes"));
        assert!(documents(vec![doc("a", "yesterday")], &l)
            .unwrap_err()
            .message()
            .contains("RFC 3339"));
        assert!(documents(vec![doc("a", "2026-01-01T00:00:00Z"), doc("b", "")], &l).is_err());
        let ok = documents(
            vec![doc("a", "2026-01-01T10:00:00Z"), doc("b", "2026-01-02T00:00:00+00:00")],
            &l,
        )
        .unwrap();
        assert_eq!(ok.dates.unwrap()[1], NaiveDate::from_ymd_opt(2026, 1, 2).unwrap());
    }

    #[test]
    fn params_and_limits() {
        let d = FitParams::default();
        let p = proto::FitParams { min_topic_size: Some(1), ..Default::default() };
        assert!(fit_params(&d, Some(&p), 100).unwrap_err().message().contains("min_topic_size"));
        let p = proto::FitParams { nr_topics: Some("lots".into()), ..Default::default() };
        assert!(fit_params(&d, Some(&p), 100).unwrap_err().message().contains("nr_topics"));
        for bad in ["klingon", "other", "", "english"] {
            let p = proto::FitParams { language: Some(bad.into()), ..Default::default() };
            let e = fit_params(&d, Some(&p), 100).unwrap_err();
            assert_eq!(e.code(), Code::InvalidArgument);
            assert!(e.message().contains("\"auto\" or one of en, fr, de, es, it, pt, nl"), "{e:?}");
        }
        let p = proto::FitParams { language: Some("FR".into()), ..Default::default() };
        let f = fit_params(&d, Some(&p), 100).unwrap();
        assert_eq!(f.text.language, LanguageSetting::try_from("fr".to_string()).unwrap());
        let p = proto::FitParams { language: Some("auto".into()), ..Default::default() };
        assert_eq!(fit_params(&d, Some(&p), 100).unwrap().text.language, LanguageSetting::Auto);
        let p = proto::FitParams {
            nr_topics: Some("20".into()),
            min_topic_size: Some(5),
            ..Default::default()
        };
        let f = fit_params(&d, Some(&p), 100).unwrap();
        assert_eq!((f.nr_topics, f.min_topic_size), (NrTopics::Fixed(20), 5));
        assert!(fit_params(&d, None, 3).unwrap_err().message().contains("min_topic_size"));
        assert_eq!(top_limit(0).unwrap(), 10);
        assert!(top_limit(101).is_err());
        assert_eq!(dashboard_limit(0).unwrap(), 5);
        assert_eq!(dashboard_limit(50).unwrap(), 50);
        assert!(dashboard_limit(51).unwrap_err().message().contains("1..=50"));
    }

    #[test]
    fn search_query_rules() {
        assert_eq!(search_query("  refund  ").unwrap(), "refund");
        assert!(search_query(" \n ").unwrap_err().message().contains("query is empty"));
        assert!(search_query(&"é".repeat(1001)).unwrap_err().message().contains("1001"));
        assert!(search_query(&"é".repeat(1000)).is_ok());
        assert_eq!(optional_version("version", Some(" ")).unwrap(), None);
        assert!(optional_version("version", Some("yesterday")).is_err());
    }

    #[test]
    fn window_rules() {
        let w = |s: &str, e: &str| proto::Window { start: s.into(), end: e.into() };
        assert_eq!(window(None).unwrap(), None);
        assert!(window(Some(&w("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"))).is_err());
        assert!(window(Some(&w("2026-01-01T00:00:00Z", ""))).is_err());
        let ok = window(Some(&w("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"))).unwrap().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(ok.days(), (d, d));
    }
}
