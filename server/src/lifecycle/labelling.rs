//! Naming the topics a Merge created, and writing the canonical FAQ question (issue 29) of the
//! topics whose representative questions are new or changed: ONE batched call to the label
//! provider for both. Without a provider (`labels.provider = "keywords"`) topics keep the
//! engine's keyword labels and questions made from their most central example; any provider
//! failure does the same, with a warning — a label is never worth failing a Merge.
//! Topics with an operator's label ([`topic_engine::Topic::label_override`]) never get a new
//! label (they may still get a question), nor do defined topics (their name is their identity,
//! [`topic_engine::defined`]). The prompt holds masked text only: the samples and
//! examples the engine stored, which it masked at Fit.

use std::sync::Arc;
use std::time::Instant;

use topic_engine::faq::{examples_changed, QuestionSource};
use topic_engine::model::LabelSource;
use topic_engine::TopicModel;

use crate::providers::{Labeler, TopicToLabel};
use crate::store::TenantId;

/// Labels the topics `new_ids` of `model` and asks for the canonical question of every new
/// topic and every topic whose FAQ examples differ from `base`'s, in one batched call to
/// `labeler`; `None` (or any failure) keeps keyword labels and example questions.
pub async fn label_new_topics(
    labeler: Option<&Arc<dyn Labeler>>,
    tenant: &TenantId,
    model: &mut TopicModel,
    base: Option<&TopicModel>,
    new_ids: &[i64],
) {
    let Some(labeler) = labeler else { return };
    let is_new = |id: i64| new_ids.contains(&id);
    let batch: Vec<TopicToLabel> = model
        .active_topics()
        .filter(|t| t.id >= 0)
        .filter_map(|t| {
            // A new topic's label, unless an operator named it (a day model may bring one) or
            // it is a defined topic (its name is its identity).
            let wants_label = is_new(t.id) && !t.is_label_overridden() && !t.is_defined();
            let wants_question = !t.faq.examples.is_empty()
                && (is_new(t.id)
                    || base
                        .and_then(|b| b.topic(t.id))
                        .is_none_or(|old| examples_changed(&old.faq, &t.faq)));
            (wants_label || wants_question).then(|| TopicToLabel {
                topic_id: t.id,
                keywords: t.keywords.iter().map(|k| k.word.clone()).collect(),
                samples: t.samples.clone(),
                questions: if wants_question {
                    t.faq.examples.iter().map(|e| e.text.clone()).collect()
                } else {
                    Vec::new()
                },
                language: t.faq.language.clone(),
            })
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
                if let Some(q) = out.questions.get(&t.id) {
                    if !q.trim().is_empty() && !t.faq.examples.is_empty() {
                        t.faq.question = Some(q.trim().to_string());
                        t.faq.question_source = QuestionSource::Llm;
                    }
                }
                if t.is_label_overridden() || t.is_defined() || !is_new(t.id) {
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
