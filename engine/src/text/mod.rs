//! Text handling for real conversations (issue 21): multilingual tokenisation, stop words per
//! document language, small-talk detection and masking of personal data.
//!
//! BERTopic's English preprocessing (kept bit-for-bit in [`crate::vectorize`] for benchmarks,
//! [`TextOptions::bertopic_compat`]) deletes every non-ASCII letter and knows only English stop
//! words; support traffic here is French-first, multilingual, full of "ok" and "merci !", and
//! carries emails and phone numbers. The pieces:
//! - [`mod@tokenize`]: Unicode words, French/Italian elision, CJK bigrams;
//! - [`stopwords`]: NLTK lists for en, fr, de, es, it, pt, nl (+ scikit-learn's English);
//! - [`language`]: per-document language with `whatlang`, tenant default for short texts;
//! - [`small_talk`]: greetings, thanks, acknowledgements, emoji-only messages;
//! - [`privacy`]: `[email]`, `[phone]`, `[card]`, `[iban]`, `[ip]`, `[url]` and caller patterns.
//!
//! [`TextAnalyzer`] ties them together for one tenant's [`TextOptions`].
//!
//! ```
//! use topic_engine::text::{Language, TextAnalyzer, TextOptions};
//!
//! let analyzer = TextAnalyzer::new(&TextOptions::default()).unwrap();
//! assert_eq!(analyzer.terms("J'ai un souci avec le télétravail"), vec!["souci", "télétravail"]);
//! assert!(analyzer.is_small_talk("merci !"));
//! assert_eq!(analyzer.mask("écrivez à jean@exemple.fr"), "écrivez à [email]");
//! assert_eq!(analyzer.language("Mon remboursement n'est jamais arrivé"), Language::Fr);
//! ```

pub mod language;
pub mod privacy;
pub mod small_talk;
pub mod stopwords;
pub mod tokenize;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use language::{Language, LanguageDetector, LanguageSetting};
pub use privacy::{ExtraPattern, Masker, PiiMatch};
pub use small_talk::is_small_talk;
pub use stopwords::is_stop_word;
pub use tokenize::tokenize;

use crate::error::Result;

/// How a tenant's message text is handled. Serde: every field optional (defaults below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TextOptions {
    /// `"auto"` (detect per document, default) or a fixed language code for every document.
    pub language: LanguageSetting,
    /// The tenant's usual language: used for texts too short to detect (default `en`).
    pub default_language: Language,
    /// Reproduce BERTopic's English preprocessing exactly (ASCII-only tokens, scikit-learn's
    /// English stop words): the code path before issue 21, for benchmarks. Default `false`.
    pub bertopic_compat: bool,
    /// Recognise small talk ([`is_small_talk()`]) so the pipeline can set it aside. Default
    /// `true`.
    pub small_talk: bool,
    /// Mask personal data ([`privacy`]) in samples and prompts, and leave it out of keywords.
    /// Default `true`.
    pub mask: bool,
    /// Caller patterns masked as `[name]`, in addition to the built-in ones.
    pub extra_patterns: Vec<ExtraPattern>,
}

impl Default for TextOptions {
    fn default() -> Self {
        Self {
            language: LanguageSetting::Auto,
            default_language: Language::En,
            bertopic_compat: false,
            small_talk: true,
            mask: true,
            extra_patterns: Vec::new(),
        }
    }
}

impl TextOptions {
    /// BERTopic's English preprocessing, as `topicd` did before issue 21.
    pub fn compat() -> Self {
        Self { bertopic_compat: true, ..Self::default() }
    }

    /// Exactly the behaviour before issue 21: [`TextOptions::compat`] without small-talk
    /// filtering or masking. What a model file without `fit_params.text` was fitted with.
    pub fn legacy() -> Self {
        Self { small_talk: false, mask: false, ..Self::compat() }
    }

    /// Sets [`TextOptions::language`].
    pub fn with_language(mut self, language: LanguageSetting) -> Self {
        self.language = language;
        self
    }

    /// Sets [`TextOptions::default_language`].
    pub fn with_default_language(mut self, language: Language) -> Self {
        self.default_language = language;
        self
    }

    /// Sets [`TextOptions::small_talk`].
    pub fn with_small_talk(mut self, on: bool) -> Self {
        self.small_talk = on;
        self
    }

    /// Sets [`TextOptions::mask`].
    pub fn with_mask(mut self, on: bool) -> Self {
        self.mask = on;
        self
    }

    /// Adds a caller pattern masked as `[name]`.
    pub fn with_extra_pattern(
        mut self,
        name: impl Into<String>,
        pattern: impl Into<String>,
    ) -> Self {
        self.extra_patterns.push(ExtraPattern::new(name, pattern));
        self
    }

    /// Checks the options (caller patterns compile, names are valid) without keeping anything.
    pub fn validate(&self) -> Result<()> {
        Masker::new(&self.extra_patterns).map(|_| ())
    }
}

/// One tenant's text handling, built once from [`TextOptions`] and shared (`Send + Sync`,
/// cheap to clone). Every method is deterministic.
#[derive(Debug, Clone)]
pub struct TextAnalyzer {
    options: TextOptions,
    detector: LanguageDetector,
    masker: Masker,
}

impl TextAnalyzer {
    /// Validates `options` (caller patterns) and builds the analyzer.
    pub fn new(options: &TextOptions) -> Result<Self> {
        Ok(Self {
            options: options.clone(),
            detector: LanguageDetector::new(options.language, options.default_language),
            masker: Masker::new(&options.extra_patterns)?,
        })
    }

    /// The options this analyzer was built from.
    pub fn options(&self) -> &TextOptions {
        &self.options
    }

    /// The language of `text` (personal data left out, so an address does not sway it).
    pub fn language(&self, text: &str) -> Language {
        self.detector.detect(&self.masker.blank(text))
    }

    /// True when small-talk detection is on and `text` has no content.
    pub fn is_small_talk(&self, text: &str) -> bool {
        self.options.small_talk && is_small_talk(&self.masker.blank(text))
    }

    /// `text` with personal data replaced by `[email]`, `[phone]`, ... when masking is on;
    /// for samples kept in the model and prompts sent to a labelling provider.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.options.mask {
            Cow::Owned(self.masker.mask(text))
        } else {
            Cow::Borrowed(text)
        }
    }

    /// The keyword terms of one document: personal data removed (when masking is on), Unicode
    /// tokens ([`tokenize()`]), minus the stop words of the document's language and English.
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.terms_and_language(text).0
    }

    /// [`TextAnalyzer::terms`] and the language used for its stop words.
    pub fn terms_and_language(&self, text: &str) -> (Vec<String>, Language) {
        let clean = self.without_pii(text);
        let lang = self.detector.detect(&clean);
        let terms = tokenize(&clean).into_iter().filter(|t| !is_stop_word(lang, t)).collect();
        (terms, lang)
    }

    /// True when `text` has no word character once personal data is removed: the Unicode
    /// analogue of BERTopic's empty preprocessed document (see [`crate::vectorize::EMPTY_DOC`]).
    pub fn is_empty_text(&self, text: &str) -> bool {
        !self.without_pii(text).chars().any(char::is_alphanumeric)
    }

    /// ([`TextAnalyzer::is_empty_text`], [`TextAnalyzer::terms`]) with one masking pass: what
    /// the vectorizer counts for a document.
    pub fn document(&self, text: &str) -> (bool, Vec<String>) {
        let clean = self.without_pii(text);
        let lang = self.detector.detect(&clean);
        let terms = tokenize(&clean).into_iter().filter(|t| !is_stop_word(lang, t)).collect();
        (!clean.chars().any(char::is_alphanumeric), terms)
    }

    /// `text` with personal data blanked out when masking is on.
    fn without_pii<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.options.mask {
            Cow::Owned(self.masker.blank(text))
        } else {
            Cow::Borrowed(text)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn options_defaults_and_serde() {
        let o = TextOptions::default();
        assert!(!o.bertopic_compat && o.small_talk && o.mask);
        assert_eq!(o.language, LanguageSetting::Auto);
        let parsed: TextOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, o);
        let parsed: TextOptions = serde_json::from_str(
            r#"{"language":"fr","default_language":"fr","mask":false,
                "extra_patterns":[{"name":"order","pattern":"ORD-\\d+"}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.language, LanguageSetting::Fixed(Language::Fr));
        assert_eq!(parsed.default_language, Language::Fr);
        assert!(!parsed.mask);
        assert_eq!(parsed.extra_patterns, vec![ExtraPattern::new("order", r"ORD-\d+")]);
        let back: TextOptions =
            serde_json::from_str(&serde_json::to_string(&parsed).unwrap()).unwrap();
        assert_eq!(back, parsed);
        assert!(serde_json::from_str::<TextOptions>(r#"{"langage":"fr"}"#).is_err());
        assert!(TextOptions::default().with_extra_pattern("x", "(").validate().is_err());
        assert!(TextAnalyzer::new(&TextOptions::default().with_extra_pattern("x", "(")).is_err());
    }

    #[test]
    fn terms_use_the_documents_language() {
        let a = TextAnalyzer::new(&TextOptions::default()).unwrap();
        let (terms, lang) =
            a.terms_and_language("Bonjour, mon télétravail est bloqué : je n'ai pas le VPN");
        assert_eq!(lang, Language::Fr);
        assert_eq!(terms, vec!["télétravail", "bloqué", "vpn"]);
        let (terms, lang) = a.terms_and_language("My refund for the café order never arrived");
        assert_eq!(lang, Language::En);
        assert_eq!(terms, vec!["refund", "café", "order", "arrived"]);
    }

    #[test]
    fn personal_data_never_becomes_a_term() {
        let a = TextAnalyzer::new(&TextOptions::default().with_extra_pattern("order", r"ORD-\d+"))
            .unwrap();
        let terms = a.terms("write to jean.dupont@exemple.fr about ORD-991 or call 06 12 34 56 78");
        assert_eq!(terms, vec!["write"]);
        assert_eq!(a.mask("ORD-991, jean@x.fr"), "[order], [email]");
        let off = TextAnalyzer::new(&TextOptions::default().with_mask(false)).unwrap();
        assert_eq!(off.mask("jean@x.fr"), "jean@x.fr");
        assert!(off.terms("jean@exemple.fr").contains(&"exemple".to_string()));
    }

    #[test]
    fn compat_mode_is_the_bertopic_code_path() {
        use crate::vectorize::{class_term_counts, DocTerms, Tokenizer};
        let texts: Vec<String> = [
            "Le télétravail: j'ai un souci avec mon VPN",
            "e-mail me at jean@exemple.fr",
            "??",
            "Refund my ORDER, refund!",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let old = Tokenizer::new(true).unwrap();
        let compat = Tokenizer::with_options(true, &TextOptions::compat()).unwrap();
        assert!(compat.analyzer().is_none());
        let a = class_term_counts(&DocTerms::count(&texts, true, &old), &[0, 1, 2, 3], 4).unwrap();
        let b =
            class_term_counts(&DocTerms::count(&texts, true, &compat), &[0, 1, 2, 3], 4).unwrap();
        assert_eq!(a, b);
        assert!(a.vocabulary.contains(&"tltravail".to_string()));
        assert!(a.vocabulary.contains(&"jai".to_string()));
    }

    #[test]
    fn unicode_mode_counts_terms_per_language() {
        use crate::vectorize::{class_term_counts, count_in_vocabulary, DocTerms, Tokenizer};
        let texts: Vec<String> = [
            "Le télétravail: j'ai un souci avec mon VPN",
            "Mon télétravail est bloqué, je n'ai pas le VPN",
            "e-mail me at jean@exemple.fr",
            "?? 🙏",
            "Refund my ORDER, refund!",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let t = Tokenizer::with_options(true, &TextOptions::default()).unwrap();
        assert!(t.analyzer().is_some());
        let cc =
            class_term_counts(&DocTerms::count(&texts, true, &t), &[0, 0, 1, 2, 3], 4).unwrap();
        assert_eq!(
            cc.vocabulary,
            vec!["bloqué", "emptydoc", "mail", "order", "refund", "souci", "télétravail", "vpn"]
        );
        let words = |row: &[(u32, u32)]| -> Vec<(String, u32)> {
            row.iter().map(|&(i, c)| (cc.vocabulary[i as usize].clone(), c)).collect()
        };
        let w = |s: &str, c: u32| (s.to_string(), c);
        assert_eq!(
            words(&cc.rows[0]),
            vec![w("bloqué", 1), w("souci", 1), w("télétravail", 2), w("vpn", 2)]
        );
        assert_eq!(words(&cc.rows[1]), vec![w("mail", 1)]);
        assert_eq!(words(&cc.rows[2]), vec![w("emptydoc", 1)]);
        assert_eq!(words(&cc.rows[3]), vec![w("order", 1), w("refund", 2)]);
        let row = count_in_vocabulary("Toujours pas de VPN en télétravail", &t, &cc);
        assert_eq!(words(&row), vec![w("télétravail", 1), w("vpn", 1)]);
    }

    #[test]
    fn small_talk_switch_and_empty_text() {
        let a = TextAnalyzer::new(&TextOptions::default()).unwrap();
        assert!(a.is_small_talk("merci 🙏"));
        assert!(!a.is_small_talk("merci, mais toujours pas de remboursement"));
        let off = TextAnalyzer::new(&TextOptions::default().with_small_talk(false)).unwrap();
        assert!(!off.is_small_talk("merci 🙏"));
        assert!(a.is_empty_text("🙏 ?? jean@x.fr"));
        assert!(!a.is_empty_text("ok"));
    }
}
