//! Approximate cosine kNN: a random-projection forest for the initial graph, refined by
//! NN-descent, as pynndescent does for umap-learn on inputs of 4096 points and more.
//!
//! Parameters follow pynndescent: `n_trees = min(64, 5 + round(√n / 20))`,
//! `n_iters = max(5, round(log₂ n))`, leaves of at most `max(10, k)` points, at most
//! `max_candidates` candidates per point and iteration, early stop when fewer than
//! `delta · k · n` heap updates happen in an iteration.
//!
//! The trees and the search work on 16-bit copies of the unit rows ([`Shorts`]: a quarter of
//! the memory at 384 dimensions, small enough to stay in the last-level cache at CLINC150's
//! size, exact integer dot products); the final neighbour lists get full-precision distances.
//!
//! Every parallel step produces its proposals into per-vertex buffers first and applies them
//! in a fixed order afterwards, so the graph is a pure function of the data and the seed
//! (independent of the number of threads).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::exact::top_k_row;
use super::KnnGraph;
use crate::aligned::Aligned;
use crate::cancel::{Cancel, Stage};
use crate::error::Result;
use crate::matrix::Matrix;
use crate::simd::Isa;

/// Early-stop threshold on the fraction of heap entries updated in one iteration.
const DELTA: f64 = 0.001;
/// Vertices whose local joins are applied together (bounds the memory of the proposals).
const JOIN_BLOCK: usize = 4096;

/// Normalised vectors with umap-learn's cosine conventions for all-zero vectors, and their
/// 16-bit copies for the search.
struct Points<'a> {
    x: &'a Matrix,
    zero: Vec<bool>,
    shorts: Shorts,
    arch: Isa,
}

impl Points<'_> {
    #[inline]
    fn dist(&self, a: usize, b: usize) -> f32 {
        self.cosine(a, b, || self.dot(self.x.row(a), self.x.row(b)))
    }

    /// `1 − dot()` floored at 0, with umap-learn's rule for all-zero vectors (distance 0 between
    /// two of them, 1 to anything else; `dot` is not called then).
    #[inline]
    fn cosine(&self, a: usize, b: usize, dot: impl FnOnce() -> f32) -> f32 {
        if self.zero[a] || self.zero[b] {
            return if self.zero[a] && self.zero[b] { 0.0 } else { 1.0 };
        }
        (1.0 - dot()).max(0.0)
    }

    /// `a·b` ([`Isa::dot`]).
    #[inline]
    fn dot(&self, a: &[f32], b: &[f32]) -> f32 {
        self.arch.dot(a, b)
    }
}

impl Points<'_> {
    /// [`Points::dist`] from the 16-bit rows (absolute error about 1e-4): what the search
    /// ranks candidates by. The rows stay in the last-level cache where the full-precision
    /// ones (4× larger at 384 dimensions) stream from memory; the final lists get exact
    /// distances in [`finish`].
    #[inline]
    fn approx(&self, a: usize, b: usize) -> f32 {
        self.cosine(a, b, || {
            let (ra, rb) = (self.shorts.row(a), self.shorts.row(b));
            let dot = match self.arch {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2(simd) => pulp::Simd::vectorize(simd, DotShortsAvx2(simd, ra, rb)),
                Isa::Portable(_) => dot_shorts(ra, rb),
            };
            dot as f32 * Shorts::INV_SCALE2
        })
    }

    /// Which side of the hyperplane `normal` (16-bit, scaled by 2¹³) row `v` falls on, as the
    /// sign of an exact integer dot product (0: on the plane).
    #[inline]
    fn margin(&self, v: usize, normal: &[i16]) -> i32 {
        let row = self.shorts.row(v);
        match self.arch {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(simd) => pulp::Simd::vectorize(simd, DotShortsAvx2(simd, row, normal)),
            Isa::Portable(_) => dot_shorts(row, normal),
        }
    }
}

/// Unit rows as 16-bit integers (scaled by 2¹⁴), zero-padded to a multiple of 16. Products of
/// two such rows are below 2²⁸ in every partial sum (Cauchy–Schwarz), so 32-bit sums are exact.
struct Shorts {
    /// Rows start on cache lines (384 dimensions: 12 lines per row, not 13).
    data: Aligned<i16>,
    width: usize,
}

impl Shorts {
    const SCALE: f32 = 16384.0;
    const INV_SCALE2: f32 = 1.0 / (16384.0 * 16384.0);

    /// `x` must have unit (or zero) rows.
    fn new(x: &Matrix) -> Self {
        let width = x.cols().div_ceil(16) * 16;
        let mut data = Aligned::new(x.rows() * width);
        if width > 0 {
            data.as_mut_slice()
                .par_chunks_mut(width)
                .zip(x.as_slice().par_chunks(x.cols()))
                .for_each(|(out, row)| {
                    for (o, v) in out.iter_mut().zip(row) {
                        *o = (v * Self::SCALE).round().clamp(-16384.0, 16384.0) as i16;
                    }
                });
        }
        Shorts { data, width }
    }

    fn row(&self, i: usize) -> &[i16] {
        &self.data.as_slice()[i * self.width..(i + 1) * self.width]
    }
}

/// Exact integer dot product of two 16-bit rows.
#[inline]
fn dot_shorts(a: &[i16], b: &[i16]) -> i32 {
    a.iter().zip(b).map(|(x, y)| *x as i32 * *y as i32).sum()
}

/// [`dot_shorts`] on AVX2 registers (16 products per `madd`, summed in pairs into 32-bit
/// lanes): integer arithmetic, so exactly the portable result. Lengths are multiples of 16.
#[cfg(target_arch = "x86_64")]
struct DotShortsAvx2<'a>(pulp::x86::V3, &'a [i16], &'a [i16]);

#[cfg(target_arch = "x86_64")]
impl pulp::WithSimd for DotShortsAvx2<'_> {
    type Output = i32;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> i32 {
        use std::arch::x86_64::__m256i;
        let DotShortsAvx2(simd, a, b) = self;
        let (avx, avx2) = (simd.avx, simd.avx2);
        let reg =
            |v: &[i16]| -> __m256i { pulp::cast(<[i16; 16]>::try_from(v).unwrap_or([0; 16])) };
        let mut acc = [avx._mm256_setzero_si256(); 2];
        let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
        let (ta, tb) = (ca.remainder(), cb.remainder());
        for (pa, pb) in ca.zip(cb) {
            for h in 0..2 {
                let p = avx2._mm256_madd_epi16(
                    reg(&pa[h * 16..(h + 1) * 16]),
                    reg(&pb[h * 16..(h + 1) * 16]),
                );
                acc[h] = avx2._mm256_add_epi32(acc[h], p);
            }
        }
        if ta.len() == 16 && tb.len() == 16 {
            acc[0] = avx2._mm256_add_epi32(acc[0], avx2._mm256_madd_epi16(reg(ta), reg(tb)));
        }
        let lanes: [i32; 8] = pulp::cast(avx2._mm256_add_epi32(acc[0], acc[1]));
        lanes.iter().sum()
    }
}

/// Per-vertex bounded neighbour lists, sorted ascending by distance, with "new" flags.
struct Heaps {
    m: usize,
    dist: Vec<f32>,
    idx: Vec<u32>,
    new: Vec<bool>,
}

/// Pushes `(d, j)` into one vertex's sorted list; false if it is not better or already there.
fn heap_push(dist: &mut [f32], idx: &mut [u32], new: &mut [bool], d: f32, j: u32) -> bool {
    let m = dist.len();
    if d >= dist[m - 1] {
        return false;
    }
    if idx.contains(&j) {
        return false;
    }
    let mut pos = m - 1;
    while pos > 0 && dist[pos - 1] > d {
        pos -= 1;
    }
    dist.copy_within(pos..m - 1, pos + 1);
    idx.copy_within(pos..m - 1, pos + 1);
    new.copy_within(pos..m - 1, pos + 1);
    dist[pos] = d;
    idx[pos] = j;
    new[pos] = true;
    true
}

impl Heaps {
    fn new(n: usize, m: usize) -> Self {
        Self {
            m,
            dist: vec![f32::INFINITY; n * m],
            idx: vec![u32::MAX; n * m],
            new: vec![false; n * m],
        }
    }

    /// Applies proposals `(target, distance, source)` grouped by target in their given order;
    /// returns the number of successful pushes. Each parallel task owns a range of targets and
    /// scans all proposals for its own (no sort; the per-target order, hence the result, does
    /// not depend on the number of tasks).
    fn apply(&mut self, n: usize, proposals: &[(u32, f32, u32)]) -> usize {
        let m = self.m;
        let tasks = 2 * rayon::current_num_threads().max(1);
        let chunk = n.div_ceil(tasks).max(1);
        self.dist
            .par_chunks_mut(chunk * m)
            .zip(self.idx.par_chunks_mut(chunk * m))
            .zip(self.new.par_chunks_mut(chunk * m))
            .enumerate()
            .map(|(c, ((dist, idx), new))| {
                let lo = (c * chunk) as u32;
                let len = (dist.len() / m) as u32;
                let mut pushed = 0;
                for &(t, d, j) in proposals {
                    let r = t.wrapping_sub(lo);
                    if r < len {
                        let at = r as usize * m..(r as usize + 1) * m;
                        pushed += usize::from(heap_push(
                            &mut dist[at.clone()],
                            &mut idx[at.clone()],
                            &mut new[at],
                            d,
                            j,
                        ));
                    }
                }
                pushed
            })
            .sum()
    }
}

/// Approximate kNN (`k` counts the point itself; `2 ≤ k ≤ n`). `cancel` is checked while the
/// trees are built (per node split), before applying each tree, and before every iteration and
/// join block.
pub(crate) fn nndescent(data: &Matrix, k: usize, seed: u64, cancel: &Cancel) -> Result<KnnGraph> {
    let n = data.rows();
    let m = k - 1;
    let mut x = data.clone();
    x.normalize_rows();
    let zero: Vec<bool> = x.iter_rows().map(|r| r.iter().all(|v| *v == 0.0)).collect();
    let shorts = Shorts::new(&x);
    let pts = Points { x: &x, zero, shorts, arch: Isa::detect() };
    let mut heaps = Heaps::new(n, m);
    if m == 0 {
        return Ok(finish(&pts, heaps, k));
    }

    // 1. Random-projection forest: every leaf's points become each other's candidates.
    let started = std::time::Instant::now();
    let n_trees = (5 + ((n as f64).sqrt() / 20.0).round() as usize).min(64);
    let leaf_size = k.max(10);
    // Trees are built in parallel (each from its own seeded stream), applied in tree order.
    let forest: Vec<Vec<Vec<u32>>> = (0..n_trees)
        .into_par_iter()
        .map(|tree| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (0xA5A5_0000_u64 + tree as u64));
            rp_tree(&pts, leaf_size, &mut rng, cancel)
        })
        .collect();
    // A cancelled tree build stops early with a partial forest: never used.
    cancel.check()?;
    tracing::debug!(trees_s = started.elapsed().as_secs_f64(), "nn-descent trees built");
    for leaves in forest {
        cancel.check()?;
        // A proposal no closer than its target's current worst would be rejected anyway.
        let worst: Vec<f32> = heaps.dist.par_chunks(m).map(|row| row[m - 1]).collect();
        let proposals: Vec<(u32, f32, u32)> = leaves
            .par_iter()
            .flat_map_iter(|leaf| {
                let mut out = Vec::with_capacity(leaf.len() * leaf.len());
                for (a_pos, &a) in leaf.iter().enumerate() {
                    for &b in &leaf[a_pos + 1..] {
                        propose(&mut out, &worst, a, b, pts.approx(a as usize, b as usize));
                    }
                }
                out
            })
            .collect();
        heaps.apply(n, &proposals);
    }

    // 2. NN-descent iterations.
    let t_forest = started.elapsed();
    let n_iters = ((n as f64).log2().round() as usize).max(5);
    let max_candidates = k.min(60);
    for iter in 0..n_iters {
        cancel.step(Stage::Neighbors, iter as u64, n_iters as u64)?;
        let (new_cand, old_cand) = build_candidates(&mut heaps, n, max_candidates, seed, iter);
        let mut updates = 0usize;
        for block_start in (0..n).step_by(JOIN_BLOCK) {
            cancel.check()?;
            let block_end = (block_start + JOIN_BLOCK).min(n);
            let worst: Vec<f32> = heaps.dist.par_chunks(m).map(|row| row[m - 1]).collect();
            let proposals: Vec<(u32, f32, u32)> = (block_start..block_end)
                .into_par_iter()
                .flat_map_iter(|v| {
                    let mut out = Vec::new();
                    let new = &new_cand[v];
                    let old = &old_cand[v];
                    for (ai, &a) in new.iter().enumerate() {
                        let others = new[ai + 1..].iter().chain(old.iter());
                        for &b in others {
                            if a == b {
                                continue;
                            }
                            propose(&mut out, &worst, a, b, pts.approx(a as usize, b as usize));
                        }
                    }
                    out
                })
                .collect();
            updates += heaps.apply(n, &proposals);
        }
        tracing::debug!(
            iter,
            updates,
            secs = started.elapsed().as_secs_f64(),
            "nn-descent iteration"
        );
        if (updates as f64) <= DELTA * (m * n) as f64 {
            break;
        }
    }
    tracing::debug!(n_trees, forest_s = t_forest.as_secs_f64(), "nn-descent forest");
    cancel.check()?;
    Ok(finish(&pts, heaps, k))
}

/// Proposes `b` as a neighbour of `a` and `a` of `b` (at distance `d`), each only when it is
/// closer than the receiver's current worst neighbour (anything else would be rejected).
#[inline(always)]
fn propose(out: &mut Vec<(u32, f32, u32)>, worst: &[f32], a: u32, b: u32, d: f32) {
    if d < worst[a as usize] {
        out.push((a, d, b));
    }
    if d < worst[b as usize] {
        out.push((b, d, a));
    }
}

/// pynndescent's `new_build_candidates`: per vertex up to `max_candidates` new and old
/// candidates from its own list and the reverse lists, chosen by seeded random priorities;
/// new entries that became candidates are flagged old.
/// Per vertex, a list of candidate neighbours.
type Candidates = Vec<Vec<u32>>;

fn build_candidates(
    heaps: &mut Heaps,
    n: usize,
    max_candidates: usize,
    seed: u64,
    iter: usize,
) -> (Candidates, Candidates) {
    let m = heaps.m;
    // Each parallel task owns a range of targets: it scans every list for entries pointing into
    // its range (both directions), groups them by target and keeps, per target, the
    // `max_candidates` new and old neighbours of lowest priority. Within a target the entries
    // are ordered by (priority, source, flag) alone, so the result does not depend on the
    // number of tasks.
    let tasks = 2 * rayon::current_num_threads().max(1);
    let chunk = n.div_ceil(tasks).max(1);
    let (idx, flags) = (&heaps.idx, &heaps.new);
    let parts: Vec<(Candidates, Candidates)> = (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let (lo, hi) = (c * chunk, ((c + 1) * chunk).min(n));
            let range = lo as u32..hi as u32;
            // (local target, priority, source, is_new)
            let mut entries: Vec<(u32, u64, u32, bool)> = Vec::new();
            for v in 0..n {
                let own = range.contains(&(v as u32));
                for s in 0..m {
                    let u = idx[v * m + s];
                    let other = range.contains(&u);
                    if u == u32::MAX || !(own || other) {
                        continue;
                    }
                    let is_new = flags[v * m + s];
                    let pr = mix(seed, iter as u64, v as u64, u as u64);
                    if own {
                        entries.push(((v - lo) as u32, pr, u, is_new));
                    }
                    if other {
                        entries.push((u - lo as u32, pr, v as u32, is_new));
                    }
                }
            }
            let mut starts = vec![0usize; hi - lo + 1];
            for e in &entries {
                starts[e.0 as usize + 1] += 1;
            }
            for t in 0..hi - lo {
                starts[t + 1] += starts[t];
            }
            let mut fill = starts.clone();
            let mut grouped = vec![(0u64, 0u32, false); entries.len()];
            for e in &entries {
                let t = e.0 as usize;
                grouped[fill[t]] = (e.1, e.2, e.3);
                fill[t] += 1;
            }
            let mut new_c = Vec::with_capacity(hi - lo);
            let mut old_c = Vec::with_capacity(hi - lo);
            for t in 0..hi - lo {
                let group = &mut grouped[starts[t]..starts[t + 1]];
                group.sort_unstable();
                let mut new = Vec::with_capacity(max_candidates);
                let mut old = Vec::with_capacity(max_candidates);
                for &(_, u, is_new) in group.iter() {
                    let list = if is_new { &mut new } else { &mut old };
                    if list.len() < max_candidates && !list.contains(&u) {
                        list.push(u);
                    }
                }
                new_c.push(new);
                old_c.push(old);
            }
            (new_c, old_c)
        })
        .collect();
    let (mut new_cand, mut old_cand) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (new, old) in parts {
        new_cand.extend(new);
        old_cand.extend(old);
    }
    heaps.idx.par_chunks(m).zip(heaps.new.par_chunks_mut(m)).zip(new_cand.par_iter()).for_each(
        |((idx, flags), cands)| {
            for (u, f) in idx.iter().zip(flags.iter_mut()) {
                if *f && cands.contains(u) {
                    *f = false;
                }
            }
        },
    );
    (new_cand, old_cand)
}

fn mix(seed: u64, a: u64, b: u64, c: u64) -> u64 {
    let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
    for v in [a, b, c] {
        h ^= v.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_add(h << 6).wrapping_add(h >> 2);
        h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 31;
    }
    h
}

/// One angular random-projection tree; returns its leaves (an incomplete list once `cancel` is
/// cancelled: the caller checks the token before using the forest).
fn rp_tree(
    pts: &Points<'_>,
    leaf_size: usize,
    rng: &mut ChaCha8Rng,
    cancel: &Cancel,
) -> Vec<Vec<u32>> {
    let n = pts.x.rows();
    let mut leaves = Vec::new();
    let mut stack: Vec<Vec<u32>> = vec![(0..n as u32).collect()];
    while let Some(node) = stack.pop() {
        if cancel.is_cancelled() {
            break;
        }
        if node.len() <= leaf_size {
            leaves.push(node);
            continue;
        }
        let a = node[rng.random_range(0..node.len())] as usize;
        let mut b = node[rng.random_range(0..node.len())] as usize;
        if a == b {
            b = node[(node.iter().position(|&v| v as usize == a).unwrap_or(0) + 1) % node.len()]
                as usize;
        }
        let normal: Vec<f32> = pts.x.row(a).iter().zip(pts.x.row(b)).map(|(p, q)| p - q).collect();
        let mut normal_shorts = vec![0i16; pts.shorts.width];
        for (o, v) in normal_shorts.iter_mut().zip(&normal) {
            *o = (v * 8192.0).round().clamp(-16384.0, 16384.0) as i16;
        }
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for &v in &node {
            let margin = pts.margin(v as usize, &normal_shorts);
            let side = if margin == 0 { rng.random_bool(0.5) } else { margin > 0 };
            if side {
                left.push(v);
            } else {
                right.push(v);
            }
        }
        if left.is_empty() || right.is_empty() {
            // Degenerate hyperplane (duplicates): split at random.
            left.clear();
            right.clear();
            for &v in &node {
                if rng.random_bool(0.5) {
                    left.push(v);
                } else {
                    right.push(v);
                }
            }
            if left.is_empty() || right.is_empty() {
                let mid = node.len() / 2;
                left = node[..mid].to_vec();
                right = node[mid..].to_vec();
            }
        }
        stack.push(right);
        stack.push(left);
    }
    leaves
}

/// Turns the heaps into a [`KnnGraph`]: self first, then neighbours ascending by
/// `(distance, index)`; a row the search left incomplete is filled by an exact scan.
fn finish(pts: &Points<'_>, heaps: Heaps, k: usize) -> KnnGraph {
    let n = pts.x.rows();
    let m = heaps.m;
    let mut indices = vec![0u32; n * k];
    let mut distances = vec![0f32; n * k];
    indices.par_chunks_mut(k).zip(distances.par_chunks_mut(k)).enumerate().for_each(
        |(i, (idx_out, dist_out))| {
            let hi = &heaps.idx[i * m..(i + 1) * m];
            if hi.contains(&u32::MAX) {
                let sims: Vec<f32> = (0..n).map(|j| 1.0 - pts.dist(i, j)).collect();
                top_k_row(i, &sims, idx_out, dist_out);
                return;
            }
            // Exact distances for the found neighbours (the search ranked approximations).
            let mut row: Vec<(f32, u32)> =
                hi.iter().map(|&j| (pts.dist(i, j as usize), j)).collect();
            row.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            idx_out[0] = i as u32;
            dist_out[0] = 0.0;
            for (s, (d, j)) in row.into_iter().enumerate() {
                idx_out[s + 1] = j;
                dist_out[s + 1] = d;
            }
        },
    );
    KnnGraph { k, indices, distances }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn short_rows_give_exact_integer_dots_and_close_distances() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for dim in [1usize, 5, 16, 17, 33, 100, 384] {
            let rows = 40;
            let data: Vec<f32> = (0..rows * dim).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let mut x = Matrix::new(data, rows, dim).unwrap();
            x.normalize_rows();
            let pts = Points {
                x: &x,
                zero: vec![false; rows],
                shorts: Shorts::new(&x),
                arch: Isa::detect(),
            };
            for a in 0..rows {
                for b in 0..rows {
                    let (ra, rb) = (pts.shorts.row(a), pts.shorts.row(b));
                    let portable = dot_shorts(ra, rb);
                    #[cfg(target_arch = "x86_64")]
                    if let Some(simd) = pulp::x86::V3::try_new() {
                        let avx2 = pulp::Simd::vectorize(simd, DotShortsAvx2(simd, ra, rb));
                        assert_eq!(portable, avx2, "dim {dim}");
                    }
                    let err = (pts.approx(a, b) - pts.dist(a, b)).abs();
                    assert!(err < 1e-3, "dim {dim}: {err}");
                }
            }
        }
    }
}
