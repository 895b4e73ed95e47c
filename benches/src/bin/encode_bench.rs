//! `encode_bench`: sentences per second of the local encoder on CLINC150 texts, and agreement
//! with the reference embeddings (`clinc150.npy`, made by sentence-transformers).
//!
//! ```text
//! encode_bench [--model ./models/all-MiniLM-L6-v2] [--n 2000] [--batch-size 64] [--repeats 3]
//!              [--device auto|cpu|cuda:N] [--all-rows]
//! ```
//!
//! Encodes the first `--n` in-scope CLINC150 texts (with `--all-rows`: the first `--n` rows of
//! the file, out-of-scope ones included, up to all 23,700) `--repeats` times after one warm-up
//! pass of 64 texts, and prints sentences/s per pass and the median, then the cosine between our
//! embeddings and the reference ones (min / mean / count below 0.999), which should be ≥ 0.999
//! for the same model.

use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use topic_encoder::{EncoderOptions, LocalEncoder};
use topic_engine::device::{self, DevicePreference};

#[derive(Debug, Parser)]
#[command(name = "encode_bench", about = "Local encoder throughput on CLINC150 texts")]
struct Cli {
    /// Model directory or hub id.
    #[arg(long, default_value = "./models/all-MiniLM-L6-v2")]
    model: String,
    /// Texts to encode per pass.
    #[arg(long, default_value_t = 2000)]
    n: usize,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Timed passes.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// auto, cpu or cuda:N.
    #[arg(long, default_value = "auto", env = "TOPICD_DEVICE")]
    device: String,
    /// Take the first --n rows of the file, out-of-scope texts included (all 23,700 at most),
    /// instead of the first --n in-scope ones (22,500 at most).
    #[arg(long)]
    all_rows: bool,
}

fn main() -> std::process::ExitCode {
    topic_benches::exit_code(run(Cli::parse()))
}

/// User + system CPU time of this process (all threads) from `/proc/self/stat`, assuming the
/// usual 100 clock ticks per second; `None` off Linux. On a shared machine, sentences per CPU
/// second says what the code costs whatever else is running.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn run(cli: Cli) -> Result<()> {
    if cli.n == 0 || cli.repeats == 0 {
        anyhow::bail!("--n and --repeats must be positive");
    }
    let pref: DevicePreference = cli.device.parse().context("--device")?;
    let dev = device::select(pref).context("opening the device")?;
    let options = EncoderOptions { batch_size: cli.batch_size, ..EncoderOptions::default() };
    let t = Instant::now();
    let enc = LocalEncoder::load_with(&cli.model, &dev, options)
        .with_context(|| format!("loading the encoder from {}", cli.model))?;
    let load_s = t.elapsed().as_secs_f64();
    let corpus = if cli.all_rows {
        topic_benches::clinc150_rows(cli.n)
    } else {
        topic_benches::clinc150(cli.n)
    }
    .context("loading CLINC150 texts")?;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "encoder {} (dim {}) on {} ({} forward pass, {threads} CPU threads available), loaded in {load_s:.2} s; {} texts, batch {}",
        enc.name(),
        enc.dim(),
        device::name(&dev),
        enc.backend_name(),
        corpus.len(),
        cli.batch_size
    );
    let warm: Vec<String> = corpus.texts.iter().take(64).cloned().collect();
    enc.encode(&warm).context("warm-up")?;
    let mut rates = Vec::with_capacity(cli.repeats);
    let mut cpu_rates = Vec::with_capacity(cli.repeats);
    let mut last = None;
    for r in 0..cli.repeats {
        let cpu0 = process_cpu_seconds();
        let t = Instant::now();
        let m = enc.encode(&corpus.texts).context("encoding")?;
        let s = t.elapsed().as_secs_f64();
        let rate = corpus.len() as f64 / s;
        match (cpu0, process_cpu_seconds()) {
            (Some(a), Some(b)) if b > a => {
                let cpu = b - a;
                println!(
                    "  pass {}: {s:.2} s, {rate:.0} sentences/s; {cpu:.2} CPU s, {:.0} sentences per CPU s",
                    r + 1,
                    corpus.len() as f64 / cpu
                );
                cpu_rates.push(corpus.len() as f64 / cpu);
            }
            _ => println!("  pass {}: {s:.2} s, {rate:.0} sentences/s", r + 1),
        }
        rates.push(rate);
        last = Some(m);
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    cpu_rates.sort_by(|a, b| a.total_cmp(b));
    match cpu_rates.get(cpu_rates.len() / 2) {
        Some(c) => println!(
            "median: {:.0} sentences/s ({c:.0} sentences per CPU second)",
            rates[rates.len() / 2]
        ),
        None => println!("median: {:.0} sentences/s", rates[rates.len() / 2]),
    }
    if let Some(m) = last {
        if m.cols() == corpus.embeddings.cols() {
            let cos: Vec<f32> = (0..m.rows())
                .map(|i| m.row(i).iter().zip(corpus.embeddings.row(i)).map(|(a, b)| a * b).sum())
                .collect();
            let min = cos.iter().copied().fold(f32::INFINITY, f32::min);
            let mean = cos.iter().map(|&c| f64::from(c)).sum::<f64>() / cos.len() as f64;
            let below = cos.iter().filter(|&&c| c < 0.999).count();
            let worst = cos.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
            println!(
                "cosine to the reference embeddings over {} texts: min {min:.6}, mean {mean:.6}, \
                 {below} below 0.999",
                cos.len()
            );
            if let Some(i) = worst {
                println!("  lowest: row {i} {:?}", corpus.texts[i]);
            }
        }
    }
    Ok(())
}
