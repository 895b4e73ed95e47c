//! Raw `topics nightly` flags and their validation into [`super::runner::Settings`].

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::sources::config::{ClientConfig, PgSourceConfig};
use crate::sources::jsonl::parse_timestamp;
use crate::sources::Window;

/// Parses `300`, `300s`, `5m`, `2h`, `1d`, `1h30m` or `250ms` into a duration.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(seconds) = raw.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = raw;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("invalid duration {raw:?}: expected e.g. 300s, 5m, 2h, 1d"));
        }
        let value: u64 = rest[..digits].parse().map_err(|_| format!("invalid duration {raw:?}"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" | "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            "d" => Duration::from_secs(86_400),
            other => {
                return Err(format!(
                    "invalid duration unit {other:?} in {raw:?}: use ms, s, m, h or d"
                ))
            }
        };
        total += unit
            .checked_mul(
                u32::try_from(value).map_err(|_| format!("duration {raw:?} is too large"))?,
            )
            .ok_or_else(|| format!("duration {raw:?} is too large"))?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Resolves `--until`: `now`, an RFC 3339 time, a date (`2026-11-25` = its midnight UTC), or a
/// UTC time of day (`03:00` = the latest 03:00 UTC not after `now`), so re-runs of a job on the
/// same day compute the same window.
pub fn resolve_until(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(t) = parse_timestamp(raw) {
        return Ok(t);
    }
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(date.and_time(NaiveTime::MIN).and_utc());
    }
    for format in ["%H:%M", "%H:%M:%S"] {
        if let Ok(time) = NaiveTime::parse_from_str(raw, format) {
            let today = now.date_naive().and_time(time).and_utc();
            return Ok(if today <= now { today } else { today - chrono::Duration::days(1) });
        }
    }
    Err(format!(
        "invalid time {raw:?}: use now, RFC 3339 (2026-11-25T03:00:00Z), a date (2026-11-25) or a UTC time of day (03:00)"
    ))
}

/// Resolves `--since`: an RFC 3339 time or a date (its midnight UTC). No "now" or time-of-day
/// forms: next to `--until` they would be ambiguous.
pub fn resolve_since(raw: &str) -> Result<DateTime<Utc>, String> {
    let raw = raw.trim();
    if let Some(t) = parse_timestamp(raw) {
        return Ok(t);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|date| date.and_time(NaiveTime::MIN).and_utc())
        .map_err(|_| {
            format!(
                "invalid time {raw:?}: use RFC 3339 (2026-11-24T03:00:00Z) or a date (2026-11-24)"
            )
        })
}

/// The time-window flags.
#[derive(Debug, Clone, clap::Args)]
pub struct WindowArgs {
    /// Window start (RFC 3339 or YYYY-MM-DD). Default: `--until` minus `--window`.
    #[arg(long)]
    pub since: Option<String>,
    /// Window end (exclusive): now, RFC 3339, YYYY-MM-DD, or a UTC time of day such as 03:00
    /// (the latest one not after now, so re-runs of a day's job compute the same window).
    #[arg(long, default_value = "now")]
    pub until: String,
    /// Window length when `--since` is not given.
    #[arg(long = "window", default_value = "24h", value_parser = parse_duration)]
    pub length: Duration,
}

impl WindowArgs {
    /// The window for a run at `now`.
    pub fn resolve(&self, now: DateTime<Utc>) -> anyhow::Result<Window> {
        let end = resolve_until(&self.until, now).map_err(anyhow::Error::msg).context("--until")?;
        let start = match &self.since {
            Some(since) => resolve_since(since).map_err(anyhow::Error::msg).context("--since")?,
            None => {
                let length =
                    chrono::Duration::from_std(self.length).context("--window is too long")?;
                if length <= chrono::Duration::zero() {
                    bail!("--window must be positive");
                }
                end - length
            }
        };
        Ok(Window::new(start, end)?)
    }
}

/// The `--pg-*` flags, overriding the `[postgres]` table of `--config`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PgArgs {
    /// Messages table (`schema.table` allowed) [default: conversation_messages].
    #[arg(long)]
    pub pg_table: Option<String>,
    /// Tenant (user) id column [default: tenant_id].
    #[arg(long)]
    pub pg_tenant_column: Option<String>,
    /// Message id column [default: id].
    #[arg(long)]
    pub pg_id_column: Option<String>,
    /// Message text column [default: text].
    #[arg(long)]
    pub pg_text_column: Option<String>,
    /// Creation time column (timestamptz, or timestamp read as UTC) [default: created_at].
    #[arg(long)]
    pub pg_created_at_column: Option<String>,
    /// Direction column ("" to read every row) [default: direction].
    #[arg(long)]
    pub pg_direction_column: Option<String>,
    /// Value of the direction column for inbound messages [default: inbound].
    #[arg(long)]
    pub pg_inbound_value: Option<String>,
    /// Full tenants query ($1, $2 = window start, end).
    #[arg(long)]
    pub pg_tenants_query: Option<String>,
    /// Full messages query returning (id, text, created_at) ($1 = tenant, $2, $3 = window).
    #[arg(long)]
    pub pg_messages_query: Option<String>,
}

/// The message-source flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// Where messages come from: a JSONL file or a postgres:// URL.
    #[arg(long, env = "TOPICS_SOURCE", hide_env_values = true, conflicts_with = "jsonl")]
    pub source: Option<String>,
    /// A JSONL file of messages (same as `--source FILE`).
    #[arg(long)]
    pub jsonl: Option<PathBuf>,
    /// TOML configuration file (`[postgres]` table: table, column names, queries); the
    /// `--pg-*` flags override it.
    #[arg(long, env = "TOPICS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub pg: PgArgs,
}

impl SourceArgs {
    /// The source spec (`postgres://…` or a file path).
    pub fn spec(&self) -> anyhow::Result<String> {
        match (&self.source, &self.jsonl) {
            (Some(source), _) => Ok(source.clone()),
            (None, Some(path)) => Ok(path.display().to_string()),
            (None, None) => bail!("no message source: pass --source postgres://… or --jsonl FILE (or set TOPICS_SOURCE)"),
        }
    }

    /// The PostgreSQL source configuration: defaults, then the file, then the flags.
    pub fn pg_config(&self) -> anyhow::Result<PgSourceConfig> {
        let mut config = match &self.config {
            Some(path) => ClientConfig::load(path)?.postgres,
            None => PgSourceConfig::default(),
        };
        let flags = self.pg.clone();
        let set = |target: &mut String, value: Option<String>| {
            if let Some(value) = value {
                *target = value;
            }
        };
        set(&mut config.table, flags.pg_table);
        set(&mut config.tenant_column, flags.pg_tenant_column);
        set(&mut config.id_column, flags.pg_id_column);
        set(&mut config.text_column, flags.pg_text_column);
        set(&mut config.created_at_column, flags.pg_created_at_column);
        set(&mut config.direction_column, flags.pg_direction_column);
        set(&mut config.inbound_value, flags.pg_inbound_value);
        if flags.pg_tenants_query.is_some() {
            config.tenants_query = flags.pg_tenants_query;
        }
        if flags.pg_messages_query.is_some() {
            config.messages_query = flags.pg_messages_query;
        }
        // Validate names now, before any connection is made.
        config.tenants_sql()?;
        config.messages_sql()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("300s").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86_400));
        for bad in ["", "h", "2x", "-1s", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn until_forms() {
        let now = at(25, 3, 17);
        assert_eq!(resolve_until("now", now).unwrap(), now);
        assert_eq!(resolve_until("2026-11-24T10:00:00Z", now).unwrap(), at(24, 10, 0));
        assert_eq!(resolve_until("2026-11-24", now).unwrap(), at(24, 0, 0));
        assert_eq!(resolve_until("03:00", now).unwrap(), at(25, 3, 0));
        // Not reached yet today: yesterday's.
        assert_eq!(resolve_until("04:00", now).unwrap(), at(24, 4, 0));
        assert!(resolve_until("tomorrow", now).is_err());
    }

    #[test]
    fn window_defaults_to_the_24_hours_before_until() {
        let args =
            WindowArgs { since: None, until: "03:00".into(), length: Duration::from_secs(86_400) };
        let window = args.resolve(at(25, 3, 17)).unwrap();
        assert_eq!((window.start, window.end), (at(24, 3, 0), at(25, 3, 0)));
        let args = WindowArgs {
            since: Some("2026-11-20".into()),
            until: "2026-11-21T12:00:00Z".into(),
            length: Duration::from_secs(1),
        };
        let window = args.resolve(at(25, 3, 17)).unwrap();
        assert_eq!((window.start, window.end), (at(20, 0, 0), at(21, 12, 0)));
        let backwards = WindowArgs { since: Some("2026-11-22".into()), ..args.clone() };
        assert!(backwards.resolve(at(25, 3, 17)).is_err());
        let time_of_day = WindowArgs { since: Some("03:00".into()), ..args };
        assert!(time_of_day.resolve(at(25, 3, 17)).is_err());
    }
}
