//! Readable labels from keywords ("Card delivery · arrive"), the offline default labeler and the
//! fallback for topics an LLM did not name.

use async_trait::async_trait;

use super::{LabelOutcome, Labeler, ProviderError, TopicToLabel};

/// Labels topics from their keywords, with no network: the default labeler.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeywordLabeler;

impl KeywordLabeler {
    /// A new keyword labeler.
    pub fn new() -> Self {
        Self
    }
}

#[async_trait]
impl Labeler for KeywordLabeler {
    fn name(&self) -> &str {
        "keywords"
    }

    async fn label(&self, topics: &[TopicToLabel]) -> Result<LabelOutcome, ProviderError> {
        let labels =
            topics.iter().map(|t| (t.topic_id, keyword_label(t.topic_id, &t.keywords))).collect();
        Ok(LabelOutcome { labels, ..LabelOutcome::default() })
    }
}

/// A short human-readable label from keywords (best first), in the README's format
/// ("Card delivery · arrive"; "Topic <id>" without keywords). The rule lives in the engine
/// ([`topic_engine::label::keyword_label`]), which also labels every topic a fit or merge
/// produces, so the labeler and the engine always agree.
pub fn keyword_label(topic_id: i64, keywords: &[String]) -> String {
    topic_engine::label::keyword_label(topic_id, keywords)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn kw(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn phrase_leads_and_repeats_are_skipped() {
        assert_eq!(
            keyword_label(3, &kw(&["card", "delivery", "arrive", "card delivery", "new card"])),
            "Card delivery · arrive · new card"
        );
        assert_eq!(
            keyword_label(1, &kw(&["weather", "rain", "forecast", "today"])),
            "Weather · rain · forecast"
        );
        assert_eq!(keyword_label(2, &kw(&["pto_balance", "pto", "days"])), "Pto balance · days");
    }

    #[test]
    fn never_a_raw_bertopic_name() {
        let label = keyword_label(3, &kw(&["card", "arrive", "delivery"]));
        assert!(!label.contains('_'), "{label}");
        assert_eq!(keyword_label(7, &[]), "Topic 7");
        assert_eq!(keyword_label(7, &kw(&["", "  ", "!!"])), "Topic 7");
    }

    #[tokio::test]
    async fn labels_every_topic() {
        let topics = vec![
            TopicToLabel { topic_id: 0, keywords: kw(&["a"]), ..Default::default() },
            TopicToLabel { topic_id: 5, keywords: kw(&["bank", "transfer"]), ..Default::default() },
        ];
        let out = KeywordLabeler.label(&topics).await.unwrap();
        assert_eq!(out.labels.len(), 2);
        assert_eq!(out.labels[&5], "Bank · transfer");
        assert!(out.fallbacks.is_empty());
    }
}
