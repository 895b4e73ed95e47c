//! Day models just fitted by this process, kept in memory (an LRU bounded by bytes) so the
//! Merge that usually follows does not read back from the object store what Fit has just
//! written there. The store is always written first; this is only a read-through shortcut, and
//! a miss (another replica fitted it, the entry was evicted, the process restarted) loads from
//! the store as before.

use std::sync::Arc;

use moka::future::Cache;
use topic_engine::TopicModel;

use super::active::model_bytes;
use crate::store::{StoragePath, TenantId, Version};

/// Cache weights are KiB so a `u32` weight covers models up to 4 TiB.
const WEIGHT_UNIT: u64 = 1024;

#[derive(Debug)]
struct Fitted {
    /// Where the model's files are: an entry is only used for the row that points there.
    storage_path: StoragePath,
    model: Arc<TopicModel>,
    bytes: u64,
}

/// The cache of freshly fitted day models, by tenant and version.
#[derive(Clone)]
pub struct FittedModels {
    /// `None` when disabled (`cache.fitted_max_bytes = 0`).
    cache: Option<Cache<(TenantId, Version), Arc<Fitted>>>,
}

impl std::fmt::Debug for FittedModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FittedModels")
            .field("entries", &self.cache.as_ref().map(|c| c.entry_count()))
            .finish()
    }
}

impl FittedModels {
    /// A cache of at most `max_bytes` of models; 0 disables it.
    pub fn new(max_bytes: u64) -> Self {
        let cache = (max_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity((max_bytes / WEIGHT_UNIT).max(1))
                .weigher(|_k: &(TenantId, Version), v: &Arc<Fitted>| {
                    (v.bytes / WEIGHT_UNIT).clamp(1, u32::MAX as u64) as u32
                })
                .build()
        });
        FittedModels { cache }
    }

    /// Remembers the day model `version` of `tenant`, stored at `storage_path`.
    pub async fn insert(
        &self,
        tenant: &TenantId,
        version: Version,
        storage_path: &StoragePath,
        model: Arc<TopicModel>,
    ) {
        let Some(cache) = &self.cache else { return };
        let bytes = model_bytes(&model);
        let entry = Fitted { storage_path: storage_path.clone(), model, bytes };
        cache.insert((tenant.clone(), version), Arc::new(entry)).await;
    }

    /// The day model `version` of `tenant` if this process fitted it and still holds it, and
    /// its files are at `storage_path`.
    pub async fn get(
        &self,
        tenant: &TenantId,
        version: &Version,
        storage_path: &StoragePath,
    ) -> Option<Arc<TopicModel>> {
        let cache = self.cache.as_ref()?;
        let hit = cache
            .get(&(tenant.clone(), *version))
            .await
            .filter(|f| &f.storage_path == storage_path)
            .map(|f| f.model.clone());
        tracing::debug!(tenant = %tenant, version = %version, hit = hit.is_some(), "fitted-model cache");
        hit
    }

    /// Forgets one version (merged, or deleted).
    pub async fn remove(&self, tenant: &TenantId, version: &Version) {
        if let Some(cache) = &self.cache {
            cache.invalidate(&(tenant.clone(), *version)).await;
        }
    }

    /// Forgets every version of `tenant` (the tenant was deleted).
    pub async fn remove_tenant(&self, tenant: &TenantId) {
        let Some(cache) = &self.cache else { return };
        let keys: Vec<_> =
            cache.iter().filter(|(k, _)| &k.0 == tenant).map(|(k, _)| (*k).clone()).collect();
        for k in keys {
            cache.invalidate(&k).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Arc<TopicModel> {
        Arc::new(TopicModel {
            embedding_model: "test".into(),
            dim: 2,
            fit_params: topic_engine::FitParams::default(),
            merge_params: topic_engine::MergeParams::default(),
            vocabulary: vec!["w".into()],
            next_topic_id: 0,
            n_documents: 0,
            topics: vec![],
            date_range: None,
        })
    }

    #[tokio::test]
    async fn hit_miss_and_removal() {
        let f = FittedModels::new(64 << 20);
        let t = TenantId::parse("acme").unwrap();
        let v = Version::parse("20260101_000000").unwrap();
        let path = StoragePath::parse("acme/20260101_000000").unwrap();
        let elsewhere = StoragePath::parse("acme/20260102_000000").unwrap();
        assert!(f.get(&t, &v, &path).await.is_none());
        f.insert(&t, v, &path, model()).await;
        assert!(f.get(&t, &v, &path).await.is_some());
        // A row pointing elsewhere is not served from memory.
        assert!(f.get(&t, &v, &elsewhere).await.is_none());
        f.remove_tenant(&t).await;
        assert!(f.get(&t, &v, &path).await.is_none());
        // Disabled.
        let off = FittedModels::new(0);
        off.insert(&t, v, &path, model()).await;
        assert!(off.get(&t, &v, &path).await.is_none());
    }
}
