//! GetTopicTree (issue 30): the topic tree of a version and its themes. Read role.

use tonic::Request;

use super::auth;
use super::status::ApiError;
use super::{validate, TopicsService};
use crate::auth::Role;
use crate::proto;

impl TopicsService {
    pub(super) async fn topic_tree_inner(
        &self,
        req: Request<proto::GetTopicTreeRequest>,
    ) -> Result<proto::GetTopicTreeResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let r = req.into_inner();
        let version = validate::optional_version("version", r.version.as_deref())?;
        let t = self.lifecycle().topic_tree(&tenant, version.as_ref(), r.themes as usize).await?;
        let nodes = t
            .tree
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| proto::TopicTreeNode {
                index: i as u32,
                topic_id: n.topic_id,
                children: n.children.map(|(a, b)| vec![a as u32, b as u32]).unwrap_or_default(),
                distance: n.distance,
                topic_ids: n.topic_ids.clone(),
                size: n.size,
                keywords: n.keywords.clone(),
                name: match t.labels.get(i) {
                    Some(l) if !l.is_empty() => l.clone(),
                    _ => n.name(),
                },
            })
            .collect();
        let themes = t
            .themes
            .iter()
            .map(|&i| {
                let n = &t.tree.nodes[i];
                proto::TopicTheme {
                    node: i as u32,
                    name: match t.labels.get(i) {
                        Some(l) if !l.is_empty() => l.clone(),
                        _ => n.name(),
                    },
                    topic_ids: n.topic_ids.clone(),
                    size: n.size,
                }
            })
            .collect();
        Ok(proto::GetTopicTreeResponse {
            tenant_id: tenant.to_string(),
            version: t.version.to_string(),
            nodes,
            themes,
        })
    }
}
