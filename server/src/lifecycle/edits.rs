//! EditTopics (issue 30): an operator's hand edit of the active model — merge topic B into A,
//! hide or show a topic, ask for a topic to be split at the next merge
//! ([`topic_engine::edits`]). As for a label edit ([`relabel`](super::relabel)), the edit is a
//! new version made through the commit protocol ([`commit`](super::commit): files, then ONE
//! transaction inserting the version, activating it and replacing the snapshot), so it is
//! recorded (`ListModels` shows it, its metadata says what and who) and ActivateModel rolls it
//! back. The edit lives in the model (aliases and flags in each topic's memory, a lineage entry
//! with who and when), so every later merge keeps it. The API layer checks the caller's role
//! (admin, as for ActivateModel).

use std::sync::Arc;

use chrono::Utc;
use topic_engine::edits::{self, EditError, TopicEdit};
use topic_engine::EditAuthor;

use super::contract::{TopicEditMetadata, TOPIC_EDIT};
use super::error::{Error, Result};
use super::Lifecycle;
use crate::store::{TenantId, Version};

/// The result of a hand edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicsEdited {
    /// The active version holding the edit (the one active before when nothing changed).
    pub version: Version,
    /// Whether a new version was made (false when the edit was already in effect).
    pub changed: bool,
    /// The ids the edit named, as they resolved (aliases replaced by their topic).
    pub resolved_ids: Vec<i64>,
}

impl Lifecycle {
    /// Applies `edit` to the tenant's active model as a new active version, recorded as made by
    /// `by` now. `InvalidArgument` for `-1`/`-2`, a topic merged with itself or a retired
    /// topic; `NotFound` without an active model or for an id that is neither a topic nor an
    /// alias of the active model. An edit already in effect makes no version.
    pub async fn edit_topics(
        &self,
        tenant: &TenantId,
        edit: TopicEdit,
        by: &str,
    ) -> Result<TopicsEdited> {
        let _state = self.locks.lock_state(tenant).await?;
        let active = self.active_record(tenant).await?;
        let base = self.load(&active).await?;
        let author = EditAuthor { by: by.to_string(), at: Utc::now() };
        let edited = edits::apply(&base, &edit, &author).map_err(|e| match e {
            EditError::UnknownTopic(id) => Error::not_found(format!(
                "tenant {tenant}'s active model ({}) has no topic {id}; GetTopTopics or GetModel list its topics",
                active.version
            )),
            EditError::Engine(e) => Error::from(e),
            other => Error::invalid_argument(other.to_string()),
        })?;
        if !edited.changed {
            return Ok(TopicsEdited {
                version: active.version,
                changed: false,
                resolved_ids: edited.resolved,
            });
        }
        let metadata = TopicEditMetadata {
            edit: TOPIC_EDIT.to_string(),
            base_version: active.version.to_string(),
            action: edit.name().to_string(),
            topic_ids: edit.ids(),
            resolved_ids: edited.resolved.clone(),
            by: by.to_string(),
            embedding_model: edited.model.embedding_model.clone(),
        };
        let model = Arc::new(edited.model);
        // The base is the active model, whose daily counts are stored: only changed ones are
        // written (a merge changes the surviving topic's).
        let rec = self
            .commit_merged(tenant, model, Some(base.as_ref()), metadata.to_json(), None)
            .await?;
        tracing::info!(tenant = %tenant, version = %rec.version, base = %active.version,
            action = edit.name(), ids = ?edit.ids(), by, "topics edited");
        Ok(TopicsEdited { version: rec.version, changed: true, resolved_ids: edited.resolved })
    }
}
