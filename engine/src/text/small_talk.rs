//! Recognises messages with no content: greetings, thanks, acknowledgements, presence checks
//! ("hello?", "vous êtes là ?"), goodbyes and emoji-only messages, in the supported languages.
//! Such messages land in every cluster's neighbourhood and make topics like "thanks_ok_merci";
//! the pipeline can leave them out of fitting and report them apart.
//!
//! A message is small talk when, after lowercasing, NFC and dropping punctuation and emoji:
//! - it has no word at all (emoji, "?", "..."), or
//! - it has at most [`MAX_WORDS`] words, all of them covered by the lexicon below (multi-word
//!   phrases such as "pas de souci" first, then single words), and at least one of them is a
//!   *core* item (a greeting, thanks, acknowledgement, goodbye or presence check; glue words
//!   like "you", "for", "votre" alone are not enough).
//!
//! So "thanks, my refund never arrived" is not small talk ("refund" is not in the lexicon), nor
//! is "ça marche pas" ("pas" is only known inside phrases like "pas de souci"). Letters repeated
//! for emphasis are folded ("merciii", "okkk", "thaaanks") and laughter ("hahaha", "mdr") is a
//! core word. After a greeting or thanks, one capitalised unknown word is taken for a name
//! ("merci Julie", "hi Sarah") in messages of up to four words.

use std::collections::HashSet;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// Longer messages are never small talk.
pub const MAX_WORDS: usize = 15;

/// Core single words: greetings, thanks, acknowledgements, goodbyes, laughter.
const CORE: &[&str] = &[
    // en
    "hi",
    "hello",
    "hey",
    "heya",
    "hiya",
    "yo",
    "howdy",
    "morning",
    "evening",
    "afternoon",
    "thanks",
    "thank",
    "thx",
    "thnx",
    "thanx",
    "tnx",
    "ty",
    "tysm",
    "tyvm",
    "cheers",
    "ok",
    "okay",
    "okey",
    "oki",
    "okie",
    "k",
    "kk",
    "alright",
    "allright",
    "sure",
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "no",
    "nope",
    "nah",
    "fine",
    "great",
    "perfect",
    "cool",
    "nice",
    "awesome",
    "excellent",
    "wonderful",
    "amazing",
    "brilliant",
    "lovely",
    "noted",
    "understood",
    "gotcha",
    "bye",
    "goodbye",
    "byebye",
    "cya",
    "lol",
    "lmao",
    "np",
    "please",
    "pls",
    "plz",
    "appreciated",
    "welcome",
    "thankyou",
    // fr
    "bonjour",
    "bonsoir",
    "salut",
    "coucou",
    "bjr",
    "bsr",
    "slt",
    "cc",
    "allo",
    "allô",
    "merci",
    "mrc",
    "mci",
    "remercie",
    "oui",
    "ouais",
    "ouep",
    "non",
    "nan",
    "parfait",
    "parfaitement",
    "super",
    "top",
    "génial",
    "genial",
    "nickel",
    "impeccable",
    "entendu",
    "noté",
    "compris",
    "cordialement",
    "revoir",
    "bientôt",
    "bientot",
    "dac",
    "dacc",
    "daccord",
    "d'accord",
    "d'acc",
    "mdr",
    "ptdr",
    "bravo",
    "voilà",
    "voila",
    "bisous",
    "ciao",
    // de
    "hallo",
    "danke",
    "dankeschön",
    "ja",
    "nein",
    "gut",
    "prima",
    "klasse",
    "perfekt",
    "klar",
    "genau",
    "tschüss",
    "tschüs",
    "servus",
    "moin",
    // es
    "hola",
    "gracias",
    "vale",
    "sí",
    "si",
    "perfecto",
    "genial",
    "bueno",
    "adiós",
    "adios",
    "chao",
    "saludos",
    // it
    "grazie",
    "perfetto",
    "benissimo",
    "certo",
    "salve",
    "buongiorno",
    "buonasera",
    "arrivederci",
    // pt
    "olá",
    "ola",
    "oi",
    "obrigado",
    "obrigada",
    "obg",
    "valeu",
    "sim",
    "não",
    "nao",
    "beleza",
    "ótimo",
    "otimo",
    "perfeito",
    "tchau",
    // nl
    "hoi",
    "dankjewel",
    "dankuwel",
    "bedankt",
    "oke",
    "doei",
    "groetjes",
];

/// Glue words: allowed around core items, not small talk on their own.
const GLUE: &[&str] = &[
    // en
    "you",
    "your",
    "u",
    "ur",
    "so",
    "very",
    "much",
    "a",
    "lot",
    "lots",
    "for",
    "the",
    "all",
    "again",
    "too",
    "to",
    "have",
    "day",
    "night",
    "weekend",
    "good",
    "there",
    "anyone",
    "anybody",
    "someone",
    "is",
    "are",
    "it",
    "that",
    "that's",
    "thats",
    "it's",
    "i",
    "will",
    "do",
    "see",
    "soon",
    "many",
    "just",
    "oh",
    "ah",
    "well",
    "and",
    "then",
    "also",
    "help",
    "support",
    "quick",
    "fast",
    "reply",
    "response",
    "answer",
    "info",
    "sir",
    "madam",
    "mate",
    "guys",
    "team",
    "dear",
    "really",
    "kind",
    "kindly",
    "everyone",
    "everybody",
    "now",
    "yes",
    "again",
    "in",
    "advance",
    "sorted",
    "that",
    "one",
    "got",
    "it",
    "this",
    "was",
    "helpful",
    // fr
    "je",
    "vous",
    "te",
    "tu",
    "à",
    "a",
    "de",
    "pour",
    "votre",
    "ta",
    "tout",
    "toute",
    "très",
    "tres",
    "bien",
    "beaucoup",
    "bcp",
    "aide",
    "réponse",
    "reponse",
    "retour",
    "rapide",
    "encore",
    "madame",
    "monsieur",
    "mme",
    "c'est",
    "cest",
    "ça",
    "ca",
    "alors",
    "bon",
    "bonne",
    "belle",
    "journée",
    "journee",
    "soirée",
    "soiree",
    "fin",
    "semaine",
    "aussi",
    "et",
    "la",
    "le",
    "les",
    "reçu",
    "recu",
    "infos",
    "mille",
    "fois",
    "infiniment",
    "ah",
    "oh",
    "ben",
    "bah",
    "d'avance",
    "avance",
    "équipe",
    "en",
    "effet",
    "donc",
    "vos",
    "explications",
    // de
    "vielen",
    "herzlichen",
    "sehr",
    "schön",
    "guten",
    "tag",
    "morgen",
    "abend",
    "alles",
    "dir",
    "ihnen",
    "auch",
    "noch",
    "einen",
    "schönen",
    // es
    "muchas",
    "mil",
    "buenos",
    "buenas",
    "días",
    "dias",
    "tardes",
    "noches",
    "todo",
    "bien",
    "muy",
    "por",
    "tu",
    "su",
    "ayuda",
    "usted",
    // it
    "mille",
    "tante",
    "tutto",
    "bene",
    "molto",
    "va",
    "ok",
    // pt
    "muito",
    "bom",
    "dia",
    "boa",
    "tarde",
    "noite",
    "tudo",
    "bem",
    "pela",
    "ajuda",
    // nl
    "je",
    "wel",
    "jullie",
    "veel",
    "heel",
    "fijne",
    "dag",
    "goedemorgen",
    "goedemiddag",
    "goedenavond",
    "goed",
    "prima",
];

/// Core phrases (words separated by one space, as [`words`] splits them).
const PHRASES: &[&str] = &[
    // en
    "thank you",
    "you too",
    "no problem",
    "no worries",
    "all good",
    "all set",
    "are you there",
    "anyone there",
    "is anyone there",
    "anybody there",
    "is anybody there",
    "that's all",
    "that's it",
    "got it",
    "sounds good",
    "of course",
    "have a nice day",
    "have a good day",
    "have a great day",
    "good night",
    "good day",
    "take care",
    "see you",
    "talk soon",
    "my pleasure",
    "never mind",
    "nevermind",
    "will do",
    "i see",
    "makes sense",
    "fair enough",
    "much appreciated",
    "same to you",
    // fr
    "ça marche",
    "ca marche",
    "ça roule",
    "ca roule",
    "pas de souci",
    "pas de soucis",
    "pas de problème",
    "pas de probleme",
    "pas de pb",
    "pas grave",
    "c'est noté",
    "c'est note",
    "c'est bon",
    "c'est tout",
    "c'est parfait",
    "c'est gentil",
    "c'est compris",
    "très bien",
    "tres bien",
    "au revoir",
    "à bientôt",
    "a bientot",
    "à plus",
    "a plus",
    "bonne journée",
    "bonne journee",
    "bonne soirée",
    "bonne soiree",
    "bon week-end",
    "bon weekend",
    "bonne fin de journée",
    "vous aussi",
    "toi aussi",
    "il y a quelqu'un",
    "y a quelqu'un",
    "vous êtes là",
    "vous etes la",
    "tu es là",
    "t'es là",
    "je vous remercie",
    "merci à vous",
    "bien reçu",
    "bien noté",
    "de rien",
    "avec plaisir",
    "ça va",
    "ca va",
    "bonne continuation",
    // de
    "kein problem",
    "alles klar",
    "alles gut",
    "bis bald",
    "auf wiedersehen",
    "guten tag",
    "guten morgen",
    "guten abend",
    "schönen tag",
    // es
    "de nada",
    "no pasa nada",
    "muchas gracias",
    "buenos días",
    "buenas tardes",
    "hasta luego",
    "sin problema",
    // it
    "va bene",
    "nessun problema",
    "a presto",
    "di niente",
    "prego",
    // pt
    "sem problema",
    "de nada",
    "bom dia",
    "boa tarde",
    "boa noite",
    "até logo",
    // nl
    "geen probleem",
    "tot ziens",
    "dank je",
    "dank u",
    "fijne dag",
];

struct Lexicon {
    core: HashSet<String>,
    glue: HashSet<String>,
    phrases: Vec<Vec<String>>,
    longest_phrase: usize,
}

fn lexicon() -> &'static Lexicon {
    static L: OnceLock<Lexicon> = OnceLock::new();
    L.get_or_init(|| {
        let norm = |w: &str| w.nfc().collect::<String>();
        let phrases: Vec<Vec<String>> =
            PHRASES.iter().map(|p| p.split(' ').map(norm).collect()).collect();
        Lexicon {
            core: CORE.iter().map(|w| norm(w)).collect(),
            glue: GLUE.iter().map(|w| norm(w)).collect(),
            longest_phrase: phrases.iter().map(Vec::len).max().unwrap_or(1),
            phrases,
        }
    })
}

/// The words of `text` as (lowercase NFC with ’ → ', starts with an uppercase letter).
/// Words are runs of letters, digits, marks and inner apostrophes or hyphens.
fn words(text: &str) -> Vec<(String, bool)> {
    let text: String = text.nfc().collect::<String>().replace('’', "'");
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    let is_word = |c: char| c.is_alphanumeric() || unicode_mark(c);
    for (i, &c) in chars.iter().enumerate() {
        let inner = (c == '\'' || c == '-')
            && !cur.is_empty()
            && chars.get(i + 1).is_some_and(|&n| is_word(n));
        if is_word(c) || inner {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|w| {
            let capital = w.chars().next().is_some_and(char::is_uppercase);
            (w.to_lowercase(), capital)
        })
        .collect()
}

/// Combining marks (so NFD leftovers stay inside their word).
fn unicode_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF)
}

/// `word` with runs of three or more of one letter cut to `keep` ("thaaanks" → "thanks" with
/// 1, "cooool" → "cool" with 2); doubled letters are cut to one only when `keep` is 1 and
/// `all` is set ("okk" → "ok", "mercii" → "merci").
fn fold_repeats(word: &str, keep: usize, all: bool) -> String {
    let mut out = String::with_capacity(word.len());
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        let run = j - i;
        let n = if run >= 3 || (all && run == 2) { keep.min(run) } else { run };
        out.extend(std::iter::repeat_n(chars[i], n));
        i = j;
    }
    out
}

fn is_laughter(word: &str) -> bool {
    let w = word.as_bytes();
    w.len() >= 4 && w.chunks(2).all(|c| matches!(c, b"ha" | b"ah" | b"he" | b"eh" | b"hi" | b"h"))
        || matches!(word, "xd" | "xdd" | "lool" | "looool")
}

/// The lexicon form of `word`: itself, or with repeated letters folded, if the lexicon has it.
fn canonical(word: &str, lex: &Lexicon) -> String {
    let known = |w: &str| lex.core.contains(w) || lex.glue.contains(w);
    if known(word) || is_laughter(word) {
        return word.to_string();
    }
    for (keep, all) in [(2, false), (1, false), (1, true)] {
        let folded = fold_repeats(word, keep, all);
        if known(&folded) {
            return folded;
        }
    }
    word.to_string()
}

/// True when `text` has no content: see the module docs.
pub fn is_small_talk(text: &str) -> bool {
    let lex = lexicon();
    let raw = words(text);
    if raw.is_empty() {
        return true;
    }
    if raw.len() > MAX_WORDS {
        return false;
    }
    let ws: Vec<String> = raw.iter().map(|(w, _)| canonical(w, lex)).collect();
    let n = ws.len();
    // best[i]: Some(has_core) when ws[..i] is covered; `names` counts name allowances used.
    let mut best: Vec<Option<(bool, usize)>> = vec![None; n + 1];
    best[0] = Some((false, 0));
    for i in 0..n {
        let Some((core, names)) = best[i] else { continue };
        let mut reach = |j: usize, c: bool, nm: usize| {
            let cand = (core || c, names + nm);
            best[j] = Some(match best[j] {
                None => cand,
                Some(old) => better(old, cand),
            });
        };
        for len in 2..=lex.longest_phrase.min(n - i) {
            if lex.phrases.iter().any(|p| p.as_slice() == &ws[i..i + len]) {
                reach(i + len, true, 0);
            }
        }
        let w = ws[i].as_str();
        if lex.core.contains(w) || is_laughter(w) {
            reach(i + 1, true, 0);
        } else if lex.glue.contains(w) {
            reach(i + 1, false, 0);
        } else if i > 0 && raw[i].1 && n <= 4 && !w.chars().any(|c| c.is_ascii_digit()) {
            reach(i + 1, false, 1);
        }
    }
    match best[n] {
        Some((true, 0)) => true,
        Some((true, 1)) => ws.iter().any(|w| GREETS_OR_THANKS.contains(&w.as_str())),
        _ => false,
    }
}

/// Words after which a capitalised unknown word is taken for a name.
const GREETS_OR_THANKS: &[&str] = &[
    "hi", "hello", "hey", "thanks", "thank", "thx", "bye", "bonjour", "bonsoir", "salut", "coucou",
    "merci", "hallo", "danke", "hola", "gracias", "ciao", "grazie", "olá", "oi", "obrigado",
    "obrigada", "hoi", "bedankt",
];

/// The better of two ways to cover the same prefix: core found, then fewer names.
fn better(a: (bool, usize), b: (bool, usize)) -> (bool, usize) {
    match (a.0, b.0) {
        (true, false) => a,
        (false, true) => b,
        _ if b.1 < a.1 => b,
        _ => a,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `engine/tests/data/small_talk_sample.tsv`: `lang<TAB>small|real<TAB>message`.
    const SAMPLE: &str = include_str!("../../tests/data/small_talk_sample.tsv");

    /// `engine/tests/data/small_talk_holdout.tsv`: same format, never used for tuning.
    const HOLDOUT: &str = include_str!("../../tests/data/small_talk_holdout.tsv");

    fn sample(lang: &str) -> Vec<(bool, &'static str)> {
        labelled(SAMPLE, lang)
    }

    fn labelled(data: &'static str, lang: &str) -> Vec<(bool, &'static str)> {
        data.lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.splitn(3, '\t');
                let (code, label, text) = (f.next()?, f.next()?, f.next()?);
                (code == lang).then_some((label == "small", text))
            })
            .collect()
    }

    fn scores(lang: &str) -> (f64, f64, usize) {
        scores_on(sample(lang), lang)
    }

    fn scores_on(s: Vec<(bool, &'static str)>, lang: &str) -> (f64, f64, usize) {
        let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
        for (small, text) in &s {
            let got = is_small_talk(text);
            match (got, *small) {
                (true, true) => tp += 1,
                (true, false) => {
                    fp += 1;
                    eprintln!("{lang} false positive: {text}");
                }
                (false, true) => {
                    fneg += 1;
                    eprintln!("{lang} missed: {text}");
                }
                _ => {}
            }
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fneg).max(1) as f64;
        eprintln!("{lang}: precision {precision:.4} recall {recall:.4} on {} messages", s.len());
        (precision, recall, s.len())
    }

    #[test]
    fn english_sample_precision_and_recall() {
        let (p, r, n) = scores("en");
        assert!(n >= 60, "{n} messages");
        assert!(p >= 0.95, "precision {p:.4}");
        assert!(r >= 0.9, "recall {r:.4}");
    }

    #[test]
    fn french_sample_precision_and_recall() {
        let (p, r, n) = scores("fr");
        assert!(n >= 60, "{n} messages");
        assert!(p >= 0.95, "precision {p:.4}");
        assert!(r >= 0.9, "recall {r:.4}");
    }

    #[test]
    fn holdout_precision_and_recall() {
        let mut all = labelled(HOLDOUT, "en");
        all.extend(labelled(HOLDOUT, "fr"));
        let (p, r, n) = scores_on(all, "holdout en+fr");
        assert!(n >= 60, "{n} messages");
        assert!(p >= 0.95, "precision {p:.4}");
        assert!(r >= 0.8, "recall {r:.4}");
    }

    #[test]
    fn the_brief_examples() {
        for s in ["ok", "thanks 🙏", "hi!!", "hello?", "merci !", "bonjour", "d'accord", "🙏", ""]
        {
            assert!(is_small_talk(s), "{s}");
        }
        for s in ["thanks, my refund never arrived", "ça marche pas", "help", "12345"] {
            assert!(!is_small_talk(s), "{s}");
        }
    }

    #[test]
    fn other_languages_and_folding() {
        for s in
            ["Hallo, danke!", "muchas gracias", "grazie mille", "obrigado", "bedankt", "hahaha"]
        {
            assert!(is_small_talk(s), "{s}");
        }
        assert!(!is_small_talk("Hallo, mein Paket ist nicht angekommen"));
        assert_eq!(fold_repeats("thaaanks", 1, false), "thanks");
        assert_eq!(fold_repeats("cooool", 2, false), "cool");
        assert_eq!(fold_repeats("mercii", 1, true), "merci");
    }

    #[test]
    fn names_only_after_greetings_and_in_short_messages() {
        assert!(is_small_talk("merci Julie"));
        assert!(!is_small_talk("merci julie refund"));
        assert!(!is_small_talk("Refund"));
        assert!(!is_small_talk("thanks Sarah the Refund is Missing"));
    }
}
