//! Naming the topics a Merge created: one batched call to the label provider. Without a
//! provider (`labels.provider = "keywords"`) topics keep the engine's keyword labels; any
//! provider failure does the same, with a warning — a label is never worth failing a Merge.
//! Topics with an operator's label ([`topic_engine::Topic::label_override`]) and defined topics
//! (their name is their identity, [`topic_engine::defined`]) are never sent.

use std::sync::Arc;
use std::time::Instant;

use topic_engine::model::LabelSource;
use topic_engine::TopicModel;

use crate::providers::{Labeler, TopicToLabel};
use crate::store::TenantId;

/// Labels the topics `new_ids` of `model` with `labeler` in one batched call; `None` (or any
/// failure) keeps their keyword labels.
pub async fn label_new_topics(
    labeler: Option<&Arc<dyn Labeler>>,
    tenant: &TenantId,
    model: &mut TopicModel,
    new_ids: &[i64],
) {
    let Some(labeler) = labeler else { return };
    let batch: Vec<TopicToLabel> = new_ids
        .iter()
        .filter_map(|id| model.topic(*id))
        // An operator's label is never replaced (a new topic has none, unless a day model
        // brought one).
        // Nor is a defined topic's name (its identity).
        .filter(|t| !t.is_outlier() && !t.is_label_overridden() && !t.is_defined())
        .map(|t| TopicToLabel {
            topic_id: t.id,
            keywords: t.keywords.iter().map(|k| k.word.clone()).collect(),
            samples: t.samples.clone(),
        })
        .collect();
    if batch.is_empty() {
        return;
    }
    let started = Instant::now();
    let result = labeler.label(&batch).await;
    crate::metrics::record_provider(labeler.name(), "label", result.is_ok(), started.elapsed());
    match result {
        Ok(out) => {
            for t in model.topics.iter_mut() {
                if t.is_label_overridden() || t.is_defined() {
                    continue;
                }
                if let Some(label) = out.labels.get(&t.id) {
                    if !out.fallbacks.contains(&t.id) && !label.trim().is_empty() {
                        t.label = label.clone();
                        t.label_source = LabelSource::Llm;
                    }
                }
            }
            if !out.fallbacks.is_empty() {
                tracing::warn!(tenant = %tenant, fallbacks = out.fallbacks.len(), "some topics kept keyword labels");
            }
        }
        Err(e) => {
            tracing::warn!(tenant = %tenant, error = %e, "labeling failed; new topics keep keyword labels")
        }
    }
}
