//! Dashboard RPCs: ListTenants, GetTopicMap, FindTopics, GetTopicChanges (read) and
//! SetTopicLabel (write). Each validates, authorises and calls [`crate::lifecycle::dashboard`]
//! or [`crate::lifecycle::relabel`].

use tonic::Request;

use super::status::ApiError;
use super::{auth, convert, validate, TopicsService};
use crate::auth::Role;
use crate::lifecycle::dashboard::TopicChange;
use crate::proto;

impl TopicsService {
    pub(super) async fn list_tenants_inner(
        &self,
        req: Request<proto::ListTenantsRequest>,
    ) -> Result<proto::ListTenantsResponse, ApiError> {
        let principal = auth::principal(&req)?.clone();
        let rows = self.lifecycle().list_tenants().await?;
        Ok(proto::ListTenantsResponse {
            tenants: rows
                .iter()
                .filter(|r| principal.allows(&r.tenant, Role::Read))
                .map(|r| proto::TenantSummary {
                    tenant_id: r.tenant.to_string(),
                    active_version: r.version.to_string(),
                    total_topics: r.total_topics,
                    total_documents: r.total_documents,
                    date_range_end: r
                        .date_range
                        .map(|(_, end)| convert::date(end))
                        .unwrap_or_default(),
                    updated_at: convert::timestamp(r.updated_at),
                })
                .collect(),
        })
    }

    pub(super) async fn topic_map_inner(
        &self,
        req: Request<proto::GetTopicMapRequest>,
    ) -> Result<proto::GetTopicMapResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let version = validate::optional_version("version", req.get_ref().version.as_deref())?;
        let map = self.lifecycle().topic_map(&tenant, version.as_ref()).await?;
        Ok(proto::GetTopicMapResponse {
            tenant_id: tenant.to_string(),
            version: map.version.to_string(),
            points: map
                .points
                .into_iter()
                .map(|p| proto::TopicPoint {
                    topic_id: p.topic_id,
                    label: p.label,
                    x: p.x,
                    y: p.y,
                    size: p.size,
                    keywords: p.keywords,
                })
                .collect(),
        })
    }

    pub(super) async fn find_topics_inner(
        &self,
        req: Request<proto::FindTopicsRequest>,
    ) -> Result<proto::FindTopicsResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let query = validate::search_query(&req.get_ref().query)?;
        let limit = validate::dashboard_limit(req.get_ref().limit)?;
        let found = self.lifecycle().find_topics(&tenant, &query, limit).await?;
        Ok(proto::FindTopicsResponse {
            tenant_id: tenant.to_string(),
            version: found.version.to_string(),
            topics: found
                .topics
                .into_iter()
                .map(|t| proto::FoundTopic { topic_id: t.topic_id, label: t.label, score: t.score })
                .collect(),
        })
    }

    pub(super) async fn topic_changes_inner(
        &self,
        req: Request<proto::GetTopicChangesRequest>,
    ) -> Result<proto::GetTopicChangesResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let limit = validate::dashboard_limit(req.get_ref().limit)?;
        let c = self.lifecycle().topic_changes(&tenant, limit).await?;
        let list = |v: Vec<TopicChange>| -> Vec<proto::TopicChange> {
            v.into_iter()
                .map(|c| proto::TopicChange {
                    topic_id: c.topic_id,
                    label: c.label,
                    recent_count: c.recent_count,
                    previous_count: c.previous_count,
                    relative_change: c.relative_change,
                })
                .collect()
        };
        Ok(proto::GetTopicChangesResponse {
            tenant_id: tenant.to_string(),
            version: c.version.to_string(),
            previous_version: c.previous_version.map(|v| v.to_string()).unwrap_or_default(),
            new_topics: list(c.lists.new_topics),
            retired_topics: list(c.lists.retired_topics),
            rising: list(c.lists.rising),
            falling: list(c.lists.falling),
        })
    }

    pub(super) async fn set_topic_label_inner(
        &self,
        req: Request<proto::SetTopicLabelRequest>,
    ) -> Result<proto::SetTopicLabelResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Write)?;
        let r = req.into_inner();
        let edited = self.lifecycle().set_topic_label(&tenant, r.topic_id, &r.label).await?;
        Ok(proto::SetTopicLabelResponse {
            tenant_id: tenant.to_string(),
            version: edited.version.to_string(),
            topic_id: edited.topic_id,
            label: edited.label,
            generated_label: edited.generated_label,
            overridden: edited.overridden,
        })
    }
}
