//! The `topic_daily_counts` table: documents per topic per day, for trends. Written in bulk by
//! activations (PostgreSQL: one `UNNEST` upsert; SQLite: multi-row `VALUES` upserts sized to
//! its parameter limit), read in one query.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, SqliteConnection};
use topic_engine::TopicModel;

use super::backend::anonymous_rows;
use super::{db_err, to_i64, to_u64, Backend, MetaStore, Pool, Result, TenantId};

/// Documents of one topic on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCountRow {
    /// Topic id.
    pub topic_id: i64,
    /// Day.
    pub day: NaiveDate,
    /// Documents.
    pub count: u64,
}

impl DailyCountRow {
    /// Every `(topic, day, count)` of `model`'s non-outlier topics.
    pub fn all_of(model: &TopicModel) -> Vec<Self> {
        model
            .topics
            .iter()
            .filter(|t| !t.is_outlier())
            .flat_map(|t| {
                t.daily_counts.iter().map(move |d| DailyCountRow {
                    topic_id: t.id,
                    day: d.date,
                    count: d.count,
                })
            })
            .collect()
    }

    /// The counts of `merged` that `base` does not have with the same value (a Merge's new
    /// day, new topics, and counts a merge changed); all of them when there is no base.
    ///
    /// Writing only these after activating `base` leaves the table as writing
    /// [`all_of`](Self::all_of)`(merged)` would, PROVIDED `base` is the tenant's active model:
    /// every activation upserts the activated model's counts, so the table already holds
    /// `base`'s (and counts never written again, such as days that left the history, stay either
    /// way). For any other base, write `all_of(merged)`.
    pub fn changed(base: Option<&TopicModel>, merged: &TopicModel) -> Vec<Self> {
        let Some(base) = base else { return Self::all_of(merged) };
        let known: HashMap<(i64, NaiveDate), u64> =
            Self::all_of(base).into_iter().map(|r| ((r.topic_id, r.day), r.count)).collect();
        Self::all_of(merged)
            .into_iter()
            .filter(|r| known.get(&(r.topic_id, r.day)) != Some(&r.count))
            .collect()
    }
}

/// `rows` with one row per `(topic, day)`, the last one given winning (as separate upserts in
/// order would have it; one PostgreSQL upsert cannot touch a row twice). Borrowed when already
/// strictly ordered, as [`DailyCountRow::all_of`] makes them.
fn last_per_day(rows: &[DailyCountRow]) -> Cow<'_, [DailyCountRow]> {
    let key = |r: &DailyCountRow| (r.topic_id, r.day);
    if rows.windows(2).all(|w| key(&w[0]) < key(&w[1])) {
        return Cow::Borrowed(rows);
    }
    let mut sorted = rows.to_vec();
    // Stable: rows of one key keep their order, so the last given is the last of its run.
    sorted.sort_by_key(key);
    let mut out: Vec<DailyCountRow> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if key(last) == key(&r) => *last = r,
            _ => out.push(r),
        }
    }
    Cow::Owned(out)
}

/// Bound parameters per SQLite row (anonymous, so the tenant is bound on every row).
const COUNT_PARAMS: usize = 4;

/// Writes of `topic_daily_counts` inside the caller's transaction.
pub(super) trait HistoryWrites {
    /// Insert `rows`, replacing the counts of days already there.
    async fn upsert_daily_counts(&mut self, tenant: &str, rows: &[DailyCountRow]) -> Result<()>;
}

impl HistoryWrites for SqliteConnection {
    async fn upsert_daily_counts(&mut self, tenant: &str, rows: &[DailyCountRow]) -> Result<()> {
        let rows = last_per_day(rows);
        let per_statement = Backend::Sqlite.max_bind_params() / COUNT_PARAMS;
        for chunk in rows.chunks(per_statement) {
            let sql = format!(
                "INSERT INTO topic_daily_counts (tenant_id, topic_id, day, count) VALUES {} \
                 ON CONFLICT (tenant_id, topic_id, day) DO UPDATE SET count = excluded.count",
                anonymous_rows(chunk.len(), COUNT_PARAMS)
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(tenant)
                    .bind(r.topic_id)
                    .bind(r.day)
                    .bind(to_i64(r.count, "daily count")?);
            }
            q.execute(&mut *self).await.map_err(db_err)?;
        }
        Ok(())
    }
}

impl HistoryWrites for PgConnection {
    async fn upsert_daily_counts(&mut self, tenant: &str, rows: &[DailyCountRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows = last_per_day(rows);
        let topics: Vec<i64> = rows.iter().map(|r| r.topic_id).collect();
        let days: Vec<NaiveDate> = rows.iter().map(|r| r.day).collect();
        let counts =
            rows.iter().map(|r| to_i64(r.count, "daily count")).collect::<Result<Vec<i64>>>()?;
        sqlx::query(
            "INSERT INTO topic_daily_counts (tenant_id, topic_id, day, count) \
             SELECT $1, u.topic_id, u.day, u.count \
             FROM UNNEST($2::int8[], $3::date[], $4::int8[]) AS u (topic_id, day, count) \
             ON CONFLICT (tenant_id, topic_id, day) DO UPDATE SET count = excluded.count",
        )
        .bind(tenant)
        .bind(topics)
        .bind(days)
        .bind(counts)
        .execute(&mut *self)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct DailyRow {
    topic_id: i64,
    day: NaiveDate,
    count: i64,
}

impl MetaStore {
    /// Daily counts of the given topics (all topics when `topic_ids` is empty) on days
    /// `>= since` (all days when `None`), by topic then day. One query.
    pub async fn daily_counts(
        &self,
        tenant: &TenantId,
        topic_ids: &[i64],
        since: Option<NaiveDate>,
    ) -> Result<Vec<DailyCountRow>> {
        // Year 1 rather than NaiveDate::MIN, which PostgreSQL's DATE cannot hold.
        let since = since.or(NaiveDate::from_ymd_opt(1, 1, 1)).unwrap_or_default();
        const ALL: &str = "SELECT topic_id, day, count FROM topic_daily_counts \
                           WHERE tenant_id = $1 AND day >= $2 ORDER BY topic_id, day";
        let t = tenant.as_str();
        let rows: Vec<DailyRow> = match (&self.pool, topic_ids) {
            (Pool::Sqlite(p), []) => sqlx::query_as(ALL).bind(t).bind(since).fetch_all(p).await,
            (Pool::Pg(p), []) => sqlx::query_as(ALL).bind(t).bind(since).fetch_all(p).await,
            // The ids as one JSON array parameter: any number of them in one statement.
            (Pool::Sqlite(p), ids) => {
                let ids = serde_json::Value::from(ids.to_vec()).to_string();
                sqlx::query_as(
                    "SELECT topic_id, day, count FROM topic_daily_counts WHERE tenant_id = $1 \
                     AND day >= $2 AND topic_id IN (SELECT value FROM json_each($3)) \
                     ORDER BY topic_id, day",
                )
                .bind(t)
                .bind(since)
                .bind(ids)
                .fetch_all(p)
                .await
            }
            (Pool::Pg(p), ids) => {
                sqlx::query_as(
                    "SELECT topic_id, day, count FROM topic_daily_counts WHERE tenant_id = $1 \
                     AND day >= $2 AND topic_id = ANY($3) ORDER BY topic_id, day",
                )
                .bind(t)
                .bind(since)
                .bind(ids)
                .fetch_all(p)
                .await
            }
        }
        .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(DailyCountRow {
                    topic_id: r.topic_id,
                    day: r.day,
                    count: to_u64(r.count, "daily count")?,
                })
            })
            .collect()
    }
}
