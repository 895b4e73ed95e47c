//! The `defined_topics` table: each tenant's defined-topics list (issue 30) with the
//! embeddings made when it was set. One row per tenant, replaced whole by every set.

use chrono::{DateTime, Utc};
use topic_engine::DefinedTopicSpec;

use super::{db_err, to_i64, MetaStore, Pool, Result, StoreError, TenantId};

/// A tenant's defined topics as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinedTopicsRow {
    /// The list, in the order given.
    pub topics: Vec<DefinedTopicSpec>,
    /// The embedding model that made `embeddings`.
    pub embedding_model: String,
    /// One embedding per topic, in list order.
    pub embeddings: Vec<Vec<f32>>,
    /// When the list was set.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    topics: String,
    embedding_model: String,
    dim: i64,
    embeddings: Vec<u8>,
    updated_at: DateTime<Utc>,
}

impl MetaStore {
    /// Replaces the tenant's defined topics (`embeddings`: one row per topic, all of one
    /// dimension).
    pub async fn set_defined_topics(
        &self,
        tenant: &TenantId,
        row: &DefinedTopicsRow,
    ) -> Result<()> {
        let dim = row.embeddings.first().map_or(0, Vec::len);
        if row.embeddings.len() != row.topics.len() || row.embeddings.iter().any(|e| e.len() != dim)
        {
            return Err(StoreError::Conflict(format!(
                "{} defined topics but {} embeddings of mixed or wrong dimension",
                row.topics.len(),
                row.embeddings.len()
            )));
        }
        let topics = serde_json::to_string(&row.topics)
            .map_err(|e| StoreError::Corrupt(format!("defined topics: {e}")))?;
        let bytes: Vec<u8> =
            row.embeddings.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
        let dim = to_i64(dim as u64, "dimension")?;
        with_pool!(self, p => sqlx::query(
            "INSERT INTO defined_topics (tenant_id, topics, embedding_model, dim, embeddings, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id) DO UPDATE SET topics = $2, \
             embedding_model = $3, dim = $4, embeddings = $5, updated_at = $6")
            .bind(tenant.as_str())
            .bind(&topics)
            .bind(&row.embedding_model)
            .bind(dim)
            .bind(&bytes)
            .bind(row.updated_at)
            .execute(p)
            .await
            .map(|_| ()))
        .map_err(db_err)?;
        Ok(())
    }

    /// The tenant's defined topics, `None` when none were set.
    pub async fn defined_topics(&self, tenant: &TenantId) -> Result<Option<DefinedTopicsRow>> {
        let row: Option<Row> = with_pool!(self, p => sqlx::query_as(
            "SELECT topics, embedding_model, dim, embeddings, updated_at FROM defined_topics \
             WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(p)
            .await)
        .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let topics: Vec<DefinedTopicSpec> = serde_json::from_str(&r.topics)
            .map_err(|e| StoreError::Corrupt(format!("defined topics of {tenant}: {e}")))?;
        let dim = usize::try_from(r.dim).unwrap_or(0);
        if dim == 0 || r.embeddings.len() != topics.len() * dim * 4 {
            return Err(StoreError::Corrupt(format!(
                "defined topics of {tenant}: {} bytes of embeddings for {} topics of dimension {dim}",
                r.embeddings.len(),
                topics.len()
            )));
        }
        let values: Vec<f32> = r
            .embeddings
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let embeddings = values.chunks_exact(dim).map(<[f32]>::to_vec).collect();
        Ok(Some(DefinedTopicsRow {
            topics,
            embedding_model: r.embedding_model,
            embeddings,
            updated_at: r.updated_at,
        }))
    }
}
