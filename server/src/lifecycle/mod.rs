//! The domain layer: a tenant's models from Fit to retention, independent of any API.
//!
//! Every API (the gRPC service today, an HTTP/JSON one next) validates and converts its
//! requests, then calls a [`Lifecycle`] method with domain types ([`TenantId`], [`Version`],
//! texts, embedding rows, dates, engine parameters) and converts the result. Errors are
//! [`Error`]s with an [`ErrorKind`]; each API maps kinds to its own status codes.
//!
//! - [`fit`]: `fit_day` — embed, fit, store a candidate day model.
//! - [`merge`]: `merge_day` — merge a candidate into the active model, label new topics,
//!   commit and activate.
//! - [`commit`]: the commit protocol — files first, then ONE transaction; a failed version's
//!   files are discarded.
//! - [`snapshot`]: the one builder of what an activation writes (top-10 snapshot, daily
//!   counts, merged window).
//! - [`rollback`]: `activate_version` (ActivateModel). [`delete`]: `delete_tenant`.
//! - [`retention`]: pruning old versions, orphan cleanup. [`labelling`]: naming new topics.
//! - [`query`]: transform, top topics, models, merged windows.
//! - [`dashboard`]: tenants, the topic map, topic search, what changed.
//! - [`faq`]: the tenant's FAQ from the active model (issue 29).
//! - [`kb`]: help-centre articles (SetArticles, ListArticles) and which FAQ entries they
//!   answer (knowledge gaps).
//! - [`relabel`]: `set_topic_label` — an operator's label, committed as a new version.
//! - [`defined`]: tenant-defined topics — the list (a tenant setting) and what Fit takes from it.
//! - [`edits`]: `edit_topics` — hand edits (merge, hide, split), committed as new versions.
//! - [`tree`]: `topic_tree` — the topic tree of a version and its themes.
//! - [`contract`]: the typed metadata Fit writes and Merge reads. [`locks`]: tenant locks.

pub mod commit;
pub mod contract;
pub mod dashboard;
pub mod defined;
pub mod delete;
pub mod edits;
pub mod error;
pub mod faq;
pub mod fit;
pub mod kb;
pub mod labelling;
pub mod locks;
pub mod merge;
pub mod query;
pub mod relabel;
pub mod retention;
pub mod rollback;
pub mod snapshot;
pub mod tree;
pub mod vectors;

use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::Device;
use topic_engine::{Cancel, Matrix, MergeParams, TransformParams};

use crate::config::Config;
use crate::hot::{ActiveModels, FittedModels};
use crate::providers::{Embedder, Labeler};
use crate::store::{MetaStore, ModelStore};

pub use contract::Window;
pub use error::{Error, ErrorKind, Result};
pub use locks::TenantLocks;
pub use snapshot::SNAPSHOT_SIZE;

/// The label of the outlier topic (`-1`) in answers, when the model has no such topic.
pub const OUTLIER_LABEL: &str = "outlier";

/// The label provider's name recorded when topics keep their keyword labels.
pub const KEYWORD_LABELER: &str = "keywords";

/// Settings the lifecycle reads from the configuration.
#[derive(Debug, Clone)]
struct Settings {
    merge: MergeParams,
    transform: TransformParams,
    keep_versions: usize,
    /// `[faq] article_threshold`.
    article_threshold: f32,
}

/// A tenant's models from Fit to retention: the stores, the providers, the compute device, the
/// in-memory models and the tenant locks.
pub struct Lifecycle {
    meta: MetaStore,
    models: ModelStore,
    /// The embedding provider, or why it could not be built (then only precomputed embeddings
    /// are accepted).
    embedder: std::result::Result<Arc<dyn Embedder>, String>,
    /// The label provider; `None`: new topics keep the engine's keyword labels.
    labeler: Option<Arc<dyn Labeler>>,
    device: Device,
    active: ActiveModels,
    fitted: FittedModels,
    locks: TenantLocks,
    settings: Settings,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle")
            .field("meta", &self.meta)
            .field("models", &self.models)
            .field("device", &topic_engine::device::name(&self.device))
            .field("labeler", &self.labeler_name())
            .finish_non_exhaustive()
    }
}

impl Lifecycle {
    /// The lifecycle over built stores and providers, with caches and locks sized by `config`.
    pub fn new(
        config: &Config,
        meta: MetaStore,
        models: ModelStore,
        embedder: std::result::Result<Arc<dyn Embedder>, String>,
        labeler: Option<Arc<dyn Labeler>>,
        device: Device,
    ) -> Self {
        let active = ActiveModels::new(
            meta.clone(),
            models.clone(),
            config.cache.max_bytes,
            Duration::from_secs(config.cache.refresh_secs),
        );
        let locks = TenantLocks::new(
            meta.clone(),
            config.limits.max_concurrent_writes_per_tenant,
            config.server.max_concurrent_fits,
        );
        Lifecycle {
            meta,
            models,
            embedder,
            labeler,
            device,
            active,
            fitted: FittedModels::new(config.cache.fitted_max_bytes),
            locks,
            settings: Settings {
                merge: config.merge.clone(),
                transform: config.transform,
                keep_versions: config.server.keep_versions,
                article_threshold: config.faq.article_threshold,
            },
        }
    }

    /// The metadata store.
    pub fn meta(&self) -> &MetaStore {
        &self.meta
    }

    /// The model store.
    pub fn models(&self) -> &ModelStore {
        &self.models
    }

    /// The active models in memory.
    pub fn active_models(&self) -> &ActiveModels {
        &self.active
    }

    /// The tenant locks.
    pub fn locks(&self) -> &TenantLocks {
        &self.locks
    }

    /// The dimension of the embedding provider's vectors, when there is a provider.
    pub fn embedding_dimension(&self) -> Option<usize> {
        self.embedder.as_ref().ok().map(|e| e.dimension())
    }

    /// The label provider's name, [`KEYWORD_LABELER`] without one.
    pub fn labeler_name(&self) -> &str {
        self.labeler.as_ref().map_or(KEYWORD_LABELER, |l| l.name())
    }

    /// The embedding provider, or `FailedPrecondition` saying why there is none.
    fn embedder(&self) -> Result<&Arc<dyn Embedder>> {
        self.embedder.as_ref().map_err(|why| {
            Error::failed_precondition(format!(
                "the server has no embedding provider ({why}); send precomputed embeddings or configure [embedding]"
            ))
        })
    }

    /// Embeds texts with the provider, recording the call.
    async fn embed(&self, texts: &[String]) -> Result<Matrix> {
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
            return Err(Error::internal(format!(
                "embedding provider returned {} vectors for {} texts",
                m.rows(),
                texts.len()
            )));
        }
        Ok(m)
    }
}

/// Cancels its engine token when dropped: a lifecycle future is dropped when its caller gives
/// up (a gRPC client cancels or its deadline passes), and the engine checks the token between
/// stages and inside its long loops ([`topic_engine::fit_cancellable`]), so the blocking work
/// stops too.
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

/// Runs CPU-heavy work off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("worker task failed: {e}")))?
}

#[cfg(test)]
mod tests;
