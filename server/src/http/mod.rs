//! The HTTP/JSON API (axum, its own port, `--http-listen`): the gRPC API transcoded in-process.
//!
//! Each route reads its JSON body (the proto request message in the proto3 JSON mapping, see
//! `topicd_proto`'s `serde` feature), takes the tenant (and version) from the path, authenticates
//! the caller with the same function as the gRPC interceptor ([`authenticate`]) and calls the
//! same [`TopicsService`] method a gRPC client reaches: the same validation, authorisation,
//! limits and domain layer ([`crate::lifecycle`]), no second implementation. An error is the
//! gRPC status as an HTTP status (Google's mapping, [`http_status`]) and a JSON body
//! `{"error": {"code": "INVALID_ARGUMENT", "message": "..."}}`.
//!
//! Embeddings may be written as the proto has them (`[{"values": [...]}, ...]`) or, shorter,
//! as a list of rows (`[[...], ...]`). 64-bit integers (topic ids, counts) are JSON strings on
//! output, as the proto3 JSON mapping has them; numbers are accepted on input.
//! `GET /openapi.json` describes every route ([`openapi`]).

mod faq;
pub mod openapi;
pub mod ui;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tonic::{Code, Status};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::app::App;
use crate::proto;
use crate::proto::topics_server::Topics;
use crate::service::auth::authenticate;
use crate::service::status::code_name;
use crate::service::TopicsService;

/// What every route needs: the app (auth, limits, config) and the gRPC service it calls.
#[derive(Clone)]
struct HttpApi {
    app: Arc<App>,
    service: TopicsService,
    timeout: Duration,
}

/// The HTTP API's routes over `app`. `slots` is the server-wide concurrency limit shared with
/// gRPC (`server.max_concurrent_requests`).
pub fn router(app: Arc<App>, slots: Arc<Semaphore>) -> Router {
    let config = app.config();
    let max_bytes = config.limits.max_request_bytes;
    let cors = cors_layer(&config.http_cors_origins);
    let api = HttpApi {
        timeout: Duration::from_secs(config.server.request_timeout_secs),
        service: TopicsService::new(app.clone()),
        app,
    };
    let routes = Router::new()
        .route("/v1/tenants/{tenant}/fit", post(fit))
        .route("/v1/tenants/{tenant}/merge", post(merge))
        .route("/v1/tenants/{tenant}/transform", post(transform))
        .route("/v1/tenants/{tenant}/topics", get(top_topics))
        .route("/v1/tenants/{tenant}/models", get(list_models))
        .route("/v1/tenants/{tenant}/models/{version}", get(get_model))
        .route("/v1/tenants/{tenant}/models/{version}/activate", post(activate))
        .route("/v1/tenants/{tenant}/windows", get(merged_windows))
        .route("/v1/tenants/{tenant}", delete(delete_tenant))
        .route("/v1/tenants", get(list_tenants))
        .route("/v1/tenants/{tenant}/map", get(topic_map))
        .route("/v1/tenants/{tenant}/search", get(find_topics))
        .route("/v1/tenants/{tenant}/changes", get(topic_changes))
        .route("/v1/tenants/{tenant}/topics/{topic_id}/label", put(set_topic_label))
        // Hand edits (issue 30): EditTopics, one route per action.
        .route("/v1/tenants/{tenant}/topics/{topic_id}/merge-into", post(edit_merge_into))
        .route("/v1/tenants/{tenant}/topics/{topic_id}/hide", post(edit_hide))
        .route("/v1/tenants/{tenant}/topics/{topic_id}/unhide", post(edit_unhide))
        .route("/v1/tenants/{tenant}/topics/{topic_id}/split", post(edit_split))
        .route("/v1/tenants/{tenant}/topics/{topic_id}/split", delete(edit_cancel_split))
        // Topic tree (issue 30): GetTopicTree.
        .route("/v1/tenants/{tenant}/tree", get(topic_tree))
        // FAQ (issue 29).
        .route("/v1/tenants/{tenant}/faq", get(faq::get_faq))
        // Knowledge base (issue 29).
        .route("/v1/tenants/{tenant}/articles", put(set_articles).get(list_articles))
        // Tenant-defined topics (issue 30).
        .route(
            "/v1/tenants/{tenant}/defined-topics",
            put(set_defined_topics).get(get_defined_topics),
        )
        .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(slots));
    let router = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi_json))
        .merge(ui::routes())
        .merge(routes)
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(max_bytes))
        .with_state(api);
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Serves [`router`] on `listener` until `shutdown` resolves.
pub async fn serve(
    app: Arc<App>,
    slots: Arc<Semaphore>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router(app, slots).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// CORS for the configured origins (`*`: any); `None` when none are configured.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(Duration::from_secs(600)),
    )
}

/// An error answer: the gRPC code's HTTP status and `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct HttpError {
    code: Code,
    message: String,
    /// A more precise HTTP status than the code's (413 for an oversized body).
    status: Option<StatusCode>,
}

impl HttpError {
    fn new(code: Code, message: impl Into<String>) -> Self {
        HttpError { code, message: message.into(), status: None }
    }
    fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }
}

impl From<Status> for HttpError {
    fn from(s: Status) -> Self {
        Self::new(s.code(), s.message())
    }
}

/// The JSON error body.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The code (a gRPC code name such as `NOT_FOUND`) and a message a person can act on.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// The gRPC status code name.
    pub code: String,
    /// What went wrong and what to do.
    pub message: String,
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail { code: code_name(self.code).into(), message: self.message },
        };
        (self.status.unwrap_or_else(|| http_status(self.code)), Json(body)).into_response()
    }
}

/// A gRPC code's HTTP status, as Google's API guidelines map them.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // nginx's "client closed request"; a valid status code.
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Reads a JSON body as `T` (an empty body is `{}`), after expanding the row shorthand of
/// `embeddings`.
fn parse_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    max_bytes: usize,
    what: &str,
) -> Result<T, HttpError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            HttpError {
                code: Code::ResourceExhausted,
                message: format!(
                    "request body is larger than limits.max_request_bytes ({max_bytes} bytes); send fewer documents per request"
                ),
                status: Some(StatusCode::PAYLOAD_TOO_LARGE),
            }
        } else {
            HttpError::invalid(format!("cannot read the request body: {e}"))
        }
    })?;
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &body };
    let mut value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| HttpError::invalid(format!("request body is not valid JSON: {e}")))?;
    if let Some(rows) = value.get_mut("embeddings") {
        expand_rows(rows);
    }
    serde_json::from_value(value)
        .map_err(|e| HttpError::invalid(format!("request body is not a valid {what}: {e}")))
}

/// `[[0.1, ...], ...]` → `[{"values": [0.1, ...]}, ...]` (the proto's `repeated Embedding`).
fn expand_rows(rows: &mut serde_json::Value) {
    if let serde_json::Value::Array(items) = rows {
        for item in items {
            if item.is_array() {
                let values = item.take();
                *item = serde_json::json!({ "values": values });
            }
        }
    }
}

/// The path's tenant wins; a different non-empty one in the body is a mistake worth reporting.
fn set_tenant(path: &str, body: &mut String) -> Result<(), HttpError> {
    if !body.is_empty() && body != path {
        return Err(HttpError::invalid(format!(
            "tenant_id in the body ({body:?}) differs from the tenant in the path ({path:?}); leave it out of the body"
        )));
    }
    *body = path.to_string();
    Ok(())
}

fn query_error(e: QueryRejection) -> HttpError {
    HttpError::invalid(format!("invalid query string: {}", e.body_text()))
}

impl HttpApi {
    /// Authenticates the caller as gRPC does and calls `rpc` with the request.
    async fn call<Req, Resp, Fut>(
        &self,
        headers: &HeaderMap,
        remote: SocketAddr,
        msg: Req,
        rpc: impl FnOnce(TopicsService, tonic::Request<Req>) -> Fut,
    ) -> Result<Json<Resp>, HttpError>
    where
        Fut: Future<Output = Result<tonic::Response<Resp>, Status>>,
    {
        let authorization = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| Status::unauthenticated("malformed authorization header"))?,
            ),
        };
        let principal =
            authenticate(self.app.auth(), self.app.rate(), authorization, Some(remote.ip()))?;
        let mut req = tonic::Request::new(msg);
        req.extensions_mut().insert(principal);
        let answer = tokio::time::timeout(self.timeout, rpc(self.service.clone(), req))
            .await
            .map_err(|_| {
                Status::deadline_exceeded(format!(
                    "the request took longer than server.request_timeout_secs ({} s)",
                    self.timeout.as_secs()
                ))
            })??;
        Ok(Json(answer.into_inner()))
    }

    fn max_bytes(&self) -> usize {
        self.app.config().limits.max_request_bytes
    }
}

type Answer<T> = Result<Json<T>, HttpError>;

async fn fit(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<proto::FitResponse> {
    let mut msg: proto::FitRequest = parse_body(body, api.max_bytes(), "FitRequest")?;
    set_tenant(&tenant, &mut msg.tenant_id)?;
    api.call(&headers, remote, msg, |s, r| async move { s.fit(r).await }).await
}

async fn merge(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<proto::MergeResponse> {
    let mut msg: proto::MergeRequest = parse_body(body, api.max_bytes(), "MergeRequest")?;
    set_tenant(&tenant, &mut msg.tenant_id)?;
    api.call(&headers, remote, msg, |s, r| async move { s.merge(r).await }).await
}

async fn transform(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<proto::TransformResponse> {
    let mut msg: proto::TransformRequest = parse_body(body, api.max_bytes(), "TransformRequest")?;
    set_tenant(&tenant, &mut msg.tenant_id)?;
    api.call(&headers, remote, msg, |s, r| async move { s.transform(r).await }).await
}

/// `GET /v1/tenants/{tenant}/topics?limit=10&trend=true`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopTopicsQuery {
    limit: Option<u32>,
    trend: Option<bool>,
}

async fn top_topics(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    query: Result<Query<TopTopicsQuery>, QueryRejection>,
) -> Answer<proto::GetTopTopicsResponse> {
    let Query(q) = query.map_err(query_error)?;
    let msg = proto::GetTopTopicsRequest {
        tenant_id: tenant,
        limit: q.limit.unwrap_or(0),
        include_trend: q.trend.unwrap_or(false),
    };
    api.call(&headers, remote, msg, |s, r| async move { s.get_top_topics(r).await }).await
}

/// `GET /v1/tenants/{tenant}/models?limit=20` (tenant `*`: every tenant, admin only).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListModelsQuery {
    limit: Option<u32>,
}

async fn list_models(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    query: Result<Query<ListModelsQuery>, QueryRejection>,
) -> Answer<proto::ListModelsResponse> {
    let Query(q) = query.map_err(query_error)?;
    let tenant_id = if tenant == "*" { String::new() } else { tenant };
    let msg = proto::ListModelsRequest { tenant_id, limit: q.limit.unwrap_or(0) };
    api.call(&headers, remote, msg, |s, r| async move { s.list_models(r).await }).await
}

/// `GET /v1/tenants/{tenant}/models/{version}?include_retired=true` (`active` for the active
/// version).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GetModelQuery {
    include_retired: Option<bool>,
}

async fn get_model(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path((tenant, version)): Path<(String, String)>,
    headers: HeaderMap,
    query: Result<Query<GetModelQuery>, QueryRejection>,
) -> Answer<proto::GetModelResponse> {
    let Query(q) = query.map_err(query_error)?;
    let msg = proto::GetModelRequest {
        tenant_id: tenant,
        version: (version != "active").then_some(version),
        include_retired: q.include_retired.unwrap_or(false),
    };
    api.call(&headers, remote, msg, |s, r| async move { s.get_model(r).await }).await
}

async fn activate(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path((tenant, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer<proto::ActivateModelResponse> {
    let msg = proto::ActivateModelRequest { tenant_id: tenant, version };
    api.call(&headers, remote, msg, |s, r| async move { s.activate_model(r).await }).await
}

async fn merged_windows(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Answer<proto::ListMergedWindowsResponse> {
    let msg = proto::ListMergedWindowsRequest { tenant_id: tenant };
    api.call(&headers, remote, msg, |s, r| async move { s.list_merged_windows(r).await }).await
}

async fn delete_tenant(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Answer<proto::DeleteTenantResponse> {
    let msg = proto::DeleteTenantRequest { tenant_id: tenant };
    api.call(&headers, remote, msg, |s, r| async move { s.delete_tenant(r).await }).await
}

/// `GET /v1/tenants`: the tenants with an active model that the caller may read.
async fn list_tenants(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Answer<proto::ListTenantsResponse> {
    let msg = proto::ListTenantsRequest {};
    api.call(&headers, remote, msg, |s, r| async move { s.list_tenants(r).await }).await
}

/// `GET /v1/tenants/{tenant}/map?version=V`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicMapQuery {
    version: Option<String>,
}

async fn topic_map(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    query: Result<Query<TopicMapQuery>, QueryRejection>,
) -> Answer<proto::GetTopicMapResponse> {
    let Query(q) = query.map_err(query_error)?;
    let msg = proto::GetTopicMapRequest { tenant_id: tenant, version: q.version };
    api.call(&headers, remote, msg, |s, r| async move { s.get_topic_map(r).await }).await
}

/// `GET /v1/tenants/{tenant}/search?q=PHRASE&limit=5`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    q: Option<String>,
    limit: Option<u32>,
}

async fn find_topics(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Answer<proto::FindTopicsResponse> {
    let Query(q) = query.map_err(query_error)?;
    let msg = proto::FindTopicsRequest {
        tenant_id: tenant,
        query: q.q.unwrap_or_default(),
        limit: q.limit.unwrap_or(0),
    };
    api.call(&headers, remote, msg, |s, r| async move { s.find_topics(r).await }).await
}

/// `GET /v1/tenants/{tenant}/changes?limit=5`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangesQuery {
    limit: Option<u32>,
}

async fn topic_changes(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Answer<proto::GetTopicChangesResponse> {
    let Query(q) = query.map_err(query_error)?;
    let msg = proto::GetTopicChangesRequest { tenant_id: tenant, limit: q.limit.unwrap_or(0) };
    api.call(&headers, remote, msg, |s, r| async move { s.get_topic_changes(r).await }).await
}

/// `PUT /v1/tenants/{tenant}/topics/{topic_id}/label` with `{"label": "..."}` (`""` clears).
async fn set_topic_label(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path((tenant, topic_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<proto::SetTopicLabelResponse> {
    let topic: i64 = topic_id.parse().map_err(|_| {
        HttpError::invalid(format!(
            "topic_id in the path ({topic_id:?}) is not an integer; use a topic id from GET /v1/tenants/{{tenant}}/topics"
        ))
    })?;
    let mut msg: proto::SetTopicLabelRequest =
        parse_body(body, api.max_bytes(), "SetTopicLabelRequest")?;
    set_tenant(&tenant, &mut msg.tenant_id)?;
    if msg.topic_id != 0 && msg.topic_id != topic {
        return Err(HttpError::invalid(format!(
            "topic_id in the body ({}) differs from the topic in the path ({topic}); leave it out of the body",
            msg.topic_id
        )));
    }
    msg.topic_id = topic;
    api.call(&headers, remote, msg, |s, r| async move { s.set_topic_label(r).await }).await
}

/// `GET /v1/tenants/{tenant}/tree?version=V&themes=N` (issue 30).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeQuery {
    version: Option<String>,
    themes: Option<u32>,
}

async fn topic_tree(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    query: Result<Query<TreeQuery>, QueryRejection>,
) -> Answer<proto::GetTopicTreeResponse> {
    let Query(q) = query.map_err(query_error)?;
    let msg = proto::GetTopicTreeRequest {
        tenant_id: tenant,
        version: q.version,
        themes: q.themes.unwrap_or(0),
    };
    api.call(&headers, remote, msg, |s, r| async move { s.get_topic_tree(r).await }).await
}

/// The parts of a hand-edit route (issue 30).
struct EditRoute {
    api: HttpApi,
    remote: SocketAddr,
    tenant: String,
    topic_id: String,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
}

impl EditRoute {
    /// Calls EditTopics with `action` on the topic of the path; the body (an
    /// `EditTopicsRequest`, may be empty) gives `into_topic_id` for a merge.
    async fn call(self, action: &str) -> Answer<proto::EditTopicsResponse> {
        let topic: i64 = self.topic_id.parse().map_err(|_| {
            HttpError::invalid(format!(
                "topic_id in the path ({:?}) is not an integer; use a topic id from GET /v1/tenants/{{tenant}}/topics",
                self.topic_id
            ))
        })?;
        let mut msg: proto::EditTopicsRequest =
            parse_body(self.body, self.api.max_bytes(), "EditTopicsRequest")?;
        set_tenant(&self.tenant, &mut msg.tenant_id)?;
        if msg.topic_id != 0 && msg.topic_id != topic {
            return Err(HttpError::invalid(format!(
                "topic_id in the body ({}) differs from the topic in the path ({topic}); leave it out of the body",
                msg.topic_id
            )));
        }
        if !msg.action.is_empty() && msg.action != action {
            return Err(HttpError::invalid(format!(
                "action in the body ({:?}) differs from the route's ({action:?}); leave it out of the body",
                msg.action
            )));
        }
        msg.topic_id = topic;
        msg.action = action.to_string();
        self.api
            .call(&self.headers, self.remote, msg, |s, r| async move { s.edit_topics(r).await })
            .await
    }
}

macro_rules! edit_route {
    ($name:ident, $action:literal, $doc:literal) => {
        #[doc = $doc]
        async fn $name(
            State(api): State<HttpApi>,
            ConnectInfo(remote): ConnectInfo<SocketAddr>,
            Path((tenant, topic_id)): Path<(String, String)>,
            headers: HeaderMap,
            body: Result<Bytes, BytesRejection>,
        ) -> Answer<proto::EditTopicsResponse> {
            EditRoute { api, remote, tenant, topic_id, headers, body }.call($action).await
        }
    };
}

edit_route!(
    edit_merge_into,
    "merge",
    "`POST /v1/tenants/{tenant}/topics/{topic_id}/merge-into` with `{\"into_topic_id\": A}`."
);
edit_route!(edit_hide, "hide", "`POST /v1/tenants/{tenant}/topics/{topic_id}/hide`.");
edit_route!(edit_unhide, "unhide", "`POST /v1/tenants/{tenant}/topics/{topic_id}/unhide`.");
edit_route!(edit_split, "split", "`POST /v1/tenants/{tenant}/topics/{topic_id}/split`.");
edit_route!(
    edit_cancel_split,
    "cancel_split",
    "`DELETE /v1/tenants/{tenant}/topics/{topic_id}/split`."
);

/// `PUT /v1/tenants/{tenant}/articles` with a JSON list of articles
/// (`[{"id", "title", "url"?, "summary"?}, ...]`) or a `SetArticlesRequest`
/// (`{"articles": [...]}`): replaces the tenant's help-centre articles.
async fn set_articles(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<proto::SetArticlesResponse> {
    // The list itself (`[{...}, ...]`) is `{"articles": [...]}`.
    let body = body.map(|b| {
        if b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'[') {
            let mut wrapped = Vec::with_capacity(b.len() + 16);
            wrapped.extend_from_slice(b"{\"articles\": ");
            wrapped.extend_from_slice(&b);
            wrapped.push(b'}');
            Bytes::from(wrapped)
        } else {
            b
        }
    });
    let mut msg: proto::SetArticlesRequest = parse_body(body, api.max_bytes(), "list of articles")?;
    set_tenant(&tenant, &mut msg.tenant_id)?;
    api.call(&headers, remote, msg, |s, r| async move { s.set_articles(r).await }).await
}

/// `GET /v1/tenants/{tenant}/articles`.
async fn list_articles(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Answer<proto::ListArticlesResponse> {
    let msg = proto::ListArticlesRequest { tenant_id: tenant };
    api.call(&headers, remote, msg, |s, r| async move { s.list_articles(r).await }).await
}

// Tenant-defined topics (issue 30).

/// `PUT /v1/tenants/{tenant}/defined-topics` with a JSON list of
/// `{"name", "description"?, "examples"?}` (or the proto's `{"topics": [...]}`).
async fn set_defined_topics(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<proto::SetDefinedTopicsResponse> {
    // A bare list is the body's `topics`.
    let body = body.map(|b| {
        if b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'[') {
            let mut wrapped = b"{\"topics\":".to_vec();
            wrapped.extend_from_slice(&b);
            wrapped.push(b'}');
            Bytes::from(wrapped)
        } else {
            b
        }
    });
    let mut msg: proto::SetDefinedTopicsRequest =
        parse_body(body, api.max_bytes(), "list of defined topics")?;
    set_tenant(&tenant, &mut msg.tenant_id)?;
    api.call(&headers, remote, msg, |s, r| async move { s.set_defined_topics(r).await }).await
}

/// `GET /v1/tenants/{tenant}/defined-topics`.
async fn get_defined_topics(
    State(api): State<HttpApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Answer<proto::GetDefinedTopicsResponse> {
    let msg = proto::GetDefinedTopicsRequest { tenant_id: tenant };
    api.call(&headers, remote, msg, |s, r| async move { s.get_defined_topics(r).await }).await
}

/// `GET /health`: no authentication; 200 while the server is serving.
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "SERVING" }))
}

async fn openapi_json() -> Response {
    match openapi::document() {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => HttpError::new(Code::Internal, e).into_response(),
    }
}

async fn no_route(method: Method, uri: axum::http::Uri) -> HttpError {
    HttpError::new(
        Code::NotFound,
        format!("no route {method} {}; see GET /openapi.json", uri.path()),
    )
}
