//! Offline keyword labels ("Card delivery · arrival"), the default when no LLM is configured.

use crate::model::Keyword;

/// A short readable label from the top keywords.
pub fn keyword_label(keywords: &[Keyword]) -> String {
    let words: Vec<&str> = keywords.iter().take(3).map(|k| k.word.as_str()).collect();
    words.join(" · ")
}
