//! Runs the engine's HDBSCAN on a float32 `[n, d]` `.npy` file and writes the labels as an int64
//! `.npy`, for parity checks against Python `hdbscan` on the same input:
//!
//! ```text
//! cargo run -p topic-engine --example hdbscan_npy -- IN.npy OUT.npy [min_cluster_size]
//! ```

use std::time::Instant;

use npyz::WriterBuilder;
use topic_engine::internals::hdbscan::{fit, HdbscanParams};
use topic_engine::Matrix;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: hdbscan_npy IN.npy OUT.npy [min_cluster_size]".into());
    }
    let min_cluster_size: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(10);
    let bytes = std::fs::read(&args[1])?;
    let npy = npyz::NpyFile::new(&bytes[..])?;
    let shape = npy.shape().to_vec();
    if shape.len() != 2 {
        return Err(format!("expected a 2-d array, got shape {shape:?}").into());
    }
    let data: Vec<f32> = npy.into_vec()?;
    let m = Matrix::new(data, shape[0] as usize, shape[1] as usize)?;
    let params = HdbscanParams { min_cluster_size, ..Default::default() };
    for _ in 0..2 {
        let t = Instant::now();
        let c = fit(&m, &params)?;
        let noise = c.labels.iter().filter(|&&l| l == -1).count() as f64 / m.rows() as f64;
        println!(
            "hdbscan fit s {:.3} clusters {} noise {:.4}",
            t.elapsed().as_secs_f64(),
            c.n_clusters(),
            noise
        );
        let mut out = Vec::new();
        {
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(&[c.labels.len() as u64])
                .writer(&mut out)
                .begin_nd()?;
            w.extend(c.labels.iter().copied())?;
            w.finish()?;
        }
        std::fs::write(&args[2], out)?;
    }
    Ok(())
}
