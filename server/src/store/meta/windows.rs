//! The `merged_windows` table: which date window each merged version took in (Merge refuses a
//! window merged before unless forced).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, SqliteConnection};

use super::{db_err, stored_version, MetaStore, Pool, Result, TenantId, Version};

/// A date window merged into a tenant's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedWindow {
    /// First day of the window.
    pub window_start: NaiveDate,
    /// Last day of the window.
    pub window_end: NaiveDate,
    /// The merged version that took it in.
    pub model_version: Version,
}

#[derive(sqlx::FromRow)]
struct WindowRow {
    window_start: NaiveDate,
    window_end: NaiveDate,
    model_version: String,
}

/// Writes of `merged_windows` inside the caller's transaction.
pub(super) trait WindowWrites {
    /// Record that `version` took in `start..=end`.
    async fn insert_window(
        &mut self,
        tenant: &str,
        version: &str,
        window: (NaiveDate, NaiveDate),
        now: DateTime<Utc>,
    ) -> Result<()>;

    /// Forget the window of `version` (the version's row is being deleted).
    async fn delete_window(&mut self, tenant: &str, version: &str) -> Result<()>;
}

/// The same SQL on both backends.
macro_rules! impl_window_writes {
    ($conn:ty) => {
        impl WindowWrites for $conn {
            async fn insert_window(
                &mut self,
                tenant: &str,
                version: &str,
                (start, end): (NaiveDate, NaiveDate),
                now: DateTime<Utc>,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO merged_windows (tenant_id, window_start, window_end, model_version, \
                     created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(tenant)
                .bind(start)
                .bind(end)
                .bind(version)
                .bind(now)
                .execute(&mut *self)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn delete_window(&mut self, tenant: &str, version: &str) -> Result<()> {
                sqlx::query("DELETE FROM merged_windows WHERE tenant_id = $1 AND model_version = $2")
                    .bind(tenant)
                    .bind(version)
                    .execute(&mut *self)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }
        }
    };
}

impl_window_writes!(SqliteConnection);
impl_window_writes!(PgConnection);

impl MetaStore {
    /// Windows merged into the tenant's models, oldest version first.
    pub async fn merged_windows(&self, tenant: &TenantId) -> Result<Vec<MergedWindow>> {
        let rows: Vec<WindowRow> = with_pool!(self, p => sqlx::query_as(
            "SELECT window_start, window_end, model_version FROM merged_windows WHERE tenant_id = $1 \
             ORDER BY model_version")
            .bind(tenant.as_str())
            .fetch_all(p)
            .await)
        .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(MergedWindow {
                    window_start: r.window_start,
                    window_end: r.window_end,
                    model_version: stored_version(&r.model_version)?,
                })
            })
            .collect()
    }
}
