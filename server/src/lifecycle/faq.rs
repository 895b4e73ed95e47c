//! The tenant's FAQ (issue 29): one entry per active topic of the active model with its
//! canonical question, representative examples (masked at Fit), message counts and, when the
//! knowledge-base feature has matched one, the help-centre article answering it. Ranked by
//! message count ([`topic_engine::faq::faq_entries`], the engine's one rule); outliers and
//! small talk never appear. It reads the active version, so it follows a rollback, and it
//! lives in the model files, so it survives a restart.
//!
//! [`render`] writes the same FAQ as Markdown or CSV for the HTTP route and the `topics faq`
//! command (one implementation for both).

use topic_engine::faq::faq_entries;

use super::error::{Error, Result};
use super::Lifecycle;
use crate::store::{TenantId, Version};

/// How an FAQ is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaqFormat {
    /// Structured entries only.
    #[default]
    Json,
    /// Entries and a Markdown document.
    Markdown,
    /// Entries and CSV (one row per entry).
    Csv,
}

impl FaqFormat {
    /// `""`/`"json"`, `"markdown"`/`"md"` or `"csv"` (case-insensitive); anything else is
    /// `InvalidArgument`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "json" => Ok(FaqFormat::Json),
            "markdown" | "md" => Ok(FaqFormat::Markdown),
            "csv" => Ok(FaqFormat::Csv),
            other => Err(Error::invalid_argument(format!(
                "format {other:?} is not one of json, markdown, csv"
            ))),
        }
    }

    /// The format's name as the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            FaqFormat::Json => "json",
            FaqFormat::Markdown => "markdown",
            FaqFormat::Csv => "csv",
        }
    }
}

/// The help-centre article that answers an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqArticle {
    /// The tenant's article id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its URL, when it has one.
    pub url: Option<String>,
    /// Cosine between the entry's question and the article.
    pub score: f64,
}

/// One FAQ entry.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqEntry {
    /// The topic.
    pub topic_id: i64,
    /// Its label as shown everywhere.
    pub label: String,
    /// The canonical question.
    pub question: String,
    /// Representative customer messages, masked.
    pub examples: Vec<String>,
    /// Messages of the topic over the model's history.
    pub message_count: u64,
    /// Messages in the last 7 days of the model's window.
    pub last_7_days: u64,
    /// Messages in the 7 days before those.
    pub previous_7_days: u64,
    /// Language code of the question, when known.
    pub language: Option<String>,
    /// The article answering it (`None`: none known, a gap).
    pub article: Option<FaqArticle>,
}

/// A tenant's FAQ.
#[derive(Debug, Clone, PartialEq)]
pub struct Faq {
    /// The tenant.
    pub tenant: TenantId,
    /// The active version it comes from.
    pub version: Version,
    /// By message count, largest first.
    pub entries: Vec<FaqEntry>,
}

impl Lifecycle {
    /// The FAQ of `tenant`'s active model; `NotFound` without one.
    pub async fn faq(&self, tenant: &TenantId) -> Result<Faq> {
        let rec = self.active_record(tenant).await?;
        let model = self.load(&rec).await?;
        let mut entries: Vec<FaqEntry> = faq_entries(&model)
            .into_iter()
            .map(|e| FaqEntry {
                topic_id: e.topic_id,
                label: e.label,
                question: e.question,
                examples: e.examples,
                message_count: e.message_count,
                last_7_days: e.last_7_days,
                previous_7_days: e.previous_7_days,
                language: e.language,
                article: None,
            })
            .collect();
        // Knowledge base: the article answering each entry (lifecycle::kb).
        self.fill_articles(tenant, &model, &mut entries).await?;
        Ok(Faq { tenant: tenant.clone(), version: rec.version, entries })
    }
}

/// `faq` as a document in `format` (`""` for [`FaqFormat::Json`]: the entries are the answer).
pub fn render(faq: &Faq, format: FaqFormat) -> String {
    match format {
        FaqFormat::Json => String::new(),
        FaqFormat::Markdown => markdown(faq),
        FaqFormat::Csv => csv(faq),
    }
}

/// Markdown-escapes text written by customers or operators (it is data, not markup).
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~') {
            out.push('\\');
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

fn markdown(faq: &Faq) -> String {
    let mut out = format!(
        "# FAQ of {}\n\nModel version {} · {} questions, most asked first.\n",
        md(faq.tenant.as_ref()),
        faq.version,
        faq.entries.len()
    );
    for (i, e) in faq.entries.iter().enumerate() {
        out.push_str(&format!("\n## {}. {}\n\n", i + 1, md(&e.question)));
        out.push_str(&format!(
            "Topic {} · {} · {} messages ({} in the last 7 days, {} in the 7 days before)\n",
            e.topic_id,
            md(&e.label),
            e.message_count,
            e.last_7_days,
            e.previous_7_days
        ));
        if let Some(a) = &e.article {
            let title = md(&a.title);
            match &a.url {
                Some(url) => out.push_str(&format!(
                    "\nAnswered by: [{title}](<{}>) (score {:.2})\n",
                    url.replace(['<', '>', '\n'], ""),
                    a.score
                )),
                None => out.push_str(&format!("\nAnswered by: {title} (score {:.2})\n", a.score)),
            }
        }
        if !e.examples.is_empty() {
            out.push_str("\nAsked as:\n\n");
            for x in &e.examples {
                out.push_str(&format!("- {}\n", md(x)));
            }
        }
    }
    out
}

/// One CSV field: quoted when needed (RFC 4180), and a leading `=`, `+`, `-` or `@` defused so
/// a spreadsheet does not read customer text as a formula.
fn field(text: &str) -> String {
    let mut t = text.replace(['\r', '\n'], " ");
    if t.starts_with(['=', '+', '-', '@']) {
        t.insert(0, '\'');
    }
    if t.contains([',', '"']) || t.starts_with(' ') || t.ends_with(' ') {
        format!("\"{}\"", t.replace('"', "\"\""))
    } else {
        t
    }
}

fn csv(faq: &Faq) -> String {
    let mut out = String::from(
        "rank,topic_id,question,label,message_count,last_7_days,previous_7_days,language,article_id,article_title,article_url,article_score,examples\n",
    );
    for (i, e) in faq.entries.iter().enumerate() {
        let a = e.article.as_ref();
        let row = [
            (i + 1).to_string(),
            e.topic_id.to_string(),
            field(&e.question),
            field(&e.label),
            e.message_count.to_string(),
            e.last_7_days.to_string(),
            e.previous_7_days.to_string(),
            field(e.language.as_deref().unwrap_or("")),
            field(a.map_or("", |a| a.id.as_str())),
            field(a.map_or("", |a| a.title.as_str())),
            field(a.and_then(|a| a.url.as_deref()).unwrap_or("")),
            a.map_or(String::new(), |a| format!("{:.4}", a.score)),
            field(&e.examples.join(" | ")),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn faq() -> Faq {
        Faq {
            tenant: TenantId::parse("acme").unwrap(),
            version: "20260102_030405".parse().unwrap(),
            entries: vec![FaqEntry {
                topic_id: 3,
                label: "Card *delivery*".into(),
                question: "Where is my card?".into(),
                examples: vec!["where is my card, [email]".into(), "=cmd|' /C calc'!A0".into()],
                message_count: 12,
                last_7_days: 5,
                previous_7_days: 2,
                language: Some("en".into()),
                article: Some(FaqArticle {
                    id: "a1".into(),
                    title: "Card delivery".into(),
                    url: Some("https://help.example.com/cards".into()),
                    score: 0.8123,
                }),
            }],
        }
    }

    #[test]
    fn formats_parse_and_bad_ones_are_invalid() {
        assert_eq!(FaqFormat::parse("").unwrap(), FaqFormat::Json);
        assert_eq!(FaqFormat::parse("Markdown").unwrap(), FaqFormat::Markdown);
        assert_eq!(FaqFormat::parse("csv").unwrap(), FaqFormat::Csv);
        let e = FaqFormat::parse("xml").unwrap_err();
        assert_eq!(e.kind(), super::super::ErrorKind::InvalidArgument);
        assert!(e.message().contains("json, markdown, csv"), "{}", e.message());
    }

    #[test]
    fn markdown_escapes_and_csv_quotes() {
        let f = faq();
        let m = render(&f, FaqFormat::Markdown);
        assert!(m.starts_with("# FAQ of acme\n"), "{m}");
        assert!(m.contains("## 1. Where is my card?\n"), "{m}");
        assert!(m.contains("Card \\*delivery\\*"), "{m}");
        assert!(m.contains("- where is my card, \\[email\\]\n"), "{m}");
        assert!(
            m.contains("[Card delivery](<https://help.example.com/cards>) (score 0.81)"),
            "{m}"
        );
        let c = render(&f, FaqFormat::Csv);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].starts_with("1,3,Where is my card?,Card *delivery*,12,5,2,en,a1,"), "{c}");
        assert!(lines[1].ends_with("\"where is my card, [email] | =cmd|' /C calc'!A0\""), "{c}");
        assert_eq!(render(&f, FaqFormat::Json), "");
    }
}
