//! The commit protocol. A new version's files are written first, then its database row; for a
//! Merge, ONE transaction inserts the row, makes it the tenant's only active version and
//! writes the [`Activation`] (snapshot, daily counts, merged window). A failure leaves nothing
//! of the version visible; its files are removed at once when no row has them
//! ([`Lifecycle::discard_failed_version`]), else they stay as orphans for the next cleanup.
//! A version without a row is never served.
//!
//! Every function here runs under the tenant's state lock, taken by the caller.

use std::sync::Arc;

use chrono::NaiveDate;
use topic_engine::TopicModel;

use super::error::Result;
use super::snapshot::Activation;
use super::Lifecycle;
use crate::store::{ModelKind, ModelRecord, NewModel, StoragePath, TenantId, Version};

impl Lifecycle {
    /// The next version for the tenant (strictly after its latest).
    async fn next_version(&self, tenant: &TenantId) -> Result<Version> {
        let latest = self.meta.latest_version(tenant).await?;
        Ok(Version::now_after(latest.as_ref()))
    }

    /// Stores a candidate day model (Fit): its files under a new version, then its row
    /// (inactive). On a failure the version's files are discarded.
    pub(crate) async fn store_candidate(
        &self,
        tenant: &TenantId,
        model: &TopicModel,
        metadata: serde_json::Value,
    ) -> Result<ModelRecord> {
        let version = self.next_version(tenant).await?;
        let written = async {
            let path = self.models.put(tenant, &version, model).await?;
            let row =
                NewModel::for_model(tenant.clone(), version, ModelKind::Day, path, model, metadata);
            self.meta.insert_model(&row).await
        }
        .await;
        if written.is_err() {
            self.discard_failed_version(tenant, version).await;
        }
        Ok(written?)
    }

    /// Commits a merged model (Merge): its files under a new version, then ONE transaction that
    /// inserts the version, makes it the only active one and writes its [`Activation`]. On
    /// error nothing of it is visible in the database and its files are discarded. On success
    /// the model is served at once and retention runs. `active_base`: the base model when it is
    /// the active one, whose daily counts are stored already (only changed ones are written).
    pub(crate) async fn commit_merged(
        &self,
        tenant: &TenantId,
        model: Arc<TopicModel>,
        active_base: Option<&TopicModel>,
        metadata: serde_json::Value,
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<ModelRecord> {
        let version = self.next_version(tenant).await?;
        let committed: Result<ModelRecord> = async {
            let path = self.models.put(tenant, &version, &model).await?;
            failpoint!("lifecycle::merge::after_write");
            let row = NewModel::for_model(
                tenant.clone(),
                version,
                ModelKind::Merged,
                path,
                &model,
                metadata,
            );
            let a = Activation::of(&model, active_base, version, merged_window);
            Ok(self
                .meta
                .insert_and_activate(&row, &a.snapshot, &a.daily_counts, a.merged_window)
                .await?)
        }
        .await;
        let rec: ModelRecord = match committed {
            Ok(rec) => rec,
            Err(e) => {
                self.discard_failed_version(tenant, version).await;
                return Err(e);
            }
        };
        self.after_activation(tenant, version, model).await;
        Ok(rec)
    }

    /// Activates an existing version (ActivateModel): ONE transaction switching the active
    /// version and writing its [`Activation`] (no merged window), then the model is served and
    /// retention runs.
    pub(crate) async fn activate_existing(
        &self,
        tenant: &TenantId,
        version: Version,
        model: Arc<TopicModel>,
    ) -> Result<ModelRecord> {
        let a = Activation::of(&model, None, version, None);
        let rec = self
            .meta
            .activate(tenant, &version, &a.snapshot, &a.daily_counts, a.merged_window)
            .await?;
        self.after_activation(tenant, version, model).await;
        Ok(rec)
    }

    /// After a committed activation: serve the model here at once, then apply retention.
    async fn after_activation(&self, tenant: &TenantId, version: Version, model: Arc<TopicModel>) {
        self.active.put(tenant, version, model).await;
        self.retention(tenant).await;
    }

    /// After a failed write (Fit's insert, Merge's commit): delete the files written for
    /// `version`, unless its row exists after all (the commit went through but its answer was
    /// lost) or the database cannot tell (then the files stay, as orphans for the next cleanup).
    async fn discard_failed_version(&self, tenant: &TenantId, version: Version) {
        match self.meta.get(tenant, &version).await {
            Ok(None) => {
                let path = StoragePath { tenant: tenant.clone(), version };
                match self.models.delete_version(&path).await {
                    Ok(()) => {
                        tracing::info!(tenant = %tenant, path = %path, "removed the files of a failed write")
                    }
                    Err(e) => tracing::warn!(tenant = %tenant, path = %path, error = %e,
                        "could not remove the files of a failed write; the next cleanup will"),
                }
            }
            Ok(Some(_)) => tracing::warn!(tenant = %tenant, version = %version,
                "the write reported an error but its version has a row; keeping its files"),
            Err(e) => tracing::warn!(tenant = %tenant, version = %version, error = %e,
                "cannot check the failed write's version; its files stay until the next cleanup"),
        }
    }
}
