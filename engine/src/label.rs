//! Offline keyword labels ("Card delivery · arrival"), the default when no LLM is configured.

use crate::model::Keyword;

/// Keywords in a keyword label.
pub const LABEL_WORDS: usize = 3;

/// Label of a topic without keywords (e.g. only stop words or non-Latin text).
pub const NO_KEYWORDS_LABEL: &str = "(no keywords)";

/// A short readable label from the top keywords: the first [`LABEL_WORDS`] non-empty keywords
/// joined by " · ", the first letter capitalised ("Refund · order · money").
pub fn keyword_label(keywords: &[Keyword]) -> String {
    let words: Vec<&str> = keywords
        .iter()
        .map(|k| k.word.trim())
        .filter(|w| !w.is_empty())
        .take(LABEL_WORDS)
        .collect();
    if words.is_empty() {
        return NO_KEYWORDS_LABEL.to_string();
    }
    let joined = words.join(" · ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => joined,
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
            keyword_label(&kw(&["refund", "order", "money", "back"])),
            "Refund · order · money"
        );
        assert_eq!(keyword_label(&kw(&["", "card"])), "Card");
        assert_eq!(keyword_label(&[]), NO_KEYWORDS_LABEL);
        assert_eq!(
            bertopic_name(3, &kw(&["refund", "order", "money", "back", "x"])),
            "3_refund_order_money_back"
        );
        assert_eq!(bertopic_name(-1, &kw(&["a"])), "-1_a");
    }
}
