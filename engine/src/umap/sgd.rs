//! umap-learn's `optimize_layout_euclidean`: negative-sampling SGD over the fuzzy graph's edges.
//!
//! Edge `e` (stored in both directions, as umap-learn's COO graph) is sampled every
//! `epochs_per_sample[e] = w_max / w_e` epochs; a sample pulls both ends together with the
//! gradient of `log(1 / (1 + a·d^{2b}))` and pushes the head away from
//! `negative_sample_rate` random vertices per sample, each gradient coordinate clipped to ±4,
//! with the learning rate decaying linearly from `learning_rate` to 0.
//!
//! The loop runs in umap-learn's edge order on one thread, exactly as umap-learn does when it
//! is given a seed; per-vertex random streams make the result a pure function of the seed.

/// The layout's edges in umap-learn's order (row-major by head, then tail).
pub(crate) struct Edges {
    pub head: Vec<u32>,
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

#[inline]
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
#[inline]
fn next_u64(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Optimises `embedding` (`n × dim`, row-major) in place.
pub(crate) fn optimize_layout(
    embedding: &mut [f32],
    dim: usize,
    edges: &Edges,
    params: &SgdParams,
) {
    let n = embedding.len() / dim.max(1);
    if n == 0 || edges.head.is_empty() {
        return;
    }
    let (a, b, gamma) = (params.a, params.b, params.gamma);
    let eps = &edges.epochs_per_sample;
    let eps_neg: Vec<f64> = eps.iter().map(|e| e / params.negative_sample_rate).collect();
    let mut next_sample: Vec<f64> = eps.clone();
    let mut next_neg: Vec<f64> = eps_neg.clone();
    // Per-vertex random streams (umap-learn keys its Tausworthe states by the head vertex).
    let mut rng: Vec<u64> =
        (0..n as u64).map(|v| splitmix64(params.seed ^ splitmix64(v)) | 1).collect();
    let n_u64 = n as u64;
    let mut current = vec![0f32; dim];

    for epoch in 0..params.n_epochs {
        let alpha = params.initial_alpha * (1.0 - epoch as f32 / params.n_epochs as f32);
        let now = epoch as f64;
        for e in 0..edges.head.len() {
            if next_sample[e] > now {
                continue;
            }
            let i = edges.head[e] as usize;
            let j = edges.tail[e] as usize;
            current.copy_from_slice(&embedding[i * dim..(i + 1) * dim]);
            let other = &mut embedding[j * dim..(j + 1) * dim];
            let d2: f32 = current.iter().zip(other.iter()).map(|(x, y)| (x - y) * (x - y)).sum();
            let coef = if d2 > 0.0 {
                let pb = d2.powf(b);
                -2.0 * a * b * (pb / d2) / (a * pb + 1.0)
            } else {
                0.0
            };
            for (c, o) in current.iter_mut().zip(other.iter_mut()) {
                let g = clip(coef * (*c - *o));
                *c += g * alpha;
                *o -= g * alpha;
            }
            next_sample[e] += eps[e];

            let n_neg = ((now - next_neg[e]) / eps_neg[e]).max(0.0) as usize;
            let state = &mut rng[i];
            for _ in 0..n_neg {
                let k = ((next_u64(state) as u128 * n_u64 as u128) >> 64) as usize;
                if k == i {
                    // umap-learn: distance 0 to itself, skipped.
                    continue;
                }
                let other = &embedding[k * dim..(k + 1) * dim];
                let d2: f32 =
                    current.iter().zip(other.iter()).map(|(x, y)| (x - y) * (x - y)).sum();
                let coef = if d2 > 0.0 {
                    2.0 * gamma * b / ((0.001 + d2) * (a * d2.powf(b) + 1.0))
                } else {
                    0.0
                };
                if coef > 0.0 {
                    for (c, o) in current.iter_mut().zip(other.iter()) {
                        *c += clip(coef * (*c - *o)) * alpha;
                    }
                }
            }
            next_neg[e] += n_neg as f64 * eps_neg[e];
            embedding[i * dim..(i + 1) * dim].copy_from_slice(&current);
        }
    }
}
