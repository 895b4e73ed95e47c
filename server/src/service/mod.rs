//! The `topics.v1.Topics` gRPC service. Each handler validates the request, authorises the
//! caller for the tenant, calls the domain layer ([`crate::lifecycle`]) with domain types and
//! converts its answer. Errors become statuses in one place ([`status`]).
//!
//! Handlers: [`fit`] (Fit), [`merge`] (Merge), [`query`] (Transform, GetTopTopics, ListModels,
//! GetModel, ListMergedWindows), [`admin`] (ActivateModel, DeleteTenant), [`dashboard`]
//! (ListTenants, GetTopicMap, FindTopics, GetTopicChanges, SetTopicLabel), [`kb`]
//! (SetArticles, ListArticles), [`defined`] (SetDefinedTopics, GetDefinedTopics), [`edits`]
//! (EditTopics), [`tree`] (GetTopicTree).

pub mod admin;
pub mod auth;
pub mod convert;
pub mod dashboard;
pub mod defined;
pub mod edits;
pub mod faq;
pub mod fit;
pub mod kb;
pub mod merge;
pub mod query;
pub mod status;
pub mod tree;
pub mod validate;

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::app::App;
use crate::lifecycle::Lifecycle;
use crate::proto;
use status::ApiError;

pub use crate::lifecycle::SNAPSHOT_SIZE;

/// The Topics service.
#[derive(Clone)]
pub struct TopicsService {
    app: Arc<App>,
}

impl TopicsService {
    /// A service over a built [`App`].
    pub fn new(app: Arc<App>) -> Self {
        TopicsService { app }
    }

    fn lifecycle(&self) -> &Lifecycle {
        self.app.lifecycle()
    }
}

/// Runs a handler body and converts its error.
async fn respond<T>(
    f: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<Response<T>, Status> {
    f.await.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl proto::topics_server::Topics for TopicsService {
    async fn fit(
        &self,
        req: Request<proto::FitRequest>,
    ) -> Result<Response<proto::FitResponse>, Status> {
        respond(self.fit_inner(req)).await
    }
    async fn merge(
        &self,
        req: Request<proto::MergeRequest>,
    ) -> Result<Response<proto::MergeResponse>, Status> {
        respond(self.merge_inner(req)).await
    }
    async fn transform(
        &self,
        req: Request<proto::TransformRequest>,
    ) -> Result<Response<proto::TransformResponse>, Status> {
        respond(self.transform_inner(req)).await
    }
    async fn get_top_topics(
        &self,
        req: Request<proto::GetTopTopicsRequest>,
    ) -> Result<Response<proto::GetTopTopicsResponse>, Status> {
        respond(self.top_topics_inner(req)).await
    }
    async fn list_models(
        &self,
        req: Request<proto::ListModelsRequest>,
    ) -> Result<Response<proto::ListModelsResponse>, Status> {
        respond(self.list_models_inner(req)).await
    }
    async fn get_model(
        &self,
        req: Request<proto::GetModelRequest>,
    ) -> Result<Response<proto::GetModelResponse>, Status> {
        respond(self.get_model_inner(req)).await
    }
    async fn activate_model(
        &self,
        req: Request<proto::ActivateModelRequest>,
    ) -> Result<Response<proto::ActivateModelResponse>, Status> {
        respond(self.activate_inner(req)).await
    }
    async fn delete_tenant(
        &self,
        req: Request<proto::DeleteTenantRequest>,
    ) -> Result<Response<proto::DeleteTenantResponse>, Status> {
        respond(self.delete_tenant_inner(req)).await
    }
    async fn list_merged_windows(
        &self,
        req: Request<proto::ListMergedWindowsRequest>,
    ) -> Result<Response<proto::ListMergedWindowsResponse>, Status> {
        respond(self.merged_windows_inner(req)).await
    }

    async fn list_tenants(
        &self,
        req: Request<proto::ListTenantsRequest>,
    ) -> Result<Response<proto::ListTenantsResponse>, Status> {
        respond(self.list_tenants_inner(req)).await
    }
    async fn get_topic_map(
        &self,
        req: Request<proto::GetTopicMapRequest>,
    ) -> Result<Response<proto::GetTopicMapResponse>, Status> {
        respond(self.topic_map_inner(req)).await
    }
    async fn find_topics(
        &self,
        req: Request<proto::FindTopicsRequest>,
    ) -> Result<Response<proto::FindTopicsResponse>, Status> {
        respond(self.find_topics_inner(req)).await
    }
    async fn get_topic_changes(
        &self,
        req: Request<proto::GetTopicChangesRequest>,
    ) -> Result<Response<proto::GetTopicChangesResponse>, Status> {
        respond(self.topic_changes_inner(req)).await
    }
    async fn set_topic_label(
        &self,
        req: Request<proto::SetTopicLabelRequest>,
    ) -> Result<Response<proto::SetTopicLabelResponse>, Status> {
        respond(self.set_topic_label_inner(req)).await
    }
    async fn get_faq(
        &self,
        req: Request<proto::GetFaqRequest>,
    ) -> Result<Response<proto::GetFaqResponse>, Status> {
        respond(self.faq_inner(req)).await
    }

    // Knowledge base (issue 29).
    async fn set_articles(
        &self,
        req: Request<proto::SetArticlesRequest>,
    ) -> Result<Response<proto::SetArticlesResponse>, Status> {
        respond(self.set_articles_inner(req)).await
    }
    async fn list_articles(
        &self,
        req: Request<proto::ListArticlesRequest>,
    ) -> Result<Response<proto::ListArticlesResponse>, Status> {
        respond(self.list_articles_inner(req)).await
    }

    // Tenant-defined topics (issue 30).
    async fn set_defined_topics(
        &self,
        req: Request<proto::SetDefinedTopicsRequest>,
    ) -> Result<Response<proto::SetDefinedTopicsResponse>, Status> {
        respond(self.set_defined_topics_inner(req)).await
    }
    async fn get_defined_topics(
        &self,
        req: Request<proto::GetDefinedTopicsRequest>,
    ) -> Result<Response<proto::GetDefinedTopicsResponse>, Status> {
        respond(self.get_defined_topics_inner(req)).await
    }

    // Hand edits and the topic tree (issue 30).
    async fn edit_topics(
        &self,
        req: Request<proto::EditTopicsRequest>,
    ) -> Result<Response<proto::EditTopicsResponse>, Status> {
        respond(self.edit_topics_inner(req)).await
    }
    async fn get_topic_tree(
        &self,
        req: Request<proto::GetTopicTreeRequest>,
    ) -> Result<Response<proto::GetTopicTreeResponse>, Status> {
        respond(self.topic_tree_inner(req)).await
    }
}
