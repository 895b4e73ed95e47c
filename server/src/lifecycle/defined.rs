//! Tenant-defined topics (issue 30; the rules are in [`topic_engine::defined`]).
//!
//! Where they live: the list as set (name, description, examples) and one embedding per topic
//! (made by the tenant's embedding provider when the list is set: the normalised mean of the
//! embeddings of `"name: description"` and of each example) are a tenant setting in the
//! metadata store (table `defined_topics`). Setting the list makes no model version; the next
//! Fit reads it and fits with it, so the day model records the defined topics it was fitted
//! with (label = name, label source `defined`), and the Merge that follows gives each name its
//! one id for good (a name removed from the list retires at that Merge). Transform, the
//! snapshot, trends, rollback and restarts see them through the model like any topic.

use chrono::Utc;
use topic_engine::defined::{combine_embeddings, normalize_specs};
use topic_engine::model::TopicStatus;
use topic_engine::{DefinedTopic, DefinedTopicSpec};

use super::error::{Error, Result};
use super::Lifecycle;
use crate::store::{DefinedTopicsRow, TenantId, Version};

/// One defined topic and where it stands in the active model.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinedTopicState {
    /// The topic as set.
    pub spec: DefinedTopicSpec,
    /// Its id in the active model; `None` until a Merge after the Fit that first used it.
    pub topic_id: Option<i64>,
    /// Documents behind it in the active model (0 without an id).
    pub size: u64,
}

/// A tenant's defined topics.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinedTopics {
    /// The list, in the order set.
    pub topics: Vec<DefinedTopicState>,
    /// The embedding model that embedded them.
    pub embedding_model: String,
    /// When the list was set (RFC 3339).
    pub updated_at: String,
    /// The active version the ids refer to, if the tenant has one.
    pub active_version: Option<Version>,
    /// Defined topics of the active model no longer in the list (they retire at the next
    /// Merge): `(id, name)`.
    pub leaving: Vec<(i64, String)>,
}

impl Lifecycle {
    /// Replaces `tenant`'s defined topics with `specs` (checked by
    /// [`normalize_specs`]: `InvalidArgument` for an empty or too long list, a field too long or
    /// not one line, duplicate names), embedded with the server's provider
    /// (`FailedPrecondition` without one). Takes effect at the tenant's next Fit.
    pub async fn set_defined_topics(
        &self,
        tenant: &TenantId,
        specs: &[DefinedTopicSpec],
    ) -> Result<DefinedTopics> {
        let specs = normalize_specs(specs).map_err(|e| Error::invalid_argument(engine_why(&e)))?;
        let embedder = self.embedder()?.clone();
        let texts: Vec<Vec<String>> = specs.iter().map(DefinedTopicSpec::embedding_texts).collect();
        let flat: Vec<String> = texts.iter().flatten().cloned().collect();
        let matrix = self.embed(&flat).await?;
        let mut embeddings = Vec::with_capacity(specs.len());
        let mut row = 0;
        for (spec, t) in specs.iter().zip(&texts) {
            let rows: Vec<&[f32]> = (row..row + t.len()).map(|i| matrix.row(i)).collect();
            row += t.len();
            let e = combine_embeddings(&rows).map_err(|e| {
                Error::invalid_argument(format!(
                    "defined topic {:?}: {}; reword it",
                    spec.name,
                    engine_why(&e)
                ))
            })?;
            embeddings.push(e);
        }
        let stored = DefinedTopicsRow {
            topics: specs,
            embedding_model: embedder.model_name().to_string(),
            embeddings,
            updated_at: Utc::now(),
        };
        self.meta.set_defined_topics(tenant, &stored).await?;
        tracing::info!(tenant = %tenant, topics = stored.topics.len(),
            model = %stored.embedding_model, "defined topics set; used from the next fit");
        self.describe_defined(tenant, stored).await
    }

    /// `tenant`'s defined topics with their ids in the active model; `NotFound` when none were
    /// set.
    pub async fn defined_topics(&self, tenant: &TenantId) -> Result<DefinedTopics> {
        let Some(row) = self.meta.defined_topics(tenant).await? else {
            return Err(Error::not_found(format!(
                "tenant {tenant} has no defined topics; set them with SetDefinedTopics \
                 (PUT /v1/tenants/{tenant}/defined-topics, or `topics define --tenant {tenant} FILE.jsonl`)"
            )));
        };
        self.describe_defined(tenant, row).await
    }

    async fn describe_defined(
        &self,
        tenant: &TenantId,
        row: DefinedTopicsRow,
    ) -> Result<DefinedTopics> {
        let active = self.meta.active(tenant).await?;
        let model = match &active {
            Some(rec) => Some(self.load(rec).await?),
            None => None,
        };
        let in_model = |name: &str| {
            model.as_ref().and_then(|m| {
                m.topics
                    .iter()
                    .find(|t| t.is_defined() && t.status == TopicStatus::Active && t.label == name)
            })
        };
        let topics = row
            .topics
            .into_iter()
            .map(|spec| {
                let t = in_model(&spec.name);
                DefinedTopicState { topic_id: t.map(|t| t.id), size: t.map_or(0, |t| t.size), spec }
            })
            .collect::<Vec<_>>();
        let leaving = model
            .as_ref()
            .map(|m| {
                m.active_topics()
                    .filter(|t| t.is_defined() && !topics.iter().any(|s| s.spec.name == t.label))
                    .map(|t| (t.id, t.label.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(DefinedTopics {
            topics,
            embedding_model: row.embedding_model,
            updated_at: row.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            active_version: active.map(|r| r.version),
            leaving,
        })
    }

    /// The defined topics a Fit of `tenant` uses, in the space of its documents' embeddings
    /// (`model_name`, `dim`): none when the tenant set none. A list embedded by another model
    /// (the provider changed since it was set) is embedded again with the current provider;
    /// `FailedPrecondition` when that cannot give vectors of `dim` values.
    pub(super) async fn defined_for_fit(
        &self,
        tenant: &TenantId,
        model_name: &str,
        dim: usize,
    ) -> Result<Vec<DefinedTopic>> {
        let Some(row) = self.meta.defined_topics(tenant).await? else { return Ok(Vec::new()) };
        let same_space = row.embedding_model == model_name
            && row.embeddings.first().is_some_and(|e| e.len() == dim);
        let embeddings = if same_space {
            row.embeddings
        } else {
            let fresh = match self.embedder() {
                Ok(e) if e.dimension() == dim && e.model_name() == model_name => {
                    self.set_defined_topics(tenant, &row.topics).await.ok();
                    self.meta.defined_topics(tenant).await?.map(|r| r.embeddings)
                }
                _ => None,
            };
            fresh.filter(|e| e.first().is_some_and(|r| r.len() == dim)).ok_or_else(|| {
                Error::failed_precondition(format!(
                    "tenant {tenant}'s defined topics were embedded with {:?} but this Fit's \
                     embeddings come from {model_name:?} ({dim} dimensions); embed the documents \
                     with the server's provider, or set the defined topics again on a server \
                     whose provider matches",
                    row.embedding_model
                ))
            })?
        };
        Ok(row
            .topics
            .into_iter()
            .zip(embeddings)
            .map(|(spec, embedding)| DefinedTopic { name: spec.name, embedding })
            .collect())
    }
}

/// The reason of an engine input error, without the error kind's prefix.
fn engine_why(e: &topic_engine::EngineError) -> String {
    match e {
        topic_engine::EngineError::InvalidInput(why) => why.clone(),
        other => other.to_string(),
    }
}
