//! Tokenisation and term counting as BERTopic's `CountVectorizer(stop_words="english")`
//! (`../../shared/docs/BERTOPIC_NOTES.md` §2):
//! - `preprocess`: `\n` and `\t` become spaces; for English every character outside
//!   `[A-Za-z0-9 ]` is **deleted** ("e-mail" → "email", "café" → "caf").
//! - lowercase, then the token pattern `(?u)\b\w\w+\b`, then scikit-learn's 318 English stop
//!   words are removed; ngram range (1, 1).
//! - The vocabulary is fitted on the per-topic joined documents (one space between documents),
//!   sorted lexicographically. Joining with a space never glues tokens, so a class's counts are
//!   the sum of its documents' counts, which is how [`class_term_counts`] computes them; a class
//!   whose joined text is empty counts the token `emptydoc` once, as BERTopic does.
//!
//! That is the **compat** mode ([`Tokenizer::new`], or [`Tokenizer::with_options`] with
//! [`TextOptions::bertopic_compat`]), bit-identical to the code before issue 21. The **Unicode**
//! mode ([`Tokenizer::with_options`] otherwise) counts [`TextAnalyzer::terms`] instead: no
//! ASCII stripping, personal data left out, stop words of each document's language; a document
//! is "empty" (for `emptydoc`) when it has no letter or digit left. Everything else (vocabulary,
//! class sums, `emptydoc`) is shared.

use std::collections::HashMap;

use rayon::prelude::*;
use regex::Regex;

use crate::error::{EngineError, Result};
use crate::text::{TextAnalyzer, TextOptions};

/// scikit-learn's `ENGLISH_STOP_WORDS` (318 words, sorted), exactly as in
/// `sklearn/feature_extraction/_stop_words.py`.
pub const ENGLISH_STOP_WORDS: [&str; 318] = [
    "a",
    "about",
    "above",
    "across",
    "after",
    "afterwards",
    "again",
    "against",
    "all",
    "almost",
    "alone",
    "along",
    "already",
    "also",
    "although",
    "always",
    "am",
    "among",
    "amongst",
    "amoungst",
    "amount",
    "an",
    "and",
    "another",
    "any",
    "anyhow",
    "anyone",
    "anything",
    "anyway",
    "anywhere",
    "are",
    "around",
    "as",
    "at",
    "back",
    "be",
    "became",
    "because",
    "become",
    "becomes",
    "becoming",
    "been",
    "before",
    "beforehand",
    "behind",
    "being",
    "below",
    "beside",
    "besides",
    "between",
    "beyond",
    "bill",
    "both",
    "bottom",
    "but",
    "by",
    "call",
    "can",
    "cannot",
    "cant",
    "co",
    "con",
    "could",
    "couldnt",
    "cry",
    "de",
    "describe",
    "detail",
    "do",
    "done",
    "down",
    "due",
    "during",
    "each",
    "eg",
    "eight",
    "either",
    "eleven",
    "else",
    "elsewhere",
    "empty",
    "enough",
    "etc",
    "even",
    "ever",
    "every",
    "everyone",
    "everything",
    "everywhere",
    "except",
    "few",
    "fifteen",
    "fifty",
    "fill",
    "find",
    "fire",
    "first",
    "five",
    "for",
    "former",
    "formerly",
    "forty",
    "found",
    "four",
    "from",
    "front",
    "full",
    "further",
    "get",
    "give",
    "go",
    "had",
    "has",
    "hasnt",
    "have",
    "he",
    "hence",
    "her",
    "here",
    "hereafter",
    "hereby",
    "herein",
    "hereupon",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "hundred",
    "i",
    "ie",
    "if",
    "in",
    "inc",
    "indeed",
    "interest",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "keep",
    "last",
    "latter",
    "latterly",
    "least",
    "less",
    "ltd",
    "made",
    "many",
    "may",
    "me",
    "meanwhile",
    "might",
    "mill",
    "mine",
    "more",
    "moreover",
    "most",
    "mostly",
    "move",
    "much",
    "must",
    "my",
    "myself",
    "name",
    "namely",
    "neither",
    "never",
    "nevertheless",
    "next",
    "nine",
    "no",
    "nobody",
    "none",
    "noone",
    "nor",
    "not",
    "nothing",
    "now",
    "nowhere",
    "of",
    "off",
    "often",
    "on",
    "once",
    "one",
    "only",
    "onto",
    "or",
    "other",
    "others",
    "otherwise",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "part",
    "per",
    "perhaps",
    "please",
    "put",
    "rather",
    "re",
    "same",
    "see",
    "seem",
    "seemed",
    "seeming",
    "seems",
    "serious",
    "several",
    "she",
    "should",
    "show",
    "side",
    "since",
    "sincere",
    "six",
    "sixty",
    "so",
    "some",
    "somehow",
    "someone",
    "something",
    "sometime",
    "sometimes",
    "somewhere",
    "still",
    "such",
    "system",
    "take",
    "ten",
    "than",
    "that",
    "the",
    "their",
    "them",
    "themselves",
    "then",
    "thence",
    "there",
    "thereafter",
    "thereby",
    "therefore",
    "therein",
    "thereupon",
    "these",
    "they",
    "thick",
    "thin",
    "third",
    "this",
    "those",
    "though",
    "three",
    "through",
    "throughout",
    "thru",
    "thus",
    "to",
    "together",
    "too",
    "top",
    "toward",
    "towards",
    "twelve",
    "twenty",
    "two",
    "un",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "very",
    "via",
    "was",
    "we",
    "well",
    "were",
    "what",
    "whatever",
    "when",
    "whence",
    "whenever",
    "where",
    "whereafter",
    "whereas",
    "whereby",
    "wherein",
    "whereupon",
    "wherever",
    "whether",
    "which",
    "while",
    "whither",
    "who",
    "whoever",
    "whole",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "yet",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// The token BERTopic substitutes for a class whose joined text is empty.
pub const EMPTY_DOC: &str = "emptydoc";

/// One sparse row of term counts: `(term index, count)`, ascending by term index.
pub type SparseCounts = Vec<(u32, u32)>;

/// BERTopic's `_preprocess_text` for one document: `\n`, `\t` → space and, when `english`,
/// deletion of every character outside `[A-Za-z0-9 ]`.
pub fn preprocess(text: &str, english: bool) -> String {
    text.chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|c| !english || c.is_ascii_alphanumeric() || *c == ' ')
        .collect()
}

/// Lowercases and splits text into tokens (`(?u)\b\w\w+\b`), dropping stop words; or, in
/// Unicode mode, delegates to a [`TextAnalyzer`].
#[derive(Debug, Clone)]
pub struct Tokenizer {
    pattern: Regex,
    stop_words: bool,
    /// `None`: BERTopic compat mode.
    analyzer: Option<TextAnalyzer>,
}

impl Tokenizer {
    /// A tokenizer; `english_stop_words` removes [`ENGLISH_STOP_WORDS`].
    pub fn new(english_stop_words: bool) -> Result<Self> {
        let pattern = Regex::new(r"\b\w\w+\b")
            .map_err(|e| EngineError::input(format!("token pattern: {e}")))?;
        Ok(Self { pattern, stop_words: english_stop_words, analyzer: None })
    }

    /// A tokenizer for `options`: compat mode ([`Tokenizer::new`] with `english_stop_words`)
    /// when [`TextOptions::bertopic_compat`] is set, else the Unicode mode, which always removes
    /// the stop words of each document's language and ignores `english_stop_words`.
    pub fn with_options(english_stop_words: bool, options: &TextOptions) -> Result<Self> {
        let mut tokenizer = Self::new(english_stop_words)?;
        if !options.bertopic_compat {
            tokenizer.analyzer = Some(TextAnalyzer::new(options)?);
        }
        Ok(tokenizer)
    }

    /// The Unicode-mode analyzer; `None` in compat mode.
    pub fn analyzer(&self) -> Option<&TextAnalyzer> {
        self.analyzer.as_ref()
    }

    /// One document's (is empty, tokens), as [`DocTerms::count`] sees it.
    pub(crate) fn document(&self, text: &str, english: bool) -> (bool, Vec<String>) {
        match &self.analyzer {
            None => {
                let clean = preprocess(text, english);
                let lower = clean.to_lowercase();
                (clean.is_empty(), self.tokens(&lower).map(str::to_string).collect())
            }
            Some(analyzer) => analyzer.document(text),
        }
    }

    /// Compat-mode tokens of `text`, in order (lowercased first, as scikit-learn does). The
    /// Unicode mode does not use this; see [`TextAnalyzer::terms`].
    pub fn tokens<'t>(&'t self, lowercased: &'t str) -> impl Iterator<Item = &'t str> + 't {
        self.pattern
            .find_iter(lowercased)
            .map(|m| m.as_str())
            .filter(move |t| !self.stop_words || ENGLISH_STOP_WORDS.binary_search(t).is_err())
    }
}

/// Per-document term counts over an interned (not yet sorted) token table.
#[derive(Debug, Clone, Default)]
pub struct DocTerms {
    /// Interned tokens, in order of first appearance.
    tokens: Vec<String>,
    /// Per document: `(token id, count)`, ascending by token id.
    docs: Vec<SparseCounts>,
    /// Per document: whether its preprocessed text is empty (for BERTopic's `emptydoc`).
    empty: Vec<bool>,
}

impl DocTerms {
    /// Preprocesses and tokenises every document (in parallel; tokens are interned in document
    /// order afterwards, so ids do not depend on the thread count). `english` is BERTopic's
    /// ASCII stripping, compat mode only.
    pub fn count(texts: &[String], english: bool, tokenizer: &Tokenizer) -> Self {
        let tokenized: Vec<(bool, Vec<String>)> =
            texts.par_iter().map(|text| tokenizer.document(text, english)).collect();
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut out = DocTerms::default();
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for (empty, tokens) in tokenized {
            out.empty.push(empty);
            counts.clear();
            for tok in tokens {
                let id = match index.get(&tok) {
                    Some(&id) => id,
                    None => {
                        let id = out.tokens.len() as u32;
                        out.tokens.push(tok.clone());
                        index.insert(tok, id);
                        id
                    }
                };
                *counts.entry(id).or_insert(0) += 1;
            }
            let mut row: SparseCounts = counts.iter().map(|(&t, &c)| (t, c)).collect();
            row.sort_unstable();
            out.docs.push(row);
        }
        out
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

/// A class × term count matrix over a sorted vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassCounts {
    /// Terms, sorted lexicographically (only terms with a non-zero count in some class).
    pub vocabulary: Vec<String>,
    /// One sparse row per class, in class order.
    pub rows: Vec<SparseCounts>,
}

impl ClassCounts {
    /// Index of `term` in the vocabulary.
    pub fn term_index(&self, term: &str) -> Option<u32> {
        self.vocabulary.binary_search_by(|t| t.as_str().cmp(term)).ok().map(|i| i as u32)
    }
}

/// Sums document counts into `n_classes` classes (`class_of[doc]` in `0..n_classes`) and fits
/// the vocabulary on the result: BERTopic's `CountVectorizer.fit_transform(documents_per_topic)`.
pub fn class_term_counts(
    terms: &DocTerms,
    class_of: &[usize],
    n_classes: usize,
) -> Result<ClassCounts> {
    if class_of.len() != terms.len() {
        return Err(EngineError::input(format!(
            "{} class labels for {} documents",
            class_of.len(),
            terms.len()
        )));
    }
    if let Some(&bad) = class_of.iter().find(|&&c| c >= n_classes) {
        return Err(EngineError::input(format!("class {bad} out of range 0..{n_classes}")));
    }
    let n_tokens = terms.tokens.len();
    // `emptydoc` shares the id of a real "emptydoc" token, else gets a virtual id past the end.
    let empty_id = terms.tokens.iter().position(|t| t == EMPTY_DOC).unwrap_or(n_tokens) as u32;
    let mut dense: Vec<HashMap<u32, u32>> = vec![HashMap::new(); n_classes];
    let mut docs_in_class = vec![0usize; n_classes];
    let mut nonempty_in_class = vec![false; n_classes];
    for (d, &c) in class_of.iter().enumerate() {
        docs_in_class[c] += 1;
        nonempty_in_class[c] |= !terms.empty[d];
        for &(t, k) in &terms.docs[d] {
            *dense[c].entry(t).or_insert(0) += k;
        }
    }
    for c in 0..n_classes {
        // The joined text is "" only for a single document whose cleaned text is empty
        // (two or more documents are joined with a space).
        if docs_in_class[c] == 1 && !nonempty_in_class[c] {
            *dense[c].entry(empty_id).or_insert(0) += 1;
        }
    }
    // Vocabulary: every token with a count, sorted; remap ids.
    let token_str = |t: u32| token_text(terms, empty_id, t);
    let mut used: Vec<u32> = {
        let mut seen = vec![false; n_tokens + 1];
        for row in &dense {
            for &t in row.keys() {
                seen[t as usize] = true;
            }
        }
        (0..=n_tokens as u32).filter(|&t| seen[t as usize]).collect()
    };
    used.sort_by(|&a, &b| token_str(a).cmp(token_str(b)));
    let mut remap = vec![0u32; n_tokens + 1];
    let mut vocabulary = Vec::with_capacity(used.len());
    for (new, &old) in used.iter().enumerate() {
        vocabulary.push(token_str(old).to_string());
        remap[old as usize] = new as u32;
    }
    let rows = dense
        .into_iter()
        .map(|m| {
            let mut row: SparseCounts =
                m.into_iter().map(|(t, k)| (remap[t as usize], k)).collect();
            row.sort_unstable();
            row
        })
        .collect();
    Ok(ClassCounts { vocabulary, rows })
}

/// The text of interned token `t`, or `emptydoc` for the virtual id `empty_id`.
fn token_text(terms: &DocTerms, empty_id: u32, t: u32) -> &str {
    if t == empty_id {
        EMPTY_DOC
    } else {
        &terms.tokens[t as usize]
    }
}

/// Counts the tokens of raw `text` (lowercased, no English stripping: BERTopic vectorizes the
/// representative-doc candidates this way) over a fitted vocabulary; unknown tokens are dropped.
/// In Unicode mode the tokens are [`TextAnalyzer::terms`], as in fitting.
pub fn count_in_vocabulary(
    text: &str,
    tokenizer: &Tokenizer,
    counts: &ClassCounts,
) -> SparseCounts {
    let mut acc: HashMap<u32, u32> = HashMap::new();
    let mut add = |tok: &str| {
        if let Some(id) = counts.term_index(tok) {
            *acc.entry(id).or_insert(0) += 1;
        }
    };
    match tokenizer.analyzer() {
        None => tokenizer.tokens(&text.to_lowercase()).for_each(&mut add),
        Some(analyzer) => analyzer.terms(text).iter().for_each(|t| add(t)),
    }
    let mut row: SparseCounts = acc.into_iter().collect();
    row.sort_unstable();
    row
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sklearns() {
        assert_eq!(ENGLISH_STOP_WORDS.len(), 318);
        assert!(ENGLISH_STOP_WORDS.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
        for w in ["the", "a", "i", "me", "amoungst", "bill", "cry", "thick", "yourselves"] {
            assert!(ENGLISH_STOP_WORDS.binary_search(&w).is_ok(), "{w}");
        }
        for w in ["refund", "card", "ok", "us"] {
            let expected = w == "us";
            assert_eq!(ENGLISH_STOP_WORDS.binary_search(&w).is_ok(), expected, "{w}");
        }
    }

    #[test]
    fn preprocess_matches_bertopic() {
        assert_eq!(preprocess("e-mail\tme\nnow", true), "email me now");
        assert_eq!(preprocess("café", true), "caf");
        assert_eq!(preprocess("what's up?", true), "whats up");
        assert_eq!(preprocess("what's up?", false), "what's up?");
        assert_eq!(preprocess("日本語", true), "");
    }

    #[test]
    fn tokens_lowercase_pattern_and_stop_words() {
        let t = Tokenizer::new(true).unwrap();
        let s = "i want a refund for my order 42 x".to_lowercase();
        assert_eq!(t.tokens(&s).collect::<Vec<_>>(), vec!["want", "refund", "order", "42"]);
        let t = Tokenizer::new(false).unwrap();
        assert_eq!(t.tokens("i want a refund").collect::<Vec<_>>(), vec!["want", "refund"]);
    }

    #[test]
    fn class_counts_sum_documents_with_sorted_vocabulary() {
        let texts: Vec<String> = ["Refund my ORDER", "order refund refund", "Card declined", "??"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let t = Tokenizer::new(true).unwrap();
        let terms = DocTerms::count(&texts, true, &t);
        let cc = class_term_counts(&terms, &[0, 0, 1, 2], 3).unwrap();
        assert_eq!(cc.vocabulary, vec!["card", "declined", "emptydoc", "order", "refund"]);
        assert_eq!(cc.rows[0], vec![(3, 2), (4, 3)]);
        assert_eq!(cc.rows[1], vec![(0, 1), (1, 1)]);
        assert_eq!(cc.rows[2], vec![(2, 1)]);
        // Two empty docs in one class join to " ", which is not empty: no `emptydoc`.
        let cc = class_term_counts(&terms, &[0, 1, 1, 1], 2).unwrap();
        assert!(!cc.vocabulary.contains(&"emptydoc".to_string()));
        assert!(class_term_counts(&terms, &[0, 0, 1], 2).is_err());
        assert!(class_term_counts(&terms, &[0, 0, 1, 5], 2).is_err());
    }

    #[test]
    fn raw_text_counting_uses_the_fitted_vocabulary() {
        let texts: Vec<String> = vec!["email refund".into(), "mail box".into()];
        let t = Tokenizer::new(true).unwrap();
        let cc = class_term_counts(&DocTerms::count(&texts, true, &t), &[0, 1], 2).unwrap();
        // "e-mail" → "e" (too short) + "mail" when not stripped.
        let row = count_in_vocabulary("E-mail refund, refund!", &t, &cc);
        let words: Vec<(&str, u32)> =
            row.iter().map(|&(i, c)| (cc.vocabulary[i as usize].as_str(), c)).collect();
        assert_eq!(words, vec![("mail", 1), ("refund", 2)]);
    }
}
