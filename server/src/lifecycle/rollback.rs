//! ActivateModel: make an earlier merged version the served one again (a rollback, or a roll
//! forward). Candidates cannot be activated: they hold one window, not the tenant's history.

use super::error::{Error, Result};
use super::Lifecycle;
use crate::store::{ModelKind, ModelRecord, TenantId, Version};

/// An activated version.
#[derive(Debug, Clone)]
pub struct Activated {
    /// Its row.
    pub record: ModelRecord,
    /// The version active before.
    pub previous: Option<Version>,
}

impl Lifecycle {
    /// Activates the merged `version` of `tenant` under its state lock: the snapshot and daily
    /// counts are rebuilt from it, it is served at once, and retention runs.
    pub async fn activate_version(&self, tenant: &TenantId, version: Version) -> Result<Activated> {
        let _state = self.locks.lock_state(tenant).await?;
        let rec = self.record(tenant, &version).await?;
        if rec.kind == ModelKind::Day {
            return Err(Error::failed_precondition(format!(
                "{version} is a candidate day model; Merge it instead of activating it"
            )));
        }
        let previous = self.meta.active(tenant).await?.map(|p| p.version);
        let model = self.load(&rec).await?;
        let record = self.activate_existing(tenant, version, model).await?;
        tracing::info!(tenant = %tenant, version = %version, "activated (rollback)");
        Ok(Activated { record, previous })
    }
}
