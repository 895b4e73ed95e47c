//! SetDefinedTopics (`write`) and GetDefinedTopics (`read`): tenant-defined topics (issue 30).
//! Validate, authorise, call [`crate::lifecycle::defined`], convert.

use tonic::Request;
use topic_engine::DefinedTopicSpec;

use super::status::ApiError;
use super::{auth, validate, TopicsService};
use crate::auth::Role;
use crate::lifecycle::defined::{DefinedTopicState, DefinedTopics};
use crate::proto;

fn spec_of(t: proto::DefinedTopic) -> DefinedTopicSpec {
    DefinedTopicSpec {
        name: t.name,
        description: Some(t.description).filter(|d| !d.trim().is_empty()),
        examples: t.examples,
    }
}

fn state(s: DefinedTopicState) -> proto::DefinedTopicState {
    proto::DefinedTopicState {
        topic: Some(proto::DefinedTopic {
            name: s.spec.name,
            description: s.spec.description.unwrap_or_default(),
            examples: s.spec.examples,
        }),
        topic_id: s.topic_id,
        size: s.size,
    }
}

/// The answer of both calls.
fn parts(
    d: DefinedTopics,
) -> (Vec<proto::DefinedTopicState>, String, String, String, Vec<proto::DefinedTopicState>) {
    let leaving = d
        .leaving
        .into_iter()
        .map(|(id, name)| proto::DefinedTopicState {
            topic: Some(proto::DefinedTopic { name, ..Default::default() }),
            topic_id: Some(id),
            size: 0,
        })
        .collect();
    (
        d.topics.into_iter().map(state).collect(),
        d.embedding_model,
        d.updated_at,
        d.active_version.map(|v| v.to_string()).unwrap_or_default(),
        leaving,
    )
}

impl TopicsService {
    pub(super) async fn set_defined_topics_inner(
        &self,
        req: Request<proto::SetDefinedTopicsRequest>,
    ) -> Result<proto::SetDefinedTopicsResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Write)?;
        let specs: Vec<DefinedTopicSpec> =
            req.into_inner().topics.into_iter().map(spec_of).collect();
        let d = self.lifecycle().set_defined_topics(&tenant, &specs).await?;
        let (topics, embedding_model, updated_at, active_version, leaving) = parts(d);
        Ok(proto::SetDefinedTopicsResponse {
            tenant_id: tenant.to_string(),
            topics,
            embedding_model,
            updated_at,
            active_version,
            leaving,
        })
    }

    pub(super) async fn get_defined_topics_inner(
        &self,
        req: Request<proto::GetDefinedTopicsRequest>,
    ) -> Result<proto::GetDefinedTopicsResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let d = self.lifecycle().defined_topics(&tenant).await?;
        let (topics, embedding_model, updated_at, active_version, leaving) = parts(d);
        Ok(proto::GetDefinedTopicsResponse {
            tenant_id: tenant.to_string(),
            topics,
            embedding_model,
            updated_at,
            active_version,
            leaving,
        })
    }
}
