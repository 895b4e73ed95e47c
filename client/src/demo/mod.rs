//! `topics demo-data`: a small multi-tenant JSONL of customer messages over several days, made
//! from CLINC150 (Larson et al., EMNLP 2019, CC BY 3.0), one tenant per domain.
//!
//! Each tenant sees its domain's intents; a few intents only appear from the second or third day
//! on (so merges create new topics) and one intent per day is "trending" (three times as
//! likely), so `topics top --trend` has something to show. Deterministic for a seed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::{Duration, NaiveDate, NaiveTime};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Arguments of `topics demo-data`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoDataArgs {
    /// CLINC150 folder with `data_full.json` and `domains.json`.
    #[arg(long, default_value = "../shared/datasets/clinc150")]
    pub clinc: PathBuf,
    /// Output JSONL file.
    #[arg(long, default_value = "examples/clinc150-demo.jsonl")]
    pub out: PathBuf,
    /// Domains to use, one tenant each (tenant id = domain with `_` as `-`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "banking,travel,kitchen_and_dining,auto_and_commute"
    )]
    pub domains: Vec<String>,
    /// Days of messages.
    #[arg(long, default_value_t = 3)]
    pub days: u32,
    /// First day (YYYY-MM-DD, UTC).
    #[arg(long, default_value = "2026-11-16")]
    pub start_date: NaiveDate,
    /// Fewest messages per tenant and day.
    #[arg(long, default_value_t = 150)]
    pub min_per_day: usize,
    /// Most messages per tenant and day.
    #[arg(long, default_value_t = 250)]
    pub max_per_day: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// One generated message (serialised as one JSONL line, fields in this order).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DemoMessage {
    /// Tenant id.
    pub tenant_id: String,
    /// Message id (`<tenant>-<day>-<n>`).
    pub id: String,
    /// Utterance text.
    pub text: String,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// The CLINC150 intent (gold label, for scoring).
    pub intent: String,
}

/// CLINC150's in-scope utterances by intent, and its domains.
#[derive(Debug)]
pub struct Clinc {
    /// intent → utterances (train, val and test splits, in file order).
    pub by_intent: BTreeMap<String, Vec<String>>,
    /// domain → intents.
    pub domains: BTreeMap<String, Vec<String>>,
}

impl Clinc {
    /// Reads `data_full.json` and `domains.json` from `dir`.
    pub fn load(dir: &std::path::Path) -> anyhow::Result<Self> {
        let read = |name: &str| -> anyhow::Result<serde_json::Value> {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
        };
        let data = read("data_full.json")?;
        let mut by_intent: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for split in ["train", "val", "test"] {
            let rows = data[split]
                .as_array()
                .with_context(|| format!("data_full.json has no {split:?} list"))?;
            for row in rows {
                match (row[0].as_str(), row[1].as_str()) {
                    (Some(text), Some(intent)) => {
                        by_intent.entry(intent.to_string()).or_default().push(text.to_string())
                    }
                    _ => bail!("data_full.json: {split} rows must be [text, intent]"),
                }
            }
        }
        let domains: BTreeMap<String, Vec<String>> = serde_json::from_value(read("domains.json")?)
            .context("domains.json must map domain -> [intent]")?;
        Ok(Self { by_intent, domains })
    }
}

/// Generates the demo messages, sorted by tenant then time.
pub fn generate(clinc: &Clinc, args: &DemoDataArgs) -> anyhow::Result<Vec<DemoMessage>> {
    if args.min_per_day == 0 || args.min_per_day > args.max_per_day {
        bail!("need 0 < --min-per-day <= --max-per-day");
    }
    if args.days == 0 {
        bail!("--days must be at least 1");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut messages = Vec::new();
    for domain in &args.domains {
        let Some(intents) = clinc.domains.get(domain) else {
            bail!(
                "unknown domain {domain:?}; CLINC150 has {:?}",
                clinc.domains.keys().collect::<Vec<_>>()
            );
        };
        let tenant = domain.replace('_', "-");
        let mut intents = intents.clone();
        intents.sort();
        intents.shuffle(&mut rng);
        // Queues of unused utterances per intent, so no text repeats within a tenant.
        let mut queues: Vec<Vec<String>> = intents
            .iter()
            .map(|intent| {
                let mut texts = clinc.by_intent.get(intent).cloned().unwrap_or_default();
                texts.shuffle(&mut rng);
                texts
            })
            .collect();
        // The last three intents start later: one on day 2, two on day 3 (when there are that many days).
        let first_day = |i: usize| -> u32 {
            let late = intents.len().saturating_sub(i);
            match late {
                1 | 2 => 2,
                3 => 1,
                _ => 0,
            }
        };
        for day in 0..args.days {
            let date = args.start_date + Duration::days(i64::from(day));
            let available: Vec<usize> = (0..intents.len())
                .filter(|&i| first_day(i) <= day && !queues[i].is_empty())
                .collect();
            if available.is_empty() {
                bail!("domain {domain:?} ran out of utterances");
            }
            let trending = available[rng.random_range(0..available.len())];
            let count = rng.random_range(args.min_per_day..=args.max_per_day);
            let mut day_messages = Vec::with_capacity(count);
            for _ in 0..count {
                let candidates: Vec<usize> =
                    available.iter().copied().filter(|&i| !queues[i].is_empty()).collect();
                if candidates.is_empty() {
                    break;
                }
                let weights: Vec<u32> =
                    candidates.iter().map(|&i| if i == trending { 3 } else { 1 }).collect();
                let total: u32 = weights.iter().sum();
                let mut pick = rng.random_range(0..total);
                let mut chosen = candidates[0];
                for (&i, &w) in candidates.iter().zip(&weights) {
                    if pick < w {
                        chosen = i;
                        break;
                    }
                    pick -= w;
                }
                let Some(text) = queues[chosen].pop() else { continue };
                let second = rng.random_range(0..86_400u32);
                let time = NaiveTime::from_num_seconds_from_midnight_opt(second, 0)
                    .context("time of day")?;
                day_messages.push((date.and_time(time).and_utc(), text, intents[chosen].clone()));
            }
            day_messages.sort_by_key(|m| m.0);
            for (n, (at, text, intent)) in day_messages.into_iter().enumerate() {
                messages.push(DemoMessage {
                    tenant_id: tenant.clone(),
                    id: format!("{tenant}-{}-{n:04}", date.format("%Y%m%d")),
                    text,
                    created_at: crate::sources::rfc3339(at),
                    intent,
                });
            }
        }
    }
    Ok(messages)
}

/// Runs `topics demo-data`.
pub fn run(args: DemoDataArgs) -> anyhow::Result<ExitCode> {
    let clinc = Clinc::load(&args.clinc)?;
    let messages = generate(&clinc, &args)?;
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for m in &messages {
        let line = serde_json::to_string(m).context("serialising a message")?;
        writeln!(out, "{line}").with_context(|| format!("writing {}", args.out.display()))?;
    }
    out.flush().with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} messages ({} tenants x {} days) to {}",
        messages.len(),
        args.domains.len(),
        args.days,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Clinc {
        let mut by_intent = BTreeMap::new();
        let mut domains = BTreeMap::new();
        let intents: Vec<String> = (0..6).map(|i| format!("intent_{i}")).collect();
        for intent in &intents {
            by_intent
                .insert(intent.clone(), (0..40).map(|n| format!("{intent} text {n}")).collect());
        }
        domains.insert("small_domain".to_string(), intents);
        Clinc { by_intent, domains }
    }

    fn args() -> DemoDataArgs {
        DemoDataArgs {
            clinc: PathBuf::new(),
            out: PathBuf::new(),
            domains: vec!["small_domain".into()],
            days: 3,
            start_date: NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            min_per_day: 20,
            max_per_day: 30,
            seed: 7,
        }
    }

    #[test]
    fn deterministic_unique_and_within_days() {
        let clinc = tiny();
        let first = generate(&clinc, &args()).unwrap();
        assert_eq!(first, generate(&clinc, &args()).unwrap());
        let mut texts: Vec<&str> = first.iter().map(|m| m.text.as_str()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), first.len(), "no text repeats");
        for day in 16..=18 {
            let n = first
                .iter()
                .filter(|m| m.created_at.starts_with(&format!("2026-11-{day}")))
                .count();
            assert!((20..=30).contains(&n), "day {day}: {n}");
        }
        assert!(first.iter().all(|m| m.tenant_id == "small-domain"));
        // Late intents: the first day uses fewer intents than the last.
        let intents_on = |day: &str| {
            let mut v: Vec<&str> = first
                .iter()
                .filter(|m| m.created_at.starts_with(day))
                .map(|m| m.intent.as_str())
                .collect();
            v.sort();
            v.dedup();
            v.len()
        };
        assert!(intents_on("2026-11-16") <= 3 && intents_on("2026-11-18") >= 4);
    }

    #[test]
    fn unknown_domain_is_an_error() {
        let mut a = args();
        a.domains = vec!["nope".into()];
        assert!(generate(&tiny(), &a).unwrap_err().to_string().contains("unknown domain"));
    }
}
