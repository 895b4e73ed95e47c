//! Retention: after every activation the tenant keeps its newest `server.keep_versions`
//! versions and loses its orphaned files (versions without a row); at start-up, orphans older
//! than [`STARTUP_ORPHAN_GRACE_SECS`] are removed for every tenant.

use super::Lifecycle;
use crate::store::TenantId;

/// At start-up, orphaned model files (a version without a database row) are deleted only when
/// the version was made at least this long ago: younger ones may belong to a write that another
/// replica has not committed yet. (Orphans of this process's own failed writes are removed
/// right away, and after every activation.)
pub const STARTUP_ORPHAN_GRACE_SECS: i64 = 3600;

impl Lifecycle {
    /// Keeps the newest `keep_versions` versions and removes orphaned files. Failures are
    /// logged, never returned: the activation already succeeded. Runs under the tenant's state
    /// lock (orphan cleanup must not race a write).
    pub(crate) async fn retention(&self, tenant: &TenantId) {
        match self.meta.prune_versions(tenant, self.settings.keep_versions).await {
            Ok(deleted) => {
                for r in deleted {
                    self.fitted.remove(tenant, &r.version).await;
                    if let Err(e) = self.models.delete_version(&r.storage_path).await {
                        tracing::warn!(tenant = %tenant, path = %r.storage_path, error = %e, "could not delete pruned files");
                    }
                }
            }
            Err(e) => tracing::warn!(tenant = %tenant, error = %e, "retention failed"),
        }
        if let Err(e) = crate::store::cleanup_orphans(&self.meta, &self.models, tenant).await {
            tracing::warn!(tenant = %tenant, error = %e, "orphan cleanup failed");
        }
    }

    /// Deletes the files of versions that have no database row and are older than
    /// [`STARTUP_ORPHAN_GRACE_SECS`] (left by a crash between the file write and the commit),
    /// for every tenant with rows or files, each under the tenant's state lock. Returns how
    /// many versions' files were deleted; errors are logged, never fatal.
    pub async fn cleanup_orphans_at_start(&self) -> usize {
        let cutoff = chrono::Utc::now() - chrono::Duration::seconds(STARTUP_ORPHAN_GRACE_SECS);
        let mut tenants = match self.models.list_tenants().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "start-up orphan cleanup: cannot list the model store");
                return 0;
            }
        };
        match self.meta.tenants().await {
            Ok(t) => tenants.extend(t),
            Err(e) => {
                tracing::warn!(error = %e, "start-up orphan cleanup: cannot list tenants in the database");
                return 0;
            }
        }
        tenants.sort();
        tenants.dedup();
        let mut deleted = 0;
        for tenant in &tenants {
            let _lock = match self.locks.lock_state(tenant).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(tenant = %tenant, error = %e, "start-up orphan cleanup: cannot take the tenant's write lock");
                    continue;
                }
            };
            match crate::store::cleanup_orphans_before(
                &self.meta,
                &self.models,
                tenant,
                Some(cutoff),
            )
            .await
            {
                Ok(paths) => deleted += paths.len(),
                Err(e) => {
                    tracing::warn!(tenant = %tenant, error = %e, "start-up orphan cleanup failed")
                }
            }
        }
        if deleted > 0 {
            tracing::info!(versions = deleted, "start-up cleanup deleted orphaned model files");
        }
        deleted
    }
}
