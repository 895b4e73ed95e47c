//! Times exact kNN, approximate kNN (with its recall) and UMAP on the first rows of a float32
//! `.npy` embedding file, and optionally writes the UMAP layout as `.npy`.
//!
//! ```text
//! cargo run --release -p topic-engine --example knn_umap_bench -- \
//!     ../shared/datasets/clinc150/clinc150.npy 22500 [layout.npy] [exact|approx|both]
//! ```
//!
//! The last argument picks the kNN method(s) to time; UMAP runs on the approximate graph
//! unless only `exact` is given. Stage times inside UMAP are logged at debug level
//! (`RUST_LOG=topic_engine=debug`).

use std::time::Instant;

use candle_core::Device;
use npyz::WriterBuilder;
use topic_engine::internals::knn::{knn, KnnGraph};
use topic_engine::internals::umap::{fit_with_data, UmapParams};
use topic_engine::{KnnMethod, Matrix};

fn recall(approx: &KnnGraph, exact: &KnnGraph) -> f64 {
    let mut hits = 0usize;
    for i in 0..exact.n() {
        let truth = &exact.neighbors(i)[1..];
        hits += approx.neighbors(i)[1..].iter().filter(|j| truth.contains(j)).count();
    }
    hits as f64 / (exact.n() * (exact.k - 1)) as f64
}

/// User + system CPU seconds of this process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: knn_umap_bench FILE.npy [ROWS] [OUT.npy]")?;
    let file = npyz::NpyFile::new(std::io::BufReader::new(std::fs::File::open(path)?))?;
    let shape = file.shape().to_vec();
    if shape.len() != 2 {
        return Err(format!("expected a 2-d array, got shape {shape:?}").into());
    }
    let (rows, cols) = (shape[0] as usize, shape[1] as usize);
    let data: Vec<f32> = file.into_vec()?;
    let n = args.get(2).map(|s| s.parse::<usize>()).transpose()?.unwrap_or(rows).min(rows);
    let x = Matrix::new(data[..n * cols].to_vec(), n, cols)?;
    println!("data: {n} × {cols}, rayon threads: {}", rayon::current_num_threads());

    let which = args.get(4).map(String::as_str).unwrap_or("both");
    let timed = |method: KnnMethod| -> Result<KnnGraph, Box<dyn std::error::Error>> {
        let (t, c) = (Instant::now(), cpu_seconds());
        let g = knn(&x, 15, method, 0, 42, &Device::Cpu)?;
        println!(
            "knn {method:?}: {:.2} s wall, {:.2} s CPU",
            t.elapsed().as_secs_f64(),
            cpu_seconds() - c
        );
        Ok(g)
    };
    let exact = if which != "approx" { Some(timed(KnnMethod::Exact)?) } else { None };
    let approx = if which != "exact" { Some(timed(KnnMethod::Approximate)?) } else { None };
    if let (Some(e), Some(a)) = (&exact, &approx) {
        println!("approximate recall vs exact: {:.4}", recall(a, e));
    }
    let graph = approx.as_ref().or(exact.as_ref()).ok_or("no kNN graph")?;

    let params = UmapParams::default();
    let (t, c) = (Instant::now(), cpu_seconds());
    let layout = fit_with_data(graph, Some(&x), &params)?;
    println!("umap: {:.2} s wall, {:.2} s CPU", t.elapsed().as_secs_f64(), cpu_seconds() - c);

    if let Some(out) = args.get(3) {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[layout.rows() as u64, layout.cols() as u64])
            .writer(std::io::BufWriter::new(std::fs::File::create(out)?))
            .begin_nd()?;
        w.extend(layout.as_slice().iter().copied())?;
        w.finish()?;
        println!("layout written to {out}");
    }
    Ok(())
}
