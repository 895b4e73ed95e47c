//! Masking of personal data in message text, before it is stored as a topic's sample, sent to a
//! labelling model or counted as a keyword.
//!
//! | tag | what | checked by |
//! | --- | --- | --- |
//! | `[url]` | every `http(s)://`, `ftp://` or `www.` URL | — (see below) |
//! | `[email]` | `local@domain.tld` | — |
//! | `[iban]` | 15–34 characters, country + check digits, spaces allowed | ISO 13616 mod 97 |
//! | `[card]` | 13–19 digits, spaces or dashes allowed | Luhn |
//! | `[ip]` | IPv4 dotted quad, IPv6 (full or `::`-compressed) | `std::net` parsers |
//! | `[phone]` | `+33 6 12 34 56 78`, `0033…`, `06 12 34 56 78`, `0612345678`, `(555) 123-4567`, `555-123-4567`, `+1-555-123-4567`, `+44 (0)20 7946 0958`, `020 7946 0958` | digit count (8–15 international, 9–12 national) |
//! | `[name]` | each caller pattern ([`ExtraPattern`], e.g. order numbers) | — |
//!
//! Decisions:
//! - **All URLs** are masked, not only those with a query string: paths carry reset tokens,
//!   order and account ids as often as queries do, and a URL's pieces ("https", "www", "com")
//!   make poor keywords anyway.
//! - A dotted quad of numbers ≤ 255 is an IP even when it is a version ("1.2.3.4"); "1.2.3",
//!   "v1.2.3.4", "1.2.3.4.5" and "10.0.0.256" are left alone.
//! - Dates ("2024-01-15", "15/01/2024", "15.01.2024"), prices ("1 299,99 €") and times
//!   ("10:30:00") are not phones or IPs; a 13–19 digit number that fails Luhn (most order
//!   numbers) is not a card. A Luhn-valid one is masked (one in ten random numbers: the price
//!   of never leaking a card).
//! - Overlaps: the longest match wins, then the earlier detector in the table order above
//!   (caller patterns first), then the leftmost; so a URL holding an email is one `[url]`.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// A caller-supplied pattern to mask as `[name]` (e.g. `order` → `ORD-\d{6}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraPattern {
    /// The tag, without brackets: 1–32 of `[a-z0-9_]`, starting with a letter, not a built-in
    /// tag.
    pub name: String,
    /// A `regex` crate pattern; it must not match the empty string.
    pub pattern: String,
}

impl ExtraPattern {
    /// A pattern masked as `[name]`.
    pub fn new(name: impl Into<String>, pattern: impl Into<String>) -> Self {
        Self { name: name.into(), pattern: pattern.into() }
    }
}

/// The built-in tags, in priority order.
pub const BUILTIN_TAGS: [&str; 6] = ["url", "email", "iban", "card", "ip", "phone"];

/// Compiled caller patterns stay below this size (bytes of compiled program).
const EXTRA_SIZE_LIMIT: usize = 1 << 20;

/// One piece of personal data found in a text: byte range and tag (without brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiMatch<'m> {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset past the last character.
    pub end: usize,
    /// `"email"`, `"phone"`, ... or a caller pattern's name.
    pub tag: &'m str,
}

/// Finds and masks personal data. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    extra: Vec<(String, Regex)>,
}

struct Builtins {
    url: Regex,
    email: Regex,
    iban: Regex,
    card: Regex,
    ipv4: Regex,
    ipv6: Regex,
    phones: [Regex; 6],
}

fn builtins() -> &'static Builtins {
    static B: OnceLock<Builtins> = OnceLock::new();
    B.get_or_init(|| {
        #[allow(clippy::expect_used)]
        let re = |p: &str| Regex::new(p).expect("constant pattern compiles");
        Builtins {
            url: re(r#"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>"'\[\]{}|\\^`]+"#),
            email: re(r"(?i)[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b"),
            iban: re(r"(?i)\b[a-z]{2}\d{2}(?: ?[a-z0-9]){11,30}\b"),
            card: re(r"\b\d(?:[ -]?\d){12,18}\b"),
            ipv4: re(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
            ipv6: re(r"(?i)(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:\.\d{1,3}){0,3}"),
            phones: [
                // International: +CC or 00CC, optional (0), 2-6 groups.
                re(r"(?:\+|\b00)\d{1,3}(?:[ .-]?\(0\))?(?:[ .-]?\(?\d{1,4}\)?){2,6}"),
                // Parenthesised area code: (555) 123-4567.
                re(r"\(\d{2,4}\)[ .-]?\d{2,4}(?:[ .-]?\d{2,4}){1,2}"),
                // French-style: 06 12 34 56 78, 06.12.34.56.78, 0612345678.
                re(r"\b0\d(?:[ .-]?\d{2}){4}\b"),
                // North American: 555-123-4567, 555.123.4567, 555 123 4567.
                re(r"\b\d{3}[ .-]\d{3}[ .-]\d{4}\b"),
                // Trunk-prefixed area code: 020 7946 0958, 030 1234567, 0171-1234567.
                re(r"\b0\d{2,4}[ .-]\d{3,4}(?:[ .-]?\d{3,4})?\b"),
                // International without separators handled above; plain 10-11 digit national
                // numbers other than 0x... are too close to order numbers to mask.
                re(r"\b0\d{9,10}\b"),
            ],
        }
    })
}

impl Masker {
    /// A masker with the built-in detectors and `extra` caller patterns (validated here).
    pub fn new(extra: &[ExtraPattern]) -> Result<Self> {
        let mut compiled = Vec::with_capacity(extra.len());
        for p in extra {
            validate_name(&p.name)?;
            if compiled.iter().any(|(n, _): &(String, Regex)| *n == p.name) {
                return Err(EngineError::param(
                    "extra_patterns",
                    format!("pattern name `{}` appears twice", p.name),
                ));
            }
            let re =
                regex::RegexBuilder::new(&p.pattern).size_limit(EXTRA_SIZE_LIMIT).build().map_err(
                    |e| EngineError::param("extra_patterns", format!("pattern `{}`: {e}", p.name)),
                )?;
            if re.is_match("") {
                return Err(EngineError::param(
                    "extra_patterns",
                    format!("pattern `{}` matches the empty string", p.name),
                ));
            }
            compiled.push((p.name.clone(), re));
        }
        Ok(Self { extra: compiled })
    }

    /// Every piece of personal data in `text`, non-overlapping, sorted by position.
    pub fn find<'m>(&'m self, text: &str) -> Vec<PiiMatch<'m>> {
        // (start, end, priority, tag)
        let mut cands: Vec<(usize, usize, usize, &'m str)> = Vec::new();
        for (i, (name, re)) in self.extra.iter().enumerate() {
            cands.extend(re.find_iter(text).map(|m| (m.start(), m.end(), i, name.as_str())));
        }
        let base = self.extra.len();
        let b = builtins();
        for m in b.url.find_iter(text) {
            let end = m.start() + trim_url(m.as_str()).len();
            cands.push((m.start(), end, base, "url"));
        }
        cands.extend(b.email.find_iter(text).map(|m| (m.start(), m.end(), base + 1, "email")));
        for m in b.iban.find_iter(text) {
            if let Some(len) = longest_valid_prefix(m.as_str(), is_iban) {
                cands.push((m.start(), m.start() + len, base + 2, "iban"));
            }
        }
        for m in b.card.find_iter(text) {
            if let Some(len) = longest_valid_prefix(m.as_str(), is_card) {
                cands.push((m.start(), m.start() + len, base + 3, "card"));
            }
        }
        for m in b.ipv4.find_iter(text) {
            if is_ipv4_at(text, m.start(), m.end()) {
                cands.push((m.start(), m.end(), base + 4, "ip"));
            }
        }
        for m in b.ipv6.find_iter(text) {
            if is_ipv6_at(text, m.start(), m.end()) {
                cands.push((m.start(), m.end(), base + 4, "ip"));
            }
        }
        for re in &b.phones {
            for m in re.find_iter(text) {
                // The group pattern may take the ")" of a parenthesis around the number.
                let s = m.as_str();
                let end = if s.ends_with(')') && s.matches('(').count() < s.matches(')').count() {
                    m.end() - 1
                } else {
                    m.end()
                };
                if is_phone_at(text, m.start(), end) {
                    cands.push((m.start(), end, base + 5, "phone"));
                }
            }
        }
        // Longest first, then priority, then leftmost; keep what does not overlap.
        cands.sort_by(|a, b| (b.1 - b.0).cmp(&(a.1 - a.0)).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
        let mut kept: Vec<PiiMatch<'m>> = Vec::new();
        for (start, end, _, tag) in cands {
            if start < end && kept.iter().all(|k| end <= k.start || start >= k.end) {
                kept.push(PiiMatch { start, end, tag });
            }
        }
        kept.sort_by_key(|k| k.start);
        kept
    }

    /// `text` with each piece of personal data replaced by `[tag]`.
    pub fn mask(&self, text: &str) -> String {
        self.replace(text, |tag| format!("[{tag}]"))
    }

    /// `text` with each piece of personal data replaced by one space: what the vectorizer
    /// counts, so that no part of an address becomes a keyword and no tag does either.
    pub fn blank(&self, text: &str) -> String {
        self.replace(text, |_| " ".to_string())
    }

    fn replace(&self, text: &str, with: impl Fn(&str) -> String) -> String {
        let found = self.find(text);
        if found.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for m in found {
            out.push_str(&text[at..m.start]);
            out.push_str(&with(m.tag));
            at = m.end;
        }
        out.push_str(&text[at..]);
        out
    }
}

fn validate_name(name: &str) -> Result<()> {
    let ok = (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(EngineError::param(
            "extra_patterns",
            format!("pattern name `{name}`: use 1-32 of [a-z0-9_], starting with a letter"),
        ));
    }
    if BUILTIN_TAGS.contains(&name) {
        return Err(EngineError::param(
            "extra_patterns",
            format!("pattern name `{name}` is a built-in tag"),
        ));
    }
    Ok(())
}

/// A URL without the trailing punctuation that usually ends the sentence around it.
fn trim_url(url: &str) -> &str {
    let mut u = url;
    loop {
        let t = u.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"']);
        let t = if t.ends_with(')') && t.matches('(').count() < t.matches(')').count() {
            &t[..t.len() - 1]
        } else {
            t
        };
        if t.len() == u.len() {
            return u;
        }
        u = t;
    }
}

/// The byte length of the longest prefix of `s` that ends on an alphanumeric character
/// followed by a separator (or the end) and passes `valid`.
fn longest_valid_prefix(s: &str, valid: impl Fn(&str) -> bool) -> Option<usize> {
    let bytes = s.as_bytes();
    (1..=s.len())
        .rev()
        .filter(|&end| {
            bytes[end - 1].is_ascii_alphanumeric()
                && (end == s.len() || !bytes[end].is_ascii_alphanumeric())
        })
        .find(|&end| valid(&s[..end]))
}

/// ISO 13616: 15-34 alphanumerics, country letters, check digits, mod 97 == 1.
fn is_iban(s: &str) -> bool {
    let compact: Vec<u8> =
        s.bytes().filter(|b| b.is_ascii_alphanumeric()).map(|b| b.to_ascii_uppercase()).collect();
    if !(15..=34).contains(&compact.len())
        || !compact[..2].iter().all(u8::is_ascii_alphabetic)
        || !compact[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let v = if b.is_ascii_digit() { u32::from(b - b'0') } else { u32::from(b - b'A') + 10 };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

/// 13-19 digits passing the Luhn check.
fn is_card(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) || digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn char_after(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

/// A dotted quad that parses and is not part of a longer dotted number (1.2.3.4.5).
fn is_ipv4_at(text: &str, start: usize, end: usize) -> bool {
    let before_dot = char_before(text, start) == Some('.')
        && text[..start - 1].chars().next_back().is_some_and(|c| c.is_ascii_digit());
    let after_dot = char_after(text, end) == Some('.')
        && text[end + 1..].chars().next().is_some_and(|c| c.is_ascii_digit());
    !before_dot && !after_dot && text[start..end].parse::<Ipv4Addr>().is_ok()
}

/// An IPv6 address standing alone (not inside a longer hex/colon run) with at least one decimal
/// digit ("a::b" and "dead::beef" parse, but are not addresses anyone writes).
fn is_ipv6_at(text: &str, start: usize, end: usize) -> bool {
    let s = &text[start..end];
    let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == ':'));
    boundary(char_before(text, start))
        && boundary(char_after(text, end))
        && s.chars().any(|c| c.is_ascii_digit())
        && s.parse::<Ipv6Addr>().is_ok()
}

/// A phone candidate with a plausible digit count, not glued to other digits or letters, and
/// not one group of a longer run of digit groups (an IBAN or account number written in blocks).
fn is_phone_at(text: &str, start: usize, end: usize) -> bool {
    let s = &text[start..end];
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let international = s.starts_with('+') || s.starts_with("00");
    let count_ok =
        if international { (8..=15).contains(&digits) } else { (9..=12).contains(&digits) };
    let glued_before = char_before(text, start)
        .is_some_and(|c| c.is_alphanumeric() || c == '+' || c == '.' || c == '/' || c == '-');
    let glued_after = char_after(text, end).is_some_and(|c| c.is_alphanumeric() || c == '/')
        || (char_after(text, end).is_some_and(|c| c == '.' || c == '-')
            && text[end + 1..].chars().next().is_some_and(|c| c.is_ascii_digit()));
    let mut before = text[..start].chars().rev();
    let group_before = matches!(before.next(), Some(' ' | '.' | '-'))
        && before.next().is_some_and(|c| c.is_ascii_digit());
    let mut after = text[end..].chars();
    let group_after = matches!(after.next(), Some(' ' | '.' | '-'))
        && after.next().is_some_and(|c| c.is_ascii_digit());
    count_ok && !glued_before && !glued_after && !group_before && !group_after
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mask(s: &str) -> String {
        Masker::default().mask(s)
    }

    #[test]
    fn emails() {
        assert_eq!(mask("write to jean.dupont+sav@exemple.fr please"), "write to [email] please");
        assert_eq!(mask("Mail: ANNA_K@mail.co.uk."), "Mail: [email].");
        assert_eq!(mask("françoise@société.fr"), "[email]");
        assert_eq!(mask("not an email: @home, a@b"), "not an email: @home, a@b");
    }

    #[test]
    fn phones() {
        for p in [
            "+33 6 12 34 56 78",
            "+33612345678",
            "0033 6 12 34 56 78",
            "06 12 34 56 78",
            "06.12.34.56.78",
            "06-12-34-56-78",
            "0612345678",
            "(555) 123-4567",
            "555-123-4567",
            "555.123.4567",
            "+1-555-123-4567",
            "+1 (555) 123-4567",
            "+44 (0)20 7946 0958",
            "020 7946 0958",
            "+49 30 1234567",
            "030 1234567",
        ] {
            assert_eq!(
                mask(&format!("call me at {p} tomorrow")),
                "call me at [phone] tomorrow",
                "{p}"
            );
            assert_eq!(mask(&format!("({p})")), "([phone])", "{p}");
        }
    }

    #[test]
    fn phone_negatives() {
        for s in [
            "le 2024-01-15 à 10:30",
            "on 15/01/2024",
            "on 15.01.2024 at 10:30:00",
            "it costs 1 299,99 € or $1,299.99",
            "order 12345 and 678",
            "version 1.2.3",
            "between 2019 and 2024",
            "ref 123456789012345678901234",
            "tracking 1Z999AA10123456784",
        ] {
            assert_eq!(mask(s), s, "{s}");
        }
    }

    #[test]
    fn cards_are_luhn_checked() {
        assert_eq!(mask("card 4111 1111 1111 1111 declined"), "card [card] declined");
        assert_eq!(mask("card 4111-1111-1111-1111"), "card [card]");
        assert_eq!(mask("card 4111111111111111"), "card [card]");
        assert_eq!(mask("amex 3782 822463 10005"), "amex [card]");
        // 16 digits failing Luhn: an order number, kept.
        assert_eq!(mask("order 4111111111111112"), "order 4111111111111112");
        assert_eq!(mask("order 1234 5678 9012 3456"), "order 1234 5678 9012 3456");
        // A card followed by a year is still found (longest valid prefix).
        assert_eq!(mask("4111 1111 1111 1111 2025"), "[card] 2025");
    }

    #[test]
    fn ibans_are_mod97_checked() {
        assert_eq!(mask("IBAN FR76 3000 6000 0112 3456 7890 189 merci"), "IBAN [iban] merci");
        assert_eq!(mask("iban: DE89370400440532013000."), "iban: [iban].");
        assert_eq!(mask("GB82 WEST 1234 5698 7654 32 ET voilà"), "[iban] ET voilà");
        // One digit off: the checksum fails.
        assert_eq!(mask("FR76 3000 6000 0112 3456 7890 188"), "FR76 3000 6000 0112 3456 7890 188");
    }

    #[test]
    fn ips() {
        assert_eq!(mask("from 192.168.1.20, then"), "from [ip], then");
        assert_eq!(mask("ip 2001:db8::8a2e:370:7334 and ::1"), "ip [ip] and [ip]");
        assert_eq!(mask("fe80:0:0:0:0:0:0:1"), "[ip]");
        // Decided: a dotted quad is an IP even if it is a version number.
        assert_eq!(mask("app 1.2.3.4"), "app [ip]");
        for s in ["v1.2.3.4", "1.2.3", "1.2.3.4.5", "10.0.0.256", "at 10:30:00", "a::b", "std::vec"]
        {
            assert_eq!(mask(s), s, "{s}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            mask("see https://shop.example.com/reset?token=abc123&u=jean@x.fr."),
            "see [url]."
        );
        assert_eq!(mask("(www.example.com/help)"), "([url])");
        assert_eq!(mask("go to http://example.com!"), "go to [url]!");
        assert_eq!(mask("https://en.wikipedia.org/wiki/Foo_(bar)"), "[url]");
    }

    #[test]
    fn extra_patterns_and_validation() {
        let m = Masker::new(&[ExtraPattern::new("order", r"\bORD-\d{6}\b")]).unwrap();
        assert_eq!(m.mask("my order ORD-123456 and a@b.fr"), "my order [order] and [email]");
        assert_eq!(m.blank("ORD-123456 x"), "  x");
        assert!(Masker::new(&[ExtraPattern::new("email", "x")]).is_err());
        assert!(Masker::new(&[ExtraPattern::new("Bad Name", "x")]).is_err());
        assert!(Masker::new(&[ExtraPattern::new("empty", "x*")]).is_err());
        assert!(Masker::new(&[ExtraPattern::new("broken", "(")]).is_err());
        let dup = [ExtraPattern::new("a", "x"), ExtraPattern::new("a", "y")];
        assert!(Masker::new(&dup).is_err());
    }

    #[test]
    fn several_kinds_in_one_message() {
        let s = "Bonjour, je suis jean@exemple.fr, tel 06 12 34 56 78, carte 4111 1111 1111 1111";
        assert_eq!(mask(s), "Bonjour, je suis [email], tel [phone], carte [card]");
        let masker = Masker::default();
        let found = masker.find(s);
        assert_eq!(found.iter().map(|m| m.tag).collect::<Vec<_>>(), vec!["email", "phone", "card"]);
    }
}
