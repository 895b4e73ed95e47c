//! Persistence: model files in an object store ([`ModelStore`]) and model metadata, the top-10
//! snapshot and topic history in SQL ([`MetaStore`]).
//!
//! Write order (survives a crash anywhere): the model's files are written first under a fresh
//! [`Version`], then ONE database transaction ([`MetaStore::insert_and_activate`]) records the
//! version, switches the active version and replaces the snapshot. A version without a database
//! row is never served, and [`cleanup_orphans`] deletes its files.
//!
//! Failpoints (feature `failpoints`, for fault-injection tests): `store::put::after_tensors`,
//! `store::put::after_config`, `meta::activate::after_insert`, `meta::activate::after_switch`,
//! `meta::activate::before_snapshot`, `meta::activate::before_commit` (the macro is defined in
//! the crate root).

#[cfg(test)]
mod fault_tests;
pub mod meta;
pub mod objects;
pub mod tenant;
#[cfg(test)]
mod test_util;

pub use meta::{
    advisory_key, ArticleRows, Backend, DailyCountRow, DefinedTopicsRow, MergedWindow, MetaStore,
    ModelKind, ModelRecord, NewModel, SnapshotTopic, StoredArticle, TenantDbLock,
    MODEL_CHANGES_CHANNEL,
};
pub use objects::{ModelStore, StoragePath, DEFAULT_MAX_OBJECT_BYTES};
pub use tenant::{IdError, TenantId, Version};

use std::collections::HashSet;

/// Errors of the model store and the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A tenant id, version or storage path that breaks the rules.
    #[error(transparent)]
    InvalidId(#[from] IdError),
    /// A store URL or option that cannot work.
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// The model, version or tenant does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The write conflicts with existing data (duplicate version, second active model, ...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// An object is larger than the configured read limit.
    #[error("object {path} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Object key.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Stored data that cannot be decoded (a corrupt or foreign file, a bad row).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The object store or the database cannot be reached or failed; retrying may succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// True when the error comes from a backend outage (retry later, gRPC `UNAVAILABLE`).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Delete the files of `tenant`'s versions that have no row in the metadata store (left behind by
/// a run that failed or crashed between the file write and the commit). Returns the deleted
/// storage paths.
///
/// Only call it while holding the tenant's write lock: a concurrent write may have put files
/// whose row is not committed yet.
pub async fn cleanup_orphans(
    meta: &MetaStore,
    models: &ModelStore,
    tenant: &TenantId,
) -> Result<Vec<StoragePath>> {
    cleanup_orphans_before(meta, models, tenant, None).await
}

/// [`cleanup_orphans`] limited to versions made before `cutoff` (a version names the UTC second
/// it was made), so that the files of a write still in progress elsewhere (another replica)
/// are left alone. `None`: no limit.
pub async fn cleanup_orphans_before(
    meta: &MetaStore,
    models: &ModelStore,
    tenant: &TenantId,
    cutoff: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<StoragePath>> {
    let known: HashSet<StoragePath> =
        meta.list(Some(tenant)).await?.into_iter().map(|m| m.storage_path).collect();
    let mut deleted = Vec::new();
    for path in models.list_version_paths(tenant).await? {
        if known.contains(&path) {
            continue;
        }
        if cutoff.is_some_and(|cutoff| path.version.datetime() >= cutoff) {
            continue;
        }
        tracing::info!(tenant = %tenant, path = %path, "deleting orphaned model files");
        models.delete_version(&path).await?;
        deleted.push(path);
    }
    Ok(deleted)
}
