//! Every lock a tenant's work takes, behind one type ([`TenantLocks`]):
//!
//! - [`TenantLocks::admit_fit`]: a Fit's admission — one of the tenant's
//!   `limits.max_concurrent_writes_per_tenant` fit permits (refused at once with
//!   `ResourceExhausted` when all are taken), then one of the server's
//!   `server.max_concurrent_fits` slots (waited for). Held for the whole fit.
//! - [`TenantLocks::lock_state`]: the tenant's state lock, serialising every change of its
//!   stored state (Fit's store, Merge, ActivateModel, DeleteTenant, orphan cleanup): the
//!   in-process lock first, then on PostgreSQL the cross-replica advisory lock, so one replica
//!   has at most one waiter per tenant on the database.
//!
//! Fit holds its admission while it takes the state lock for its short store step, never the
//! other way round, so the two cannot deadlock.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::{Error, Result};
use crate::limits::{TenantWriteLocks, WritePermit};
use crate::store::{MetaStore, TenantDbLock, TenantId};

/// The locks of every tenant (see the module docs).
#[derive(Debug)]
pub struct TenantLocks {
    fits: TenantWriteLocks,
    state: TenantWriteLocks,
    fit_slots: Arc<Semaphore>,
    meta: MetaStore,
}

/// A Fit's admission: its tenant permit and its server slot, released on drop.
#[derive(Debug)]
pub struct FitAdmission {
    _tenant: WritePermit,
    _slot: OwnedSemaphorePermit,
}

/// A tenant's state lock: the in-process one and, on PostgreSQL, the cross-replica advisory
/// lock. Both are released when it is dropped.
#[derive(Debug)]
pub struct TenantGuard {
    _db: Option<TenantDbLock>,
    _local: WritePermit,
}

impl TenantLocks {
    /// Locks allowing `fits_per_tenant` concurrent Fits of one tenant and `fit_slots` over all
    /// tenants; state locks use `meta`'s advisory locks.
    pub fn new(meta: MetaStore, fits_per_tenant: usize, fit_slots: usize) -> Self {
        TenantLocks {
            fits: TenantWriteLocks::new(fits_per_tenant),
            state: TenantWriteLocks::new(1),
            fit_slots: Arc::new(Semaphore::new(fit_slots)),
            meta,
        }
    }

    /// Admits a Fit of `tenant`: refuses (`ResourceExhausted`) when the tenant already has its
    /// limit of Fits running, else waits for a server-wide slot.
    pub async fn admit_fit(&self, tenant: &TenantId) -> Result<FitAdmission> {
        let permit = self.fits.try_acquire_tenant(tenant)?;
        let slot = self
            .fit_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::unavailable("the server is shutting down"))?;
        Ok(FitAdmission { _tenant: permit, _slot: slot })
    }

    /// Waits for the tenant's state lock (see the module docs).
    pub async fn lock_state(&self, tenant: &TenantId) -> Result<TenantGuard> {
        let local = self.state.acquire(tenant).await;
        let db = self.meta.lock_tenant(tenant).await?;
        Ok(TenantGuard { _db: db, _local: local })
    }
}
