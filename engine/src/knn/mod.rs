//! Cosine k-nearest neighbours: exact (tiled matrix products on the candle device) and
//! approximate (NN-descent) for large inputs.
//!
//! Both return the same [`KnnGraph`] layout that umap-learn's `nearest_neighbors` produces:
//! every row starts with the point itself at distance 0, then its `k - 1` nearest other points
//! by cosine distance `1 - cos`, ascending (ties broken by the lower index).

use candle_core::Device;

use crate::cancel::Cancel;
use crate::error::{EngineError, Result};
use crate::matrix::Matrix;
use crate::params::KnnMethod;

mod exact;
mod nndescent;

/// A kNN graph: row `i` holds the `k` nearest points of `i` (itself first, at distance 0),
/// ascending by cosine distance `1 - cos`.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnGraph {
    /// Neighbours per point.
    pub k: usize,
    /// `n * k` neighbour indices, row-major.
    pub indices: Vec<u32>,
    /// `n * k` cosine distances, row-major.
    pub distances: Vec<f32>,
}

impl KnnGraph {
    /// Number of points.
    pub fn n(&self) -> usize {
        self.indices.len().checked_div(self.k).unwrap_or(0)
    }

    /// Neighbour indices of point `i` (itself first). Panics if `i >= n` (internal invariant).
    pub fn neighbors(&self, i: usize) -> &[u32] {
        &self.indices[i * self.k..(i + 1) * self.k]
    }

    /// Distances of point `i` to its neighbours, aligned with [`KnnGraph::neighbors`].
    pub fn neighbor_distances(&self, i: usize) -> &[f32] {
        &self.distances[i * self.k..(i + 1) * self.k]
    }

    /// Checks the layout invariants (lengths, index range, finite non-negative distances) so
    /// that a graph built by hand or read from elsewhere is rejected with a clear error.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(EngineError::input("kNN graph has k = 0"));
        }
        if self.indices.len() != self.distances.len() || self.indices.len() % self.k != 0 {
            return Err(EngineError::input(format!(
                "kNN graph arrays have lengths {} (indices) and {} (distances), expected n × k \
                 with k = {}",
                self.indices.len(),
                self.distances.len(),
                self.k
            )));
        }
        let n = self.n();
        if let Some(p) = self.indices.iter().position(|&j| j as usize >= n) {
            return Err(EngineError::input(format!(
                "kNN graph row {} refers to point {} but there are only {n} points",
                p / self.k,
                self.indices[p]
            )));
        }
        if let Some(p) = self.distances.iter().position(|d| !(d.is_finite() && *d >= 0.0)) {
            return Err(EngineError::input(format!(
                "kNN graph row {} has distance {} (must be finite and ≥ 0)",
                p / self.k,
                self.distances[p]
            )));
        }
        Ok(())
    }
}

/// kNN with the chosen method (`Auto`: exact up to `exact_max` points, else approximate).
///
/// `k` counts the point itself, so `k - 1` other neighbours are found; it must satisfy
/// `1 ≤ k ≤ n` (callers with tiny inputs clamp `k` to `n` first). Rows need not be normalised.
/// Errors on empty input, zero columns, NaN/infinite values and an out-of-range `k`.
pub fn knn(
    data: &Matrix,
    k: usize,
    method: KnnMethod,
    exact_max: usize,
    seed: u64,
    device: &Device,
) -> Result<KnnGraph> {
    knn_cancellable(data, k, method, exact_max, seed, device, &Cancel::never())
}

/// [`knn`] that stops with [`EngineError::Cancelled`] soon after `cancel` is cancelled: it is
/// checked before every exact tile, while building the random-projection trees and before
/// every NN-descent iteration and join block. Not cancelled, the graph is exactly [`knn`]'s.
pub fn knn_cancellable(
    data: &Matrix,
    k: usize,
    method: KnnMethod,
    exact_max: usize,
    seed: u64,
    device: &Device,
    cancel: &Cancel,
) -> Result<KnnGraph> {
    let n = data.rows();
    if n == 0 {
        return Err(EngineError::input("kNN needs at least one point, got an empty matrix"));
    }
    if data.cols() == 0 {
        return Err(EngineError::input("kNN needs vectors with at least one dimension"));
    }
    data.check_finite()?;
    if k == 0 || k > n {
        return Err(EngineError::param(
            "n_neighbors",
            format!(
                "k = {k} neighbours (the point itself included) needs 1 ≤ k ≤ {n} = the number \
                 of points"
            ),
        ));
    }
    let use_exact = match method {
        KnnMethod::Exact => true,
        KnnMethod::Approximate => false,
        KnnMethod::Auto => n <= exact_max,
    };
    let _span = tracing::debug_span!("knn", n, k, exact = use_exact).entered();
    if use_exact || k == 1 {
        exact::exact(data, k, device, cancel)
    } else {
        nndescent::nndescent(data, k, seed, cancel)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests;
