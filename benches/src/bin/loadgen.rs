//! `loadgen`: a bounded gRPC load generator for `topicd`.
//!
//! ```text
//! loadgen setup --tenants 1000 [--docs-per-tenant 200] [--concurrency 2]
//! loadgen run   --tenants 1000 --clients 64 --duration 60 [--max-requests N] [--batch 8]
//!               [--merge-writers 1] [--server-pid PID] [--json out.json]
//! ```
//!
//! `setup` creates one model per tenant `<prefix>-<i>` (i < tenants) through the public API: a
//! `Fit` on a seeded random slice of CLINC150 (a few intents per tenant, precomputed reference
//! embeddings) followed by `Merge`, which activates it. `run` starts `--clients` tasks, each with
//! its own HTTP/2 connection, that send `Transform` requests of `--batch` precomputed embeddings
//! (or texts with `--texts`) for uniformly drawn tenants until `--duration` seconds pass or
//! `--max-requests` requests were sent, and reports requests/s, latency percentiles and errors by
//! gRPC code. With `--merge-writers W` it also runs W tasks that re-fit and merge random tenants
//! for the whole run (the "nightly merges" load) and reports their latencies separately. With
//! `--server-pid` it samples the server's RSS (from /proc) every 200 ms.
//!
//! Everything is seeded (`--seed`): the same arguments send the same request sequence per client.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use topic_benches::{Corpus, LatencySummary};
use topicd_proto::topics_client::TopicsClient;
use topicd_proto::{
    Document, Embedding, FitParams, FitRequest, MergeRequest, TransformRequest, Window,
};

#[derive(Debug, Parser)]
#[command(name = "loadgen", about = "Bounded gRPC load generator for topicd")]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Args)]
struct Common {
    /// topicd address.
    #[arg(long, global = true, env = "TOPICS_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Bearer token (needs write for setup/merge writers, read for run).
    #[arg(long, global = true, env = "TOPICS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Tenant ids are `<prefix>-<i>` with i zero-padded to 5 digits.
    #[arg(long, global = true, default_value = "load")]
    prefix: String,
    /// Number of tenants (ids 0..tenants).
    #[arg(long, global = true, default_value_t = 100)]
    tenants: usize,
    /// Seed of every random choice.
    #[arg(long, global = true, default_value_t = 42)]
    seed: u64,
    /// Per-request deadline in seconds.
    #[arg(long, global = true, default_value_t = 30.0)]
    timeout: f64,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Create the tenants' models (Fit + Merge with precomputed embeddings).
    Setup(SetupArgs),
    /// Send Transform load and report throughput and latency.
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct SetupArgs {
    /// Documents per tenant.
    #[arg(long, default_value_t = 200)]
    docs_per_tenant: usize,
    /// Intents (gold clusters) each tenant's documents come from.
    #[arg(long, default_value_t = 12)]
    intents_per_tenant: usize,
    /// Tenants set up in parallel.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// First tenant index to set up (to resume).
    #[arg(long, default_value_t = 0)]
    start: usize,
    /// Day of the documents (YYYY-MM-DD).
    #[arg(long, default_value = "2026-11-24")]
    day: String,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Concurrent clients (one connection each).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// Stop after this many requests in total (0 = no limit besides --duration).
    #[arg(long, default_value_t = 0)]
    max_requests: u64,
    /// Documents per Transform request.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Send texts (the server embeds them) instead of precomputed embeddings.
    #[arg(long)]
    texts: bool,
    /// Tasks re-fitting and merging random tenants during the run (nightly-merge load).
    #[arg(long, default_value_t = 0)]
    merge_writers: usize,
    /// Documents per re-fit of a merge writer.
    #[arg(long, default_value_t = 200)]
    merge_docs: usize,
    /// Sample this process's RSS (the server's pid) during the run.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Shared request material.
struct Material {
    corpus: Corpus,
    /// Row indices of each gold intent.
    by_label: Vec<Vec<usize>>,
}

impl Material {
    fn load() -> Result<Self> {
        let corpus =
            topic_benches::clinc150(22_500).context("loading CLINC150 (set TOPICD_DATASETS)")?;
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, l) in corpus.labels.iter().enumerate() {
            groups.entry(l.as_str()).or_default().push(i);
        }
        let by_label = groups.into_values().collect();
        Ok(Self { corpus, by_label })
    }

    /// Seeded document rows for one fit: `docs` rows drawn from `intents` random intents.
    fn fit_rows(&self, rng: &mut ChaCha8Rng, docs: usize, intents: usize) -> Vec<usize> {
        let intents = intents.clamp(1, self.by_label.len());
        let chosen: Vec<&Vec<usize>> = (0..intents)
            .map(|_| &self.by_label[rng.random_range(0..self.by_label.len())])
            .collect();
        (0..docs)
            .map(|_| {
                let g = chosen[rng.random_range(0..chosen.len())];
                g[rng.random_range(0..g.len())]
            })
            .collect()
    }

    fn embedding(&self, row: usize) -> Embedding {
        Embedding { values: self.corpus.embeddings.row(row).to_vec() }
    }
}

fn tenant_id(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i:05}")
}

async fn connect(common: &Common) -> Result<TopicsClient<Channel>> {
    let endpoint = Endpoint::from_shared(common.server.clone())
        .with_context(|| format!("bad --server {:?}", common.server))?
        .timeout(Duration::from_secs_f64(common.timeout))
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true);
    let channel =
        endpoint.connect().await.with_context(|| format!("connecting to {}", common.server))?;
    Ok(TopicsClient::new(channel)
        .max_decoding_message_size(256 << 20)
        .max_encoding_message_size(256 << 20))
}

fn request<T>(msg: T, token: &Option<String>) -> Result<tonic::Request<T>> {
    let mut req = tonic::Request::new(msg);
    if let Some(t) = token {
        let v: MetadataValue<_> =
            format!("Bearer {t}").parse().context("--token is not a valid header value")?;
        req.metadata_mut().insert("authorization", v);
    }
    Ok(req)
}

/// Fit + Merge one tenant; returns (fit seconds, merge seconds).
async fn fit_and_merge(
    client: &mut TopicsClient<Channel>,
    common: &Common,
    material: &Material,
    tenant: &str,
    rows: &[usize],
    day: &str,
) -> Result<(f64, f64)> {
    let created = format!("{day}T12:00:00Z");
    let documents = rows
        .iter()
        .enumerate()
        .map(|(k, &r)| Document {
            id: format!("d{k}"),
            text: material.corpus.texts[r].clone(),
            created_at: created.clone(),
        })
        .collect();
    let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .with_context(|| format!("bad day {day:?}"))?;
    let next = date.succ_opt().context("day out of range")?;
    let fit = FitRequest {
        tenant_id: tenant.to_string(),
        documents,
        window: Some(Window {
            start: format!("{day}T00:00:00Z"),
            end: format!("{next}T00:00:00Z"),
        }),
        params: Some(FitParams { seed: Some(common.seed), ..Default::default() }),
        embeddings: rows.iter().map(|&r| material.embedding(r)).collect(),
    };
    let t0 = Instant::now();
    let fitted =
        client.fit(request(fit, &common.token)?).await.with_context(|| format!("Fit {tenant}"))?;
    let fit_s = t0.elapsed().as_secs_f64();
    let merge = MergeRequest {
        tenant_id: tenant.to_string(),
        day_version: fitted.into_inner().version,
        base_version: None,
        force: true,
    };
    let t1 = Instant::now();
    client
        .merge(request(merge, &common.token)?)
        .await
        .with_context(|| format!("Merge {tenant}"))?;
    Ok((fit_s, t1.elapsed().as_secs_f64()))
}

async fn setup(common: Common, args: SetupArgs) -> Result<()> {
    if args.concurrency == 0 || args.docs_per_tenant == 0 {
        bail!("--concurrency and --docs-per-tenant must be positive");
    }
    let material = Arc::new(Material::load()?);
    let common = Arc::new(common);
    let next = Arc::new(AtomicU64::new(args.start as u64));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (material, common, next) = (material.clone(), common.clone(), next.clone());
        let (docs, intents, day) =
            (args.docs_per_tenant, args.intents_per_tenant, args.day.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = connect(&common).await?;
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= common.tenants {
                    return Ok::<_, anyhow::Error>(times);
                }
                let mut rng = ChaCha8Rng::seed_from_u64(
                    common.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let rows = material.fit_rows(&mut rng, docs, intents);
                let tenant = tenant_id(&common.prefix, i);
                let t =
                    fit_and_merge(&mut client, &common, &material, &tenant, &rows, &day).await?;
                times.push(t);
                if (i + 1) % 50 == 0 {
                    eprintln!("setup: {} tenants done", i + 1);
                }
            }
        }));
    }
    let mut fits = Vec::new();
    let mut merges = Vec::new();
    for t in tasks {
        for (f, m) in t.await.context("setup task panicked")?? {
            fits.push(f);
            merges.push(m);
        }
    }
    let n = fits.len();
    println!(
        "setup: {n} tenants × {} docs in {:.1} s ({:.2} tenants/s)",
        args.docs_per_tenant,
        t0.elapsed().as_secs_f64(),
        n as f64 / t0.elapsed().as_secs_f64()
    );
    print_latency("Fit", LatencySummary::from_samples(&mut fits));
    print_latency("Merge", LatencySummary::from_samples(&mut merges));
    Ok(())
}

#[derive(Debug, Default)]
struct ClientStats {
    latencies: Vec<f64>,
    errors: BTreeMap<String, u64>,
}

#[derive(Debug, serde::Serialize)]
struct RunReport {
    server: String,
    tenants: usize,
    clients: usize,
    batch: usize,
    texts: bool,
    merge_writers: usize,
    duration_s: f64,
    requests: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    requests_per_s: f64,
    docs_per_s: f64,
    latency_s: Option<LatencySummary>,
    merges: u64,
    merge_errors: BTreeMap<String, u64>,
    merge_latency_s: Option<LatencySummary>,
    server_rss_start_mb: Option<f64>,
    server_rss_end_mb: Option<f64>,
    server_rss_peak_sampled_mb: Option<f64>,
    server_vmhwm_mb: Option<f64>,
}

fn error_key(e: &anyhow::Error) -> String {
    match e.downcast_ref::<tonic::Status>() {
        Some(s) => format!("{:?}", s.code()),
        None => "client".to_string(),
    }
}

async fn run(common: Common, args: RunArgs) -> Result<()> {
    if args.clients == 0 || args.batch == 0 || common.tenants == 0 {
        bail!("--clients, --batch and --tenants must be positive");
    }
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        bail!("--duration must be a positive number of seconds");
    }
    let material = Arc::new(Material::load()?);
    let common = Arc::new(common);
    // Connect everything before the clock starts.
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        clients.push(connect(&common).await?);
    }
    let rss_start = args.server_pid.and_then(topic_benches::process_rss);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let rss_peak = Arc::new(AtomicU64::new(rss_start.map_or(0, |r| r.0)));
    let sampler = args.server_pid.map(|pid| {
        let (stop, rss_peak) = (stop.clone(), rss_peak.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some((rss, _)) = topic_benches::process_rss(pid) {
                    rss_peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    });

    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (c, mut client) in clients.into_iter().enumerate() {
        let (material, common, stop, sent) =
            (material.clone(), common.clone(), stop.clone(), sent.clone());
        let (batch, texts, max) = (args.batch, args.texts, args.max_requests);
        tasks.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(common.seed.wrapping_add(1 + c as u64));
            let mut stats = ClientStats::default();
            let n = material.corpus.len();
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                if max > 0 && sent.fetch_add(1, Ordering::Relaxed) >= max {
                    break;
                }
                let tenant = tenant_id(&common.prefix, rng.random_range(0..common.tenants));
                let rows: Vec<usize> = (0..batch).map(|_| rng.random_range(0..n)).collect();
                let msg = TransformRequest {
                    tenant_id: tenant,
                    texts: if texts {
                        rows.iter().map(|&r| material.corpus.texts[r].clone()).collect()
                    } else {
                        vec![]
                    },
                    embeddings: if texts {
                        vec![]
                    } else {
                        rows.iter().map(|&r| material.embedding(r)).collect()
                    },
                };
                let t = Instant::now();
                let res = match request(msg, &common.token) {
                    Ok(req) => client.transform(req).await.map_err(anyhow::Error::from),
                    Err(e) => Err(e),
                };
                match res {
                    Ok(resp) if resp.get_ref().results.len() == batch => {
                        stats.latencies.push(t.elapsed().as_secs_f64())
                    }
                    Ok(_) => *stats.errors.entry("wrong_result_count".into()).or_default() += 1,
                    Err(e) => *stats.errors.entry(error_key(&e)).or_default() += 1,
                }
            }
            stats
        }));
    }
    let mut writers = Vec::new();
    for w in 0..args.merge_writers {
        let (material, common, stop) = (material.clone(), common.clone(), stop.clone());
        let docs = args.merge_docs;
        writers.push(tokio::spawn(async move {
            let mut stats = ClientStats::default();
            let mut client = match connect(&common).await {
                Ok(c) => c,
                Err(e) => {
                    *stats.errors.entry(format!("connect: {e:#}")).or_default() += 1;
                    return stats;
                }
            };
            let mut rng = ChaCha8Rng::seed_from_u64(common.seed.wrapping_add(10_000 + w as u64));
            let mut day = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default();
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                let tenant = tenant_id(&common.prefix, rng.random_range(0..common.tenants));
                let rows = material.fit_rows(&mut rng, docs, 12);
                let t = Instant::now();
                match fit_and_merge(
                    &mut client,
                    &common,
                    &material,
                    &tenant,
                    &rows,
                    &day.to_string(),
                )
                .await
                {
                    Ok(_) => stats.latencies.push(t.elapsed().as_secs_f64()),
                    Err(e) => *stats.errors.entry(error_key(&e)).or_default() += 1,
                }
                day = day.succ_opt().unwrap_or(day);
            }
            stats
        }));
    }

    let mut lat = Vec::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for t in tasks {
        let s = t.await.context("client task panicked")?;
        lat.extend(s.latencies);
        for (k, v) in s.errors {
            *errors.entry(k).or_default() += v;
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut merge_lat = Vec::new();
    let mut merge_errors: BTreeMap<String, u64> = BTreeMap::new();
    for w in writers {
        let s = w.await.context("merge writer panicked")?;
        merge_lat.extend(s.latencies);
        for (k, v) in s.errors {
            *merge_errors.entry(k).or_default() += v;
        }
    }
    if let Some(s) = sampler {
        s.await.context("rss sampler panicked")?;
    }
    let rss_end = args.server_pid.and_then(topic_benches::process_rss);
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let ok = lat.len() as u64;
    let n_err: u64 = errors.values().sum();
    let report = RunReport {
        server: common.server.clone(),
        tenants: common.tenants,
        clients: args.clients,
        batch: args.batch,
        texts: args.texts,
        merge_writers: args.merge_writers,
        duration_s: elapsed,
        requests: ok + n_err,
        ok,
        errors,
        requests_per_s: (ok + n_err) as f64 / elapsed,
        docs_per_s: (ok as f64 * args.batch as f64) / elapsed,
        latency_s: LatencySummary::from_samples(&mut lat),
        merges: merge_lat.len() as u64,
        merge_errors,
        merge_latency_s: LatencySummary::from_samples(&mut merge_lat),
        server_rss_start_mb: rss_start.map(|r| mb(r.0)),
        server_rss_end_mb: rss_end.map(|r| mb(r.0)),
        server_rss_peak_sampled_mb: args.server_pid.map(|_| mb(rss_peak.load(Ordering::Relaxed))),
        server_vmhwm_mb: rss_end.map(|r| mb(r.1)),
    };
    println!(
        "run: {} clients × {:.1} s, {} tenants, batch {}{}, merge writers {}",
        report.clients,
        report.duration_s,
        report.tenants,
        report.batch,
        if report.texts { " (texts)" } else { " (embeddings)" },
        report.merge_writers
    );
    println!(
        "  Transform: {} requests, {} ok, {:.0} req/s, {:.0} docs/s, errors {:?}",
        report.requests, report.ok, report.requests_per_s, report.docs_per_s, report.errors
    );
    print_latency("Transform", report.latency_s);
    if report.merge_writers > 0 {
        println!("  Fit+Merge: {} done, errors {:?}", report.merges, report.merge_errors);
        print_latency("Fit+Merge", report.merge_latency_s);
    }
    if let (Some(s), Some(e), Some(p), Some(h)) = (
        report.server_rss_start_mb,
        report.server_rss_end_mb,
        report.server_rss_peak_sampled_mb,
        report.server_vmhwm_mb,
    ) {
        println!(
            "  server RSS: start {s:.0} MB, end {e:.0} MB, peak sampled {p:.0} MB, VmHWM {h:.0} MB"
        );
    }
    if let Some(path) = &args.json {
        let body = serde_json::to_string_pretty(&report).context("encoding the report")?;
        std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn print_latency(what: &str, l: Option<LatencySummary>) {
    match l {
        Some(l) => println!(
            "  {what} latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  mean {:.2}  (n={})",
            l.p50 * 1e3,
            l.p90 * 1e3,
            l.p99 * 1e3,
            l.p999 * 1e3,
            l.max * 1e3,
            l.mean * 1e3,
            l.count
        ),
        None => println!("  {what}: no successful requests"),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let res = rt.block_on(async move {
        match cli.command {
            Cmd::Setup(a) => setup(cli.common, a).await,
            Cmd::Run(a) => run(cli.common, a).await,
        }
    });
    match res {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
