//! The topic map: a deterministic 2-D layout of topic embeddings (the dashboard's intertopic
//! map, BERTopic's `visualize_topics`), by classical multidimensional scaling (Torgerson MDS) on
//! cosine distances.
//!
//! For `k` topics with embeddings `e_i`:
//! 1. `d_ij = 1 − cos(e_i, e_j)` (a zero embedding has cosine 0 with every other embedding
//!    and 1 with another zero one: identical), squared: `D_ij = d_ij²`;
//! 2. double centring: `B = −½ J D J` with `J = I − 11ᵀ/k`;
//! 3. the two algebraically largest eigenpairs `(λ, v)` of `B`; point `i` is
//!    `(v₁[i]·√λ₁, v₂[i]·√λ₂)` (a coordinate is 0 where `λ ≤ 0`);
//! 4. each axis is sign-normalised: its entry of largest magnitude is positive (ties: the
//!    lowest index), so an eigensolver's arbitrary sign never flips the picture.
//!
//! The eigenpairs come from block power iteration with Rayleigh–Ritz (subspace iteration) on a
//! block of [`BLOCK`] vectors, started from a fixed seed: `O(k²)` per iteration and no `k × k`
//! factorisation, fine for the few thousand topics a model has (60–100 iterations on clustered
//! 384-d data; on a loaded 2-core box 0.06 s for 500 topics, 0.3 s for 1,000, 2.4 s for 2,000). Block iteration finds the
//! eigenvalues of largest *magnitude*; `B` of a non-Euclidean distance can have negative
//! ones, so the result is checked (every eigenvalue outside the block is smaller in magnitude
//! than the second one kept) and, when that fails, recomputed on `B + σI` with `σ` bounding the
//! most negative eigenvalue. Rows are multiplied in parallel, each in a fixed order, so the
//! result does not depend on the number of threads: the same model always gives the same
//! picture.
//!
//! Coordinates are in cosine-distance units (two topics at cosine distance `d` with nothing
//! else around are `d` apart); the caller scales them to its canvas. `k = 0` gives no point,
//! `k = 1` the origin, identical embeddings all the origin.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::error::{EngineError, Result};
use crate::model::TopicModel;
use crate::simd::Isa;
use crate::umap::eigen::symmetric_eigen;

/// Most topics [`topic_map`] lays out: the `k × k` matrix of a larger model would need more than
/// 100 MB.
pub const MAX_MAP_TOPICS: usize = 5_000;

/// Vectors iterated together (the two wanted plus six that speed up convergence: the error of
/// the second eigenvector shrinks like `(|λ₉| / λ₂)^iterations`).
pub const BLOCK: usize = 8;

/// Most block iterations; the layout after them is used as it is (still deterministic).
pub const MAX_ITERATIONS: usize = 500;

/// Converged when both kept eigenvectors' residuals `‖Bv − λv‖` are below this fraction of the
/// largest eigenvalue's magnitude.
pub const TOLERANCE: f64 = 1e-9;

/// Seed of the start vectors.
const SEED: u64 = 0x746f_7069_636d_6170; // "topicmap"

/// One topic on the map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MapPoint {
    /// The topic's id.
    pub topic_id: i64,
    /// First coordinate (the direction of largest spread).
    pub x: f64,
    /// Second coordinate.
    pub y: f64,
}

/// The map of a model's visible topics (active, non-outlier, not hidden), ascending by id (see the module docs).
pub fn model_map(model: &TopicModel) -> Result<Vec<MapPoint>> {
    let topics: Vec<_> = model.visible_topics().collect();
    let embeddings: Vec<&[f32]> = topics.iter().map(|t| t.embedding.as_slice()).collect();
    let coords = topic_map(&embeddings)?;
    Ok(topics.iter().zip(coords).map(|(t, [x, y])| MapPoint { topic_id: t.id, x, y }).collect())
}

/// Classical MDS of `embeddings` (one row per topic, all of one length, finite) on squared
/// cosine distances: one `[x, y]` per row, in row order (see the module docs). Deterministic.
///
/// ```
/// use topic_engine::layout::topic_map;
///
/// let a = [1.0f32, 0.0, 0.0];
/// let b = [0.0f32, 1.0, 0.0];
/// let points = topic_map(&[&a, &b])?;
/// // Orthogonal embeddings are at cosine distance 1, on the first axis.
/// assert!(((points[0][0] - points[1][0]).abs() - 1.0).abs() < 1e-9);
/// assert_eq!((points[0][1], points[1][1]), (0.0, 0.0));
/// # Ok::<(), topic_engine::EngineError>(())
/// ```
pub fn topic_map(embeddings: &[&[f32]]) -> Result<Vec<[f64; 2]>> {
    let k = embeddings.len();
    if k > MAX_MAP_TOPICS {
        return Err(EngineError::input(format!(
            "{k} topics are more than a map lays out ({MAX_MAP_TOPICS})"
        )));
    }
    let dim = embeddings.first().map_or(0, |e| e.len());
    for (i, e) in embeddings.iter().enumerate() {
        if e.len() != dim {
            return Err(EngineError::DimensionMismatch { expected: dim, got: e.len() });
        }
        if e.iter().any(|v| !v.is_finite()) {
            return Err(EngineError::input(format!("embedding {i} contains NaN or infinity")));
        }
    }
    let _span = tracing::debug_span!("topic_map", topics = k).entered();
    if k < 2 {
        return Ok(vec![[0.0, 0.0]; k]);
    }
    let b = double_centred_squared_distances(embeddings);
    let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if scale == 0.0 {
        // Identical embeddings (or all zero): no spread at all.
        return Ok(vec![[0.0, 0.0]; k]);
    }
    let pairs = top_two_eigenpairs(&b, k)?;
    let mut out = vec![[0.0f64; 2]; k];
    for (axis, (value, vector)) in pairs.iter().enumerate() {
        if *value <= 0.0 {
            continue;
        }
        let root = value.sqrt();
        for (point, v) in out.iter_mut().zip(vector) {
            point[axis] = v * root;
        }
    }
    for axis in 0..2 {
        normalise_sign(&mut out, axis);
    }
    Ok(out)
}

/// Flips `axis` so that its entry of largest magnitude is positive (ties: the lowest index);
/// turns `-0.0` into `0.0`.
fn normalise_sign(points: &mut [[f64; 2]], axis: usize) {
    let mut best = 0.0f64;
    let mut sign = 1.0f64;
    for p in points.iter() {
        if p[axis].abs() > best {
            best = p[axis].abs();
            sign = p[axis].signum();
        }
    }
    for p in points.iter_mut() {
        p[axis] = if p[axis] == 0.0 { 0.0 } else { p[axis] * sign };
    }
}

/// `B = −½ J D J` (row-major `k × k`) for `D_ij = (1 − cos_ij)²`, computed in `f64` and stored
/// as `f32`: the block iteration streams `B` once per step, and half the bytes make it twice as
/// fast for large `k` (products are still summed in `f64`; a map needs nothing finer).
fn double_centred_squared_distances(embeddings: &[&[f32]]) -> Vec<f32> {
    let k = embeddings.len();
    let isa = Isa::detect();
    let norms: Vec<f64> = embeddings.iter().map(|e| f64::from(isa.dot(e, e)).sqrt()).collect();
    let cosine = |i: usize, j: usize| -> f64 {
        match (norms[i] == 0.0, norms[j] == 0.0) {
            (true, true) => return 1.0,
            (true, false) | (false, true) => return 0.0,
            (false, false) => {}
        }
        let n = norms[i] * norms[j];
        (f64::from(isa.dot(embeddings[i], embeddings[j])) / n).clamp(-1.0, 1.0)
    };
    // Upper triangle in parallel (row i: columns i+1..k); D is symmetric with a zero diagonal.
    let upper: Vec<Vec<f64>> = (0..k)
        .into_par_iter()
        .map(|i| (i + 1..k).map(|j| (1.0 - cosine(i, j)).powi(2)).collect())
        .collect();
    let d = |i: usize, j: usize| -> f64 {
        match i.cmp(&j) {
            std::cmp::Ordering::Less => upper[i][j - i - 1],
            std::cmp::Ordering::Greater => upper[j][i - j - 1],
            std::cmp::Ordering::Equal => 0.0,
        }
    };
    let row_mean: Vec<f64> =
        (0..k).into_par_iter().map(|i| (0..k).map(|j| d(i, j)).sum::<f64>() / k as f64).collect();
    let grand = row_mean.iter().sum::<f64>() / k as f64;
    let mut b = vec![0.0f32; k * k];
    b.par_chunks_exact_mut(k).enumerate().for_each(|(i, row)| {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (-0.5 * (d(i, j) - row_mean[i] - row_mean[j] + grand)) as f32;
        }
    });
    b
}

/// Up to two `(eigenvalue, unit eigenvector)` pairs of the symmetric `b`, the algebraically
/// largest first, orthogonal to the constant vector (an eigenvector of every double-centred
/// matrix, with eigenvalue 0). Fewer than two only when `k = 2`.
fn top_two_eigenpairs(b: &[f32], k: usize) -> Result<Vec<(f64, Vec<f64>)>> {
    let run = block_iteration(b, k, 0.0)?;
    let wanted = run.values.len().min(2);
    // The block holds the eigenvalues of largest magnitude. The two largest in it are the two
    // largest of `b` when no eigenvalue outside it can exceed the second one kept: all those
    // are at most the block's smallest magnitude (or the block spans everything but `1`).
    let mut order: Vec<usize> = (0..run.values.len()).collect();
    order.sort_by(|&a, &c| run.values[c].total_cmp(&run.values[a]).then(a.cmp(&c)));
    let smallest_magnitude = run.values.iter().fold(f64::INFINITY, |m, v| m.min(v.abs()));
    let spans_all = run.values.len() == k - 1;
    let second = run.values[order[wanted - 1]];
    if spans_all || second >= smallest_magnitude {
        return Ok(order.into_iter().take(wanted).map(|e| run.pair(e)).collect());
    }
    // Negative eigenvalues dominate: shift them below the positive ones and iterate again.
    // Every eigenvalue of `b` is at least −σ: those in the block are approximated, the others
    // are smaller in magnitude than the block's smallest.
    let most_negative = run.values.iter().fold(0.0f64, |m, &v| m.min(v));
    let sigma = (-most_negative).max(smallest_magnitude);
    tracing::debug!(sigma, "topic map: negative eigenvalues dominate; shifting");
    let shifted = block_iteration(b, k, sigma)?;
    let mut order: Vec<usize> = (0..shifted.values.len()).collect();
    order.sort_by(|&a, &c| shifted.values[c].total_cmp(&shifted.values[a]).then(a.cmp(&c)));
    Ok(order.into_iter().take(wanted).map(|e| shifted.pair(e)).collect())
}

/// The converged block: eigenvalues of `b` (shift removed) and the eigenvectors (`k × p`
/// row-major).
struct Block {
    values: Vec<f64>,
    vectors: Vec<f64>,
    k: usize,
}

impl Block {
    fn pair(&self, e: usize) -> (f64, Vec<f64>) {
        let p = self.values.len();
        (self.values[e], (0..self.k).map(|r| self.vectors[r * p + e]).collect())
    }
}

/// Subspace iteration with Rayleigh–Ritz on `b + σI`, restricted to the complement of the
/// constant vector: the `min(BLOCK, k − 1)` eigenpairs of largest magnitude.
fn block_iteration(b: &[f32], k: usize, sigma: f64) -> Result<Block> {
    let mut p = BLOCK.min(k - 1);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut q: Vec<f64> = (0..k * p).map(|_| rng.random_range(-1.0..1.0)).collect();
    p = orthonormalise(&mut q, k, p, &mut rng);
    let never = Cancel::never();
    let mut values = Vec::new();
    let mut ritz = q.clone();
    for iteration in 0..MAX_ITERATIONS {
        // Z = (B + σI) Q.
        let mut z = multiply(b, &q, k, p);
        if sigma != 0.0 {
            z.iter_mut().zip(&q).for_each(|(zv, qv)| *zv += sigma * qv);
        }
        // H = Qᵀ Z, symmetrised; its eigenvectors W rotate Q into Ritz vectors Y = QW, AY = ZW.
        let mut h = vec![0.0f64; p * p];
        for r in 0..k {
            let (qr, zr) = (&q[r * p..(r + 1) * p], &z[r * p..(r + 1) * p]);
            for a in 0..p {
                for c in 0..p {
                    h[a * p + c] += qr[a] * zr[c];
                }
            }
        }
        for a in 0..p {
            for c in a + 1..p {
                let m = 0.5 * (h[a * p + c] + h[c * p + a]);
                h[a * p + c] = m;
                h[c * p + a] = m;
            }
        }
        let (theta, w) = symmetric_eigen(&h, p, &never)?;
        // Largest magnitude first (of the shifted matrix, whose wanted values are the largest).
        let mut order: Vec<usize> = (0..p).collect();
        order.sort_by(|&a, &c| theta[c].abs().total_cmp(&theta[a].abs()).then(a.cmp(&c)));
        let rotate = |m: &[f64]| -> Vec<f64> {
            let mut out = vec![0.0f64; k * p];
            for r in 0..k {
                let row = &m[r * p..(r + 1) * p];
                for (col, &e) in order.iter().enumerate() {
                    out[r * p + col] = (0..p).map(|i| row[i] * w[i * p + e]).sum();
                }
            }
            out
        };
        ritz = rotate(&q);
        let az = rotate(&z);
        values = order.iter().map(|&e| theta[e]).collect::<Vec<f64>>();
        let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
        // Residuals of the columns that can be kept (the two largest algebraic values).
        let mut algebraic: Vec<usize> = (0..p).collect();
        algebraic.sort_by(|&a, &c| values[c].total_cmp(&values[a]).then(a.cmp(&c)));
        let converged = algebraic.iter().take(2).all(|&c| {
            let residual: f64 = (0..k)
                .map(|r| (az[r * p + c] - values[c] * ritz[r * p + c]).powi(2))
                .sum::<f64>()
                .sqrt();
            residual <= TOLERANCE * scale
        });
        if converged {
            tracing::debug!(iterations = iteration + 1, "topic map converged");
            break;
        }
        q = az;
        p = orthonormalise(&mut q, k, p, &mut rng);
    }
    Ok(Block { values: values.iter().map(|v| v - sigma).collect(), vectors: ritz, k })
}

/// `B Q` for row-major `b` (`k × k`) and `q` (`k × p`); rows in parallel, each summed in order.
fn multiply(b: &[f32], q: &[f64], k: usize, p: usize) -> Vec<f64> {
    let mut z = vec![0.0f64; k * p];
    z.par_chunks_exact_mut(p).enumerate().for_each(|(i, out)| {
        let row = &b[i * k..(i + 1) * k];
        for (j, &bij) in row.iter().enumerate() {
            let qj = &q[j * p..(j + 1) * p];
            let bij = f64::from(bij);
            for (o, &v) in out.iter_mut().zip(qj) {
                *o += bij * v;
            }
        }
    });
    z
}

/// Orthonormalises the `p` columns of `q` (`k × p` row-major) against the constant vector and
/// each other (modified Gram–Schmidt, twice). A column that vanishes is replaced by a fresh
/// random one; when that vanishes too (the block already spans the whole complement), it and
/// the columns after it are dropped. Returns the number of columns kept (`q` is compacted).
fn orthonormalise(q: &mut Vec<f64>, k: usize, p: usize, rng: &mut ChaCha8Rng) -> usize {
    let mut cols: Vec<Vec<f64>> = (0..p).map(|c| (0..k).map(|r| q[r * p + c]).collect()).collect();
    let ones = 1.0 / (k as f64).sqrt();
    let mut kept: Vec<Vec<f64>> = Vec::with_capacity(p);
    for col in cols.iter_mut() {
        let before = norm(col);
        let mut ok = clean(col, &kept, ones, before);
        if !ok {
            *col = (0..k).map(|_| rng.random_range(-1.0..1.0)).collect();
            let fresh = norm(col);
            ok = clean(col, &kept, ones, fresh);
        }
        if !ok {
            break;
        }
        kept.push(std::mem::take(col));
    }
    let kp = kept.len();
    q.clear();
    q.resize(k * kp, 0.0);
    for (c, col) in kept.iter().enumerate() {
        for (r, &v) in col.iter().enumerate() {
            q[r * kp + c] = v;
        }
    }
    kp
}

/// Removes from `v` its components along the constant vector and `basis` (twice) and scales it
/// to unit length; false when less than a `1e-10` fraction of `before` is left.
fn clean(v: &mut [f64], basis: &[Vec<f64>], ones: f64, before: f64) -> bool {
    for _ in 0..2 {
        let s: f64 = v.iter().sum::<f64>() * ones;
        v.iter_mut().for_each(|x| *x -= s * ones);
        for u in basis {
            let d: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(x, y)| *x -= d * y);
        }
    }
    let n = norm(v);
    if n == 0.0 || n <= 1e-10 * before {
        return false;
    }
    v.iter_mut().for_each(|x| *x /= n);
    true
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests;
