//! The offline report: one self-contained HTML file (`topics report`).
//!
//! [`ReportData`] mirrors the HTTP API's answers (same field names as the proto3 JSON the live
//! page reads), so one script renders both; 64-bit integers are plain JSON numbers here, which
//! the script reads like the API's strings.

use serde::{Deserialize, Serialize};

use crate::{APP_CSS, APP_JS, INDEX_HTML};

/// What cannot become a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The data did not serialise as JSON.
    #[error("cannot write the report data as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The embedded page lacks a tag the report replaces (a broken build of this crate).
    #[error("the embedded index.html has no {0:?} to inline")]
    Template(&'static str),
}

/// One keyword with its c-TF-IDF weight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Keyword {
    /// The term.
    pub word: String,
    /// Its weight.
    pub weight: f32,
}

/// Messages of a topic on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCount {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Messages that day.
    pub count: u64,
}

/// A topic as the dashboard shows it (the API's `TopTopic`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopTopic {
    /// Stable topic id.
    pub topic_id: i64,
    /// The label shown (an operator's when set).
    pub label: String,
    /// Whether an operator set the label.
    pub label_overridden: bool,
    /// Keywords, best first.
    pub keywords: Vec<Keyword>,
    /// Messages in the topic.
    pub message_count: u64,
    /// Representative messages (masked at fit time).
    pub sample_messages: Vec<String>,
    /// `YYYY-MM-DD`.
    pub first_seen: String,
    /// `YYYY-MM-DD`.
    pub last_seen: String,
    /// 1 = largest.
    pub rank: u32,
    /// Daily counts, ascending by date (may be empty).
    pub trend: Vec<DailyCount>,
}

/// The ranked top topics (the API's `GetTopTopicsResponse`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopTopics {
    /// Model version.
    pub version: String,
    /// When the ranking was computed (RFC 3339).
    pub analysis_date: String,
    /// First day of the documents behind the model.
    pub date_range_start: String,
    /// Last day of the documents behind the model.
    pub date_range_end: String,
    /// The topics, largest first.
    pub topics: Vec<TopTopic>,
}

/// One topic on the map (the API's `TopicPoint`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicPoint {
    /// Stable topic id.
    pub topic_id: i64,
    /// The label shown.
    pub label: String,
    /// Layout coordinates (any scale; the page fits them to its canvas).
    pub x: f64,
    /// Layout coordinates.
    pub y: f64,
    /// Messages in the topic (circle area).
    pub size: u64,
    /// Top keywords.
    pub keywords: Vec<String>,
}

/// The topic map (the API's `GetTopicMapResponse`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicMap {
    /// Model version.
    pub version: String,
    /// One point per active topic.
    pub points: Vec<TopicPoint>,
}

/// A topic's change (the API's `TopicChange`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicChange {
    /// Stable topic id.
    pub topic_id: i64,
    /// The label shown.
    pub label: String,
    /// Messages in the last 7 days of the history window.
    pub recent_count: u64,
    /// Messages in the 7 days before those.
    pub previous_count: u64,
    /// `(recent - previous) / max(previous, 1)`.
    pub relative_change: f64,
}

/// What changed (the API's `GetTopicChangesResponse`, plus a sentence saying what it was
/// compared with).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicChanges {
    /// Model version.
    pub version: String,
    /// The version compared with ("" when none).
    pub previous_version: String,
    /// What the lists compare, shown above them ("" = the page's default sentence).
    pub note: String,
    /// New topics.
    pub new_topics: Vec<TopicChange>,
    /// Retired topics.
    pub retired_topics: Vec<TopicChange>,
    /// Largest relative growth first.
    pub rising: Vec<TopicChange>,
    /// Largest relative drop first.
    pub falling: Vec<TopicChange>,
}

/// A theme: a group of related topics, one cut subtree of the topic tree (the API's
/// `TopicTheme`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicTheme {
    /// The tree node the theme is.
    pub node: u32,
    /// Its name: the first three merged keywords, or the topic's label for a one-topic theme.
    pub name: String,
    /// Its topics, ascending.
    pub topic_ids: Vec<i64>,
    /// Messages in its topics.
    pub size: u64,
}

/// The topic tree's themes (the API's `GetTopicTreeResponse`, without the nodes: the page
/// shows the themes only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicTree {
    /// Model version.
    pub version: String,
    /// The themes, largest first.
    pub themes: Vec<TopicTheme>,
}

/// Everything the offline report shows about one model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    /// The report's title (the tenant, or the model directory's name).
    pub tenant_id: String,
    /// The model's version (or directory name).
    pub version: String,
    /// When the report was written (RFC 3339).
    pub generated_at: String,
    /// Where the model came from (a directory).
    pub source: String,
    /// The embedding model the topics were fitted with.
    pub embedding_model: String,
    /// Active topics.
    pub total_topics: u64,
    /// Documents behind the model.
    pub total_documents: u64,
    /// The ranked top topics with their trends.
    pub top_topics: TopTopics,
    /// New, retired, rising and falling topics.
    pub changes: TopicChanges,
    /// The topic map.
    pub map: TopicMap,
    /// Every active topic, largest first (for the details of topics outside the top list,
    /// and for the report's keyword search); trends may be left empty.
    pub topics: Vec<TopTopic>,
    /// The topics grouped into themes (the topic tree); empty in reports written before it.
    #[serde(default)]
    pub tree: TopicTree,
}

const CSS_TAG: &str = r#"<link rel="stylesheet" href="/ui/app.css">"#;
const JS_TAG: &str = r#"<script src="/ui/app.js"></script>"#;
const TITLE_TAG: &str = "<title>topicd dashboard</title>";

/// The report page: `index.html` with `app.css` and `app.js` inlined and `data` as JSON in
/// `<script type="application/json" id="topicd-report">`. The file loads nothing: it opens
/// from disk, offline.
pub fn report_html(data: &ReportData) -> Result<String, ReportError> {
    let json = script_safe_json(&serde_json::to_string(data)?);
    let mut page = INDEX_HTML.to_string();
    for tag in [CSS_TAG, JS_TAG, TITLE_TAG] {
        if !page.contains(tag) {
            return Err(ReportError::Template(tag));
        }
    }
    page = page.replacen(
        TITLE_TAG,
        &format!("<title>{} \u{2014} topicd report</title>", escape_text(&data.tenant_id)),
        1,
    );
    page = page.replacen(CSS_TAG, &format!("<style>\n{APP_CSS}</style>"), 1);
    page = page.replacen(
        JS_TAG,
        &format!(
            "<script type=\"application/json\" id=\"topicd-report\">{json}</script>\n<script>\n{APP_JS}</script>"
        ),
        1,
    );
    Ok(page)
}

/// JSON that cannot end its `<script>` element early nor open a comment: `<`, `>` and `&`
/// (which occur only inside JSON strings) become `\u003c`, `\u003e`, `\u0026`; U+2028 and U+2029
/// are escaped too. The result is still the same JSON.
fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Text for an HTML element's content.
fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn data() -> ReportData {
        let topic = TopTopic {
            topic_id: 3,
            label: "Refund </script><script>alert(1)</script> & more".into(),
            keywords: vec![Keyword { word: "refund".into(), weight: 0.5 }],
            message_count: 12,
            sample_messages: vec!["where is my refund <b>now</b>\u{2028}?".into()],
            first_seen: "2026-11-16".into(),
            last_seen: "2026-11-18".into(),
            rank: 1,
            trend: vec![DailyCount { date: "2026-11-16".into(), count: 12 }],
            ..Default::default()
        };
        ReportData {
            tenant_id: "acme <&>".into(),
            version: "20261118_030000".into(),
            top_topics: TopTopics { topics: vec![topic.clone()], ..Default::default() },
            map: TopicMap {
                points: vec![TopicPoint {
                    topic_id: 3,
                    label: topic.label.clone(),
                    size: 12,
                    ..Default::default()
                }],
                ..Default::default()
            },
            topics: vec![topic],
            ..Default::default()
        }
    }

    /// The text of the one `<script type="application/json">` element.
    fn inline_json(html: &str) -> &str {
        let open = r#"<script type="application/json" id="topicd-report">"#;
        let start = html.find(open).unwrap() + open.len();
        let len = html[start..].find("</script>").unwrap();
        &html[start..start + len]
    }

    #[test]
    fn the_report_inlines_everything_and_loads_nothing() {
        let html = report_html(&data()).unwrap();
        assert!(html.contains(APP_CSS) && html.contains(APP_JS));
        for external in ["/ui/", "src=\"http", "href=\"http", "<link", "<script src"] {
            assert!(!html.contains(external), "the report references {external}");
        }
        assert!(html.contains("<title>acme &lt;&amp;&gt; \u{2014} topicd report</title>"));
    }

    #[test]
    fn the_inlined_data_is_the_same_json_and_cannot_close_its_script() {
        let d = data();
        let html = report_html(&d).unwrap();
        let json = inline_json(&html);
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('\u{2028}'));
        let back: ReportData = serde_json::from_str(json).unwrap();
        assert_eq!(back, d);
        // Two scripts: the data and the app; the data injected none.
        assert_eq!(html.replace(APP_JS, "").matches("<script").count(), 2);
    }

    #[test]
    fn the_inlined_assets_cannot_end_their_elements_early() {
        assert!(!APP_JS.contains("</script") && !APP_JS.contains("<!--"));
        assert!(!APP_CSS.contains("</style"));
    }
}
