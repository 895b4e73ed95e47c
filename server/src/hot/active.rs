//! Active models: each tenant's active model kept in memory, in an LRU bounded by bytes.
//!
//! - A miss loads the active version from the stores; concurrent misses for one tenant load once
//!   (moka's `try_get_with` coalesces them).
//! - Replicas: a cached entry is re-checked against the database's active version at most every
//!   `refresh` (default 5 s). When another replica has activated a newer version, the entry is
//!   dropped and reloaded, so all replicas converge within `refresh`. When the database is
//!   unreachable (or does not answer within [`RECHECK_TIMEOUT`]) during a re-check, the cached
//!   model keeps being served, and the next re-check waits for the next interval.
//! - A local Merge / ActivateModel swaps the entry immediately ([`ActiveModels::put`]).
//! - PostgreSQL: every activation and tenant deletion sends a notification on
//!   [`MODEL_CHANGES_CHANNEL`](crate::store::MODEL_CHANGES_CHANNEL) in its transaction; [`listen_for_changes`](super::listen_for_changes) (one task per replica)
//!   drops the tenant's entry when it holds another version, so the replicas serve a new
//!   version as soon as it is committed. While the listener is disconnected (and right after it
//!   reconnects, since notifications may have been missed) every entry is re-checked on its
//!   next use, as above.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use moka::future::Cache;
use topic_engine::layout::MapPoint;
use topic_engine::text::TextAnalyzer;
use topic_engine::transform::TopicIndex;
use topic_engine::TopicModel;

use crate::store::{MetaStore, ModelStore, StoreError, TenantId, Version};

/// A loaded active model.
#[derive(Debug)]
pub struct HotModel {
    /// Its version.
    pub version: Version,
    /// The model.
    pub model: Arc<TopicModel>,
    /// Its active topics as one matrix, ready for transform.
    pub index: TopicIndex,
    /// The model's text handling when it sets small talk aside (Transform tags it -2), built
    /// once here rather than per request.
    pub small_talk: Option<TextAnalyzer>,
    /// Approximate memory use.
    pub bytes: u64,
    /// The topic map, computed on first use ([`HotModel::map`]) and kept with the version.
    map: OnceLock<Arc<Vec<MapPoint>>>,
    checked_at: Mutex<Instant>,
    /// Re-check on the next use regardless of `checked_at` (change notifications may have been
    /// missed).
    stale: AtomicBool,
}

impl HotModel {
    /// Wraps a model loaded (or produced) now.
    pub fn new(version: Version, model: Arc<TopicModel>) -> Self {
        let bytes = model_bytes(&model);
        let index = TopicIndex::new(&model);
        let text = &model.fit_params.text;
        let small_talk = if text.small_talk {
            TextAnalyzer::new(text)
                .map_err(
                    |e| tracing::warn!(error = %e, "model text options; small talk not tagged"),
                )
                .ok()
        } else {
            None
        };
        HotModel {
            version,
            model,
            index,
            small_talk,
            bytes,
            map: OnceLock::new(),
            checked_at: Mutex::new(Instant::now()),
            stale: AtomicBool::new(false),
        }
    }

    /// The model's topic map ([`topic_engine::layout::model_map`]), computed once per loaded
    /// version (`O(k²)` for `k` topics: call it off the async runtime the first time). Two
    /// first calls at once may both compute it; the result is the same.
    pub fn map(&self) -> Result<Arc<Vec<MapPoint>>, topic_engine::EngineError> {
        if let Some(m) = self.map.get() {
            return Ok(m.clone());
        }
        let points = Arc::new(topic_engine::layout::model_map(&self.model)?);
        Ok(self.map.get_or_init(|| points).clone())
    }

    /// True when [`HotModel::map`] has been computed.
    pub fn has_map(&self) -> bool {
        self.map.get().is_some()
    }

    fn checked_elapsed(&self) -> Duration {
        self.checked_at.lock().map(|t| t.elapsed()).unwrap_or(Duration::MAX)
    }

    fn mark_checked(&self) {
        if let Ok(mut t) = self.checked_at.lock() {
            *t = Instant::now();
        }
        self.stale.store(false, Ordering::Relaxed);
    }

    fn is_fresh(&self, refresh: Duration) -> bool {
        !self.stale.load(Ordering::Relaxed) && self.checked_elapsed() < refresh
    }
}

/// Approximate heap size of a model (embeddings twice: in the topics and in the index).
pub fn model_bytes(m: &TopicModel) -> u64 {
    m.heap_bytes() + m.topics.iter().map(|t| t.embedding.len() as u64 * 4).sum::<u64>()
}

/// The per-tenant cache of active models.
#[derive(Clone)]
pub struct ActiveModels {
    cache: Cache<TenantId, Arc<HotModel>>,
    meta: MetaStore,
    models: ModelStore,
    refresh: Duration,
}

impl std::fmt::Debug for ActiveModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveModels").field("entries", &self.cache.entry_count()).finish()
    }
}

/// Longest wait for the database when re-checking a cached entry; past it the cached model is
/// served (as when the database is unreachable).
pub const RECHECK_TIMEOUT: Duration = Duration::from_millis(500);

/// Cache weights are KiB so a `u32` weight covers models up to 4 TiB.
const WEIGHT_UNIT: u64 = 1024;

impl ActiveModels {
    /// A cache of at most `max_bytes` of models, re-checked every `refresh`.
    pub fn new(meta: MetaStore, models: ModelStore, max_bytes: u64, refresh: Duration) -> Self {
        let cache = Cache::builder()
            .max_capacity((max_bytes / WEIGHT_UNIT).max(1))
            .weigher(|_k: &TenantId, v: &Arc<HotModel>| {
                (v.bytes / WEIGHT_UNIT).clamp(1, u32::MAX as u64) as u32
            })
            .build();
        ActiveModels { cache, meta, models, refresh }
    }

    /// The tenant's active model, loading it on a miss. `Ok(None)` when the tenant has no
    /// active model.
    pub async fn get(&self, tenant: &TenantId) -> Result<Option<Arc<HotModel>>, StoreError> {
        if let Some(hot) = self.cache.get(tenant).await {
            if hot.is_fresh(self.refresh) {
                crate::metrics::record_cache(true);
                return Ok(Some(hot));
            }
            // Bounded: while the database is down (a pool waits for a connection for seconds),
            // the hot model keeps being served without that wait.
            let active = tokio::time::timeout(RECHECK_TIMEOUT, self.meta.active(tenant))
                .await
                .unwrap_or_else(|_| {
                    Err(StoreError::Unavailable(format!(
                        "no answer from the database within {} ms",
                        RECHECK_TIMEOUT.as_millis()
                    )))
                });
            match active {
                Ok(Some(rec)) if rec.version == hot.version => {
                    hot.mark_checked();
                    crate::metrics::record_cache(true);
                    return Ok(Some(hot));
                }
                Ok(Some(rec)) => {
                    tracing::info!(tenant = %tenant, cached = %hot.version, active = %rec.version,
                        "active version changed elsewhere; reloading");
                    crate::metrics::record_cache_invalidation("recheck");
                    self.cache.invalidate(tenant).await;
                }
                Ok(None) => {
                    self.cache.invalidate(tenant).await;
                    self.publish_size();
                    return Ok(None);
                }
                Err(e) if e.is_unavailable() => {
                    tracing::warn!(tenant = %tenant, error = %e, "database unavailable; serving the cached model");
                    // Try again after the next refresh interval, not on every request.
                    hot.mark_checked();
                    crate::metrics::record_cache(true);
                    return Ok(Some(hot));
                }
                Err(e) => return Err(e),
            }
        }
        crate::metrics::record_cache(false);
        let meta = self.meta.clone();
        let models = self.models.clone();
        let t = tenant.clone();
        let loaded = self
            .cache
            .try_get_with(tenant.clone(), async move {
                let rec = meta.active(&t).await?.ok_or_else(|| StoreError::NotFound(format!("tenant {t} has no active model")))?;
                let started = Instant::now();
                let model = models.get(&rec.storage_path).await?;
                tracing::info!(tenant = %t, version = %rec.version, ms = started.elapsed().as_millis() as u64,
                    "loaded active model");
                Ok::<_, StoreError>(Arc::new(HotModel::new(rec.version, Arc::new(model))))
            })
            .await;
        self.publish_size();
        match loaded {
            Ok(hot) => Ok(Some(hot)),
            Err(e) => match e.as_ref() {
                StoreError::NotFound(_) => Ok(None),
                other => Err(clone_store_error(other)),
            },
        }
    }

    /// The cached model of `tenant` if it is `version` (no loading).
    pub async fn peek(&self, tenant: &TenantId, version: &Version) -> Option<Arc<TopicModel>> {
        self.cache.get(tenant).await.filter(|h| &h.version == version).map(|h| h.model.clone())
    }

    /// Makes `model` the tenant's hot model (after a local activation).
    pub async fn put(&self, tenant: &TenantId, version: Version, model: Arc<TopicModel>) {
        self.cache.insert(tenant.clone(), Arc::new(HotModel::new(version, model))).await;
        self.publish_size();
    }

    /// Drops the tenant's entry.
    pub async fn invalidate(&self, tenant: &TenantId) {
        self.cache.invalidate(tenant).await;
        self.publish_size();
    }

    /// A change notification from another replica (or this one): `payload` is `<tenant>` (the
    /// tenant was deleted) or `<tenant> <version>` (its new active version). Drops the
    /// tenant's entry unless it already holds that version. Returns whether it dropped one.
    pub async fn on_change(&self, payload: &str) -> bool {
        let mut parts = payload.split_whitespace();
        let Some(Ok(tenant)) = parts.next().map(TenantId::parse) else {
            tracing::warn!(payload, "ignoring a malformed model-change notification");
            return false;
        };
        let version = parts.next().and_then(|v| Version::parse(v).ok());
        let Some(hot) = self.cache.get(&tenant).await else { return false };
        if version.as_ref() == Some(&hot.version) {
            return false;
        }
        tracing::info!(tenant = %tenant, cached = %hot.version,
            active = %version.map(|v| v.to_string()).unwrap_or_else(|| "none (deleted)".into()),
            "model changed on another replica; dropping the cached copy");
        crate::metrics::record_cache_invalidation("notify");
        self.invalidate(&tenant).await;
        true
    }

    /// Makes every entry re-check the database's active version on its next use.
    pub fn mark_all_stale(&self) {
        for (_, hot) in self.cache.iter() {
            hot.stale.store(true, Ordering::Relaxed);
        }
    }

    /// Approximate bytes held and the number of models.
    pub fn size(&self) -> (u64, u64) {
        (self.cache.weighted_size() * WEIGHT_UNIT, self.cache.entry_count())
    }

    fn publish_size(&self) {
        let (b, n) = self.size();
        crate::metrics::set_cache_size(b, n);
    }
}

/// `StoreError` is not `Clone`; rebuild one from a shared reference with the same variant.
fn clone_store_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::NotFound(m) => StoreError::NotFound(m.clone()),
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Config(m) => StoreError::Config(m.clone()),
        StoreError::TooLarge { path, size, limit } => {
            StoreError::TooLarge { path: path.clone(), size: *size, limit: *limit }
        }
        other => StoreError::Corrupt(other.to_string()),
    }
}
