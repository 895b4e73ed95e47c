//! Store benchmark: the database time of a Merge's commit
//! ([`MetaStore::insert_and_activate`]: the version row, the top-10 snapshot, the daily counts
//! and the merged window in one transaction) for a tenant with `--topics` topics and `--days`
//! days of history, plus the trend read of GetTopTopics (`daily_counts` of the top 10 topics).
//!
//! ```text
//! cargo run --release -p topicd --example store_bench -- --db sqlite --topics 1000 --days 90 --merges 3
//! cargo run --release -p topicd --example store_bench -- --db postgres
//! ```
//!
//! `--db postgres` starts a throwaway cluster with `topicd_testing::PgCluster` (or uses
//! `DATABASE_URL`); `--db sqlite` uses a WAL file in a temp dir, as the server does.
//!
//! The tenant is seeded by a first, untimed merge that writes the whole history; each timed
//! merge then adds one day to every topic and drops the oldest (as the engine's merge does with
//! `history_days`), and commits what the Merge path writes (`--counts changed`: only the new
//! or changed counts, `DailyCountRow::changed`; `--counts all`: every count of the model).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::NaiveDate;
use topic_engine::model::{DailyCount, LabelSource, TopicStatus};
use topic_engine::{FitParams, Keyword, MergeParams, Topic, TopicModel};
use topicd::store::{
    DailyCountRow, MetaStore, ModelKind, NewModel, SnapshotTopic, StoragePath, TenantId, Version,
};

/// Which daily counts a timed merge writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counts {
    /// Every count of the merged model.
    All,
    /// Only those that differ from the previous active model's.
    Changed,
}

#[derive(Debug)]
struct Args {
    db: String,
    topics: usize,
    days: u32,
    merges: u32,
    counts: Counts,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args =
        Args { db: "sqlite".into(), topics: 1000, days: 90, merges: 3, counts: Counts::Changed };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => args.db = value()?,
            "--topics" => args.topics = value()?.parse()?,
            "--days" => args.days = value()?.parse()?,
            "--merges" => args.merges = value()?.parse()?,
            "--counts" => {
                args.counts = match value()?.as_str() {
                    "all" => Counts::All,
                    "changed" => Counts::Changed,
                    other => bail!("--counts all|changed, not {other:?}"),
                }
            }
            other => bail!(
                "unknown argument {other:?} (--db sqlite|postgres --topics N --days N --merges N --counts all|changed)"
            ),
        }
    }
    if args.topics == 0 || args.days == 0 {
        bail!("--topics and --days must be positive");
    }
    Ok(args)
}

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
}

/// The tenant's model after `merges` merges: `topics` active topics (plus outliers), each with
/// counts on the `days` days ending `days - 1 + merges` days after [`first_day`].
fn model_after(topics: usize, days: u32, merges: u32) -> TopicModel {
    let start = first_day() + chrono::Days::new(u64::from(merges));
    let end = start + chrono::Days::new(u64::from(days - 1));
    let make = |id: i64| {
        let daily_counts: Vec<DailyCount> = (0..days)
            .map(|d| DailyCount {
                date: start + chrono::Days::new(u64::from(d)),
                // Varies by topic and day so that sizes (and the top 10) differ.
                count: (id.unsigned_abs() * 7 + u64::from(d + merges) * 3) % 50 + 1,
            })
            .collect();
        Topic {
            id,
            label: format!("topic {id}"),
            label_source: LabelSource::Keywords,
            label_override: None,
            keywords: (0..10)
                .map(|k| Keyword { word: format!("word{id}_{k}"), weight: 1.0 / (k + 1) as f32 })
                .collect(),
            size: daily_counts.iter().map(|d| d.count).sum(),
            embedding: vec![0.0; 8],
            term_counts: vec![],
            samples: (0..5).map(|s| format!("sample message {s} of topic {id}")).collect(),
            first_seen: start,
            last_seen: end,
            status: TopicStatus::Active,
            memory: Default::default(),
            faq: Default::default(),
            daily_counts,
        }
    };
    let topics: Vec<Topic> = (-1..topics as i64).map(make).collect();
    TopicModel {
        embedding_model: "bench".into(),
        dim: 8,
        fit_params: FitParams::default(),
        merge_params: MergeParams::default(),
        vocabulary: vec![],
        next_topic_id: topics.len() as i64,
        n_documents: topics.iter().map(|t| t.size).sum(),
        topics,
        date_range: Some((start, end)),
    }
}

/// The Merge path's commit of `model` (merged from `base`) as `version`.
async fn commit(
    meta: &MetaStore,
    tenant: &TenantId,
    version: Version,
    base: Option<&TopicModel>,
    model: &TopicModel,
    counts: Counts,
) -> anyhow::Result<(Duration, usize)> {
    let path = StoragePath { tenant: tenant.clone(), version };
    let row = NewModel::for_model(
        tenant.clone(),
        version,
        ModelKind::Merged,
        path,
        model,
        serde_json::json!({}),
    );
    let range = model.date_range.context("bench models have a date range")?;
    let snapshot = SnapshotTopic::top_of(model, 10, range.1, version);
    let daily = match (counts, base) {
        (Counts::Changed, Some(base)) => DailyCountRow::changed(Some(base), model),
        _ => DailyCountRow::all_of(model),
    };
    let started = Instant::now();
    meta.insert_and_activate(&row, &snapshot, &daily, Some((range.1, range.1))).await?;
    Ok((started.elapsed(), daily.len()))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let dir = tempfile::tempdir()?;
    let _pg;
    let url = match args.db.as_str() {
        "sqlite" => format!("sqlite://{}", dir.path().join("bench.db").display()),
        "postgres" => {
            let pg = topicd_testing::PgCluster::start()?;
            let url = pg.create_database().await?;
            _pg = pg;
            url
        }
        other => bail!("--db sqlite|postgres, not {other:?}"),
    };
    let meta = MetaStore::connect(&url).await?;
    let tenant = TenantId::parse("bench")?;
    println!(
        "store_bench: db={} topics={} days={} merges={} counts={:?}",
        args.db, args.topics, args.days, args.merges, args.counts
    );

    let mut prev = model_after(args.topics, args.days, 0);
    let mut latest = None;
    let v0 = Version::now_after(latest.as_ref());
    let (seed, n) = commit(&meta, &tenant, v0, None, &prev, Counts::All).await?;
    latest = Some(v0);
    println!("seed merge (whole history, {n} counts): {:.1} ms", ms(seed));

    let mut times = Vec::new();
    for m in 1..=args.merges {
        let model = model_after(args.topics, args.days, m);
        let v = Version::now_after(latest.as_ref());
        let (t, n) = commit(&meta, &tenant, v, Some(&prev), &model, args.counts).await?;
        latest = Some(v);
        println!("merge {m}: insert_and_activate {:.1} ms ({n} counts written)", ms(t));
        times.push(t);
        prev = model;
    }
    times.sort();
    if let Some(median) = times.get(times.len() / 2) {
        println!("merge median: {:.1} ms", ms(*median));
    }

    let top: Vec<i64> = meta.snapshot(&tenant).await?.iter().map(|s| s.topic_id).collect();
    let mut reads = Vec::new();
    let mut trend_rows = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let rows = meta.daily_counts(&tenant, &top, None).await?;
        reads.push(started.elapsed());
        trend_rows = rows.len();
    }
    reads.sort();
    println!(
        "daily_counts of the top {} topics ({trend_rows} rows): median {:.2} ms",
        top.len(),
        ms(reads[2])
    );
    let all = meta.daily_counts(&tenant, &[], None).await?;
    println!("history rows: {}", all.len());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.trim());
    meta.close().await;
    Ok(())
}
