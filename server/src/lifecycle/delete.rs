//! DeleteTenant: every row and file of a tenant, and its models in memory.

use super::error::{Error, Result};
use super::Lifecycle;
use crate::store::TenantId;

/// What a tenant deletion removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    /// Version rows.
    pub models: u64,
    /// Versions' files.
    pub files: u64,
}

impl Lifecycle {
    /// Deletes `tenant` under its state lock: its rows (one transaction), its entries in
    /// memory, then its files. `NotFound` when it has neither rows nor files.
    pub async fn delete_tenant(&self, tenant: &TenantId) -> Result<Deleted> {
        let _state = self.locks.lock_state(tenant).await?;
        let file_versions = self.models.list_version_paths(tenant).await?;
        let paths = self.meta.delete_tenant(tenant).await?;
        if paths.is_empty() && file_versions.is_empty() {
            return Err(Error::not_found(format!("tenant {tenant} has no models")));
        }
        self.active.invalidate(tenant).await;
        self.fitted.remove_tenant(tenant).await;
        self.models.delete_tenant(tenant).await?;
        tracing::info!(tenant = %tenant, models = paths.len(), files = file_versions.len(), "tenant deleted");
        Ok(Deleted { models: paths.len() as u64, files: file_versions.len() as u64 })
    }
}
