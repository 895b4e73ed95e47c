//! `topicd-dashboard`: the web UI topicd serves on its HTTP port, and the offline report.
//!
//! The UI is three hand-written files embedded in the binary ([`ASSETS`]): `index.html`,
//! `app.css` and `app.js` (plain JavaScript, no build step, SVG charts drawn by hand, system
//! fonts; nothing is fetched from anywhere but the serving topicd). The same `index.html`
//! serves `/` (the tenants the token may read) and `/tenants/{tenant}` (one tenant's active
//! model); the script reads the HTTP/JSON API with the bearer token the page asks for once.
//!
//! [`report_html`] builds the offline report of `topics report`: ONE self-contained HTML file
//! with the CSS and the script inlined and the data inlined as JSON in
//! `<script type="application/json" id="topicd-report">`, which the same script renders
//! instead of calling the API.
//!
//! ```
//! use topicd_dashboard::{asset, report_html, ReportData};
//!
//! let js = asset("app.js").expect("embedded");
//! assert_eq!(js.content_type, "text/javascript; charset=utf-8");
//!
//! let data = ReportData { tenant_id: "demo".into(), ..Default::default() };
//! let html = report_html(&data)?;
//! assert!(html.contains(r#"<script type="application/json" id="topicd-report">"#));
//! assert!(!html.contains("/ui/app.js"));
//! # Ok::<(), topicd_dashboard::ReportError>(())
//! ```

mod report;

pub use report::{
    report_html, DailyCount, Keyword, ReportData, ReportError, TopTopic, TopTopics, TopicChange,
    TopicChanges, TopicMap, TopicPoint, TopicTheme, TopicTree,
};

/// One embedded file of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The file name, as in `/ui/{name}`.
    pub name: &'static str,
    /// The `Content-Type` to serve it with.
    pub content_type: &'static str,
    /// The file.
    pub body: &'static str,
    /// A strong validator of `body` (FNV-1a 64 of the bytes, quoted, computed at compile time)
    /// for `ETag` / `If-None-Match`.
    pub etag: &'static str,
}

/// The page every UI route serves (`/`, `/tenants/{tenant}`): it loads `/ui/app.css` and
/// `/ui/app.js`.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");
/// The stylesheet.
pub const APP_CSS: &str = include_str!("../assets/app.css");
/// The script: routing, API calls, the charts and the map.
pub const APP_JS: &str = include_str!("../assets/app.js");

/// FNV-1a (64-bit) of `bytes`, usable in constants.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `"` + 16 hex digits of `hash` + `"`, as the bytes of an ETag.
const fn etag_bytes(hash: u64) -> [u8; 18] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'"'; 18];
    let mut i = 0;
    while i < 16 {
        out[1 + i] = HEX[((hash >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    out
}

macro_rules! etag {
    ($body:expr) => {{
        const BYTES: [u8; 18] = etag_bytes(fnv1a($body.as_bytes()));
        match std::str::from_utf8(&BYTES) {
            Ok(s) => s,
            Err(_) => panic!("an ETag is ASCII"),
        }
    }};
}

/// Every file the UI serves, by name.
pub const ASSETS: [Asset; 3] = [
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: INDEX_HTML,
        etag: etag!(INDEX_HTML),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: APP_CSS,
        etag: etag!(APP_CSS),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: APP_JS,
        etag: etag!(APP_JS),
    },
];

/// The embedded file called `name` (`app.js`, `app.css`, `index.html`), if any.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The page of the UI's routes (`index.html`).
pub fn index() -> &'static Asset {
    &ASSETS[0]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_found_by_name_with_their_types() {
        assert_eq!(asset("app.css").unwrap().content_type, "text/css; charset=utf-8");
        assert_eq!(asset("index.html").unwrap().body, INDEX_HTML);
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("").is_none());
        assert_eq!(index().name, "index.html");
    }

    #[test]
    fn etags_are_quoted_hashes_of_the_bodies() {
        for a in &ASSETS {
            assert_eq!(a.etag.len(), 18);
            assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
            let want = format!("\"{:016x}\"", fnv1a(a.body.as_bytes()));
            assert_eq!(a.etag, want);
        }
        assert_ne!(ASSETS[1].etag, ASSETS[2].etag);
        // The FNV-1a test vector.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_page_loads_only_its_own_assets() {
        assert!(INDEX_HTML.contains(r#"<link rel="stylesheet" href="/ui/app.css">"#));
        assert!(INDEX_HTML.contains(r#"<script src="/ui/app.js"></script>"#));
        for a in &ASSETS {
            for external in ["src=\"http", "href=\"http", "url(http", "@import", "//cdn"] {
                assert!(!a.body.contains(external), "{} references {external}", a.name);
            }
        }
        // The script names no host: it calls the API on the page's own origin.
        assert!(!APP_JS.contains("https://"));
        assert_eq!(APP_JS.matches("http://").count(), 1, "only the SVG namespace");
    }
}
