//! JSON views of the server's messages, for `--json` output.

use serde_json::{json, Value};
use topicd_proto as proto;

/// A model's metadata.
pub fn model_info(info: &proto::ModelInfo) -> Value {
    let metadata: Value = serde_json::from_str(&info.metadata_json).unwrap_or(Value::Null);
    json!({
        "tenant_id": info.tenant_id,
        "version": info.version,
        "kind": info.kind,
        "is_active": info.is_active,
        "total_topics": info.total_topics,
        "total_documents": info.total_documents,
        "date_range_start": info.date_range_start,
        "date_range_end": info.date_range_end,
        "created_at": info.created_at,
        "storage_path": info.storage_path,
        "metadata": metadata,
    })
}

/// Keyword words, in order.
pub fn keyword_words(keywords: &[proto::Keyword]) -> Vec<&str> {
    keywords.iter().map(|k| k.word.as_str()).collect()
}

/// A model topic.
pub fn topic(topic: &proto::Topic) -> Value {
    json!({
        "topic_id": topic.topic_id,
        "label": topic.label,
        "keywords": keyword_words(&topic.keywords),
        "keyword_weights": topic.keywords.iter().map(|k| k.weight).collect::<Vec<_>>(),
        "size": topic.size,
        "sample_messages": topic.sample_messages,
        "first_seen": topic.first_seen,
        "last_seen": topic.last_seen,
        "status": topic.status,
    })
}

/// A dashboard top topic.
pub fn top_topic(topic: &proto::TopTopic, with_trend: bool) -> Value {
    let mut value = json!({
        "rank": topic.rank,
        "topic_id": topic.topic_id,
        "label": topic.label,
        "keywords": keyword_words(&topic.keywords),
        "keyword_weights": topic.keywords.iter().map(|k| k.weight).collect::<Vec<_>>(),
        "message_count": topic.message_count,
        "sample_messages": topic.sample_messages,
        "first_seen": topic.first_seen,
        "last_seen": topic.last_seen,
    });
    if with_trend {
        value["trend"] =
            topic.trend.iter().map(|d| json!({"date": d.date, "count": d.count})).collect();
    }
    value
}
