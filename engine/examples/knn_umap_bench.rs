//! Times exact kNN, approximate kNN (with its recall) and UMAP on the first rows of a float32
//! `.npy` embedding file, and optionally writes the UMAP layout as `.npy`.
//!
//! ```text
//! cargo run --release -p topic-engine --example knn_umap_bench -- \
//!     ../shared/datasets/clinc150/clinc150.npy 22500 [layout.npy]
//! ```

use std::time::Instant;

use candle_core::Device;
use npyz::WriterBuilder;
use topic_engine::knn::{knn, KnnGraph};
use topic_engine::umap::{fit_with_data, UmapParams};
use topic_engine::{KnnMethod, Matrix};

fn recall(approx: &KnnGraph, exact: &KnnGraph) -> f64 {
    let mut hits = 0usize;
    for i in 0..exact.n() {
        let truth = &exact.neighbors(i)[1..];
        hits += approx.neighbors(i)[1..].iter().filter(|j| truth.contains(j)).count();
    }
    hits as f64 / (exact.n() * (exact.k - 1)) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
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

    let t = Instant::now();
    let exact = knn(&x, 15, KnnMethod::Exact, 0, 42, &Device::Cpu)?;
    let t_exact = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let approx = knn(&x, 15, KnnMethod::Approximate, 0, 42, &Device::Cpu)?;
    let t_approx = t.elapsed().as_secs_f64();
    println!("knn exact:       {t_exact:.2} s");
    println!("knn approximate: {t_approx:.2} s (recall {:.4})", recall(&approx, &exact));

    let params = UmapParams::default();
    let t = Instant::now();
    let layout = fit_with_data(&exact, Some(&x), &params)?;
    println!("umap (exact graph): {:.2} s", t.elapsed().as_secs_f64());

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
