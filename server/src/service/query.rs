//! Read RPCs: Transform, GetTopTopics, ListModels, GetModel, ListMergedWindows.

use tonic::{Request, Status};

use super::status::ApiError;
use super::{auth, convert, validate, TopicsService};
use crate::auth::Role;
use crate::lifecycle::query::TransformInput;
use crate::proto;

impl TopicsService {
    pub(super) async fn transform_inner(
        &self,
        req: Request<proto::TransformRequest>,
    ) -> Result<proto::TransformResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let r = req.into_inner();
        let limits = &self.app.config().limits;
        if !r.texts.is_empty() && !r.embeddings.is_empty() {
            return Err(Status::invalid_argument("send texts or embeddings, not both").into());
        }
        if r.texts.is_empty() && r.embeddings.is_empty() {
            return Err(Status::invalid_argument(
                "texts is empty; send at least one text (or embeddings)",
            )
            .into());
        }
        validate::transform_texts(&r.texts, limits)?;
        if r.embeddings.len() > limits.max_transform_batch {
            return Err(Status::resource_exhausted(format!(
                "{} embeddings in one Transform, over the limit of {} (limits.max_transform_batch)",
                r.embeddings.len(),
                limits.max_transform_batch
            ))
            .into());
        }
        let input = if r.embeddings.is_empty() {
            TransformInput::Texts(r.texts)
        } else {
            TransformInput::Embeddings(validate::embedding_rows(r.embeddings))
        };
        let tagged = self.lifecycle().transform(&tenant, input).await?;
        Ok(proto::TransformResponse {
            tenant_id: tenant.to_string(),
            version: tagged.version.to_string(),
            results: tagged
                .tags
                .into_iter()
                .map(|t| proto::TransformResult {
                    topic_id: t.topic_id,
                    label: t.label,
                    score: t.score,
                })
                .collect(),
            small_talk: tagged.small_talk,
        })
    }

    pub(super) async fn top_topics_inner(
        &self,
        req: Request<proto::GetTopTopicsRequest>,
    ) -> Result<proto::GetTopTopicsResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let r = req.into_inner();
        let limit = validate::top_limit(r.limit)?;
        let top = self.lifecycle().top_topics(&tenant, limit, r.include_trend).await?;
        let (start, end) = top
            .active
            .date_range
            .map(|(a, b)| (convert::date(a), convert::date(b)))
            .unwrap_or_default();
        Ok(proto::GetTopTopicsResponse {
            tenant_id: tenant.to_string(),
            version: top.active.version.to_string(),
            analysis_date: convert::timestamp(top.active.updated_at),
            date_range_start: start,
            date_range_end: end,
            topics: top.topics.iter().map(convert::ranked_topic).collect(),
            outliers: top.outliers,
            documents: top.documents,
            outlier_share: top.outlier_share(),
        })
    }

    pub(super) async fn list_models_inner(
        &self,
        req: Request<proto::ListModelsRequest>,
    ) -> Result<proto::ListModelsResponse, ApiError> {
        let tenant = if req.get_ref().tenant_id.is_empty() {
            auth::authorize_all(&req, Role::Admin)?;
            None
        } else {
            let t = validate::tenant(&req.get_ref().tenant_id)?;
            auth::authorize(&req, &t, Role::Read)?;
            Some(t)
        };
        let limit = match req.get_ref().limit {
            0 => usize::MAX,
            l => l as usize,
        };
        let rows = self.lifecycle().list_models(tenant.as_ref(), limit).await?;
        Ok(proto::ListModelsResponse { models: rows.iter().map(convert::model_info).collect() })
    }

    pub(super) async fn get_model_inner(
        &self,
        req: Request<proto::GetModelRequest>,
    ) -> Result<proto::GetModelResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let r = req.into_inner();
        let version = match r.version.as_deref() {
            Some(v) if !v.trim().is_empty() => Some(validate::version("version", v)?),
            _ => None,
        };
        let (rec, model) = self.lifecycle().get_model(&tenant, version.as_ref()).await?;
        let topics =
            model.topics.iter().filter(|t| !t.is_outlier() && (r.include_retired || t.is_active()));
        Ok(proto::GetModelResponse {
            info: Some(convert::model_info(&rec)),
            topics: topics.map(convert::topic).collect(),
            embedding_model: model.embedding_model.clone(),
            embedding_dim: model.dim as u32,
        })
    }

    pub(super) async fn merged_windows_inner(
        &self,
        req: Request<proto::ListMergedWindowsRequest>,
    ) -> Result<proto::ListMergedWindowsResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let windows = self.lifecycle().merged_windows(&tenant).await?;
        Ok(proto::ListMergedWindowsResponse {
            windows: windows.iter().map(convert::merged_window).collect(),
        })
    }
}
