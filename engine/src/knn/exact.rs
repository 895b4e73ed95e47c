//! Exact cosine kNN: L2-normalised rows, tiled `Q · Xᵀ` products on the candle device, and a
//! rayon-parallel top-k scan of each tile on the CPU.
//!
//! Memory is bounded by the tile: a tile of `t` query rows holds `t × n` similarities (at most
//! [`TILE_BYTES`] bytes) on the device plus one copy on the host.

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::KnnGraph;
use crate::cancel::{Cancel, Stage};
use crate::error::Result;
use crate::matrix::Matrix;

/// Upper bound on the similarity block of one tile, in bytes (128 MiB; the host copy doubles it).
const TILE_BYTES: usize = 128 << 20;

/// Exact cosine kNN (`k` includes the point itself). Callers have checked `1 ≤ k ≤ n`, `d ≥ 1`
/// and finite values. `cancel` is checked before every tile.
pub(crate) fn exact(data: &Matrix, k: usize, device: &Device, cancel: &Cancel) -> Result<KnnGraph> {
    let n = data.rows();
    let d = data.cols();
    let mut x = data.clone();
    x.normalize_rows();
    // umap-learn's cosine: two all-zero vectors are at distance 0, a zero and a non-zero at 1.
    let zero: Vec<bool> = x.iter_rows().map(|r| r.iter().all(|v| *v == 0.0)).collect();
    let all = Tensor::from_slice(x.as_slice(), (n, d), device)?;
    let all_t = all.t()?;

    let tile_rows = (TILE_BYTES / (4 * n.max(1))).clamp(1, n.max(1));
    let mut indices = vec![0u32; n * k];
    let mut distances = vec![0f32; n * k];
    let mut start = 0;
    while start < n {
        cancel.step(Stage::Neighbors, start as u64, n as u64)?;
        let len = tile_rows.min(n - start);
        let sims = all.narrow(0, start, len)?.matmul(&all_t)?;
        let sims: Vec<f32> = sims.flatten_all()?.to_vec1()?;
        indices[start * k..(start + len) * k]
            .par_chunks_mut(k)
            .zip(distances[start * k..(start + len) * k].par_chunks_mut(k))
            .enumerate()
            .for_each(|(r, (idx_out, dist_out))| {
                let i = start + r;
                let row = &sims[r * n..(r + 1) * n];
                if zero[i] {
                    let zero_row: Vec<f32> =
                        zero.iter().map(|&z| if z { 1.0 } else { 0.0 }).collect();
                    top_k_row(i, &zero_row, idx_out, dist_out);
                } else {
                    top_k_row(i, row, idx_out, dist_out);
                }
            });
        start += len;
    }
    Ok(KnnGraph { k, indices, distances })
}

/// Fills one output row from the similarities of point `i` to every point: `i` itself first at
/// distance 0, then the `k - 1` most similar others, ties broken by the lower index.
pub(crate) fn top_k_row(i: usize, sims: &[f32], idx_out: &mut [u32], dist_out: &mut [f32]) {
    let m = idx_out.len() - 1;
    idx_out[0] = i as u32;
    dist_out[0] = 0.0;
    let best_s = &mut dist_out[1..];
    let best_i = &mut idx_out[1..];
    let mut count = 0usize;
    for (j, &s) in sims.iter().enumerate() {
        if j == i || m == 0 {
            continue;
        }
        if count == m && s <= best_s[m - 1] {
            continue;
        }
        // First slot holding a strictly smaller similarity: equal values keep the lower index.
        let mut pos = count.min(m - 1);
        while pos > 0 && best_s[pos - 1] < s {
            pos -= 1;
        }
        let end = count.min(m - 1);
        best_s.copy_within(pos..end, pos + 1);
        best_i.copy_within(pos..end, pos + 1);
        best_s[pos] = s;
        best_i[pos] = j as u32;
        if count < m {
            count += 1;
        }
    }
    for s in best_s.iter_mut() {
        *s = (1.0 - *s).max(0.0);
    }
}
