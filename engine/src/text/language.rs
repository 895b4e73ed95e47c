//! Per-document language identification with [`whatlang`] (character trigrams, no model files),
//! narrowed to the languages topicd has stop words for.
//!
//! - Text in a non-Latin script (Cyrillic, Arabic, Han, ...) is [`Language::Other`], however
//!   short.
//! - Latin-script text is classified among the seven [`Language::SUPPORTED`] languages only (an
//!   allowlist): on 4-10 word support messages the open detector often answers Latin, Catalan or
//!   Tagalog for English and French, and a wrong "other" would cost the document its stop words.
//! - Text with fewer than [`MIN_WORDS`] words or [`MIN_LETTERS`] letters ("ok", "merci !") gets the
//!   tenant's default language: trigram statistics on two words are noise.
//! - When whatlang's confidence is low, a stop-word vote (which supported language's stop words
//!   cover most of the words) settles it; short messages are mostly function words, which is
//!   what trigram models are worst at and word lists best at.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::stopwords;

/// A document language topicd can handle specifically (stop words, small talk). Serialised as its
/// ISO 639-1 code (`"en"`, `"fr"`, ...) or `"other"`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Language {
    /// English.
    #[default]
    En,
    /// French.
    Fr,
    /// German.
    De,
    /// Spanish.
    Es,
    /// Italian.
    It,
    /// Portuguese.
    Pt,
    /// Dutch.
    Nl,
    /// Any other language: only the English stop words apply.
    Other,
}

impl Language {
    /// The languages with their own stop words and small-talk phrases.
    pub const SUPPORTED: [Language; 7] = [
        Language::En,
        Language::Fr,
        Language::De,
        Language::Es,
        Language::It,
        Language::Pt,
        Language::Nl,
    ];

    /// The ISO 639-1 code (`"other"` for [`Language::Other`]).
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::De => "de",
            Language::Es => "es",
            Language::It => "it",
            Language::Pt => "pt",
            Language::Nl => "nl",
            Language::Other => "other",
        }
    }

    /// Parses an ISO 639-1 code or `"other"` (case-insensitive).
    pub fn from_code(code: &str) -> Option<Language> {
        let code = code.trim().to_ascii_lowercase();
        Language::SUPPORTED.into_iter().chain([Language::Other]).find(|l| l.code() == code)
    }

    fn from_whatlang(lang: whatlang::Lang) -> Language {
        match lang {
            whatlang::Lang::Eng => Language::En,
            whatlang::Lang::Fra => Language::Fr,
            whatlang::Lang::Deu => Language::De,
            whatlang::Lang::Spa => Language::Es,
            whatlang::Lang::Ita => Language::It,
            whatlang::Lang::Por => Language::Pt,
            whatlang::Lang::Nld => Language::Nl,
            _ => Language::Other,
        }
    }

    fn to_whatlang(self) -> Option<whatlang::Lang> {
        match self {
            Language::En => Some(whatlang::Lang::Eng),
            Language::Fr => Some(whatlang::Lang::Fra),
            Language::De => Some(whatlang::Lang::Deu),
            Language::Es => Some(whatlang::Lang::Spa),
            Language::It => Some(whatlang::Lang::Ita),
            Language::Pt => Some(whatlang::Lang::Por),
            Language::Nl => Some(whatlang::Lang::Nld),
            Language::Other => None,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How a document's language is chosen: detected per document, or fixed for the tenant.
/// Serialised as `"auto"` or a language code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LanguageSetting {
    /// Detect each document's language ([`LanguageDetector`]).
    #[default]
    Auto,
    /// Every document is in this language.
    Fixed(Language),
}

impl TryFrom<String> for LanguageSetting {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.trim().eq_ignore_ascii_case("auto") {
            return Ok(LanguageSetting::Auto);
        }
        Language::from_code(&value).map(LanguageSetting::Fixed).ok_or_else(|| {
            format!("unknown language `{value}`: expected \"auto\", en, fr, de, es, it, pt, nl or other")
        })
    }
}

impl From<LanguageSetting> for String {
    fn from(value: LanguageSetting) -> Self {
        match value {
            LanguageSetting::Auto => "auto".to_string(),
            LanguageSetting::Fixed(l) => l.code().to_string(),
        }
    }
}

/// Texts with fewer words than this get the default language.
pub const MIN_WORDS: usize = 3;
/// Texts with fewer letters than this get the default language.
pub const MIN_LETTERS: usize = 10;
/// Below this whatlang confidence (after the allowlist), a stop-word vote decides when it is
/// clear-cut (see [`LanguageDetector::detect`]).
const LOW_CONFIDENCE: f64 = 0.5;

/// Chooses a [`Language`] for each document. Deterministic; cheap to clone and share.
#[derive(Debug, Clone)]
pub struct LanguageDetector {
    setting: LanguageSetting,
    fallback: Language,
    latin: whatlang::Detector,
}

impl LanguageDetector {
    /// A detector for `setting`; `fallback` is the tenant's default, used for short texts and
    /// whenever detection gives no answer.
    pub fn new(setting: LanguageSetting, fallback: Language) -> Self {
        let allow = Language::SUPPORTED.iter().filter_map(|l| l.to_whatlang()).collect();
        Self { setting, fallback, latin: whatlang::Detector::with_allowlist(allow) }
    }

    /// The language of `text`.
    pub fn detect(&self, text: &str) -> Language {
        if let LanguageSetting::Fixed(lang) = self.setting {
            return lang;
        }
        // Script first: a short message in Cyrillic or Han is still not in a supported language.
        match whatlang::detect_script(text) {
            Some(whatlang::Script::Latin) => {}
            Some(_) => return Language::Other,
            None => return self.fallback,
        }
        let words: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
            .filter(|w| w.chars().any(char::is_alphabetic))
            .collect();
        let letters = text.chars().filter(|c| c.is_alphabetic()).count();
        if words.len() < MIN_WORDS || letters < MIN_LETTERS {
            return self.fallback;
        }
        let Some(info) = self.latin.detect(text) else { return self.fallback };
        let detected = Language::from_whatlang(info.lang());
        if info.confidence() >= LOW_CONFIDENCE {
            return detected;
        }
        stop_word_vote(&words).unwrap_or(detected)
    }
}

/// The supported language whose stop words cover strictly the most of `words` (at least two),
/// or `None` on a tie.
fn stop_word_vote(words: &[&str]) -> Option<Language> {
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let mut best: Option<(usize, Language)> = None;
    let mut tie = false;
    for lang in Language::SUPPORTED {
        let hits = lower.iter().filter(|w| stopwords::is_own_stop_word(lang, w)).count();
        match best {
            Some((b, _)) if hits == b => tie = true,
            Some((b, _)) if hits < b => {}
            _ => {
                best = Some((hits, lang));
                tie = false;
            }
        }
    }
    match best {
        Some((hits, lang)) if hits >= 2 && !tie => Some(lang),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `engine/tests/data/language_sample.tsv`: `code<TAB>message`, realistic support messages
    /// of at least four words, written for this test (not from any customer).
    const SAMPLE: &str = include_str!("../../tests/data/language_sample.tsv");

    fn sample() -> Vec<(Language, &'static str)> {
        SAMPLE
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (code, text) = l.split_once('\t').unwrap();
                (Language::from_code(code).unwrap(), text)
            })
            .collect()
    }

    #[test]
    fn sample_is_big_enough() {
        let s = sample();
        for lang in [Language::En, Language::Fr, Language::De, Language::Es] {
            let n =
                s.iter().filter(|(l, t)| *l == lang && t.split_whitespace().count() >= 4).count();
            assert!(n >= 40, "{lang}: {n} messages");
        }
    }

    #[test]
    fn accuracy_on_support_messages_is_at_least_95_percent() {
        let d = LanguageDetector::new(LanguageSetting::Auto, Language::En);
        let s = sample();
        let mut wrong = Vec::new();
        for (lang, text) in &s {
            let got = d.detect(text);
            if got != *lang {
                wrong.push(format!("{lang} -> {got}: {text}"));
            }
        }
        let accuracy = 1.0 - wrong.len() as f64 / s.len() as f64;
        eprintln!("language accuracy {accuracy:.4} on {} messages; misses:", s.len());
        for w in &wrong {
            eprintln!("  {w}");
        }
        assert!(accuracy >= 0.95, "accuracy {accuracy:.4}");
    }

    #[test]
    fn short_texts_get_the_default_and_fixed_settings_win() {
        let d = LanguageDetector::new(LanguageSetting::Auto, Language::Fr);
        assert_eq!(d.detect("ok"), Language::Fr);
        assert_eq!(d.detect("thanks!"), Language::Fr);
        assert_eq!(d.detect(""), Language::Fr);
        assert_eq!(d.detect("🙏🙏"), Language::Fr);
        assert_eq!(d.detect("My refund never arrived and I am still waiting"), Language::En);
        let fixed = LanguageDetector::new(LanguageSetting::Fixed(Language::De), Language::Fr);
        assert_eq!(fixed.detect("My refund never arrived and I am still waiting"), Language::De);
    }

    #[test]
    fn non_latin_scripts_are_other() {
        let d = LanguageDetector::new(LanguageSetting::Auto, Language::En);
        assert_eq!(d.detect("Мой возврат так и не пришёл, помогите пожалуйста"), Language::Other);
        assert_eq!(d.detect("我的退款还没有到账，请帮我查一下"), Language::Other);
        assert_eq!(d.detect("谢谢"), Language::Other);
    }

    #[test]
    fn codes_and_settings_round_trip() {
        for l in Language::SUPPORTED.into_iter().chain([Language::Other]) {
            assert_eq!(Language::from_code(l.code()), Some(l));
        }
        assert_eq!(Language::from_code("FR"), Some(Language::Fr));
        assert_eq!(Language::from_code("xx"), None);
        let s: LanguageSetting = serde_json::from_str("\"auto\"").unwrap();
        assert_eq!(s, LanguageSetting::Auto);
        let s: LanguageSetting = serde_json::from_str("\"fr\"").unwrap();
        assert_eq!(s, LanguageSetting::Fixed(Language::Fr));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"fr\"");
        assert!(serde_json::from_str::<LanguageSetting>("\"klingon\"").is_err());
        assert_eq!(serde_json::to_string(&Language::Nl).unwrap(), "\"nl\"");
    }
}
