//! `GET /openapi.json`: an OpenAPI 3.0 document generated at run time from the proto's own
//! descriptors ([`crate::proto::FILE_DESCRIPTOR_SET`]) and the route table [`ROUTES`], so the
//! schemas cannot drift from the messages the routes parse and answer.
//!
//! Schemas follow the proto3 JSON mapping as the API speaks it: the proto's snake_case field
//! names, 64-bit integers as strings, `optional` fields nullable, the proto comments as
//! descriptions.

use std::collections::BTreeMap;

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};
use serde_json::{json, Map, Value};

/// One HTTP route: what the document says about it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// `get`, `post`, `put` or `delete`.
    pub method: &'static str,
    /// The path template.
    pub path: &'static str,
    /// The operation id: the RPC it transcodes to, with the action appended where several
    /// routes share one RPC (EditTopics); unique, as OpenAPI requires.
    pub operation: &'static str,
    /// One line for humans.
    pub summary: &'static str,
    /// The request body's proto message, if the route has a body.
    pub body: Option<&'static str>,
    /// Query parameters: name, JSON type, description.
    pub query: &'static [(&'static str, &'static str, &'static str)],
    /// The answer's proto message (or `None` for a plain JSON answer).
    pub response: Option<&'static str>,
    /// The role the route needs (`none` for open routes).
    pub role: &'static str,
}

/// Every route the HTTP API serves (the router in [`super::router`] and a test keep them equal).
pub const ROUTES: &[Route] = &[
    Route {
        method: "post",
        path: "/v1/tenants/{tenant}/fit",
        operation: "Fit",
        summary: "Fit a day model on the tenant's documents (stored as a candidate version)",
        body: Some("FitRequest"),
        query: &[],
        response: Some("FitResponse"),
        role: "write",
    },
    Route {
        method: "post",
        path: "/v1/tenants/{tenant}/merge",
        operation: "Merge",
        summary: "Merge a candidate day model into the active model and activate the result",
        body: Some("MergeRequest"),
        query: &[],
        response: Some("MergeResponse"),
        role: "write",
    },
    Route {
        method: "post",
        path: "/v1/tenants/{tenant}/transform",
        operation: "Transform",
        summary: "Tag texts or embeddings with the active model's topics",
        body: Some("TransformRequest"),
        query: &[],
        response: Some("TransformResponse"),
        role: "read",
    },
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/topics",
        operation: "GetTopTopics",
        summary: "The tenant's current top topics (the dashboard snapshot)",
        body: None,
        query: &[
            ("limit", "integer", "How many topics (default 10)"),
            ("trend", "boolean", "Include each topic's daily counts"),
        ],
        response: Some("GetTopTopicsResponse"),
        role: "read",
    },
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/models",
        operation: "ListModels",
        summary: "The tenant's model versions, newest first (tenant `*`: every tenant, admin)",
        body: None,
        query: &[("limit", "integer", "At most this many versions")],
        response: Some("ListModelsResponse"),
        role: "read",
    },
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/models/{version}",
        operation: "GetModel",
        summary: "One model version with its topics (`active` for the active version)",
        body: None,
        query: &[("include_retired", "boolean", "Include retired topics")],
        response: Some("GetModelResponse"),
        role: "read",
    },
    Route {
        method: "post",
        path: "/v1/tenants/{tenant}/models/{version}/activate",
        operation: "ActivateModel",
        summary: "Make a stored version the active one (rollback)",
        body: None,
        query: &[],
        response: Some("ActivateModelResponse"),
        role: "admin",
    },
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/windows",
        operation: "ListMergedWindows",
        summary: "The windows already merged for the tenant",
        body: None,
        query: &[],
        response: Some("ListMergedWindowsResponse"),
        role: "read",
    },
    Route {
        method: "delete",
        path: "/v1/tenants/{tenant}",
        operation: "DeleteTenant",
        summary: "Delete every model, file and row of the tenant",
        body: None,
        query: &[],
        response: Some("DeleteTenantResponse"),
        role: "admin",
    },
    Route {
        method: "get",
        path: "/v1/tenants",
        operation: "ListTenants",
        summary: "The tenants with an active model that the token may read",
        body: None,
        query: &[],
        response: Some("ListTenantsResponse"),
        role: "read",
    },
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/map",
        operation: "GetTopicMap",
        summary: "A deterministic 2-D layout of the model's topics (classical MDS on cosine distances)",
        body: None,
        query: &[("version", "string", "A model version (default: the active one)")],
        response: Some("GetTopicMapResponse"),
        role: "read",
    },
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/search",
        operation: "FindTopics",
        summary: "The active topics nearest to a phrase",
        body: None,
        query: &[
            ("q", "string", "The phrase (required)"),
            ("limit", "integer", "How many topics (default 5, at most 50)"),
        ],
        response: Some("FindTopicsResponse"),
        role: "read",
    },
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/changes",
        operation: "GetTopicChanges",
        summary: "New, retired, rising and falling topics of the active model",
        body: None,
        query: &[("limit", "integer", "Topics per list (default 5, at most 50)")],
        response: Some("GetTopicChangesResponse"),
        role: "read",
    },
    Route {
        method: "put",
        path: "/v1/tenants/{tenant}/topics/{topic_id}/label",
        operation: "SetTopicLabel",
        summary: "Set (or, with an empty label, clear) an operator's label for a topic; makes a new active version",
        body: Some("SetTopicLabelRequest"),
        query: &[],
        response: Some("SetTopicLabelResponse"),
        role: "write",
    },
    // Topic tree (issue 30).
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/tree",
        operation: "GetTopicTree",
        summary: "The topic tree of a version (agglomerative on topic embeddings) and its themes",
        body: None,
        query: &[
            ("version", "string", "A version (default: the active one)"),
            ("themes", "integer", "Themes to cut the tree into (default about sqrt(topics), at most 100)"),
        ],
        response: Some("GetTopicTreeResponse"),
        role: "read",
    },
    // Hand edits (issue 30): EditTopics.
    Route {
        method: "post",
        path: "/v1/tenants/{tenant}/topics/{topic_id}/merge-into",
        operation: "EditTopicsMerge",
        summary: "Merge the topic into into_topic_id (its id then answers as an alias); makes a new active version",
        body: Some("EditTopicsRequest"),
        query: &[],
        response: Some("EditTopicsResponse"),
        role: "admin",
    },
    Route {
        method: "post",
        path: "/v1/tenants/{tenant}/topics/{topic_id}/hide",
        operation: "EditTopicsHide",
        summary: "Hide the topic from snapshots and Transform (documents nearest to it answer -1); makes a new active version",
        body: Some("EditTopicsRequest"),
        query: &[],
        response: Some("EditTopicsResponse"),
        role: "admin",
    },
    Route {
        method: "post",
        path: "/v1/tenants/{tenant}/topics/{topic_id}/unhide",
        operation: "EditTopicsUnhide",
        summary: "Show a hidden topic again; makes a new active version",
        body: Some("EditTopicsRequest"),
        query: &[],
        response: Some("EditTopicsResponse"),
        role: "admin",
    },
    Route {
        method: "post",
        path: "/v1/tenants/{tenant}/topics/{topic_id}/split",
        operation: "EditTopicsSplit",
        summary: "Split the topic at the next merge where its documents divide; makes a new active version",
        body: Some("EditTopicsRequest"),
        query: &[],
        response: Some("EditTopicsResponse"),
        role: "admin",
    },
    Route {
        method: "delete",
        path: "/v1/tenants/{tenant}/topics/{topic_id}/split",
        operation: "EditTopicsCancelSplit",
        summary: "Cancel a split request; makes a new active version",
        body: Some("EditTopicsRequest"),
        query: &[],
        response: Some("EditTopicsResponse"),
        role: "admin",
    },
    // FAQ (issue 29).
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/faq",
        operation: "GetFaq",
        summary: "The tenant's FAQ: the questions its customers ask, by message count (format=markdown or csv: a document instead of JSON)",
        body: None,
        query: &[
            ("format", "string", "json (default), markdown or csv"),
            ("gaps", "boolean", "Knowledge gaps only: entries no article answers, most messages in the last 7 days first, then trend"),
        ],
        response: Some("GetFaqResponse"),
        role: "read",
    },
    // Knowledge base (issue 29).
    Route {
        method: "put",
        path: "/v1/tenants/{tenant}/articles",
        operation: "SetArticles",
        summary: "Replace the tenant's help-centre articles (a JSON list of {id, title, url?, summary?}, at most 2000; or a SetArticlesRequest)",
        body: Some("SetArticlesRequest"),
        query: &[],
        response: Some("SetArticlesResponse"),
        role: "write",
    },
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/articles",
        operation: "ListArticles",
        summary: "The tenant's help-centre articles as stored",
        body: None,
        query: &[],
        response: Some("ListArticlesResponse"),
        role: "read",
    },
    // Tenant-defined topics (issue 30).
    Route {
        method: "put",
        path: "/v1/tenants/{tenant}/defined-topics",
        operation: "SetDefinedTopics",
        summary: "Replace the tenant's defined topics (a JSON list of {name, description?, examples?}, or {\"topics\": [...]}); used from the next Fit",
        body: Some("SetDefinedTopicsRequest"),
        query: &[],
        response: Some("SetDefinedTopicsResponse"),
        role: "write",
    },
    Route {
        method: "get",
        path: "/v1/tenants/{tenant}/defined-topics",
        operation: "GetDefinedTopics",
        summary: "The tenant's defined topics with their ids in the active model",
        body: None,
        query: &[],
        response: Some("GetDefinedTopicsResponse"),
        role: "read",
    },
    Route {
        method: "get",
        path: "/health",
        operation: "Health",
        summary: "200 while the server is serving (no authentication)",
        body: None,
        query: &[],
        response: None,
        role: "none",
    },
    Route {
        method: "get",
        path: "/openapi.json",
        operation: "OpenApi",
        summary: "This document (no authentication)",
        body: None,
        query: &[],
        response: None,
        role: "none",
    },
];

/// The error answers every authenticated route may give.
const ERRORS: &[(&str, &str)] = &[
    ("400", "INVALID_ARGUMENT or FAILED_PRECONDITION: the request cannot be served as sent"),
    ("401", "UNAUTHENTICATED: missing or invalid bearer token"),
    ("403", "PERMISSION_DENIED: the token has no access to this tenant or role"),
    ("404", "NOT_FOUND: no such tenant model, version or topic"),
    ("409", "ALREADY_EXISTS: the window was merged already (use force)"),
    ("413", "RESOURCE_EXHAUSTED: the body is larger than limits.max_request_bytes"),
    ("429", "RESOURCE_EXHAUSTED: rate limit or too many writes at once"),
    ("503", "UNAVAILABLE: a backend is down; retry later"),
    ("504", "DEADLINE_EXCEEDED: the request took longer than server.request_timeout_secs"),
];

/// The OpenAPI 3.0.3 document.
pub fn document() -> Result<Value, String> {
    let set = FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET)
        .map_err(|e| format!("cannot decode the API descriptors: {e}"))?;
    let mut schemas = Map::new();
    for file in set.file.iter().filter(|f| f.package() == "topics.v1") {
        let comments = message_comments(file);
        for (i, message) in file.message_type.iter().enumerate() {
            schemas.insert(message.name().to_string(), message_schema(message, i, &comments));
        }
    }
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "gRPC status code name, e.g. NOT_FOUND"},
                    "message": {"type": "string", "description": "What went wrong and what to do"}
                }
            }}
        }),
    );
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for route in ROUTES {
        paths.entry(route.path).or_default().insert(route.method.into(), operation(route));
    }
    Ok(json!({
        "openapi": "3.0.3",
        "info": {
            "title": "topicd HTTP/JSON API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The topics.v1 gRPC API over HTTP/JSON (proto3 JSON mapping; 64-bit integers are strings). Authentication: `Authorization: Bearer <token>` when the server has tokens configured.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }))
}

fn operation(route: &Route) -> Value {
    let mut parameters = Vec::new();
    for (name, schema) in [
        ("tenant", json!({"type": "string"})),
        ("version", json!({"type": "string"})),
        ("topic_id", json!({"type": "integer", "format": "int64"})),
    ] {
        if route.path.contains(&format!("{{{name}}}")) {
            parameters.push(json!({
                "name": name, "in": "path", "required": true, "schema": schema
            }));
        }
    }
    for (name, ty, description) in route.query {
        parameters.push(json!({
            "name": name, "in": "query", "required": false,
            "description": description, "schema": {"type": ty}
        }));
    }
    let ok = match route.response {
        Some(m) => json!({
            "description": "OK",
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{m}")}}}
        }),
        None => {
            json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}})
        }
    };
    let mut responses = Map::new();
    responses.insert("200".into(), ok);
    if route.role != "none" {
        for (status, description) in ERRORS {
            responses.insert(
                (*status).into(),
                json!({
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                }),
            );
        }
    }
    let mut op = Map::new();
    op.insert("operationId".into(), json!(route.operation));
    op.insert("summary".into(), json!(route.summary));
    if route.role != "none" {
        op.insert("description".into(), json!(format!("Needs role `{}`.", route.role)));
        op.insert("security".into(), json!([{"bearer": []}]));
    }
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = route.body {
        op.insert(
            "requestBody".into(),
            json!({
                "required": true,
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}
            }),
        );
    }
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

/// Leading comments of messages and fields, keyed by (message index, field index or -1).
fn message_comments(file: &prost_types::FileDescriptorProto) -> BTreeMap<(i32, i32), String> {
    let mut out = BTreeMap::new();
    let Some(info) = &file.source_code_info else {
        return out;
    };
    for location in &info.location {
        let text = location.leading_comments().trim();
        if text.is_empty() {
            continue;
        }
        // [4, m] = message m; [4, m, 2, f] = its field f (top-level messages only).
        match location.path.as_slice() {
            [4, m] => {
                out.insert((*m, -1), text.to_string());
            }
            [4, m, 2, f] => {
                out.insert((*m, *f), text.to_string());
            }
            _ => {}
        }
    }
    out
}

fn message_schema(
    message: &DescriptorProto,
    index: usize,
    comments: &BTreeMap<(i32, i32), String>,
) -> Value {
    let index = i32::try_from(index).unwrap_or(i32::MAX);
    let mut properties = Map::new();
    for (f, field) in message.field.iter().enumerate() {
        let mut schema = scalar_schema(field);
        if field.label() == Label::Repeated {
            schema = json!({"type": "array", "items": schema});
        }
        if field.proto3_optional() {
            if let Value::Object(o) = &mut schema {
                if !o.contains_key("$ref") {
                    o.insert("nullable".into(), json!(true));
                }
            }
        }
        let f = i32::try_from(f).unwrap_or(i32::MAX);
        if let (Some(text), Value::Object(o)) = (comments.get(&(index, f)), &mut schema) {
            if !o.contains_key("$ref") {
                o.insert("description".into(), json!(text));
            }
        }
        properties.insert(field.name().to_string(), schema);
    }
    let mut schema = json!({"type": "object", "properties": properties});
    if let (Some(text), Value::Object(o)) = (comments.get(&(index, -1)), &mut schema) {
        o.insert("description".into(), json!(text));
    }
    schema
}

fn scalar_schema(field: &prost_types::FieldDescriptorProto) -> Value {
    match field.r#type() {
        Type::Double | Type::Float => json!({"type": "number"}),
        Type::Int64 | Type::Sint64 | Type::Sfixed64 => {
            json!({"type": "string", "format": "int64", "description": "64-bit integer as a string"})
        }
        Type::Uint64 | Type::Fixed64 => {
            json!({"type": "string", "format": "uint64", "description": "64-bit integer as a string"})
        }
        Type::Int32 | Type::Sint32 | Type::Sfixed32 => {
            json!({"type": "integer", "format": "int32"})
        }
        Type::Uint32 | Type::Fixed32 => json!({"type": "integer", "format": "int64", "minimum": 0}),
        Type::Bool => json!({"type": "boolean"}),
        Type::String => json!({"type": "string"}),
        Type::Bytes => json!({"type": "string", "format": "byte"}),
        Type::Enum => json!({"type": "string"}),
        Type::Message | Type::Group => {
            let name = field.type_name().rsplit('.').next().unwrap_or_default();
            json!({"$ref": format!("#/components/schemas/{name}")})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_message_has_a_schema_and_refs_resolve() {
        let mut ids: Vec<&str> = ROUTES.iter().map(|r| r.operation).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "operation ids must be unique (OpenAPI)");
        let doc = document().unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for route in ROUTES {
            for m in route.body.iter().chain(route.response.iter()) {
                assert!(schemas.contains_key(*m), "{m}");
            }
        }
        let text = doc.to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
        let fit = &schemas["FitRequest"]["properties"];
        assert_eq!(fit["documents"]["type"], "array");
        assert_eq!(schemas["TransformResult"]["properties"]["topic_id"]["type"], "string");
        assert_eq!(schemas["FitParams"]["properties"]["seed"]["nullable"], true);
    }
}
