//! Which database is behind a [`MetaStore`], and what differs between them.

use std::fmt;

use super::{MetaStore, Pool};

/// The database behind a [`MetaStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An embedded SQLite file (one process owns it).
    Sqlite,
    /// A PostgreSQL server (shared by replicas).
    Postgres,
}

impl Backend {
    /// `"sqlite"` or `"postgres"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Most bind parameters one statement may carry: SQLite's `SQLITE_MAX_VARIABLE_NUMBER`
    /// (32,766 since 3.32, the bundled version) and PostgreSQL's protocol limit (a 16-bit
    /// count, 65,535).
    pub fn max_bind_params(self) -> usize {
        match self {
            Backend::Sqlite => 32_766,
            Backend::Postgres => 65_535,
        }
    }

    /// True when the backend has replicas to tell about activations (`pg_notify` on
    /// [`MODEL_CHANGES_CHANNEL`](super::MODEL_CHANGES_CHANNEL)).
    pub fn notifies(self) -> bool {
        self == Backend::Postgres
    }

    /// The statement that starts a write transaction. SQLite: `BEGIN IMMEDIATE` takes the
    /// write lock up front (waiting up to the busy timeout), so a transaction that reads before
    /// it writes cannot fail with `SQLITE_BUSY_SNAPSHOT` (517) when another connection
    /// committed in between, as a deferred `BEGIN` can under concurrent writers.
    pub(super) fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl MetaStore {
    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Pg(_) => Backend::Postgres,
        }
    }

    /// See [`Backend::begin_write`].
    pub(super) fn begin_write(&self) -> &'static str {
        self.backend().begin_write()
    }
}

/// The rows of a multi-row `VALUES` list: `rows` tuples, each starting with the shared
/// parameter `$1` followed by `per_row` parameters numbered on from `$2`, e.g. for 2 rows of 2:
/// `($1, $2, $3), ($1, $4, $5)`.
pub(super) fn values_rows(rows: usize, per_row: usize) -> String {
    let mut sql = String::with_capacity(rows * (per_row * 8 + 8));
    let mut next = 2;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push_str("($1");
        for _ in 0..per_row {
            sql.push_str(", $");
            sql.push_str(&next.to_string());
            next += 1;
        }
        sql.push(')');
    }
    sql
}

/// The rows of a multi-row `VALUES` list of anonymous parameters: `rows` tuples of `per_row`
/// `?`s, e.g. `(?, ?), (?, ?)`, bound in order. SQLite numbers anonymous parameters in O(1)
/// each, whereas every named or numbered one (`$1`, `?1`) is looked up in a list that grows
/// with the statement, quadratic over thousands of them (`store_bench`, 90,000 counts in
/// chunks of 32,766 parameters: 10 s with `$N`, 0.15 s with `?`).
pub(super) fn anonymous_rows(rows: usize, per_row: usize) -> String {
    let tuple = format!("({})", vec!["?"; per_row].join(", "));
    vec![tuple.as_str(); rows].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_rows_number_the_parameters_after_the_shared_one() {
        assert_eq!(values_rows(1, 1), "($1, $2)");
        assert_eq!(values_rows(2, 2), "($1, $2, $3), ($1, $4, $5)");
        assert_eq!(values_rows(0, 3), "");
    }

    #[test]
    fn anonymous_rows_are_question_marks() {
        assert_eq!(anonymous_rows(2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(anonymous_rows(0, 3), "");
    }

    #[test]
    fn names() {
        assert_eq!(Backend::Sqlite.to_string(), "sqlite");
        assert_eq!(Backend::Postgres.as_str(), "postgres");
        assert!(Backend::Postgres.notifies() && !Backend::Sqlite.notifies());
    }
}
