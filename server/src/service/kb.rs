//! Knowledge-base RPCs (issue 29): SetArticles (write role) and ListArticles (read role).
//! Each validates, authorises and calls [`crate::lifecycle::kb`], which checks the articles.

use tonic::Request;

use super::status::ApiError;
use super::{auth, convert, validate, TopicsService};
use crate::auth::Role;
use crate::lifecycle::kb::{Article, Articles};
use crate::proto;

/// Stored articles as the proto has them (absent URL and summary: empty strings).
fn to_proto(set: &Articles) -> Vec<proto::Article> {
    set.articles
        .iter()
        .map(|a| proto::Article {
            id: a.id.clone(),
            title: a.title.clone(),
            url: a.url.clone().unwrap_or_default(),
            summary: a.summary.clone().unwrap_or_default(),
        })
        .collect()
}

impl TopicsService {
    pub(super) async fn set_articles_inner(
        &self,
        req: Request<proto::SetArticlesRequest>,
    ) -> Result<proto::SetArticlesResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Write)?;
        let articles = req
            .into_inner()
            .articles
            .into_iter()
            .map(|a| Article {
                id: a.id,
                title: a.title,
                url: Some(a.url),
                summary: Some(a.summary),
            })
            .collect();
        let set = self.lifecycle().set_articles(&tenant, articles).await?;
        Ok(proto::SetArticlesResponse {
            tenant_id: tenant.to_string(),
            count: u32::try_from(set.articles.len()).unwrap_or(u32::MAX),
            embedding_model: set.embedding_model.unwrap_or_default(),
        })
    }

    pub(super) async fn list_articles_inner(
        &self,
        req: Request<proto::ListArticlesRequest>,
    ) -> Result<proto::ListArticlesResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let set = self.lifecycle().list_articles(&tenant).await?;
        Ok(proto::ListArticlesResponse {
            tenant_id: tenant.to_string(),
            articles: to_proto(&set),
            embedding_model: set.embedding_model.clone().unwrap_or_default(),
            updated_at: set.updated_at.map(convert::timestamp).unwrap_or_default(),
        })
    }
}
