//! The `topics.v1.Topics` gRPC service. Each handler: validate the request, authorise the
//! caller for the tenant, call the engine / stores / providers, convert the result. Errors are
//! mapped to statuses in one place ([`status`]).

pub mod auth;
pub mod convert;
pub mod status;
pub mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use tonic::{Request, Response, Status};
use topic_engine::model::LabelSource;
use topic_engine::{Cancel, FitInput, Matrix, TopicModel, OUTLIER_TOPIC};

use crate::app::App;
use crate::auth::Role;
use crate::proto;
use crate::providers::{Embedder, TopicToLabel};
use crate::store::{
    DailyCountRow, ModelKind, ModelRecord, NewModel, SnapshotTopic, StoragePath, TenantId, Version,
};
use status::ApiError;

/// Topics in the snapshot written at activation.
pub const SNAPSHOT_SIZE: usize = 10;

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
}

/// Cancels its engine token when dropped: the handler future is dropped when the client
/// cancels or its deadline passes, and the engine checks the token between stages and inside
/// its long loops ([`topic_engine::fit_cancellable`]), so the blocking work stops too.
struct CancelOnDrop(Cancel);

impl CancelOnDrop {
    fn new() -> Self {
        CancelOnDrop(Cancel::new())
    }
    /// The token to hand to the blocking work.
    fn token(&self) -> Cancel {
        self.0.clone()
    }
    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

fn cancelled() -> Status {
    Status::cancelled("the client cancelled or its deadline passed; work stopped")
}

/// Runs CPU-heavy work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Status(Status::internal(format!("worker task failed: {e}"))))?
}

impl TopicsService {
    fn embedder(&self) -> Result<&Arc<dyn Embedder>, Status> {
        self.app.embedder.as_ref().map_err(|why| {
            Status::failed_precondition(format!(
                "the server has no embedding provider ({why}); send precomputed embeddings or configure [embedding]"
            ))
        })
    }

    /// Embeds texts with the provider, recording the call.
    async fn embed(&self, texts: &[String]) -> Result<Matrix, ApiError> {
        let embedder = self.embedder()?;
        let started = Instant::now();
        let r = embedder.embed(texts).await;
        crate::metrics::record_provider(
            embedder.model_name(),
            "embed",
            r.is_ok(),
            started.elapsed(),
        );
        let m = r?;
        if m.rows() != texts.len() {
            return Err(Status::internal(format!(
                "embedding provider returned {} vectors for {} texts",
                m.rows(),
                texts.len()
            ))
            .into());
        }
        Ok(m)
    }

    /// The next version for the tenant (strictly after its latest).
    async fn next_version(&self, tenant: &TenantId) -> Result<Version, ApiError> {
        let latest = self.app.meta.latest_version(tenant).await?;
        Ok(Version::now_after(latest.as_ref()))
    }

    /// Writes the files of a new version, then its row. On a failure the files (complete or
    /// not) are removed again when no row has them (best effort; leftovers are orphans that
    /// cleanup deletes).
    async fn store_version(
        &self,
        tenant: &TenantId,
        model: &TopicModel,
        kind: ModelKind,
        metadata: serde_json::Value,
    ) -> Result<ModelRecord, ApiError> {
        let version = self.next_version(tenant).await?;
        let written = async {
            let path = self.app.models.put(tenant, &version, model).await?;
            let row = NewModel::for_model(tenant.clone(), version, kind, path, model, metadata);
            self.app.meta.insert_model(&row).await
        }
        .await;
        if written.is_err() {
            self.discard_failed_version(tenant, version).await;
        }
        Ok(written?)
    }

    /// The model of a version row, from the hot cache when it is the hot version.
    async fn load(&self, rec: &ModelRecord) -> Result<Arc<TopicModel>, ApiError> {
        if let Some(m) = self.app.cache.peek(&rec.tenant, &rec.version).await {
            return Ok(m);
        }
        Ok(Arc::new(self.app.models.get(&rec.storage_path).await?))
    }

    async fn get_record(
        &self,
        tenant: &TenantId,
        version: &Version,
    ) -> Result<ModelRecord, ApiError> {
        self.app.meta.get(tenant, version).await?.ok_or_else(|| {
            Status::not_found(format!(
                "tenant {tenant} has no model version {version}; ListModels shows the versions"
            ))
            .into()
        })
    }

    fn no_active(tenant: &TenantId) -> Status {
        Status::not_found(format!("tenant {tenant} has no active model; run Fit then Merge first"))
    }

    /// Activates `version` of `model`: snapshot + daily counts + merged window in one
    /// transaction, then the hot model swap, then retention.
    async fn activate(
        &self,
        tenant: &TenantId,
        version: &Version,
        model: Arc<TopicModel>,
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<ModelRecord, ApiError> {
        let snapshot =
            SnapshotTopic::top_of(&model, SNAPSHOT_SIZE, Utc::now().date_naive(), *version);
        let daily = DailyCountRow::all_of(&model);
        let rec = self.app.meta.activate(tenant, version, &snapshot, &daily, merged_window).await?;
        self.app.cache.put(tenant, *version, model).await;
        self.retention(tenant).await;
        Ok(rec)
    }

    /// The Merge commit: the model's files under `version`, then ONE transaction that inserts
    /// the version, makes it the only active one and replaces the snapshot (plus daily counts
    /// and the merged window). On error nothing of it is visible in the database; its files
    /// may remain (see [`TopicsService::discard_failed_version`]).
    async fn commit_merge(
        &self,
        tenant: &TenantId,
        version: Version,
        model: Arc<TopicModel>,
        metadata: serde_json::Value,
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<ModelRecord, ApiError> {
        let path = self.app.models.put(tenant, &version, &model).await?;
        failpoint!("service::merge::after_write");
        let row =
            NewModel::for_model(tenant.clone(), version, ModelKind::Merged, path, &model, metadata);
        let snapshot =
            SnapshotTopic::top_of(&model, SNAPSHOT_SIZE, Utc::now().date_naive(), version);
        let daily = DailyCountRow::all_of(&model);
        Ok(self.app.meta.insert_and_activate(&row, &snapshot, &daily, merged_window).await?)
    }

    /// After a failed write (Fit's insert, Merge's commit): delete the files written for
    /// `version`, unless its row exists after all (the commit went through but its answer was
    /// lost) or the database cannot tell (then the files stay, as orphans for the next cleanup).
    async fn discard_failed_version(&self, tenant: &TenantId, version: Version) {
        match self.app.meta.get(tenant, &version).await {
            Ok(None) => {
                let path = StoragePath { tenant: tenant.clone(), version }.to_string();
                match self.app.models.delete_version(&path).await {
                    Ok(()) => {
                        tracing::info!(tenant = %tenant, path = %path, "removed the files of a failed merge")
                    }
                    Err(e) => tracing::warn!(tenant = %tenant, path = %path, error = %e,
                        "could not remove the files of a failed merge; the next cleanup will"),
                }
            }
            Ok(Some(_)) => tracing::warn!(tenant = %tenant, version = %version,
                "the write reported an error but its version has a row; keeping its files"),
            Err(e) => tracing::warn!(tenant = %tenant, version = %version, error = %e,
                "cannot check the failed write's version; its files stay until the next cleanup"),
        }
    }

    /// Keeps the newest `keep_versions` versions and removes orphaned files. Failures are
    /// logged, never returned: the activation already succeeded.
    async fn retention(&self, tenant: &TenantId) {
        match self.app.meta.prune_versions(tenant, self.app.config.server.keep_versions).await {
            Ok(deleted) => {
                for r in deleted {
                    if let Err(e) = self.app.models.delete_version(&r.storage_path).await {
                        tracing::warn!(tenant = %tenant, path = %r.storage_path, error = %e, "could not delete pruned files");
                    }
                }
            }
            Err(e) => tracing::warn!(tenant = %tenant, error = %e, "retention failed"),
        }
        if let Err(e) =
            crate::store::cleanup_orphans(&self.app.meta, &self.app.models, tenant).await
        {
            tracing::warn!(tenant = %tenant, error = %e, "orphan cleanup failed");
        }
    }

    async fn fit_inner(
        &self,
        req: Request<proto::FitRequest>,
    ) -> Result<proto::FitResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Write)?;
        let r = req.into_inner();
        let limits = &self.app.config.limits;
        let window = validate::window(r.window.as_ref())?;
        let docs = validate::documents(r.documents, limits)?;
        let params =
            validate::fit_params(&self.app.config.fit, r.params.as_ref(), docs.texts.len())?;
        let n = docs.texts.len();
        let precomputed = if r.embeddings.is_empty() {
            None
        } else {
            let dim = self.app.embedder.as_ref().ok().map(|e| e.dimension());
            Some(validate::embeddings(&r.embeddings, n, dim)?)
        };
        if precomputed.is_none() {
            self.embedder()?;
        }

        let _write = self.app.fit_locks.try_acquire_tenant(&tenant)?;
        let _slot = self
            .app
            .fit_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        let guard = CancelOnDrop::new();
        let started = Instant::now();

        let embed_started = Instant::now();
        let (embeddings, model_name) = match precomputed {
            Some(m) => {
                let name = self
                    .app
                    .embedder
                    .as_ref()
                    .map(|e| e.model_name().to_string())
                    .unwrap_or_else(|_| "precomputed".into());
                (m, name)
            }
            None => {
                let m = self.embed(&docs.texts).await?;
                (m, self.embedder()?.model_name().to_string())
            }
        };
        let embed_secs = embed_started.elapsed();
        crate::metrics::record_stage("embed", embed_secs);

        let day = window
            .map(|w| w.days().0)
            .or_else(|| docs.dates.as_ref().and_then(|d| most_common(d)))
            .unwrap_or_else(|| Utc::now().date_naive());
        let cancel = guard.token();
        let device = topic_engine::Device::of(&self.app.device);
        let texts = docs.texts.clone();
        let dates = docs.dates.clone();
        let fit_params = params.clone();
        let emb = embeddings;
        let log_tenant = tenant.clone();
        let result = blocking(move || {
            // `fit_cancellable` checks the token before anything else, then inside every stage.
            let input = FitInput {
                texts: &texts,
                embeddings: &emb,
                dates: dates.as_deref(),
                day,
                embedding_model: &model_name,
            };
            match topic_engine::fit_cancellable(&input, &fit_params, device, &cancel) {
                Ok(r) => Ok(r),
                Err(topic_engine::EngineError::Cancelled) => {
                    crate::metrics::record_fit_cancelled();
                    tracing::info!(tenant = %log_tenant, docs = texts.len(),
                        "fit cancelled: the client gave up, engine work stopped");
                    Err(cancelled().into())
                }
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        if guard.is_cancelled() {
            return Err(cancelled().into());
        }
        let t = result.timings;
        for (stage, d) in t.stages() {
            crate::metrics::record_stage(stage, d);
        }

        let outliers = result.assignments.iter().filter(|&&a| a == OUTLIER_TOPIC).count() as u64;
        let metadata = serde_json::json!({
            "window": window.map(|w| serde_json::json!({
                "start": convert::timestamp(w.start), "end": convert::timestamp(w.end),
                "first_day": w.days().0, "last_day": w.days().1,
            })),
            "fit_params": &params,
            "embedding_model": &result.model.embedding_model,
            "documents": n,
            "outliers": outliers,
            "timings_seconds": std::iter::once(("embed", embed_secs))
                .chain(t.stages())
                .map(|(stage, d)| (stage.to_string(), serde_json::json!(d.as_secs_f64())))
                .collect::<serde_json::Map<_, _>>(),
        });
        let store_started = Instant::now();
        let rec = {
            let _state = self.app.lock_tenant(&tenant).await?;
            self.store_version(&tenant, &result.model, ModelKind::Day, metadata).await?
        };
        crate::metrics::record_stage("store", store_started.elapsed());

        let assignments = result
            .assignments
            .iter()
            .enumerate()
            .map(|(i, &topic_id)| proto::Assignment {
                document_id: docs.ids[i].clone(),
                topic_id,
                score: result.scores[i],
            })
            .collect();
        tracing::info!(tenant = %tenant, version = %rec.version, docs = n, topics = rec.total_topics, outliers,
            secs = started.elapsed().as_secs_f64(), "fit stored as candidate");
        Ok(proto::FitResponse {
            tenant_id: tenant.to_string(),
            version: rec.version.to_string(),
            topics: result
                .model
                .topics
                .iter()
                .filter(|t| !t.is_outlier())
                .map(convert::topic)
                .collect(),
            assignments,
            outliers,
            timings: Some(proto::StageTimings {
                embed_seconds: embed_secs.as_secs_f64(),
                knn_seconds: t.knn.as_secs_f64(),
                umap_seconds: t.umap.as_secs_f64(),
                hdbscan_seconds: t.hdbscan.as_secs_f64(),
                ctfidf_seconds: t.ctfidf.as_secs_f64(),
                reduction_seconds: t.reduction.as_secs_f64(),
                total_seconds: started.elapsed().as_secs_f64(),
            }),
        })
    }

    async fn merge_inner(
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
        let started = Instant::now();
        let _state = self.app.lock_tenant(&tenant).await?;

        let day_rec = self.get_record(&tenant, &day_version).await?;
        if day_rec.kind != ModelKind::Day {
            return Err(Status::failed_precondition(format!(
                "{day_version} is a merged model, not a candidate from Fit; pass the version Fit returned"
            ))
            .into());
        }
        let active = self.app.meta.active(&tenant).await?;
        let base_rec = match &base_version {
            Some(v) => Some(self.get_record(&tenant, v).await?),
            None => active.clone(),
        };
        let window = day_window(&day_rec);
        if let Some((start, end)) = window {
            if !r.force {
                let merged = self.app.meta.merged_windows(&tenant).await?;
                if let Some(w) =
                    merged.iter().find(|w| w.window_start == start && w.window_end == end)
                {
                    return Err(Status::already_exists(format!(
                        "the window {start}..{end} of {day_version} was already merged into version {}; pass force=true to merge it again",
                        w.model_version
                    ))
                    .into());
                }
            }
        }

        let day = self.load(&day_rec).await?;
        let base = match &base_rec {
            Some(b) => Some(self.load(b).await?),
            None => None,
        };
        let params = self.app.config.merge.clone();
        let guard = CancelOnDrop::new();
        let cancel = guard.token();
        let (day2, base2) = (day.clone(), base.clone());
        let outcome = blocking(move || {
            if cancel.is_cancelled() {
                return Err(cancelled().into());
            }
            Ok(topic_engine::merge::merge(base2.as_deref(), &day2, &params)?)
        })
        .await?;
        let mut model = outcome.model;
        self.label_new_topics(&tenant, &mut model, &outcome.new_topic_ids).await;
        if guard.is_cancelled() {
            return Err(cancelled().into());
        }

        let metadata = serde_json::json!({
            "day_version": day_version.to_string(),
            "base_version": base_rec.as_ref().map(|b| b.version.to_string()),
            "new_topics": outcome.new_topic_ids.len(),
            "matched_topics": outcome.matched.len(),
            "retired_topics": outcome.retired.len(),
            "labeler": self.app.labeler.as_ref().map_or("keywords", |l| l.name()),
            "embedding_model": &model.embedding_model,
        });
        failpoint!("service::merge::after_merge");
        let model = Arc::new(model);
        let merged_window = window.or(day.date_range);
        let version = self.next_version(&tenant).await?;
        let rec = match self
            .commit_merge(&tenant, version, model.clone(), metadata, merged_window)
            .await
        {
            Ok(rec) => rec,
            Err(e) => {
                self.discard_failed_version(&tenant, version).await;
                crate::metrics::record_merge(false, started.elapsed());
                tracing::warn!(tenant = %tenant, version = %version, day = %day_version, error = %e,
                    "merge failed; the previous active model is unchanged");
                return Err(e);
            }
        };
        self.app.cache.put(&tenant, version, model).await;
        self.retention(&tenant).await;
        crate::metrics::record_merge(true, started.elapsed());
        tracing::info!(tenant = %tenant, version = %rec.version, day = %day_version,
            new = outcome.new_topic_ids.len(), matched = outcome.matched.len(), retired = outcome.retired.len(),
            "merged and activated");
        Ok(proto::MergeResponse {
            tenant_id: tenant.to_string(),
            version: rec.version.to_string(),
            total_topics: rec.total_topics,
            new_topics: outcome.new_topic_ids.len() as u64,
            matched_topics: outcome.matched.len() as u64,
            retired_topics: outcome.retired.len() as u64,
            previous_version: active.map(|a| a.version.to_string()).unwrap_or_default(),
        })
    }

    /// Labels the new topics in one batched call. Any failure keeps the keyword labels.
    async fn label_new_topics(&self, tenant: &TenantId, model: &mut TopicModel, new_ids: &[i64]) {
        let Some(labeler) = &self.app.labeler else { return };
        if labeler.name() == "keywords" {
            return;
        }
        let batch: Vec<TopicToLabel> = new_ids
            .iter()
            .filter_map(|id| model.topic(*id))
            .filter(|t| !t.is_outlier())
            .map(|t| TopicToLabel {
                topic_id: t.id,
                keywords: t.keywords.iter().map(|k| k.word.clone()).collect(),
                samples: t.samples.clone(),
            })
            .collect();
        if batch.is_empty() {
            return;
        }
        let started = Instant::now();
        let result = labeler.label(&batch).await;
        crate::metrics::record_provider(labeler.name(), "label", result.is_ok(), started.elapsed());
        match result {
            Ok(out) => {
                for t in model.topics.iter_mut() {
                    if let Some(label) = out.labels.get(&t.id) {
                        if !out.fallbacks.contains(&t.id) && !label.trim().is_empty() {
                            t.label = label.clone();
                            t.label_source = LabelSource::Llm;
                        }
                    }
                }
                if !out.fallbacks.is_empty() {
                    tracing::warn!(tenant = %tenant, fallbacks = out.fallbacks.len(), "some topics kept keyword labels");
                }
            }
            Err(e) => {
                tracing::warn!(tenant = %tenant, error = %e, "labeling failed; new topics keep keyword labels")
            }
        }
    }

    async fn transform_inner(
        &self,
        req: Request<proto::TransformRequest>,
    ) -> Result<proto::TransformResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let r = req.into_inner();
        let limits = &self.app.config.limits;
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
        let hot = self.app.cache.get(&tenant).await?.ok_or_else(|| Self::no_active(&tenant))?;
        let embeddings = if r.embeddings.is_empty() {
            let e = self.embedder()?;
            if e.dimension() != hot.model.dim {
                return Err(Status::failed_precondition(format!(
                    "the active model uses {}-d embeddings ({}) but the server's embedder makes {}-d ({}); send precomputed embeddings",
                    hot.model.dim,
                    hot.model.embedding_model,
                    e.dimension(),
                    e.model_name()
                ))
                .into());
            }
            self.embed(&r.texts).await?
        } else {
            validate::embeddings(&r.embeddings, r.embeddings.len(), Some(hot.model.dim))?
        };
        let params = self.app.config.transform;
        let assignments = if embeddings.rows() >= 256 {
            let h = hot.clone();
            blocking(move || Ok(h.index.assign_batch(&embeddings, &params)?)).await?
        } else {
            hot.index.assign_batch(&embeddings, &params)?
        };
        let results = assignments
            .iter()
            .map(|a| proto::TransformResult {
                topic_id: a.topic_id,
                label: hot.model.topic(a.topic_id).map(|t| t.label.clone()).unwrap_or_else(|| {
                    if a.topic_id == OUTLIER_TOPIC {
                        "outlier".into()
                    } else {
                        String::new()
                    }
                }),
                score: a.score,
            })
            .collect();
        Ok(proto::TransformResponse {
            tenant_id: tenant.to_string(),
            version: hot.version.to_string(),
            results,
        })
    }

    async fn top_topics_inner(
        &self,
        req: Request<proto::GetTopTopicsRequest>,
    ) -> Result<proto::GetTopTopicsResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let r = req.into_inner();
        let limit = validate::top_limit(r.limit)?;
        let active =
            self.app.meta.active(&tenant).await?.ok_or_else(|| Self::no_active(&tenant))?;
        let mut snapshot = self.app.meta.snapshot(&tenant).await?;
        // The snapshot holds the top 10; a larger limit reads the rest from the active model.
        if limit > snapshot.len()
            && snapshot.len() as u64 == SNAPSHOT_SIZE as u64
            && active.total_topics > snapshot.len() as u64
        {
            let model = self.load(&active).await?;
            let day = snapshot
                .first()
                .map(|s| s.analysis_date)
                .unwrap_or_else(|| Utc::now().date_naive());
            snapshot = SnapshotTopic::top_of(&model, limit, day, active.version);
        }
        snapshot.truncate(limit);
        let mut topics: Vec<proto::TopTopic> = snapshot.iter().map(convert::top_topic).collect();
        if r.include_trend && !topics.is_empty() {
            let ids: Vec<i64> = topics.iter().map(|t| t.topic_id).collect();
            let mut by_topic: BTreeMap<i64, Vec<proto::DailyCount>> = BTreeMap::new();
            for row in self.app.meta.daily_counts(&tenant, &ids, None).await? {
                by_topic
                    .entry(row.topic_id)
                    .or_default()
                    .push(proto::DailyCount { date: convert::date(row.day), count: row.count });
            }
            for t in &mut topics {
                t.trend = by_topic.remove(&t.topic_id).unwrap_or_default();
            }
        }
        let (start, end) = active
            .date_range
            .map(|(a, b)| (convert::date(a), convert::date(b)))
            .unwrap_or_default();
        Ok(proto::GetTopTopicsResponse {
            tenant_id: tenant.to_string(),
            version: active.version.to_string(),
            analysis_date: convert::timestamp(active.updated_at),
            date_range_start: start,
            date_range_end: end,
            topics,
        })
    }

    async fn list_models_inner(
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
        let mut rows = self.app.meta.list(tenant.as_ref()).await?;
        rows.sort_by(|a, b| a.tenant.cmp(&b.tenant).then(b.version.cmp(&a.version)));
        Ok(proto::ListModelsResponse {
            models: rows.iter().take(limit).map(convert::model_info).collect(),
        })
    }

    async fn get_model_inner(
        &self,
        req: Request<proto::GetModelRequest>,
    ) -> Result<proto::GetModelResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let r = req.into_inner();
        let rec = match r.version.as_deref() {
            Some(v) if !v.trim().is_empty() => {
                self.get_record(&tenant, &validate::version("version", v)?).await?
            }
            _ => self.app.meta.active(&tenant).await?.ok_or_else(|| Self::no_active(&tenant))?,
        };
        let model = self.load(&rec).await?;
        let topics = model
            .topics
            .iter()
            .filter(|t| !t.is_outlier() && (r.include_retired || t.is_active()))
            .map(convert::topic)
            .collect();
        Ok(proto::GetModelResponse {
            info: Some(convert::model_info(&rec)),
            topics,
            embedding_model: model.embedding_model.clone(),
            embedding_dim: model.dim as u32,
        })
    }

    async fn activate_inner(
        &self,
        req: Request<proto::ActivateModelRequest>,
    ) -> Result<proto::ActivateModelResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Admin)?;
        let version = validate::version("version", &req.get_ref().version)?;
        let _state = self.app.lock_tenant(&tenant).await?;
        let rec = self.get_record(&tenant, &version).await?;
        if rec.kind == ModelKind::Day {
            return Err(Status::failed_precondition(format!(
                "{version} is a candidate day model; Merge it instead of activating it"
            ))
            .into());
        }
        let previous = self.app.meta.active(&tenant).await?;
        let model = self.load(&rec).await?;
        self.activate(&tenant, &version, model, None).await?;
        tracing::info!(tenant = %tenant, version = %version, "activated (rollback)");
        Ok(proto::ActivateModelResponse {
            tenant_id: tenant.to_string(),
            version: version.to_string(),
            previous_version: previous.map(|p| p.version.to_string()).unwrap_or_default(),
        })
    }

    async fn delete_tenant_inner(
        &self,
        req: Request<proto::DeleteTenantRequest>,
    ) -> Result<proto::DeleteTenantResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Admin)?;
        let _state = self.app.lock_tenant(&tenant).await?;
        let file_versions = self.app.models.list_version_paths(&tenant).await?;
        let paths = self.app.meta.delete_tenant(&tenant).await?;
        if paths.is_empty() && file_versions.is_empty() {
            return Err(Status::not_found(format!("tenant {tenant} has no models")).into());
        }
        self.app.cache.invalidate(&tenant).await;
        self.app.models.delete_tenant(&tenant).await?;
        tracing::info!(tenant = %tenant, models = paths.len(), files = file_versions.len(), "tenant deleted");
        Ok(proto::DeleteTenantResponse {
            tenant_id: tenant.to_string(),
            models_deleted: paths.len() as u64,
            files_deleted: file_versions.len() as u64,
        })
    }

    async fn merged_windows_inner(
        &self,
        req: Request<proto::ListMergedWindowsRequest>,
    ) -> Result<proto::ListMergedWindowsResponse, ApiError> {
        let tenant = validate::tenant(&req.get_ref().tenant_id)?;
        auth::authorize(&req, &tenant, Role::Read)?;
        let windows = self.app.meta.merged_windows(&tenant).await?;
        let versions: BTreeMap<String, ModelRecord> = self
            .app
            .meta
            .list(Some(&tenant))
            .await?
            .into_iter()
            .map(|m| (m.version.to_string(), m))
            .collect();
        Ok(proto::ListMergedWindowsResponse {
            windows: windows
                .iter()
                .map(|w| proto::MergedWindow {
                    window: Some(proto::Window {
                        start: convert::day_start(w.window_start),
                        end: convert::day_start(w.window_end.succ_opt().unwrap_or(w.window_end)),
                    }),
                    version: w.model_version.to_string(),
                    merged_at: versions
                        .get(&w.model_version.to_string())
                        .map(|m| convert::timestamp(m.created_at))
                        .unwrap_or_default(),
                })
                .collect(),
        })
    }
}

/// The `(first_day, last_day)` window a day model was fitted on, from its metadata.
fn day_window(rec: &ModelRecord) -> Option<(NaiveDate, NaiveDate)> {
    let w = rec.metadata.get("window")?;
    let first = w.get("first_day")?.as_str()?.parse().ok()?;
    let last = w.get("last_day")?.as_str()?.parse().ok()?;
    Some((first, last))
}

/// The most frequent date (ties: the earliest).
fn most_common(dates: &[NaiveDate]) -> Option<NaiveDate> {
    let mut counts: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for d in dates {
        *counts.entry(*d).or_default() += 1;
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(d, _)| d)
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
}
