//! GetFaq (issue 29): validates, authorises (read role) and calls
//! [`crate::lifecycle::faq`], which also renders Markdown and CSV.

use tonic::Request;

use super::status::ApiError;
use super::{auth, validate, TopicsService};
use crate::auth::Role;
use crate::lifecycle::faq::{render, FaqFormat};
use crate::proto;

impl TopicsService {
    pub(super) async fn faq_inner(
        &self,
        req: Request<proto::GetFaqRequest>,
    ) -> Result<proto::GetFaqResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let format = FaqFormat::parse(&req.get_ref().format)?;
        let faq = if req.get_ref().gaps_only {
            self.lifecycle().knowledge_gaps(&tenant).await?
        } else {
            self.lifecycle().faq(&tenant).await?
        };
        let text = render(&faq, format);
        Ok(proto::GetFaqResponse {
            tenant_id: tenant.to_string(),
            version: faq.version.to_string(),
            entries: faq
                .entries
                .into_iter()
                .map(|e| proto::FaqEntry {
                    topic_id: e.topic_id,
                    label: e.label,
                    question: e.question,
                    examples: e.examples,
                    message_count: e.message_count,
                    last_7_days: e.last_7_days,
                    previous_7_days: e.previous_7_days,
                    article: e.article.map(|a| proto::FaqArticle {
                        id: a.id,
                        title: a.title,
                        url: a.url.unwrap_or_default(),
                        score: a.score,
                    }),
                    language: e.language.unwrap_or_default(),
                })
                .collect(),
            text,
            format: format.name().to_string(),
        })
    }
}
