//! Knowledge gaps (issue 29): a tenant's help-centre articles, and which FAQ entries they answer.
//!
//! - SetArticles ([`Lifecycle::set_articles`]) replaces the tenant's articles as a set. Each is
//!   checked ([`validate_articles`], limits below), embedded with the server's embedding
//!   provider (title, then summary: [`embedding_text`]) and stored with its vector and the
//!   provider's model name in the metadata store (`kb_articles`), so they survive a restart and
//!   go with the tenant (DeleteTenant).
//! - ListArticles ([`Lifecycle::list_articles`]) reads them back.
//! - Coverage ([`Lifecycle::article_coverage`]): an FAQ entry is *covered* by its best article
//!   (largest cosine, [`topic_engine::coverage::best_articles`]) when the cosine is at least
//!   `[faq] article_threshold` ([`DEFAULT_ARTICLE_THRESHOLD`]); otherwise it is a *gap*. An
//!   entry is represented by its topic's embedding: on CLINC150 and Banking77 that separates
//!   covered from gaps as well as or better than the embedding of one representative
//!   question, and needs no provider call when the FAQ is read (benches/RESULTS.md, "FAQ
//!   knowledge gaps"). When the stored vectors come from another model than the server's
//!   provider (the provider was changed), the articles are re-embedded once and stored again.
//! - Gaps rank by messages in the last 7 days, then by trend ([`gap_order`]).

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use topic_engine::coverage::{best_articles, covered};
use topic_engine::{Matrix, TopicModel, OUTLIER_TOPIC};

use super::error::{Error, Result};
use super::faq::{Faq, FaqArticle, FaqEntry};
use super::Lifecycle;
use crate::store::{StoredArticle, TenantId};

/// Default `[faq] article_threshold`: the cosine between an entry's topic and an article at or
/// above which the article answers the entry. Chosen by the threshold sweep in
/// benches/faq_gaps.sh (CLINC150 and Banking77, all-MiniLM-L6-v2; benches/RESULTS.md).
pub const DEFAULT_ARTICLE_THRESHOLD: f32 = 0.68;

/// Most articles one tenant may register.
pub const MAX_ARTICLES: usize = 2_000;
/// Longest article id, in characters.
pub const MAX_ARTICLE_ID_CHARS: usize = 128;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest URL, in characters.
pub const MAX_URL_CHARS: usize = 2_048;
/// Longest summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2_000;

/// An article as a caller sends it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Article {
    /// The tenant's id for it: 1..=[`MAX_ARTICLE_ID_CHARS`] characters, unique in the set.
    pub id: String,
    /// 1..=[`MAX_TITLE_CHARS`] characters, one line.
    pub title: String,
    /// `http://` or `https://`, at most [`MAX_URL_CHARS`] characters; empty: none.
    pub url: Option<String>,
    /// At most [`MAX_SUMMARY_CHARS`] characters; empty: none.
    pub summary: Option<String>,
}

/// A tenant's articles as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Articles {
    /// In the order they were sent.
    pub articles: Vec<StoredArticle>,
    /// The model that embedded them; `None` when they have no embeddings (no provider).
    pub embedding_model: Option<String>,
    /// When the set was written (`None`: the tenant has no articles).
    pub updated_at: Option<DateTime<Utc>>,
}

/// The article that answers one topic's FAQ entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CoveringArticle {
    /// Article id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its URL, when it has one.
    pub url: Option<String>,
    /// Cosine between the topic and the article (at least the threshold).
    pub score: f64,
}

/// Coverage of the active model's topics by the tenant's articles.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Coverage {
    /// The threshold used.
    pub threshold: f32,
    /// Articles compared (0: every topic is a gap).
    pub articles: usize,
    /// `(topic id, covering article)` for every active topic, by topic id; `None`: a gap.
    pub topics: Vec<(i64, Option<CoveringArticle>)>,
}

impl Coverage {
    /// The article covering `topic_id`, `None` for a gap or a topic not in the model.
    pub fn article_of(&self, topic_id: i64) -> Option<&CoveringArticle> {
        self.topics
            .binary_search_by_key(&topic_id, |(id, _)| *id)
            .ok()
            .and_then(|i| self.topics[i].1.as_ref())
    }
}

fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars().any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\t' | '\r')))
}

/// Checks one text field; `None` when empty and optional.
fn field(
    i: usize,
    name: &str,
    value: &str,
    max: usize,
    required: bool,
    multiline: bool,
) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        if required {
            return Err(Error::invalid_argument(format!(
                "articles[{i}].{name} is missing or empty; every article needs an id and a title"
            )));
        }
        return Ok(None);
    }
    let n = v.chars().count();
    if n > max {
        return Err(Error::invalid_argument(format!(
            "articles[{i}].{name} is {n} characters long; at most {max}"
        )));
    }
    if has_control(v, multiline) {
        return Err(Error::invalid_argument(format!(
            "articles[{i}].{name} contains control characters{}",
            if multiline { " (only newlines and tabs are allowed)" } else { "; use one line" }
        )));
    }
    Ok(Some(v.to_string()))
}

/// Checks and tidies a set of articles: at most [`MAX_ARTICLES`]; ids and titles present,
/// trimmed, within their limits, one line, no control characters; ids unique; URLs `http(s)`
/// without spaces; summaries within [`MAX_SUMMARY_CHARS`] (newlines allowed). Messages name
/// the field (`articles[3].title`).
pub fn validate_articles(articles: Vec<Article>) -> Result<Vec<Article>> {
    if articles.len() > MAX_ARTICLES {
        return Err(Error::invalid_argument(format!(
            "{} articles; at most {MAX_ARTICLES} per tenant",
            articles.len()
        )));
    }
    let mut seen = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(articles.len());
    for (i, a) in articles.into_iter().enumerate() {
        let id = field(i, "id", &a.id, MAX_ARTICLE_ID_CHARS, true, false)?.unwrap_or_default();
        let title = field(i, "title", &a.title, MAX_TITLE_CHARS, true, false)?.unwrap_or_default();
        let url = match a.url.as_deref() {
            Some(u) => field(i, "url", u, MAX_URL_CHARS, false, false)?,
            None => None,
        };
        if let Some(u) = &url {
            let lower = u.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://"))
                || u.chars().any(char::is_whitespace)
            {
                return Err(Error::invalid_argument(format!(
                    "articles[{i}].url {u:?} is not an http:// or https:// URL"
                )));
            }
        }
        let summary = match a.summary.as_deref() {
            Some(s) => field(i, "summary", s, MAX_SUMMARY_CHARS, false, true)?,
            None => None,
        };
        if let Some(first) = seen.insert(id.clone(), i) {
            return Err(Error::invalid_argument(format!(
                "articles[{i}].id {id:?} is also the id of articles[{first}]; ids must be unique"
            )));
        }
        out.push(Article { id, title, url, summary });
    }
    Ok(out)
}

/// The text embedded for an article: its title, then its summary when it has one.
pub fn embedding_text(title: &str, summary: Option<&str>) -> String {
    match summary {
        Some(s) => format!("{title}. {s}"),
        None => title.to_string(),
    }
}

/// The order of gaps: most messages in the last 7 days first, then the largest rise over the
/// 7 days before, then the topic id. Arguments are `(last_7_days, previous_7_days, topic_id)`.
pub fn gap_order(a: (u64, u64, i64), b: (u64, u64, i64)) -> Ordering {
    let trend = |(last, previous, _): (u64, u64, i64)| i128::from(last) - i128::from(previous);
    b.0.cmp(&a.0).then_with(|| trend(b).cmp(&trend(a))).then_with(|| a.2.cmp(&b.2))
}

/// The topics an FAQ may show, as `(topic id, embedding)` by id: `model`'s active topics,
/// never outliers or small talk.
pub fn faq_topics(model: &TopicModel) -> Vec<(i64, &[f32])> {
    let mut topics: Vec<(i64, &[f32])> = model
        .active_topics()
        .filter(|t| t.id > OUTLIER_TOPIC)
        .map(|t| (t.id, t.embedding.as_slice()))
        .collect();
    topics.sort_by_key(|(id, _)| *id);
    topics
}

/// Coverage of `topics` (`(id, embedding)`, by id) by articles whose embeddings are the rows
/// of `vectors` (`articles[i]` is row `i`).
pub fn topic_coverage(
    topics: &[(i64, &[f32])],
    articles: &[StoredArticle],
    vectors: &Matrix,
    threshold: f32,
) -> Result<Coverage> {
    let rows: Vec<&[f32]> = topics.iter().map(|(_, e)| *e).collect();
    let queries =
        if rows.is_empty() { Matrix::zeros(0, vectors.cols()) } else { Matrix::from_rows(&rows)? };
    let best = best_articles(&queries, vectors)?;
    Ok(Coverage {
        threshold,
        articles: articles.len(),
        topics: topics
            .iter()
            .zip(best)
            .map(|((id, _), m)| {
                let hit =
                    covered(m, threshold).and_then(|m| articles.get(m.article).map(|a| (a, m)));
                let article = hit.map(|(a, m)| CoveringArticle {
                    id: a.id.clone(),
                    title: a.title.clone(),
                    url: a.url.clone(),
                    score: f64::from(m.score),
                });
                (*id, article)
            })
            .collect(),
    })
}

impl Lifecycle {
    /// Replaces `tenant`'s articles with `articles` (checked by [`validate_articles`]; an empty
    /// list removes them), embedded by the server's provider when it has one. `NotFound` for a
    /// tenant without an active model.
    pub async fn set_articles(
        &self,
        tenant: &TenantId,
        articles: Vec<Article>,
    ) -> Result<Articles> {
        let articles = validate_articles(articles)?;
        let _state = self.locks.lock_state(tenant).await?;
        self.active_record(tenant).await?;
        let stored = self.embed_articles(articles).await?;
        let now = Utc::now();
        self.meta.replace_articles(tenant, &stored, now).await?;
        let embedding_model = stored.first().and_then(|a| a.embedding_model.clone());
        tracing::info!(tenant = %tenant, articles = stored.len(),
            embedded = embedding_model.is_some(), "articles set");
        let updated_at = (!stored.is_empty()).then_some(now);
        Ok(Articles { articles: stored, embedding_model, updated_at })
    }

    /// `tenant`'s articles as stored. `NotFound` for a tenant with neither an active model nor
    /// articles.
    pub async fn list_articles(&self, tenant: &TenantId) -> Result<Articles> {
        let rows = self.meta.articles(tenant).await?;
        if rows.articles.is_empty() {
            self.active_record(tenant).await?;
        }
        let embedding_model = rows.articles.first().and_then(|a| a.embedding_model.clone());
        Ok(Articles { articles: rows.articles, embedding_model, updated_at: rows.updated_at })
    }

    /// Which of `model`'s topics `tenant`'s articles cover, at `[faq] article_threshold`.
    /// Without articles every topic is a gap. `FailedPrecondition` when the articles have no
    /// embeddings and the server has no provider to make them, or when the provider's vectors
    /// are not in the model's dimension.
    pub async fn article_coverage(
        &self,
        tenant: &TenantId,
        model: &TopicModel,
    ) -> Result<Coverage> {
        let threshold = self.settings.article_threshold;
        let rows = self.meta.articles(tenant).await?;
        if rows.articles.is_empty() {
            return topic_coverage(
                &faq_topics(model),
                &[],
                &Matrix::zeros(0, model.dim),
                threshold,
            );
        }
        let articles = self.current_embeddings(tenant, rows.articles).await?;
        let vectors: Vec<&[f32]> =
            articles.iter().map(|a| a.embedding.as_deref().unwrap_or_default()).collect();
        let matrix = Matrix::from_rows(&vectors)?;
        if matrix.cols() != model.dim {
            return Err(Error::failed_precondition(format!(
                "tenant {tenant}'s articles are {}-d embeddings ({}) but its active model uses {}-d ({}); \
                 configure the provider the model was made with",
                matrix.cols(),
                articles.first().and_then(|a| a.embedding_model.as_deref()).unwrap_or("?"),
                model.dim,
                model.embedding_model
            )));
        }
        topic_coverage(&faq_topics(model), &articles, &matrix, threshold)
    }

    /// Sets each FAQ entry's `article` to the article covering its topic (`None`: a gap), by
    /// [`Lifecycle::article_coverage`]. Without articles nothing is read beyond one query.
    pub(super) async fn fill_articles(
        &self,
        tenant: &TenantId,
        model: &TopicModel,
        entries: &mut [FaqEntry],
    ) -> Result<()> {
        let coverage = self.article_coverage(tenant, model).await?;
        for e in entries.iter_mut() {
            e.article = coverage.article_of(e.topic_id).map(|a| FaqArticle {
                id: a.id.clone(),
                title: a.title.clone(),
                url: a.url.clone(),
                score: a.score,
            });
        }
        Ok(())
    }

    /// The knowledge gaps of `tenant`'s FAQ: its entries that no article covers, ranked by
    /// [`gap_order`] (messages in the last 7 days, then trend).
    pub async fn knowledge_gaps(&self, tenant: &TenantId) -> Result<Faq> {
        let mut faq = self.faq(tenant).await?;
        faq.entries.retain(|e| e.article.is_none());
        faq.entries.sort_by(|a, b| {
            gap_order(
                (a.last_7_days, a.previous_7_days, a.topic_id),
                (b.last_7_days, b.previous_7_days, b.topic_id),
            )
        });
        Ok(faq)
    }

    /// `articles` with embeddings by the server's current provider: returned as they are when
    /// they have them, otherwise re-embedded and stored again (the provider was added or
    /// changed since they were set).
    async fn current_embeddings(
        &self,
        tenant: &TenantId,
        articles: Vec<StoredArticle>,
    ) -> Result<Vec<StoredArticle>> {
        let current = self.embedder.as_ref().ok().map(|e| e.model_name().to_string());
        let up_to_date = articles.iter().all(|a| {
            a.embedding.is_some()
                && (current.is_none() || a.embedding_model.as_deref() == current.as_deref())
        });
        if up_to_date {
            return Ok(articles);
        }
        if current.is_none() {
            return Err(Error::failed_precondition(format!(
                "tenant {tenant}'s articles have no embeddings and the server has no embedding \
                 provider; configure [embedding] and set the articles again"
            )));
        }
        let _state = self.locks.lock_state(tenant).await?;
        let plain = articles
            .into_iter()
            .map(|a| Article { id: a.id, title: a.title, url: a.url, summary: a.summary })
            .collect();
        let stored = self.embed_articles(plain).await?;
        self.meta.replace_articles(tenant, &stored, Utc::now()).await?;
        tracing::info!(tenant = %tenant, articles = stored.len(), model = current.as_deref().unwrap_or_default(),
            "articles re-embedded with the server's embedding model");
        Ok(stored)
    }

    /// Articles with embeddings by the server's provider, or without any when it has none.
    async fn embed_articles(&self, articles: Vec<Article>) -> Result<Vec<StoredArticle>> {
        let model = self.embedder.as_ref().ok().map(|e| e.model_name().to_string());
        let vectors = match &model {
            Some(_) if !articles.is_empty() => {
                let texts: Vec<String> = articles
                    .iter()
                    .map(|a| embedding_text(&a.title, a.summary.as_deref()))
                    .collect();
                Some(self.embed(&texts).await?)
            }
            _ => None,
        };
        Ok(articles
            .into_iter()
            .enumerate()
            .map(|(i, a)| StoredArticle {
                id: a.id,
                title: a.title,
                url: a.url,
                summary: a.summary,
                embedding: vectors.as_ref().map(|m| m.row(i).to_vec()),
                embedding_model: vectors.as_ref().and(model.clone()),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(id: &str, title: &str) -> Article {
        Article { id: id.into(), title: title.into(), url: None, summary: None }
    }

    #[test]
    fn validation_names_the_field() {
        let ok = validate_articles(vec![Article {
            id: " a1 ".into(),
            title: " Card arrival ".into(),
            url: Some("".into()),
            summary: Some("When will my card\narrive?".into()),
        }])
        .unwrap();
        assert_eq!(ok[0].id, "a1");
        assert_eq!(ok[0].title, "Card arrival");
        assert_eq!(ok[0].url, None);
        let msg = |v: Vec<Article>| validate_articles(v).unwrap_err().message().to_string();
        assert!(msg(vec![art("a", "x"), art("b", " ")]).contains("articles[1].title is missing"));
        assert!(msg(vec![art("", "x")]).contains("articles[0].id"));
        assert!(msg(vec![art("a", "x"), art("a", "y")]).contains("also the id of articles[0]"));
        assert!(msg(vec![art("a", "bad\u{7}title")]).contains("control characters"));
        assert!(msg(vec![art("a", "two\nlines")]).contains("one line"));
        assert!(msg(vec![art("a", &"x".repeat(MAX_TITLE_CHARS + 1))]).contains("at most 300"));
        let many = (0..=MAX_ARTICLES).map(|i| art(&i.to_string(), "t")).collect();
        assert!(msg(many).contains("at most 2000"));
        let mut bad_url = art("a", "t");
        bad_url.url = Some("ftp://x".into());
        assert!(msg(vec![bad_url]).contains("not an http"));
        let mut long_summary = art("a", "t");
        long_summary.summary = Some("s".repeat(MAX_SUMMARY_CHARS + 1));
        assert!(msg(vec![long_summary]).contains("articles[0].summary"));
    }

    #[test]
    fn embedding_text_joins_title_and_summary() {
        assert_eq!(embedding_text("Card arrival", None), "Card arrival");
        assert_eq!(
            embedding_text("Card arrival", Some("Delivery times")),
            "Card arrival. Delivery times"
        );
    }

    #[test]
    fn gaps_rank_by_last_week_then_trend_then_id() {
        let mut v = vec![(5, 5, 1), (9, 0, 2), (5, 1, 3), (5, 1, 0), (0, 9, 4)];
        v.sort_by(|a, b| gap_order(*a, *b));
        assert_eq!(v, vec![(9, 0, 2), (5, 1, 0), (5, 1, 3), (5, 5, 1), (0, 9, 4)]);
    }

    fn stored(id: &str, v: Vec<f32>) -> StoredArticle {
        StoredArticle {
            id: id.into(),
            title: format!("title {id}"),
            url: None,
            summary: None,
            embedding: Some(v),
            embedding_model: Some("test".into()),
        }
    }

    #[test]
    fn topics_near_an_article_are_covered_the_others_are_gaps() {
        // Topic 3 lies along x, topic 7 along y. Article "near" has cosine 0.8 with topic 3
        // and 0.6 with topic 7; article "far" (along -x) has -1 and 0.
        let (x, y) = ([1.0f32, 0.0], [0.0f32, 1.0]);
        let topics: Vec<(i64, &[f32])> = vec![(3, &x), (7, &y)];
        let articles = vec![stored("far", vec![-1.0, 0.0]), stored("near", vec![0.8, 0.6])];
        let rows: Vec<Vec<f32>> = articles.iter().map(|a| a.embedding.clone().unwrap()).collect();
        let vectors = Matrix::from_rows(&rows).unwrap();
        let c = topic_coverage(&topics, &articles, &vectors, 0.7).unwrap();
        assert_eq!(c.articles, 2);
        let hit = c.article_of(3).expect("topic 3 is covered");
        assert_eq!(hit.id, "near");
        assert!((hit.score - 0.8).abs() < 1e-6);
        assert!(c.article_of(7).is_none(), "0.6 < 0.7: a gap");
        assert!(c.article_of(99).is_none(), "not a topic");
        // At a threshold above 0.8 topic 3 is a gap too; at 0.6 (inclusive) both are covered.
        let strict = topic_coverage(&topics, &articles, &vectors, 0.81).unwrap();
        assert!(strict.topics.iter().all(|(_, a)| a.is_none()));
        let loose = topic_coverage(&topics, &articles, &vectors, 0.6).unwrap();
        assert_eq!(loose.article_of(7).map(|a| a.id.as_str()), Some("near"));
        // No articles: every topic is a gap.
        let none = topic_coverage(&topics, &[], &Matrix::zeros(0, 2), 0.5).unwrap();
        assert!(none.topics.iter().all(|(_, a)| a.is_none()));
    }
}
