//! Activation: the one transaction that switches a tenant's active model and writes what goes
//! with it (the snapshot, the daily counts, the merged window), optionally inserting the version
//! first (the Merge commit).

use chrono::{NaiveDate, Utc};

use super::history::{DailyCountRow, HistoryWrites};
use super::models::{bind_new_model, insert_err, insert_sql, ModelRow, MODEL_COLUMNS};
use super::snapshot::{SnapshotTopic, SnapshotWrites};
use super::windows::WindowWrites;
use super::{
    db_err, to_i64, MetaStore, ModelRecord, NewModel, Pool, Result, StoreError, TenantId, Version,
    MODEL_CHANGES_CHANNEL,
};

impl MetaStore {
    /// In ONE transaction: make `version` the tenant's only active model, replace the tenant's
    /// snapshot with `snapshot` (each entry's `model_version` is set to `version`), upsert
    /// `daily_counts`, and record `merged_window` (first and last day merged) when given.
    /// On any error nothing changes: the previous active model and snapshot stay.
    pub async fn activate(
        &self,
        tenant: &TenantId,
        version: &Version,
        snapshot: &[SnapshotTopic],
        daily_counts: &[DailyCountRow],
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<ModelRecord> {
        self.activate_inner(None, tenant, version, snapshot, daily_counts, merged_window).await
    }

    /// [`MetaStore::insert_model`] and [`MetaStore::activate`] in ONE transaction: the Merge
    /// commit. On any error no row of the new version exists (its files, already written, are
    /// orphans for [`cleanup_orphans`](crate::store::cleanup_orphans)) and the previous active
    /// model and snapshot stay. `daily_counts` may be only those that changed since the active
    /// model ([`DailyCountRow::changed`]).
    pub async fn insert_and_activate(
        &self,
        model: &NewModel,
        snapshot: &[SnapshotTopic],
        daily_counts: &[DailyCountRow],
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<ModelRecord> {
        self.activate_inner(
            Some(model),
            &model.tenant,
            &model.version,
            snapshot,
            daily_counts,
            merged_window,
        )
        .await
    }

    async fn activate_inner(
        &self,
        new: Option<&NewModel>,
        tenant: &TenantId,
        version: &Version,
        snapshot: &[SnapshotTopic],
        daily_counts: &[DailyCountRow],
        merged_window: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<ModelRecord> {
        let now = Utc::now();
        let v = version.to_string();
        let t = tenant.as_str();
        let backend = self.backend();
        let select =
            format!("SELECT {MODEL_COLUMNS} FROM models WHERE tenant_id = $1 AND version = $2");
        let row: ModelRow = with_pool!(self, p => {
            let mut tx = p.begin_with(backend.begin_write()).await.map_err(db_err)?;
            if let Some(m) = new {
                let insert_sql = insert_sql();
                bind_new_model!(sqlx::query(&insert_sql), m, now)?
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| insert_err(e, m))?;
                failpoint!("meta::activate::after_insert");
            }
            let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM models WHERE tenant_id = $1 AND version = $2")
                .bind(t)
                .bind(&v)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound(format!("tenant {tenant} has no model version {version}")));
            }
            // Two statements, deactivation first: the one-active-model index is checked per row.
            sqlx::query("UPDATE models SET is_active = $1, updated_at = $2 WHERE tenant_id = $3 AND is_active AND version <> $4")
                .bind(false)
                .bind(now)
                .bind(t)
                .bind(&v)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("UPDATE models SET is_active = $1, updated_at = $2 WHERE tenant_id = $3 AND version = $4")
                .bind(true)
                .bind(now)
                .bind(t)
                .bind(&v)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            failpoint!("meta::activate::after_switch");
            SnapshotWrites::delete_snapshot(&mut *tx, t).await?;
            failpoint!("meta::activate::before_snapshot");
            SnapshotWrites::insert_snapshot(&mut *tx, backend, t, &v, snapshot).await?;
            HistoryWrites::upsert_daily_counts(&mut *tx, t, daily_counts).await?;
            if let Some(window) = merged_window {
                WindowWrites::insert_window(&mut *tx, t, &v, window, now).await?;
            }
            failpoint!("meta::activate::before_commit");
            let row: ModelRow = sqlx::query_as(&select).bind(t).bind(&v).fetch_one(&mut *tx).await.map_err(db_err)?;
            if backend.notifies() {
                // Delivered to the other replicas' listeners at commit, never when the
                // transaction rolls back.
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(MODEL_CHANGES_CHANNEL)
                    .bind(format!("{t} {v}"))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
            row
        });
        tracing::info!(tenant = %tenant, version = %version, topics = snapshot.len(),
            counts = daily_counts.len(), "model activated");
        row.try_into()
    }
}
