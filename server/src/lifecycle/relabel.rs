//! SetTopicLabel: an operator's label for one topic of the active model. The edit is a new
//! version made through the same commit protocol as a Merge ([`commit`](super::commit): files,
//! then ONE transaction inserting the version, activating it and replacing the snapshot), so
//! it is recorded (`ListModels` shows it, its metadata says what changed) and ActivateModel
//! rolls it back. The label lives in the model ([`topic_engine::Topic::label_override`]):
//! merges keep it and labellers never replace it.

use std::sync::Arc;

use topic_engine::model::normalize_label_override;
use topic_engine::OUTLIER_TOPIC;

use super::contract::{LabelEditMetadata, LABEL_EDIT};
use super::error::{Error, Result};
use super::Lifecycle;
use crate::store::{TenantId, Version};

/// The result of a label edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelEdited {
    /// The active version holding the edit (the one active before when nothing changed).
    pub version: Version,
    /// Whether a new version was made (false when the topic already had this label).
    pub changed: bool,
    /// The topic.
    pub topic_id: i64,
    /// The label shown now.
    pub label: String,
    /// The generated label underneath.
    pub generated_label: String,
    /// True when `label` is the operator's.
    pub overridden: bool,
}

impl Lifecycle {
    /// Sets topic `topic_id`'s operator label in the tenant's active model (`label` empty or
    /// blank: clears it, the generated label shows again), as a new active version.
    /// `InvalidArgument` for a label that is not one line of 1..=200 characters after trimming
    /// or for the outlier topic; `NotFound` without an active model or for a topic the active
    /// model does not have. Setting the label a topic already has changes nothing and makes no
    /// version.
    pub async fn set_topic_label(
        &self,
        tenant: &TenantId,
        topic_id: i64,
        label: &str,
    ) -> Result<LabelEdited> {
        let label = normalize_label_override(label).map_err(|e| {
            let why = match &e {
                topic_engine::EngineError::InvalidInput(why) => why.clone(),
                other => other.to_string(),
            };
            Error::invalid_argument(format!("label: {why}"))
        })?;
        if topic_id <= OUTLIER_TOPIC {
            return Err(Error::invalid_argument(format!(
                "topic_id {topic_id} is not a topic (-1 = outliers, -2 = small talk); pass a topic id from GetTopTopics or GetModel"
            )));
        }
        let _state = self.locks.lock_state(tenant).await?;
        let active = self.active_record(tenant).await?;
        let base = self.load(&active).await?;
        let Some(topic) = base.topic(topic_id) else {
            return Err(Error::not_found(format!(
                "tenant {tenant}'s active model ({}) has no topic {topic_id}; GetTopTopics or GetModel list its topics",
                active.version
            )));
        };
        if topic.is_defined() {
            return Err(Error::failed_precondition(format!(
                "topic {topic_id} is the defined topic {:?}: its name is its identity and cannot be                  overridden; change the name in the defined-topics list (PUT /v1/tenants/{tenant}/defined-topics)",
                topic.label
            )));
        }
        let previous_label = topic.label_override.clone();
        let mut model = (*base).clone();
        let changed = model.set_label_override(topic_id, label.as_deref())?;
        let edited = |version: Version, changed: bool, model: &topic_engine::TopicModel| {
            let t = model.topic(topic_id);
            LabelEdited {
                version,
                changed,
                topic_id,
                label: t.map(|t| t.display_label().to_string()).unwrap_or_default(),
                generated_label: t.map(|t| t.label.clone()).unwrap_or_default(),
                overridden: t.is_some_and(|t| t.is_label_overridden()),
            }
        };
        if !changed {
            return Ok(edited(active.version, false, &base));
        }
        let metadata = LabelEditMetadata {
            edit: LABEL_EDIT.to_string(),
            base_version: active.version.to_string(),
            topic_id,
            label: label.clone(),
            previous_label,
            embedding_model: model.embedding_model.clone(),
        };
        let model = Arc::new(model);
        // The base is the active model, whose daily counts are stored: none change here.
        let rec = self
            .commit_merged(tenant, model.clone(), Some(base.as_ref()), metadata.to_json(), None)
            .await?;
        tracing::info!(tenant = %tenant, version = %rec.version, base = %active.version, topic_id,
            cleared = label.is_none(), "topic label edited");
        Ok(edited(rec.version, true, &model))
    }
}
