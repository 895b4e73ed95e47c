//! The `kb_articles` table (issue 29): a tenant's help-centre articles with their embeddings
//! and the embedding model that made them, replaced as a set in one transaction, read back in
//! the order they were sent. Embeddings are little-endian `f32` bytes.

use chrono::{DateTime, Utc};

use super::{db_err, to_i64, MetaStore, Pool, Result, StoreError, TenantId};

/// One stored article.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArticle {
    /// The tenant's id for the article (unique per tenant).
    pub id: String,
    /// Title.
    pub title: String,
    /// Link to the article, when given.
    pub url: Option<String>,
    /// Short summary, when given.
    pub summary: Option<String>,
    /// The embedding of title + summary; `None` when the server had no embedding provider.
    pub embedding: Option<Vec<f32>>,
    /// The model that made `embedding`.
    pub embedding_model: Option<String>,
}

/// A tenant's articles and when they were last set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArticleRows {
    /// In the order they were sent.
    pub articles: Vec<StoredArticle>,
    /// When the set was written (`None`: the tenant has no articles).
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    article_id: String,
    title: String,
    url: Option<String>,
    summary: Option<String>,
    embedding: Option<Vec<u8>>,
    embedding_model: Option<String>,
    updated_at: DateTime<Utc>,
}

fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_bytes(b: &[u8]) -> Result<Vec<f32>> {
    if b.len() % 4 != 0 {
        return Err(StoreError::Corrupt(format!(
            "article embedding of {} bytes is not a list of f32",
            b.len()
        )));
    }
    Ok(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

impl MetaStore {
    /// Replaces the tenant's articles with `articles` (empty: removes them all), in one
    /// transaction.
    pub async fn replace_articles(
        &self,
        tenant: &TenantId,
        articles: &[StoredArticle],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let t = tenant.as_str();
        with_pool!(self, p => {
            let mut tx = p.begin_with(self.begin_write()).await.map_err(db_err)?;
            sqlx::query("DELETE FROM kb_articles WHERE tenant_id = $1")
                .bind(t)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            for (position, a) in articles.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO kb_articles (tenant_id, position, article_id, title, url, summary, \
                     embedding, embedding_model, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(t)
                .bind(to_i64(position as u64, "article position")?)
                .bind(&a.id)
                .bind(&a.title)
                .bind(a.url.as_deref())
                .bind(a.summary.as_deref())
                .bind(a.embedding.as_deref().map(to_bytes))
                .bind(a.embedding_model.as_deref())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
        });
        Ok(())
    }

    /// The tenant's articles in the order they were sent (none: empty).
    pub async fn articles(&self, tenant: &TenantId) -> Result<ArticleRows> {
        let rows: Vec<Row> = with_pool!(self, p => sqlx::query_as(
            "SELECT article_id, title, url, summary, embedding, embedding_model, updated_at \
             FROM kb_articles WHERE tenant_id = $1 ORDER BY position")
            .bind(tenant.as_str())
            .fetch_all(p)
            .await)
        .map_err(db_err)?;
        let updated_at = rows.first().map(|r| r.updated_at);
        let articles = rows
            .into_iter()
            .map(|r| {
                Ok(StoredArticle {
                    id: r.article_id,
                    title: r.title,
                    url: r.url,
                    summary: r.summary,
                    embedding: r.embedding.as_deref().map(from_bytes).transpose()?,
                    embedding_model: r.embedding_model,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ArticleRows { articles, updated_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_round_trip_as_bytes() {
        let v = vec![0.25f32, -1.5, 3.0e-7];
        assert_eq!(from_bytes(&to_bytes(&v)).unwrap(), v);
        assert!(from_bytes(&[0, 1, 2]).is_err());
    }
}
