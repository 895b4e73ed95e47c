//! Fit: validate the documents and parameters, then [`Lifecycle::fit_day`](crate::lifecycle::Lifecycle::fit_day).

use tonic::Request;

use super::status::ApiError;
use super::{auth, convert, validate, TopicsService};
use crate::auth::Role;
use crate::lifecycle::fit::DayDocuments;
use crate::proto;

impl TopicsService {
    pub(super) async fn fit_inner(
        &self,
        req: Request<proto::FitRequest>,
    ) -> Result<proto::FitResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Write)?;
        let r = req.into_inner();
        let config = self.app.config();
        let window = validate::window(r.window.as_ref())?;
        let docs = validate::documents(r.documents, &config.limits)?;
        let params = validate::fit_params(&config.fit, r.params.as_ref(), docs.texts.len())?;
        let embeddings = (!r.embeddings.is_empty()).then(|| validate::embedding_rows(r.embeddings));
        let day = DayDocuments { texts: docs.texts, dates: docs.dates, embeddings, window, params };
        let fit = self.lifecycle().fit_day(&tenant, day).await?;

        let topics = fit.model.topics.iter().filter(|t| !t.is_outlier()).map(convert::topic);
        let assignments = (fit.assignments.iter().zip(&fit.scores).zip(docs.ids)).map(
            |((&topic_id, &score), document_id)| proto::Assignment { document_id, topic_id, score },
        );
        Ok(proto::FitResponse {
            tenant_id: tenant.to_string(),
            version: fit.record.version.to_string(),
            topics: topics.collect(),
            assignments: assignments.collect(),
            outliers: fit.outliers,
            small_talk: fit.small_talk,
            warnings: fit.warnings,
            fitted_documents: fit.sampled.map_or(fit.assignments.len() as u64, |s| s.fitted),
            assigned_documents: fit.sampled.map_or(0, |s| s.assigned),
            timings: Some(convert::fit_timings(&fit.timings)),
        })
    }
}
