//! FAQ (issue 29): `GET /v1/tenants/{tenant}/faq[?format=json|markdown|csv]`, a thin call of
//! GetFaq. JSON is `{"tenant_id", "version", "entries": [...]}` with `"article": null` for an
//! entry no article answers; Markdown and CSV are the documents GetFaq renders, served as
//! `text/markdown` / `text/csv`.

use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{query_error, HttpApi, HttpError};
use crate::proto;
use crate::proto::topics_server::Topics;

/// `?format=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FaqQuery {
    format: Option<String>,
    /// Knowledge gaps only (issue 29).
    gaps: Option<bool>,
}

/// `GET /v1/tenants/{tenant}/faq`.
pub(super) async fn get_faq(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    query: Result<Query<FaqQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let Query(q) = query.map_err(query_error)?;
    let msg = proto::GetFaqRequest {
        tenant_id: tenant,
        format: q.format.unwrap_or_default(),
        gaps_only: q.gaps.unwrap_or(false),
    };
    let Json(answer) =
        api.call(&headers, remote, msg, |s, r| async move { s.get_faq(r).await }).await?;
    let content_type = match answer.format.as_str() {
        "markdown" => Some("text/markdown; charset=utf-8"),
        "csv" => Some("text/csv; charset=utf-8"),
        _ => None,
    };
    if let Some(ct) = content_type {
        return Ok(([(header::CONTENT_TYPE, ct)], answer.text).into_response());
    }
    let mut value = serde_json::to_value(&answer).map_err(|e| {
        HttpError::new(tonic::Code::Internal, format!("cannot encode the FAQ as JSON: {e}"))
    })?;
    if let Some(obj) = value.as_object_mut() {
        obj.remove("text");
        obj.remove("format");
        if let Some(entries) = obj.get_mut("entries").and_then(|e| e.as_array_mut()) {
            for e in entries.iter_mut().filter_map(|e| e.as_object_mut()) {
                e.entry("article").or_insert(serde_json::Value::Null);
            }
        }
    }
    Ok(Json(value).into_response())
}
