//! The web dashboard on the HTTP port: `GET /` (the tenants the token may read),
//! `GET /tenants/{tenant}` (one tenant's active model) and `GET /ui/{asset}` (the script and
//! stylesheet), all from the files embedded by `topicd-dashboard`.
//!
//! These routes serve static files only, so they need no token: the page's script calls the
//! API routes with the bearer token it asks for, and those authenticate as always. Every answer
//! carries a strong `ETag` and `Cache-Control: no-cache` (the browser keeps a copy and
//! revalidates it, `304 Not Modified` when the binary still has the same file, so a new
//! release is picked up at once), and the page a Content-Security-Policy that allows only its
//! own origin: no inline script, no other host.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tonic::Code;
use topicd_dashboard::Asset;

use super::HttpError;

/// The page may load and call only its own origin; nothing may frame it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The dashboard's routes (no state, no authentication).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(page))
        .route("/tenants/{tenant}", get(tenant_page))
        .route("/ui/{asset}", get(ui_asset))
}

async fn page(headers: HeaderMap) -> Response {
    serve(topicd_dashboard::index(), &headers)
}

/// The tenant is read by the page's script from the URL and checked by the API it calls.
async fn tenant_page(Path(_tenant): Path<String>, headers: HeaderMap) -> Response {
    serve(topicd_dashboard::index(), &headers)
}

async fn ui_asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match topicd_dashboard::asset(&name) {
        Some(asset) => serve(asset, &headers),
        None => HttpError::new(
            Code::NotFound,
            format!(
                "no dashboard file {name:?}; the dashboard has {}",
                topicd_dashboard::ASSETS.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
            ),
        )
        .into_response(),
    }
}

/// `asset` with its content type and validators; `304` when `If-None-Match` names its ETag.
fn serve(asset: &'static Asset, request: &HeaderMap) -> Response {
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == asset.etag || tag == "*");
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type))], asset.body)
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if asset.content_type.starts_with("text/html") {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}
