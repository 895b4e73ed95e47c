//! Tenant ids and model versions: the two strings that become storage keys and SQL values, each
//! validated by one strict rule before it reaches either.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest accepted tenant id, in bytes (all accepted characters are ASCII).
pub const TENANT_ID_MAX_LEN: usize = 64;

/// Format of a [`Version`]: UTC `YYYYMMDD_HHMMSS`.
pub const VERSION_FORMAT: &str = "%Y%m%d_%H%M%S";

/// A tenant id or version string that breaks the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The tenant id is empty, too long, or has a character outside `[A-Za-z0-9_-]`.
    #[error(
        "invalid tenant id {shown}: {reason} (a tenant id is 1 to 64 characters of A-Z, a-z, 0-9, \
         `_` and `-`, starting with a letter or digit)"
    )]
    Tenant {
        /// The offending id, quoted and truncated for display.
        shown: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The version is not a valid UTC `YYYYMMDD_HHMMSS` timestamp.
    #[error("invalid model version {shown}: {reason} (expected UTC `YYYYMMDD_HHMMSS`, e.g. `20250101_093000`)")]
    Version {
        /// The offending version, quoted and truncated for display.
        shown: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Quote a user string for an error message: escaped, at most 80 characters.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    format!("{out:?}")
}

/// A validated tenant id: 1 to 64 ASCII characters of `[A-Za-z0-9_-]`, the first a letter or digit.
///
/// The rule keeps ids safe as object-store key segments (no `/`, `.`, `..`, no unicode
/// look-alikes) and as SQL values; every tenant id from a request or a token goes through
/// [`TenantId::parse`] before it is used.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Validate `s` as a tenant id.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let err = |reason| Err(IdError::Tenant { shown: shown(s), reason });
        if s.is_empty() {
            return err("it is empty");
        }
        if s.len() > TENANT_ID_MAX_LEN {
            return err("it is longer than 64 characters");
        }
        if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return match c {
                '/' | '\\' | '.' => err("it contains a path character (`/`, `\\` or `.`)"),
                c if !c.is_ascii() => err("it contains a non-ASCII character"),
                _ => err("it contains a character other than A-Z, a-z, 0-9, `_` and `-`"),
            };
        }
        if !s.as_bytes()[0].is_ascii_alphanumeric() {
            return err("it must start with a letter or digit");
        }
        Ok(TenantId(s.to_owned()))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TenantId::parse(s)
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for TenantId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TenantId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A model version: the UTC second it was made, written `YYYYMMDD_HHMMSS`.
///
/// Versions of one tenant are strictly increasing ([`Version::now_after`]), so they sort in
/// creation order both as values and as strings, and name the version's storage folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(NaiveDateTime);

impl Version {
    /// Parse a `YYYYMMDD_HHMMSS` string (exactly 15 characters, a real UTC date and time).
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let err = |reason| Err(IdError::Version { shown: shown(s), reason });
        let b = s.as_bytes();
        if b.len() != 15 {
            return err("it is not 15 characters long");
        }
        if b[8] != b'_' || b.iter().enumerate().any(|(i, c)| i != 8 && !c.is_ascii_digit()) {
            return err("it is not 8 digits, `_`, 6 digits");
        }
        match NaiveDateTime::parse_from_str(s, VERSION_FORMAT) {
            // chrono accepts a leap second `60`; a version never has one.
            Ok(t) if t.second() < 60 && t.nanosecond() == 0 => Ok(Version(t)),
            _ => err("it is not a real date and time"),
        }
    }

    /// The version for a UTC instant, truncated to the second.
    pub fn from_datetime(t: DateTime<Utc>) -> Self {
        let t = t.naive_utc();
        Version(t.with_nanosecond(0).unwrap_or(t))
    }

    /// A new version for now, strictly after `previous` (one second after it when the clock has
    /// not moved past it, e.g. two versions in the same second or a clock that went back).
    pub fn now_after(previous: Option<&Version>) -> Self {
        Self::at_or_after(Utc::now(), previous)
    }

    /// [`Version::now_after`] with an explicit clock, for tests and replays.
    pub fn at_or_after(now: DateTime<Utc>, previous: Option<&Version>) -> Self {
        let v = Self::from_datetime(now);
        match previous {
            Some(p) if v <= *p => Version(p.0 + Duration::seconds(1)),
            _ => v,
        }
    }

    /// The instant the version names (UTC).
    pub fn datetime(&self) -> DateTime<Utc> {
        self.0.and_utc()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format(VERSION_FORMAT))
    }
}

impl FromStr for Version {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Version::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn accepts_the_rule() {
        for ok in ["a", "Z", "0", "acme", "acme-prod_2", "A1-_", &"x".repeat(64)] {
            let t = TenantId::parse(ok).unwrap();
            assert_eq!(t.as_str(), ok);
            assert_eq!(t.to_string(), ok);
        }
    }

    #[test]
    fn rejects_traversal_separators_and_bad_starts() {
        for bad in [
            "",
            "..",
            ".",
            "../x",
            "a/b",
            "a\\b",
            "/abs",
            "x/..",
            "a.b",
            "-a",
            "_a",
            "a b",
            " a",
            "a\n",
            "a\0b",
            "a%2fb",
            "a:b",
            "*",
            "a;drop table models",
        ] {
            let e = TenantId::parse(bad).unwrap_err();
            assert!(matches!(e, IdError::Tenant { .. }), "{bad:?}");
            assert!(e.to_string().contains("tenant id"), "{e}");
        }
    }

    #[test]
    fn rejects_unicode_lookalikes_and_length() {
        // Cyrillic "а" (U+0430), fullwidth "ａ", Turkish dotless "ı", combining accent, zero-width space.
        for bad in ["\u{430}cme", "\u{ff41}cme", "\u{131}d", "e\u{301}", "ac\u{200b}me", "é"] {
            let e = TenantId::parse(bad).unwrap_err();
            assert!(e.to_string().contains("non-ASCII"), "{bad:?}: {e}");
        }
        let long = "a".repeat(65);
        assert!(TenantId::parse(&long).unwrap_err().to_string().contains("longer than 64"));
        let huge = "a".repeat(300);
        let msg = TenantId::parse(&huge).unwrap_err().to_string();
        assert!(msg.len() < 400, "error message stays short: {msg}");
    }

    #[test]
    fn tenant_serde_validates() {
        let t: TenantId = serde_json::from_str("\"acme\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"acme\"");
        assert!(serde_json::from_str::<TenantId>("\"../etc\"").is_err());
    }

    #[test]
    fn version_round_trip_and_errors() {
        let v = Version::parse("20250131_235959").unwrap();
        assert_eq!(v.to_string(), "20250131_235959");
        assert_eq!(v.datetime(), Utc.with_ymd_and_hms(2025, 1, 31, 23, 59, 59).unwrap());
        for bad in [
            "",
            "20250131",
            "20250131-235959",
            "2025013_2359590",
            "20251331_000000",
            "20250230_000000",
            "20250101_240000",
            "20250101_000060",
            "+0250101_000000",
            "20250101_00000\u{661}",
            "../../../../...",
        ] {
            assert!(matches!(Version::parse(bad), Err(IdError::Version { .. })), "{bad:?}");
        }
        let v2: Version = serde_json::from_str("\"20250131_235959\"").unwrap();
        assert_eq!(v, v2);
        assert!(serde_json::from_str::<Version>("\"2025\"").is_err());
    }

    #[test]
    fn versions_strictly_increase() {
        let t = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
        let a = Version::at_or_after(t, None);
        assert_eq!(a.to_string(), "20250601_120000");
        // Same second: one second later.
        let b = Version::at_or_after(t, Some(&a));
        assert_eq!(b.to_string(), "20250601_120001");
        // Clock went back: still after the previous one.
        let c = Version::at_or_after(t - Duration::hours(1), Some(&b));
        assert_eq!(c.to_string(), "20250601_120002");
        // Clock moved on: the clock wins.
        let d = Version::at_or_after(t + Duration::minutes(5), Some(&c));
        assert_eq!(d.to_string(), "20250601_120500");
        assert!(a < b && b < c && c < d);
        assert!(a.to_string() < b.to_string());
        let now = Version::now_after(Some(&d));
        assert!(now > d);
    }
}
