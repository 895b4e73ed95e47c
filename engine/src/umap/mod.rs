//! UMAP, faithful to umap-learn 0.5: fuzzy simplicial set from a kNN graph, spectral
//! initialisation and negative-sampling SGD.
//!
//! The steps follow `umap_.py` (`fuzzy_simplicial_set`, `simplicial_set_embedding`,
//! `find_ab_params`), `spectral.py` and `layouts.py` (`optimize_layout_euclidean`):
//! 1. `smooth_knn_dist` → membership strengths → fuzzy union ([`fuzzy`]);
//! 2. epochs = 500 if n ≤ 10,000 else 200; edges below `w_max / epochs` are dropped;
//! 3. spectral initialisation ([`spectral`]), scaled to max |x| = 10, plus N(0, 1e-4) noise,
//!    then min-max scaled to [0, 10] per dimension;
//! 4. SGD with umap-learn's update rules ([`sgd`]).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::cancel::Cancel;
use crate::error::{EngineError, Result};
use crate::knn::KnnGraph;
use crate::matrix::Matrix;
use crate::params::FitParams;

mod ab;
pub(crate) mod eigen;
mod fuzzy;
mod sgd;
mod spectral;

pub use ab::find_ab_params;

/// UMAP parameters (umap-learn's defaults, BERTopic's overrides).
#[derive(Debug, Clone, PartialEq)]
pub struct UmapParams {
    /// Output dimension (BERTopic: 5).
    pub n_components: usize,
    /// Minimum distance between embedded points (BERTopic: 0.0).
    pub min_dist: f32,
    /// Scale of the embedded points (umap-learn: 1.0).
    pub spread: f32,
    /// Epochs; `None` = umap-learn's rule (500 if n ≤ 10,000 else 200).
    pub n_epochs: Option<usize>,
    /// Negative samples per positive sample (umap-learn: 5).
    pub negative_sample_rate: usize,
    /// Initial SGD learning rate (umap-learn: 1.0).
    pub learning_rate: f32,
    /// Neighbours assumed locally connected (umap-learn: 1.0).
    pub local_connectivity: f32,
    /// Fuzzy union (1.0) vs intersection (0.0) when symmetrising (umap-learn: 1.0).
    pub set_op_mix_ratio: f32,
    /// Seed for the initialisation noise and the negative samples.
    pub seed: u64,
}

impl Default for UmapParams {
    fn default() -> Self {
        (&FitParams::default()).into()
    }
}

impl From<&FitParams> for UmapParams {
    fn from(p: &FitParams) -> Self {
        Self {
            n_components: p.n_components,
            min_dist: p.min_dist,
            spread: p.spread,
            n_epochs: p.n_epochs,
            negative_sample_rate: p.negative_sample_rate,
            learning_rate: 1.0,
            local_connectivity: 1.0,
            set_op_mix_ratio: 1.0,
            seed: p.seed,
        }
    }
}

impl UmapParams {
    fn check(&self) -> Result<()> {
        if self.n_components == 0 {
            return Err(EngineError::param("n_components", "must be at least 1"));
        }
        if self.n_epochs == Some(0) {
            return Err(EngineError::param("n_epochs", "must be at least 1"));
        }
        if self.negative_sample_rate == 0 {
            return Err(EngineError::param("negative_sample_rate", "must be at least 1"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(EngineError::param("learning_rate", "must be a finite number > 0"));
        }
        if !(self.local_connectivity >= 0.0 && self.local_connectivity.is_finite()) {
            return Err(EngineError::param("local_connectivity", "must be a finite number ≥ 0"));
        }
        if !(0.0..=1.0).contains(&self.set_op_mix_ratio) {
            return Err(EngineError::param("set_op_mix_ratio", "must be within [0, 1]"));
        }
        Ok(())
    }
}

/// Embeds the points of `graph` into `n_components` dimensions.
///
/// A graph with several connected components is laid out per component around seeded
/// directions; [`fit_with_data`] uses the input vectors to place the components instead.
pub fn fit(graph: &KnnGraph, params: &UmapParams) -> Result<Matrix> {
    fit_with_data(graph, None, params)
}

/// [`fit`], with the vectors the graph was built from: when the graph falls apart into more
/// than `2 · n_components` components, their centroids place them relative to each other
/// (umap-learn's `component_layout`).
pub fn fit_with_data(
    graph: &KnnGraph,
    data: Option<&Matrix>,
    params: &UmapParams,
) -> Result<Matrix> {
    fit_with_data_cancellable(graph, data, params, &Cancel::never())
}

/// [`fit_with_data`] that stops with [`EngineError::Cancelled`] soon after `cancel` is
/// cancelled: it is checked after the fuzzy graph, inside the spectral initialisation and
/// before every SGD epoch. Not cancelled, the result is exactly [`fit_with_data`]'s.
pub fn fit_with_data_cancellable(
    graph: &KnnGraph,
    data: Option<&Matrix>,
    params: &UmapParams,
    cancel: &Cancel,
) -> Result<Matrix> {
    params.check()?;
    let (a, b) = find_ab_params(params.spread, params.min_dist)?;
    graph.validate()?;
    let n = graph.n();
    let dim = params.n_components;
    if n == 0 {
        return Err(EngineError::input("UMAP needs at least one point, got an empty kNN graph"));
    }
    if let Some(x) = data {
        if x.rows() != n {
            return Err(EngineError::input(format!(
                "UMAP got {} vectors for a kNN graph of {n} points",
                x.rows()
            )));
        }
    }
    if n == 1 {
        // umap-learn returns the origin for a single point.
        return Ok(Matrix::zeros(1, dim));
    }
    let _span = tracing::debug_span!("umap", n, k = graph.k, dim).entered();

    let started = std::time::Instant::now();
    let mut fuzzy_graph = fuzzy::fuzzy_simplicial_set(
        graph,
        params.local_connectivity as f64,
        params.set_op_mix_ratio as f64,
    );
    let default_epochs = if n <= 10_000 { 500 } else { 200 };
    let n_epochs = params.n_epochs.unwrap_or(default_epochs);
    let prune_epochs = if n_epochs > 10 { n_epochs } else { default_epochs };
    let w_max = fuzzy_graph.max_weight();
    fuzzy_graph.prune_below(w_max / prune_epochs as f32);

    cancel.check()?;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let t_fuzzy = started.elapsed();
    let init = spectral::spectral_layout(&fuzzy_graph, data, dim, &mut rng, cancel)?;
    let t_init = started.elapsed() - t_fuzzy;
    let max_abs = init.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let expansion = if max_abs > 0.0 { 10.0 / max_abs } else { 1.0 };
    let noise = Normal::new(0.0, 1e-4).map_err(|e| EngineError::input(e.to_string()))?;
    let mut embedding: Vec<f32> =
        init.iter().map(|v| (v * expansion) as f32 + noise.sample(&mut rng) as f32).collect();
    // Min-max scale every dimension to [0, 10].
    for d in 0..dim {
        let (lo, hi) = (0..n).fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), i| {
            let v = embedding[i * dim + d];
            (lo.min(v), hi.max(v))
        });
        let range = hi - lo;
        for i in 0..n {
            let v = &mut embedding[i * dim + d];
            *v = if range > 0.0 { 10.0 * (*v - lo) / range } else { 0.0 };
        }
    }

    // Edges in CSR (= umap-learn's COO) order; epochs_per_sample = w_max / w.
    let w_max = fuzzy_graph.max_weight() as f64;
    let edges = sgd::Edges {
        epochs_per_sample: fuzzy_graph.weights.iter().map(|&w| w_max / w as f64).collect(),
        indptr: fuzzy_graph.indptr,
        tail: fuzzy_graph.indices,
    };
    let samples: f64 = edges.epochs_per_sample.iter().map(|e| n_epochs as f64 / e).sum();
    tracing::debug!(edges = edges.tail.len(), samples, n_epochs, a, b, "UMAP layout");
    let sgd_params = sgd::SgdParams {
        a,
        b,
        gamma: 1.0,
        initial_alpha: params.learning_rate,
        negative_sample_rate: params.negative_sample_rate as f64,
        n_epochs,
        seed: params.seed,
    };
    let t_before_sgd = started.elapsed();
    sgd::optimize_layout(&mut embedding, dim, &edges, &sgd_params, cancel)?;
    tracing::debug!(
        fuzzy_s = t_fuzzy.as_secs_f64(),
        spectral_s = t_init.as_secs_f64(),
        sgd_s = (started.elapsed() - t_before_sgd).as_secs_f64(),
        "UMAP stage times"
    );
    if embedding.iter().any(|v| !v.is_finite()) {
        return Err(EngineError::input("UMAP layout diverged (non-finite coordinates)"));
    }
    Matrix::new(embedding, n, dim)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests;
