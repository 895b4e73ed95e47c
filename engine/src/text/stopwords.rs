//! Stop words per [`Language`], for the Unicode (non-compat) vectorizer.
//!
//! - Each supported language uses NLTK's list (from the `stop-words` crate) plus a short chat
//!   supplement below: spoken-register function words NLTK lacks ("ça", "très", "jai" typed
//!   without its apostrophe) and greetings/thanks ("bonjour", "merci", "thanks"), which support
//!   conversations repeat in every topic and would otherwise top the keyword lists.
//! - English is scikit-learn's list (BERTopic's `stop_words="english"`, kept exactly in
//!   [`crate::vectorize::ENGLISH_STOP_WORDS`]) ∪ NLTK's English list (which adds the contraction
//!   stems "don", "didn", "ll", "ve" that splitting "don't" leaves) ∪ the supplement.
//! - A document's stop words are its own language's **and** English's: code-switching into
//!   English ("le meeting est ok", "mein Account is locked") is the common case in this
//!   traffic. The lists of other languages are not applied (Dutch "door" and Italian "come"
//!   are English content words).
//! - Words are stored NFC and lowercase, as [`super::tokenize()`] emits them; elided forms are
//!   matched after elision stripping ("qu'il" → "il").

use std::collections::HashSet;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use super::language::Language;
use crate::vectorize::ENGLISH_STOP_WORDS;

/// Chat words added to NLTK's English list.
const EN_EXTRA: &[&str] = &[
    "hi", "hello", "hey", "thanks", "thank", "thx", "ok", "okay", "yes", "yeah", "pls", "plz",
    "im", "ive", "dont", "doesnt", "didnt", "cant", "wont", "isnt", "cannot", "would", "could",
    "also", "just", "get", "got", "like",
];
/// Chat words and function words missing from NLTK's French list.
const FR_EXTRA: &[&str] = &[
    "ça",
    "ca",
    "cela",
    "ceci",
    "cet",
    "cette",
    "celui",
    "celle",
    "ceux",
    "tout",
    "tous",
    "toute",
    "toutes",
    "très",
    "tres",
    "plus",
    "moins",
    "si",
    "comme",
    "bien",
    "aussi",
    "alors",
    "donc",
    "car",
    "où",
    "quand",
    "encore",
    "déjà",
    "deja",
    "non",
    "oui",
    "ok",
    "jai",
    "cest",
    "ya",
    "svp",
    "stp",
    "bonjour",
    "bonsoir",
    "salut",
    "merci",
    "aujourd'hui",
    "aujourd",
    "hui",
    "peux",
    "peut",
    "pouvez",
    "pourriez",
    "fait",
    "faire",
    "être",
    "avoir",
    "vais",
    "va",
    "veux",
    "voudrais",
    "chez",
    "sans",
    "sous",
    "entre",
    "vers",
    "depuis",
    "après",
    "avant",
    "rien",
    "quelqu'un",
    "quoi",
    "comment",
    "pourquoi",
    "ai",
    "suis",
    "dois",
    "faut",
    "là",
    "ici",
    "leurs",
    "votre",
    "vos",
    "mes",
    "autre",
    "autres",
    "fois",
    "quel",
    "quelle",
    "quels",
    "quelles",
    // Prepositions, determiners and adverbs of time and degree NLTK's list lacks, which the
    // French keyword benchmark (benches/RESULTS.md) found among keywords: "pendant la période
    // d'essai", "toujours pas reçu", "aucun colis".
    "pendant",
    "durant",
    "malgré",
    "selon",
    "dès",
    "lors",
    "parmi",
    "contre",
    "parce",
    "puis",
    "ensuite",
    "maintenant",
    "toujours",
    "jamais",
    "aucun",
    "aucune",
    "chaque",
    "plusieurs",
    "quelque",
    "quelques",
    "peu",
    "trop",
    "assez",
    "beaucoup",
    "tant",
    "vraiment",
];
/// Chat words missing from NLTK's German list.
const DE_EXTRA: &[&str] = &[
    "hallo", "danke", "bitte", "ok", "ja", "nein", "mal", "schon", "noch", "gibt", "kann", "könnt",
    "können", "möchte", "gerne", "guten", "tag", "morgen", "mfg", "lg", "immer",
];
/// Chat words missing from NLTK's Spanish list.
const ES_EXTRA: &[&str] = &[
    "hola", "gracias", "ok", "vale", "sí", "si", "favor", "buenos", "buenas", "días", "puedo",
    "puede", "pueden", "quiero", "hacer", "hace", "ya", "aún", "todavía", "saludos",
];
/// Chat words missing from NLTK's Italian list.
const IT_EXTRA: &[&str] = &[
    "ciao",
    "grazie",
    "ok",
    "sì",
    "buongiorno",
    "buonasera",
    "salve",
    "posso",
    "può",
    "vorrei",
    "ancora",
    "già",
    "fare",
    "fatto",
    "cortesia",
    "favore",
];
/// Chat words missing from NLTK's Portuguese list.
const PT_EXTRA: &[&str] = &[
    "olá", "ola", "oi", "obrigado", "obrigada", "ok", "sim", "não", "favor", "bom", "dia", "posso",
    "pode", "quero", "fazer", "ainda", "já",
];
/// Chat words missing from NLTK's Dutch list.
const NL_EXTRA: &[&str] = &[
    "hallo",
    "hoi",
    "dank",
    "bedankt",
    "ok",
    "ja",
    "nee",
    "graag",
    "alstublieft",
    "aub",
    "goedemorgen",
    "kan",
    "kunnen",
    "wil",
    "nog",
    "al",
];

/// The NLTK code, the supplement, for each supported language.
fn sources(lang: Language) -> Option<(&'static str, &'static [&'static str])> {
    Some(match lang {
        Language::En => ("en", EN_EXTRA),
        Language::Fr => ("fr", FR_EXTRA),
        Language::De => ("de", DE_EXTRA),
        Language::Es => ("es", ES_EXTRA),
        Language::It => ("it", IT_EXTRA),
        Language::Pt => ("pt", PT_EXTRA),
        Language::Nl => ("nl", NL_EXTRA),
        Language::Other => return None,
    })
}

fn build(lang: Language) -> HashSet<String> {
    let mut set = HashSet::new();
    if let Some((code, extra)) = sources(lang) {
        let nltk = stop_words::lookup(code).unwrap_or(&[]);
        for w in nltk.iter().chain(extra) {
            set.insert(w.nfc().collect::<String>().to_lowercase().replace('’', "'"));
        }
    }
    if lang == Language::En {
        set.extend(ENGLISH_STOP_WORDS.iter().map(|w| w.to_string()));
    }
    set
}

/// The stop words of `lang` alone (empty for [`Language::Other`]).
pub fn own_stop_words(lang: Language) -> &'static HashSet<String> {
    static SETS: OnceLock<Vec<HashSet<String>>> = OnceLock::new();
    let sets = SETS.get_or_init(|| {
        Language::SUPPORTED.into_iter().chain([Language::Other]).map(build).collect()
    });
    let i =
        Language::SUPPORTED.iter().position(|&l| l == lang).unwrap_or(Language::SUPPORTED.len());
    &sets[i]
}

/// True when `token` (lowercase, NFC) is a stop word of `lang` alone.
pub fn is_own_stop_word(lang: Language, token: &str) -> bool {
    own_stop_words(lang).contains(token)
}

/// True when `token` (lowercase, NFC, as [`super::tokenize()`] emits it) is a stop word for a
/// document in `lang`: one of `lang`'s or of English's.
pub fn is_stop_word(lang: Language, token: &str) -> bool {
    is_own_stop_word(lang, token) || (lang != Language::En && is_own_stop_word(Language::En, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_language_has_a_list() {
        for lang in Language::SUPPORTED {
            assert!(own_stop_words(lang).len() >= 100, "{lang}: {}", own_stop_words(lang).len());
        }
        assert!(own_stop_words(Language::Other).is_empty());
    }

    #[test]
    fn english_contains_sklearns_list() {
        for w in ENGLISH_STOP_WORDS {
            assert!(is_own_stop_word(Language::En, w), "{w}");
        }
        for w in ["don", "didn", "ll", "thanks"] {
            assert!(is_own_stop_word(Language::En, w), "{w}");
        }
        assert!(!is_stop_word(Language::En, "refund"));
    }

    #[test]
    fn french_chat_words_and_elided_forms() {
        for w in
            ["mon", "le", "je", "jai", "pas", "est", "ai", "il", "pendant", "toujours", "équipe"]
        {
            let expected = w != "équipe";
            assert_eq!(is_stop_word(Language::Fr, w), expected, "{w}");
        }
        for w in ["télétravail", "remboursement", "congés", "réunions"] {
            assert!(!is_stop_word(Language::Fr, w), "{w}");
        }
        // English function words are removed from French documents too (code-switching).
        assert!(is_stop_word(Language::Fr, "the"));
        // Another language's list is not applied: Dutch "door" is an English word.
        assert!(is_own_stop_word(Language::Nl, "door"));
        assert!(!is_stop_word(Language::En, "door"));
        assert!(!is_stop_word(Language::Fr, "door"));
    }

    #[test]
    fn other_languages() {
        assert!(is_stop_word(Language::De, "und"));
        assert!(is_stop_word(Language::Es, "que"));
        assert!(is_stop_word(Language::It, "della"));
        assert!(is_stop_word(Language::Pt, "não"));
        assert!(is_stop_word(Language::Nl, "het"));
        assert!(is_stop_word(Language::Other, "the"));
        assert!(!is_stop_word(Language::Other, "und"));
    }
}
