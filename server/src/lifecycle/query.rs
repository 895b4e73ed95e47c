//! Reading a tenant's models: tagging documents with the active model (Transform), the top
//! topics with their trends, versions, one model, merged windows.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use topic_engine::{Matrix, TopicModel, OUTLIER_TOPIC, SMALL_TALK_LABEL, SMALL_TALK_TOPIC};

use super::error::{Error, Result};
use super::snapshot::{self, SNAPSHOT_SIZE};
use super::{blocking, vectors, Lifecycle, OUTLIER_LABEL};
use crate::store::{DailyCountRow, MergedWindow, ModelRecord, SnapshotTopic, TenantId, Version};

/// Batches at least this large are assigned off the async runtime.
const BLOCKING_TRANSFORM_ROWS: usize = 256;

/// What to tag: texts (embedded by the server's provider) or precomputed embedding rows.
#[derive(Debug, Clone, PartialEq)]
pub enum TransformInput {
    /// Texts, validated by the API.
    Texts(Vec<String>),
    /// Embedding rows, checked here against the active model's dimension.
    Embeddings(Vec<Vec<f32>>),
}

/// One document's topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    /// Topic id (`-1`: outlier, `-2`: small talk).
    pub topic_id: i64,
    /// The topic's label ([`OUTLIER_LABEL`] for outliers, [`SMALL_TALK_LABEL`] for small
    /// talk).
    pub label: String,
    /// Cosine to the topic.
    pub score: f32,
}

/// Transform's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Tagged {
    /// The active version that tagged the documents.
    pub version: Version,
    /// One tag per document, in input order.
    pub tags: Vec<Tag>,
    /// Documents tagged as small talk (topic `-2`).
    pub small_talk: u64,
}

/// A top topic with its documents per day.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedTopic {
    /// The topic as the snapshot has it.
    pub topic: SnapshotTopic,
    /// Documents per day, oldest first (empty unless asked for).
    pub trend: Vec<DailyCountRow>,
}

/// GetTopTopics' answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TopTopics {
    /// The active version's row.
    pub active: ModelRecord,
    /// The topics, by rank.
    pub topics: Vec<RankedTopic>,
    /// Documents behind the active model that are outliers (`-1`), over all merged days.
    pub outliers: u64,
    /// Documents behind the active model (small talk excluded), over all merged days.
    pub documents: u64,
}

impl TopTopics {
    /// `outliers / documents` (0 for a model without documents).
    pub fn outlier_share(&self) -> f64 {
        if self.documents == 0 {
            0.0
        } else {
            self.outliers as f64 / self.documents as f64
        }
    }
}

/// A merged window and when its merge was made.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedWindowInfo {
    /// The window and the version that took it in.
    pub window: MergedWindow,
    /// When that version was created (`None` once the version was pruned).
    pub merged_at: Option<DateTime<Utc>>,
}

impl Lifecycle {
    /// `NotFound` for a tenant without an active model.
    pub(super) fn no_active(tenant: &TenantId) -> Error {
        Error::not_found(format!("tenant {tenant} has no active model; run Fit then Merge first"))
    }

    /// A version's row, `NotFound` when it does not exist.
    pub async fn record(&self, tenant: &TenantId, version: &Version) -> Result<ModelRecord> {
        self.meta.get(tenant, version).await?.ok_or_else(|| {
            Error::not_found(format!(
                "tenant {tenant} has no model version {version}; ListModels shows the versions"
            ))
        })
    }

    /// The tenant's active row, `NotFound` without one.
    pub(super) async fn active_record(&self, tenant: &TenantId) -> Result<ModelRecord> {
        self.meta.active(tenant).await?.ok_or_else(|| Self::no_active(tenant))
    }

    /// The model of a version row, from memory when it is the active one held here.
    pub(crate) async fn load(&self, rec: &ModelRecord) -> Result<Arc<TopicModel>> {
        if let Some(m) = self.active.peek(&rec.tenant, &rec.version).await {
            return Ok(m);
        }
        Ok(Arc::new(self.models.get(&rec.storage_path).await?))
    }

    /// Embeds texts with the server's provider for comparison with `model`'s topics (Transform
    /// and FindTopics): `FailedPrecondition` when the provider's vectors are not in the model's
    /// dimension.
    pub(super) async fn embed_for(&self, model: &TopicModel, texts: &[String]) -> Result<Matrix> {
        self.check_embedder_for(model)?;
        self.embed(texts).await
    }

    /// `FailedPrecondition` unless the server has an embedding provider whose vectors are in
    /// `model`'s dimension.
    fn check_embedder_for(&self, model: &TopicModel) -> Result<()> {
        let e = self.embedder()?;
        if e.dimension() != model.dim {
            return Err(Error::failed_precondition(format!(
                "the active model uses {}-d embeddings ({}) but the server's embedder makes {}-d ({}); send precomputed embeddings",
                model.dim,
                model.embedding_model,
                e.dimension(),
                e.model_name()
            )));
        }
        Ok(())
    }

    /// Tags documents with the tenant's active model. Texts that the model's text handling
    /// recognises as small talk get topic `-2` ([`SMALL_TALK_TOPIC`]), as in Fit, and are not
    /// embedded.
    pub async fn transform(&self, tenant: &TenantId, input: TransformInput) -> Result<Tagged> {
        let hot = self.active.get(tenant).await?.ok_or_else(|| Self::no_active(tenant))?;
        // small_talk[i]: input i is small talk (texts only, when the model detects it).
        let mut small_talk: Vec<bool> = Vec::new();
        let embeddings = match input {
            TransformInput::Texts(texts) => {
                if let Some(analyzer) = &hot.small_talk {
                    small_talk = texts.iter().map(|t| analyzer.is_small_talk(t)).collect();
                }
                let content: Vec<String> = texts
                    .into_iter()
                    .zip(small_talk.iter().copied().chain(std::iter::repeat(false)))
                    .filter_map(|(t, small)| (!small).then_some(t))
                    .collect();
                // Checked even when every text is small talk: texts get the same answer
                // whatever they say.
                self.check_embedder_for(&hot.model)?;
                if content.is_empty() {
                    Matrix::zeros(0, hot.model.dim)
                } else {
                    self.embed(&content).await?
                }
            }
            TransformInput::Embeddings(rows) => {
                let n = rows.len();
                vectors::embeddings(rows, n, Some(hot.model.dim))?
            }
        };
        // A model fitted with outliers = "reduce" tags with its own threshold, so a training
        // document gets the topic the fit gave it (topic_engine::outliers).
        let params = hot.model.fit_params.transform_params(self.settings.transform);
        let assignments = if embeddings.rows() == 0 {
            Vec::new()
        } else if embeddings.rows() >= BLOCKING_TRANSFORM_ROWS {
            let h = hot.clone();
            blocking(move || Ok(h.index.assign_batch(&embeddings, &params)?)).await?
        } else {
            hot.index.assign_batch(&embeddings, &params)?
        };
        let n = assignments.len() + small_talk.iter().filter(|&&s| s).count();
        let mut content = assignments.into_iter();
        let mut tags = Vec::with_capacity(n);
        for i in 0..n {
            if small_talk.get(i) == Some(&true) {
                tags.push(Tag {
                    topic_id: SMALL_TALK_TOPIC,
                    label: SMALL_TALK_LABEL.into(),
                    score: 0.0,
                });
                continue;
            }
            let a = content.next().ok_or_else(|| {
                Error::internal("transform: fewer assignments than content documents")
            })?;
            let label = match hot.model.topic(a.topic_id) {
                Some(t) => t.display_label().to_string(),
                None if a.topic_id == OUTLIER_TOPIC => OUTLIER_LABEL.into(),
                None => String::new(),
            };
            tags.push(Tag { topic_id: a.topic_id, label, score: a.score });
        }
        let small_talk = small_talk.iter().filter(|&&s| s).count() as u64;
        Ok(Tagged { version: hot.version, tags, small_talk })
    }

    /// The tenant's `limit` largest topics (from the snapshot; beyond it, from the active
    /// model), with their daily counts when `include_trend`.
    pub async fn top_topics(
        &self,
        tenant: &TenantId,
        limit: usize,
        include_trend: bool,
    ) -> Result<TopTopics> {
        let active = self.active_record(tenant).await?;
        let mut top = self.meta.snapshot(tenant).await?;
        // The hot model (loaded once, kept): the outlier share, and the topics beyond the
        // snapshot's top 10 when a larger limit is asked for.
        let model = match self.active.get(tenant).await? {
            Some(hot) if hot.version == active.version => hot.model.clone(),
            _ => self.load(&active).await?,
        };
        if limit > top.len() && top.len() == SNAPSHOT_SIZE && active.total_topics > top.len() as u64
        {
            let day =
                top.first().map(|s| s.analysis_date).unwrap_or_else(|| Utc::now().date_naive());
            top = snapshot::top(&model, limit, day, active.version);
        }
        let outliers = model.outlier_topic().map_or(0, |t| t.size);
        let documents = model.n_documents;
        top.truncate(limit);
        let mut trends: BTreeMap<i64, Vec<DailyCountRow>> = BTreeMap::new();
        if include_trend && !top.is_empty() {
            let ids: Vec<i64> = top.iter().map(|t| t.topic_id).collect();
            for row in self.meta.daily_counts(tenant, &ids, None).await? {
                trends.entry(row.topic_id).or_default().push(row);
            }
        }
        let topics = top
            .into_iter()
            .map(|topic| {
                let trend = trends.remove(&topic.topic_id).unwrap_or_default();
                RankedTopic { topic, trend }
            })
            .collect();
        Ok(TopTopics { active, topics, outliers, documents })
    }

    /// Version rows of one tenant (`None`: every tenant), by tenant then newest first, at most
    /// `limit`.
    pub async fn list_models(
        &self,
        tenant: Option<&TenantId>,
        limit: usize,
    ) -> Result<Vec<ModelRecord>> {
        let mut rows = self.meta.list(tenant).await?;
        rows.sort_by(|a, b| a.tenant.cmp(&b.tenant).then(b.version.cmp(&a.version)));
        rows.truncate(limit);
        Ok(rows)
    }

    /// A version's row and model (`None`: the active one).
    pub async fn get_model(
        &self,
        tenant: &TenantId,
        version: Option<&Version>,
    ) -> Result<(ModelRecord, Arc<TopicModel>)> {
        let rec = match version {
            Some(v) => self.record(tenant, v).await?,
            None => self.active_record(tenant).await?,
        };
        let model = self.load(&rec).await?;
        Ok((rec, model))
    }

    /// The windows merged into the tenant's models, with when each merge was made.
    pub async fn merged_windows(&self, tenant: &TenantId) -> Result<Vec<MergedWindowInfo>> {
        let windows = self.meta.merged_windows(tenant).await?;
        let created: BTreeMap<Version, DateTime<Utc>> = self
            .meta
            .list(Some(tenant))
            .await?
            .into_iter()
            .map(|m| (m.version, m.created_at))
            .collect();
        Ok(windows
            .into_iter()
            .map(|window| MergedWindowInfo {
                merged_at: created.get(&window.model_version).copied(),
                window,
            })
            .collect())
    }
}
