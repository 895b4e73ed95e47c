//! Merge: validate the versions, then [`Lifecycle::merge_day`](crate::lifecycle::Lifecycle::merge_day).

use tonic::Request;

use super::status::ApiError;
use super::{auth, validate, TopicsService};
use crate::auth::Role;
use crate::lifecycle::merge::MergeDay;
use crate::proto;

impl TopicsService {
    pub(super) async fn merge_inner(
        &self,
        req: Request<proto::MergeRequest>,
    ) -> Result<proto::MergeResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Write)?;
        let r = req.into_inner();
        let day_version = validate::version("day_version", &r.day_version)?;
        let base_version = match r.base_version.as_deref() {
            Some(v) if !v.trim().is_empty() => Some(validate::version("base_version", v)?),
            _ => None,
        };
        let request = MergeDay { day_version, base_version, force: r.force };
        let m = self.lifecycle().merge_day(&tenant, request).await?;
        Ok(proto::MergeResponse {
            tenant_id: tenant.to_string(),
            version: m.record.version.to_string(),
            total_topics: m.record.total_topics,
            new_topics: m.new_topics,
            matched_topics: m.matched_topics,
            retired_topics: m.retired_topics,
            previous_version: m.previous.map(|v| v.to_string()).unwrap_or_default(),
        })
    }
}
