//! Offline keyword labels ("Card delivery · arrive"): the label a fit gives every topic, the
//! default labeler's output (`topicd-providers`' `KeywordLabeler` calls [`keyword_label`]) and
//! the fallback for topics an LLM did not name. The one implementation of the README's format.

use crate::model::Keyword;

/// Most parts in a keyword label.
pub const LABEL_PARTS: usize = 3;

/// How far down the keyword list a phrase (an n-gram) may sit and still lead the label.
pub const PHRASE_WINDOW: usize = 5;

impl AsRef<str> for Keyword {
    fn as_ref(&self) -> &str {
        &self.word
    }
}

/// A short human-readable label from keywords (best first): a leading phrase (n-gram) when one
/// is within the first [`PHRASE_WINDOW`] keywords, then further keywords whose words are not
/// already said, at most [`LABEL_PARTS`] parts, joined with " · ", first letter capitalised.
/// Underscores count as spaces (BERTopic names such as `pto_balance`), so a label never looks
/// like a raw BERTopic name. `["card", "delivery", "arrive", "card delivery"]` gives
/// "Card delivery · arrive". A topic without usable keywords is "Topic <id>".
///
/// Takes [`Keyword`]s or plain words (`&[String]`, `&[&str]`).
pub fn keyword_label<S: AsRef<str>>(topic_id: i64, keywords: &[S]) -> String {
    let cleaned: Vec<String> = keywords
        .iter()
        .map(|k| k.as_ref().replace('_', " ").split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|k| !k.is_empty() && k.chars().any(char::is_alphanumeric))
        .collect();
    let mut parts: Vec<&str> = Vec::new();
    let mut said: Vec<&str> = Vec::new();

    if let Some(lead) = cleaned.iter().take(PHRASE_WINDOW).find(|k| k.contains(' ')) {
        parts.push(lead.as_str());
        said.extend(lead.split(' '));
    }
    for k in &cleaned {
        if parts.len() >= LABEL_PARTS {
            break;
        }
        if k.split(' ').all(|w| said.contains(&w)) {
            continue;
        }
        parts.push(k.as_str());
        said.extend(k.split(' '));
    }
    if parts.is_empty() {
        return format!("Topic {topic_id}");
    }
    let joined = parts.join(" · ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => format!("Topic {topic_id}"),
    }
}

/// BERTopic's topic name: `"{id}_" + the first 4 keywords joined with "_"` (e.g.
/// `"3_refund_order_money_back"`, `"-1_the_to_and_of"`).
pub fn bertopic_name(id: i64, keywords: &[Keyword]) -> String {
    let words: Vec<&str> = keywords.iter().take(4).map(|k| k.word.as_str()).collect();
    format!("{id}_{}", words.join("_"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn kw(words: &[&str]) -> Vec<Keyword> {
        words.iter().map(|w| Keyword { word: w.to_string(), weight: 1.0 }).collect()
    }

    #[test]
    fn labels() {
        assert_eq!(
            keyword_label(0, &kw(&["refund", "order", "money", "back"])),
            "Refund · order · money"
        );
        assert_eq!(keyword_label(0, &kw(&["", "card"])), "Card");
        assert_eq!(keyword_label::<Keyword>(4, &[]), "Topic 4");
        assert_eq!(
            bertopic_name(3, &kw(&["refund", "order", "money", "back", "x"])),
            "3_refund_order_money_back"
        );
        assert_eq!(bertopic_name(-1, &kw(&["a"])), "-1_a");
    }

    #[test]
    fn phrase_leads_and_repeats_are_skipped() {
        assert_eq!(
            keyword_label(3, &["card", "delivery", "arrive", "card delivery", "new card"]),
            "Card delivery · arrive · new card"
        );
        assert_eq!(
            keyword_label(1, &["weather", "rain", "forecast", "today"]),
            "Weather · rain · forecast"
        );
        assert_eq!(keyword_label(2, &["pto_balance", "pto", "days"]), "Pto balance · days");
    }

    #[test]
    fn never_a_raw_bertopic_name() {
        let label = keyword_label(3, &["card", "arrive", "delivery"]);
        assert!(!label.contains('_'), "{label}");
        assert_eq!(keyword_label(7, &["", "  ", "!!"]), "Topic 7");
        // Plain strings and keywords give the same label.
        let words = ["card", "delivery", "arrive", "card delivery"];
        let owned: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        assert_eq!(keyword_label(1, &owned), keyword_label(1, &kw(&words)));
    }
}
