//! Unicode-aware tokenisation for the non-compat vectorizer.
//!
//! BERTopic's English preprocessing deletes every character outside `[A-Za-z0-9 ]`
//! ("télétravail" → "tltravail"); this keeps the letters of every script instead:
//! 1. NFC normalisation (so "é" typed as `e` + U+0301 and as U+00E9 is one term), lowercase,
//!    typographic apostrophe ’ (U+2019) read as `'`.
//! 2. Words are runs of `\w` (Unicode letters, marks, digits, `_`), possibly joined by
//!    apostrophes: `\w+(?:'\w+)*`.
//! 3. Elision: a French or Italian elided prefix is dropped ("j'ai" → "ai", "l'équipe" →
//!    "équipe", "qu'il" → "il", "dell'ordine" → "ordine"); any other apostrophe splits the word
//!    ("don't" → "don" + "t", "customer's" → "customer" + "s"). A few words that contain an
//!    apostrophe are kept whole ("aujourd'hui", "quelqu'un").
//! 4. As BERTopic's `(?u)\b\w\w+\b`, only pieces of two or more characters are tokens; numbers
//!    stay ("2024", "42").
//! 5. Chinese and Japanese have no spaces, and `\w+` would glue a whole sentence into one
//!    token. Runs of Han, Hiragana and Katakana characters become **overlapping bigrams**
//!    ("退款申请" → "退款", "款申", "申请"), as Lucene's CJK analyzer does: single characters are
//!    too ambiguous to be keywords and there is no dictionary segmenter here; a run of one
//!    character is kept as it is. Korean (Hangul) is written with spaces and is tokenised as
//!    words. Thai, Lao, Khmer and Burmese runs stay whole (a known limitation).

use std::sync::OnceLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// Elided prefixes (before an apostrophe) that are dropped: French and Italian articles,
/// pronouns and prepositions. One-letter ones would be dropped anyway (too short); they are
/// listed for clarity.
const ELISIONS: &[&str] = &[
    // French
    "l", "d", "j", "m", "n", "s", "t", "c", "ç", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
    "presqu", // Italian
    "dell", "dall", "nell", "sull", "all", "coll", "un", "quest", "quell", "nessun", "ciascun",
    "bell", "sant", "gl", "v",
];

/// Words kept whole although they contain an apostrophe (lowercase, `'`).
const WHOLE: &[&str] = &["aujourd'hui", "quelqu'un", "quelqu'une", "prud'homme", "prud'hommes"];

fn word_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        #[allow(clippy::expect_used)]
        Regex::new(r"\w+(?:'\w+)*").expect("constant pattern compiles")
    })
}

/// True for Han ideographs, Hiragana, Katakana (with the prolonged sound mark) and half-width
/// Katakana: the scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana (incl. ー U+30FC)
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x20000..=0x2FA1F  // CJK extensions B-F, compatibility supplement
    )
}

/// Normalises `text` as the tokeniser sees it: NFC, lowercase, ’ → '.
pub fn normalize(text: &str) -> String {
    text.nfc().collect::<String>().to_lowercase().replace('’', "'")
}

/// The tokens of `text`, in order (see the module docs). Deterministic; does not remove stop
/// words.
pub fn tokenize(text: &str) -> Vec<String> {
    let text = normalize(text);
    let mut out = Vec::new();
    for m in word_pattern().find_iter(&text) {
        let word = m.as_str();
        if word.chars().any(is_cjk) {
            push_mixed(word, &mut out);
        } else {
            push_word(word, &mut out);
        }
    }
    out
}

/// Elision, apostrophe splitting and the two-character minimum for one non-CJK word.
fn push_word(word: &str, out: &mut Vec<String>) {
    if !word.contains('\'') {
        push_piece(word, out);
        return;
    }
    if WHOLE.contains(&word) {
        out.push(word.to_string());
        return;
    }
    let mut pieces = word.split('\'').peekable();
    if let Some(first) = pieces.peek() {
        if ELISIONS.contains(first) {
            pieces.next();
            let rest: String = pieces.clone().collect::<Vec<_>>().join("'");
            if WHOLE.contains(&rest.as_str()) {
                out.push(rest);
                return;
            }
        }
    }
    for piece in pieces {
        push_piece(piece, out);
    }
}

fn push_piece(piece: &str, out: &mut Vec<String>) {
    if piece.chars().nth(1).is_some() {
        out.push(piece.to_string());
    }
}

/// A word mixing CJK and other characters: CJK runs become bigrams, the rest words.
fn push_mixed(word: &str, out: &mut Vec<String>) {
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let cjk = is_cjk(chars[i]);
        let start = i;
        while i < chars.len() && is_cjk(chars[i]) == cjk {
            i += 1;
        }
        let run = &chars[start..i];
        if !cjk {
            push_word(&run.iter().collect::<String>(), out);
        } else if run.len() == 1 {
            out.push(run[0].to_string());
        } else {
            out.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s)
    }

    #[test]
    fn keeps_letters_of_every_script() {
        assert_eq!(
            toks("Télétravail, réunions et CAFÉ ; déplacement + congés. Straße niño"),
            vec![
                "télétravail",
                "réunions",
                "et",
                "café",
                "déplacement",
                "congés",
                "straße",
                "niño"
            ]
        );
        assert_eq!(toks("Возврат денег"), vec!["возврат", "денег"]);
        assert_eq!(toks("환불 요청"), vec!["환불", "요청"]);
    }

    #[test]
    fn nfc_joins_decomposed_accents() {
        let decomposed = "cafe\u{301}";
        assert_eq!(toks(decomposed), vec!["café"]);
        assert_eq!(toks(decomposed), toks("café"));
    }

    #[test]
    fn french_and_italian_elision() {
        assert_eq!(toks("J'ai vu l'équipe qu'il aime"), vec!["ai", "vu", "équipe", "il", "aime"]);
        assert_eq!(toks("j’ai l’équipe qu’il"), vec!["ai", "équipe", "il"]);
        assert_eq!(toks("jusqu'à lorsqu'elle"), vec!["elle"]);
        assert_eq!(toks("dell'ordine un'altra"), vec!["ordine", "altra"]);
        assert_eq!(
            toks("aujourd'hui, d'aujourd'hui, quelqu'un"),
            vec!["aujourd'hui", "aujourd'hui", "quelqu'un"]
        );
    }

    #[test]
    fn english_apostrophes_split_like_sklearn() {
        assert_eq!(
            toks("Don't touch the customer's order"),
            vec!["don", "touch", "the", "customer", "order"]
        );
        assert_eq!(toks("it's 5 o'clock"), vec!["it", "clock"]);
    }

    #[test]
    fn numbers_and_short_pieces_as_bertopic() {
        assert_eq!(toks("order 42 x 7 2024 e-mail a"), vec!["order", "42", "2024", "mail"]);
        assert_eq!(toks("v1.2.3 3.14"), vec!["v1", "14"]);
        assert_eq!(toks("snake_case"), vec!["snake_case"]);
        assert!(toks("?? !! 🙏").is_empty());
    }

    #[test]
    fn cjk_runs_become_bigrams() {
        assert_eq!(toks("退款申请"), vec!["退款", "款申", "申请"]);
        assert_eq!(toks("我 要"), vec!["我", "要"]);
        assert_eq!(
            toks("返金をお願いします"),
            vec!["返金", "金を", "をお", "お願", "願い", "いし", "しま", "ます"]
        );
        assert_eq!(toks("カード"), vec!["カー", "ード"]);
        assert_eq!(toks("iPhone手机坏了"), vec!["iphone", "手机", "机坏", "坏了"]);
    }

    #[test]
    fn deterministic() {
        let s = "Bonjour, j'ai un problème avec mon télétravail 🙏 退款申请";
        assert_eq!(tokenize(s), tokenize(s));
    }
}
