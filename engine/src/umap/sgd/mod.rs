//! umap-learn's `optimize_layout_euclidean`: negative-sampling SGD over the fuzzy graph's edges,
//! run in parallel and deterministically.
//!
//! Edge `(i, j)` is sampled every `epochs_per_sample = w_max / w_ij` epochs; a sample pulls the
//! head `i` towards `j` with the gradient of `log(1 / (1 + a·d^{2b}))` and pushes `i` away from
//! `negative_sample_rate` random vertices per sample, each gradient coordinate clipped to ±4
//! (umap-learn's `clip`), with the learning rate decaying linearly from `learning_rate` to 0.
//!
//! Parallel scheme (synchronous epochs): every epoch reads the positions of the *previous*
//! epoch (a snapshot) for all other vertices and moves only the head of each edge, in place.
//! umap-learn also moves the tail (`move_other`); since the fuzzy graph is symmetric, every edge
//! is stored in both directions with the same sampling rate, so the tail's move is applied when
//! its own copy of the edge is sampled — the head therefore takes the attractive step twice,
//! which is the update umap-learn makes to a vertex per edge and period. A vertex's new position
//! depends only on the snapshot, its own edges' schedules and its own random stream, so the
//! layout is a pure function of the input and the seed, whatever the number of threads or the
//! order in which rayon runs the blocks. The targets of a vertex's samples in one epoch (each
//! sampled edge's tail, then its negative samples, in edge order) are packed into batches of
//! sixteen, evaluated at the head's current position and applied together; the next batch
//! starts from the moved head. umap-learn moves the head after every single target. Batches
//! keep every lane busy (one sample is six targets), and sixteen targets are two registers
//! whose long dependency chains (`d^{2b}` above all) the CPU overlaps; eight per batch was 11 %
//! slower, thirty-two no faster (register spills). Quality held (`none` NMI over seeds 1–4 on
//! CLINC150: 0.785–0.794 with one batch per sample, 0.794–0.801 with sixteen).
//!
//! Vectorisation: the portable evaluator ([`Lanes`]) writes a batch as loops over sixteen lanes
//! (gather the targets' coordinates, squared distances, `d^{2b}` through a branch-free
//! `exp2(b·log2 d²)`, coefficients, clipped updates summed in a fixed tree order) compiled
//! inside a [`pulp::Arch::dispatch`] target-feature function. On x86-64 with AVX2 and at most 8
//! dimensions, [`avx2`] evaluates the same steps on registers over rows padded to 8 floats (one
//! load per target, a transpose for the distances), about twice as fast as what the compiler
//! makes of the lane loops. No step uses fused multiply-add, so every evaluator computes
//! bit-identical layouts (tested).

use rayon::prelude::*;

use crate::aligned::Aligned;
use crate::cancel::{Cancel, Stage};
use crate::error::Result;
use crate::simd::Isa;

#[cfg(target_arch = "x86_64")]
mod avx2;

/// The layout's edges in CSR form: the edges of head `i` are `indptr[i]..indptr[i + 1]`.
pub(crate) struct Edges {
    pub indptr: Vec<usize>,
    pub tail: Vec<u32>,
    pub epochs_per_sample: Vec<f64>,
}

/// SGD hyper-parameters.
pub(crate) struct SgdParams {
    pub a: f32,
    pub b: f32,
    pub gamma: f32,
    pub initial_alpha: f32,
    pub negative_sample_rate: f64,
    pub n_epochs: usize,
    pub seed: u64,
}

/// Targets (attractions and negative samples) evaluated together at one head position.
const BATCH: usize = 16;

/// Vertices per parallel task (independent of the thread count; only affects scheduling).
const BLOCK: usize = 256;

/// umap-learn's `clip`.
#[inline(always)]
fn clip(v: f32) -> f32 {
    v.clamp(-4.0, 4.0)
}

/// SplitMix64, used to derive independent per-vertex streams from one seed.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xorshift64* step: fast, good enough for picking negative samples.
#[inline(always)]
fn next_u64(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Coefficients `c1..c4` of `2^f ≈ 1 + f·(c1 + f·(c2 + f·(c3 + f·c4)))` on `[−½, ½]`
/// (minimax for the relative error: 2.8e-6).
const EXP2_POLY: [f32; 4] = [0.693_124_2, 0.240_240_99, 0.055_906_426, 0.009_582_853];

/// Coefficients `c0..c2` of `log2((1 + s)/(1 − s)) ≈ s·(c0 + s²·(c1 + s²·c2))` on
/// `|s| ≤ 0.1716` (minimax for the absolute error: 3e-8).
const LOG2_POLY: [f32; 3] = [2.885_391_2, 0.961_470_8, 0.598_975_8];

/// `2^x` (relative error below 3e-6), for the SGD's `d^{2b}`.
#[inline(always)]
fn fast_exp2(x: f32) -> f32 {
    /// Adding and subtracting 1.5·2²³ rounds to the nearest integer (no libm call).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-126.0, 126.0);
    let y = x + ROUND;
    let r = y - ROUND;
    let f = x - r;
    // The low mantissa bits of `y` hold round(x) (|x| ≤ 126), read as an integer without a
    // float-to-int conversion, so lanes of this function vectorise.
    let ri = y.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    let [c1, c2, c3, c4] = EXP2_POLY;
    let p = 1.0 + f * (c1 + f * (c2 + f * (c3 + f * c4)));
    f32::from_bits(((ri + 127) as u32) << 23) * p
}

/// `log2(x)` for finite `x > 0` (absolute error below 1e-6).
#[inline(always)]
fn fast_log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    // Centre the mantissa on 1 (m in [√½, √2)) so the series converges fast.
    let big = m > std::f32::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += big as i32;
    // log2(m) = 2/ln2 · atanh(s), s = (m − 1)/(m + 1), |s| < 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let [c0, c1, c2] = LOG2_POLY;
    e as f32 + s * (c0 + s2 * (c1 + s2 * c2))
}

/// `x^b` for `x > 0`.
#[inline(always)]
fn fast_pow(x: f32, b: f32) -> f32 {
    fast_exp2(b * fast_log2(x))
}

/// Per-edge sampling schedule (f32 is plenty: the values stay below a few thousand epochs).
#[derive(Clone, Copy)]
struct Schedule {
    every: f32,
    every_neg: f32,
    next: f32,
    next_neg: f32,
}

/// Floats per stored row for `isa`: the AVX2 kernel pads rows to 8.
fn stride(isa: Isa, dim: usize) -> usize {
    match isa {
        Isa::Portable(_) => dim,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2(_) => avx2::LANES,
    }
}

/// Optimises `embedding` (`n × dim`, row-major) in place. `cancel` is checked before every
/// epoch; a cancelled run returns [`crate::EngineError::Cancelled`] and leaves `embedding`
/// unchanged.
pub(crate) fn optimize_layout(
    embedding: &mut [f32],
    dim: usize,
    edges: &Edges,
    params: &SgdParams,
    cancel: &Cancel,
) -> Result<()> {
    optimize_layout_on(Isa::detect(), embedding, dim, edges, params, cancel)
}

/// [`optimize_layout`] with the evaluator chosen by the caller (tests compare them).
fn optimize_layout_on(
    isa: Isa,
    embedding: &mut [f32],
    dim: usize,
    edges: &Edges,
    params: &SgdParams,
    cancel: &Cancel,
) -> Result<()> {
    let n = embedding.len() / dim.max(1);
    if n == 0 || dim == 0 || edges.tail.is_empty() || edges.indptr.len() != n + 1 {
        return Ok(());
    }
    let mut schedule: Vec<Schedule> = edges
        .epochs_per_sample
        .iter()
        .map(|&e| {
            let neg = e / params.negative_sample_rate;
            Schedule {
                every: e as f32,
                every_neg: neg as f32,
                next: e as f32,
                next_neg: neg as f32,
            }
        })
        .collect();
    // Per-vertex random streams (umap-learn keys its Tausworthe states by the head vertex).
    let mut rng: Vec<u64> =
        (0..n as u64).map(|v| splitmix64(params.seed ^ splitmix64(v)) | 1).collect();
    // Rows of `stride` floats (zero padding beyond `dim` stays zero: its differences are 0).
    // The AVX2 kernel holds a row in one register: wider layouts take the portable loops.
    #[cfg(target_arch = "x86_64")]
    let isa = match isa {
        Isa::Avx2(_) if dim > avx2::LANES => Isa::Portable(pulp::Arch::new()),
        isa => isa,
    };
    let stride = stride(isa, dim);
    // Rows start on a cache line, so an 8-float row never straddles two.
    let mut prev = Aligned::<f32>::new(n * stride);
    for (row, src) in prev.as_mut_slice().chunks_exact_mut(stride).zip(embedding.chunks_exact(dim))
    {
        row[..dim].copy_from_slice(src);
    }
    let mut next = prev.clone();
    let k = Kernel { a: params.a, b: params.b, gamma: params.gamma, n: n as u64 };

    for epoch in 0..params.n_epochs {
        cancel.step(Stage::Reduce, epoch as u64, params.n_epochs as u64)?;
        let alpha = params.initial_alpha * (1.0 - epoch as f32 / params.n_epochs as f32);
        let now = epoch as f32;
        // Split the mutable state into fixed vertex blocks.
        let mut jobs = Vec::with_capacity(n.div_ceil(BLOCK));
        let (mut rows, mut sched, mut streams) =
            (next.as_mut_slice(), &mut schedule[..], &mut rng[..]);
        for start in (0..n).step_by(BLOCK) {
            let end = (start + BLOCK).min(n);
            let (r, r_rest) = std::mem::take(&mut rows).split_at_mut((end - start) * stride);
            let (s, s_rest) =
                std::mem::take(&mut sched).split_at_mut(edges.indptr[end] - edges.indptr[start]);
            let (g, g_rest) = std::mem::take(&mut streams).split_at_mut(end - start);
            jobs.push(Epoch { start, rows: r, sched: s, streams: g, alpha, now });
            (rows, sched, streams) = (r_rest, s_rest, g_rest);
        }
        let snapshot = prev.as_slice();
        let k = &k;
        jobs.into_par_iter().for_each(|job| match isa {
            Isa::Portable(arch) => arch.dispatch(PortableBlock { k, dim, job, snapshot, edges }),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(simd) => {
                pulp::Simd::vectorize(simd, avx2::Block { simd, k, dim, job, snapshot, edges })
            }
        });
        std::mem::swap(&mut prev, &mut next);
    }
    for (dst, row) in embedding.chunks_exact_mut(dim).zip(prev.as_slice().chunks_exact(stride)) {
        dst.copy_from_slice(&row[..dim]);
    }
    Ok(())
}

/// One epoch's mutable state for the head vertices `start..start + streams.len()`: `rows` are
/// their new positions (written here).
struct Epoch<'a> {
    start: usize,
    rows: &'a mut [f32],
    sched: &'a mut [Schedule],
    streams: &'a mut [u64],
    alpha: f32,
    now: f32,
}

/// Evaluates one batch: the gradients of the first `used` of [`BATCH`] targets (lane `t` an
/// attraction when bit `t` of `attract` is set, taken twice: the head's and the tail's move;
/// the others negative samples; unused lanes point at the head and contribute nothing) at the
/// head's position `cur` (one stored row), applied together to `cur`. `snapshot` holds all
/// rows of the previous epoch.
trait Batch {
    /// Floats per stored row.
    fn stride(&self) -> usize;

    fn apply(
        &self,
        cur: &mut [f32],
        snapshot: &[f32],
        targets: &[usize; BATCH],
        used: usize,
        attract: u16,
        alpha: f32,
    );
}

/// One epoch of one vertex block on the portable evaluator, for [`pulp::Arch::dispatch`]: the
/// kernel is compiled inside the target-feature function (AVX2 or NEON where the CPU has them),
/// so its lane loops vectorise. Every level computes the same operations in the same order (no
/// fused multiply-add), so the layout does not depend on the CPU's instruction set.
struct PortableBlock<'a> {
    k: &'a Kernel,
    dim: usize,
    job: Epoch<'a>,
    snapshot: &'a [f32],
    edges: &'a Edges,
}

impl pulp::WithSimd for PortableBlock<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let PortableBlock { k, dim, job, snapshot, edges } = self;
        match dim {
            2 => k.block(&Lanes::<2> { k, dim }, job, snapshot, edges),
            5 => k.block(&Lanes::<5> { k, dim }, job, snapshot, edges),
            d => k.block(&Lanes::<0> { k, dim: d }, job, snapshot, edges),
        }
    }
}

struct Kernel {
    a: f32,
    b: f32,
    gamma: f32,
    n: u64,
}

impl Kernel {
    /// One epoch for the head vertices of `job`, reading the previous epoch's rows from
    /// `snapshot` and evaluating batches with `batch`.
    #[inline(always)]
    fn block<B: Batch>(&self, batch: &B, job: Epoch<'_>, snapshot: &[f32], edges: &Edges) {
        let Epoch { start, rows, sched, streams, alpha, now } = job;
        let stride = batch.stride();
        let edge_base = edges.indptr[start];
        for (r, (cur, state)) in rows.chunks_exact_mut(stride).zip(streams.iter_mut()).enumerate() {
            let i = start + r;
            cur.copy_from_slice(&snapshot[i * stride..(i + 1) * stride]);
            // Targets of this vertex's samples are packed into full batches across its edges
            // (lane `t` an attraction when bit `t` of `attract` is set); unused lanes point at
            // the head.
            let mut targets = [i; BATCH];
            let mut m = 0;
            let mut attract = 0u16;
            for e in edges.indptr[i]..edges.indptr[i + 1] {
                let s = &mut sched[e - edge_base];
                if s.next > now {
                    continue;
                }
                let n_neg = ((now - s.next_neg) / s.every_neg).max(0.0) as usize;
                s.next += s.every;
                // Slot 0 is the edge's tail (the attraction), then its negative samples.
                for slot in 0..=n_neg {
                    let k = if slot == 0 {
                        attract |= 1 << m;
                        edges.tail[e] as usize
                    } else {
                        let k = ((next_u64(state) as u128 * self.n as u128) >> 64) as usize;
                        if k == i {
                            // umap-learn skips the head itself (distance 0).
                            continue;
                        }
                        k
                    };
                    targets[m] = k;
                    m += 1;
                    if m == BATCH {
                        batch.apply(cur, snapshot, &targets, m, attract, alpha);
                        (targets, m, attract) = ([i; BATCH], 0, 0);
                    }
                }
                s.next_neg += n_neg as f32 * s.every_neg;
            }
            if m > 0 {
                batch.apply(cur, snapshot, &targets, m, attract, alpha);
            }
        }
    }
}

/// The portable evaluator: loops over [`BATCH`] lanes the compiler vectorises, rows of `dim`
/// floats. `D` is the dimension as a compile-time constant (so the loops over coordinates
/// unroll), or 0 to use `dim` at run time.
struct Lanes<'a, const D: usize> {
    k: &'a Kernel,
    dim: usize,
}

impl<const D: usize> Batch for Lanes<'_, D> {
    #[inline(always)]
    fn stride(&self) -> usize {
        if D == 0 {
            self.dim
        } else {
            D
        }
    }

    /// Lane contributions are summed in a fixed tree order.
    #[inline(always)]
    fn apply(
        &self,
        cur: &mut [f32],
        snapshot: &[f32],
        targets: &[usize; BATCH],
        used: usize,
        attract: u16,
        alpha: f32,
    ) {
        let dim = self.stride();
        let (a, b) = (self.k.a, self.k.b);
        let two_gamma_b = 2.0 * self.k.gamma * b;
        // Head − target per coordinate and lane (kept for the update when `D` is known). The
        // targets' coordinates are gathered first, so the arithmetic runs on whole lanes.
        let mut diff = [[0f32; BATCH]; D];
        let mut d2 = [0f32; BATCH];
        if D > 0 {
            let mut y = [[0f32; BATCH]; D];
            for (t, &k) in targets.iter().enumerate() {
                let row = &snapshot[k * D..(k + 1) * D];
                for d in 0..D {
                    y[d][t] = row[d];
                }
            }
            for d in 0..D {
                for t in 0..BATCH {
                    diff[d][t] = cur[d] - y[d][t];
                }
                for t in 0..BATCH {
                    d2[t] += diff[d][t] * diff[d][t];
                }
            }
        } else {
            for (d, &c) in cur.iter().enumerate() {
                for t in 0..BATCH {
                    let x = c - snapshot[targets[t] * dim + d];
                    d2[t] += x * x;
                }
            }
        }
        let pb = pow_lanes(&d2, b);
        let neg_two_ab = neg_two_ab(a, b);
        let mut coef = [0f32; BATCH];
        let mut scale = [1f32; BATCH];
        for t in 0..BATCH {
            // Attraction −2ab·d^{2b} / (d²·(1 + a·d^{2b})), taken twice (the head's and the
            // tail's move); repulsion 2γb / ((0.001 + d²)(1 + a·d^{2b})).
            let (num, den) = if attract >> t & 1 == 1 {
                scale[t] = 2.0;
                (neg_two_ab * pb[t], d2[t])
            } else {
                (two_gamma_b, 0.001 + d2[t])
            };
            let c = num / (den * (a * pb[t] + 1.0));
            coef[t] = if d2[t] > 0.0 && t < used { c } else { 0.0 };
        }
        for (d, c) in cur.iter_mut().enumerate() {
            let row = if D > 0 {
                diff[d]
            } else {
                std::array::from_fn(|t| *c - snapshot[targets[t] * dim + d])
            };
            let mut contrib = [0f32; BATCH];
            for t in 0..BATCH {
                contrib[t] = clip(coef[t] * row[t]) * scale[t];
            }
            *c += sum_lanes(contrib) * alpha;
        }
    }
}

/// `−2ab`, the attraction coefficient's constant factor (one rounding order for every
/// evaluator).
#[inline(always)]
fn neg_two_ab(a: f32, b: f32) -> f32 {
    -2.0 * a * b
}

/// `x^b` per lane (the same operations as [`fast_pow`], written branch-free).
#[inline(always)]
fn pow_lanes(x: &[f32; BATCH], b: f32) -> [f32; BATCH] {
    let mut out = [0f32; BATCH];
    for t in 0..BATCH {
        out[t] = fast_pow(x[t], b);
    }
    out
}

/// Fixed-order pairwise sum of the lanes: lane `t + half` onto lane `t`, halving.
#[inline(always)]
fn sum_lanes(mut v: [f32; BATCH]) -> f32 {
    let mut half = BATCH / 2;
    while half > 0 {
        for t in 0..half {
            v[t] += v[t + half];
        }
        half /= 2;
    }
    v[0]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fast_pow_matches_powf() {
        for &b in &[0.5f32, 0.7915, 1.0, 1.5] {
            let mut x = 1e-6f32;
            while x < 1e4 {
                let (fast, exact) = (fast_pow(x, b), x.powf(b));
                assert!(((fast - exact) / exact).abs() < 5e-6, "{x}^{b}: {fast} vs {exact}");
                x *= 1.37;
            }
        }
    }

    #[test]
    fn layout_is_independent_of_the_thread_count() {
        // A ring of 1000 vertices, both directions stored.
        let n = 1000;
        let mut indptr = vec![0];
        let mut tail = Vec::new();
        for i in 0..n {
            tail.push(((i + n - 1) % n) as u32);
            tail.push(((i + 1) % n) as u32);
            indptr.push(tail.len());
        }
        let edges = Edges { indptr, epochs_per_sample: vec![1.0; tail.len()], tail };
        let params = SgdParams {
            a: 1.58,
            b: 0.9,
            gamma: 1.0,
            initial_alpha: 1.0,
            negative_sample_rate: 5.0,
            n_epochs: 50,
            seed: 3,
        };
        // Dimensions 2 and 5 take the compile-time paths, 3 the run-time one, 9 is wider than
        // the AVX2 kernel's rows.
        for dim in [2, 3, 5, 9] {
            let init: Vec<f32> = (0..n * dim).map(|v| (v as f32 * 0.618).fract() * 10.0).collect();
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mut e = init.clone();
                pool.install(|| optimize_layout(&mut e, dim, &edges, &params, &Cancel::never()))
                    .unwrap();
                e
            };
            let one = run(1);
            assert_eq!(one, run(3), "dim {dim}");
            // Every evaluator gives the same bits (no FMA): the portable lanes compiled for
            // the scalar fallback and for the detected instruction set, and the AVX2 kernel.
            let never = Cancel::never();
            let with = |isa: Isa| {
                let mut e = init.clone();
                optimize_layout_on(isa, &mut e, dim, &edges, &params, &never).unwrap();
                e
            };
            assert_eq!(one, with(Isa::Portable(pulp::Arch::Scalar)), "dim {dim}");
            assert_eq!(one, with(Isa::Portable(pulp::Arch::new())), "dim {dim}");
            #[cfg(target_arch = "x86_64")]
            if let Some(simd) = pulp::x86::V3::try_new() {
                assert_eq!(one, with(Isa::Avx2(simd)), "dim {dim}");
            }
            assert!(one.iter().all(|v| v.is_finite()));
            assert_ne!(one, init);
        }
        let init: Vec<f32> = (0..n * 2).map(|v| (v as f32 * 0.618).fract() * 10.0).collect();

        // A cancelled token stops before the first epoch and leaves the layout untouched.
        let cancel = Cancel::new();
        cancel.cancel();
        let mut e = init.clone();
        let r = optimize_layout(&mut e, 2, &edges, &params, &cancel);
        assert!(matches!(r, Err(crate::EngineError::Cancelled)));
        assert_eq!(e, init);
    }
}
