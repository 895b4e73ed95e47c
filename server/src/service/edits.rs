//! EditTopics (issue 30): hand edits of the active model. Admin role, as ActivateModel; the
//! edit is recorded as made by the caller's principal.

use tonic::{Request, Status};
use topic_engine::edits::TopicEdit;

use super::auth;
use super::status::ApiError;
use super::{validate, TopicsService};
use crate::auth::Role;
use crate::proto;

/// The edit a request asks for, or `InvalidArgument` saying what is wrong.
pub fn edit_of(r: &proto::EditTopicsRequest) -> Result<TopicEdit, Status> {
    let id = r.topic_id;
    let into_unwanted = || {
        if r.into_topic_id.is_some() {
            Err(Status::invalid_argument(format!(
                "into_topic_id is only for action \"merge\", not {:?}",
                r.action
            )))
        } else {
            Ok(())
        }
    };
    Ok(match r.action.as_str() {
        "merge" => {
            let into = r.into_topic_id.ok_or_else(|| {
                Status::invalid_argument(
                    "action \"merge\" needs into_topic_id: the topic that topic_id is merged into",
                )
            })?;
            TopicEdit::Merge { into, from: id }
        }
        "hide" => into_unwanted().map(|()| TopicEdit::Hide(id))?,
        "unhide" => into_unwanted().map(|()| TopicEdit::Unhide(id))?,
        "split" => into_unwanted().map(|()| TopicEdit::Split(id))?,
        "cancel_split" => into_unwanted().map(|()| TopicEdit::CancelSplit(id))?,
        other => {
            return Err(Status::invalid_argument(format!(
                "action {other:?} is not one of \"merge\", \"hide\", \"unhide\", \"split\", \"cancel_split\""
            )))
        }
    })
}

impl TopicsService {
    pub(super) async fn edit_topics_inner(
        &self,
        req: Request<proto::EditTopicsRequest>,
    ) -> Result<proto::EditTopicsResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Admin)?;
        let by = auth::principal(&req)?.subject.clone();
        let edit = edit_of(req.get_ref())?;
        let edited = self.lifecycle().edit_topics(&tenant, edit, &by).await?;
        Ok(proto::EditTopicsResponse {
            tenant_id: tenant.to_string(),
            version: edited.version.to_string(),
            changed: edited.changed,
            resolved_topic_ids: edited.resolved_ids,
        })
    }
}
