//! Cosine k-nearest neighbours: exact (tiled matrix products on the candle device) and
//! approximate (NN-descent) for large inputs.

use candle_core::Device;

use crate::error::{EngineError, Result};
use crate::matrix::Matrix;
use crate::params::KnnMethod;

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
}

/// kNN with the chosen method (`Auto`: exact up to `exact_max` points, else approximate).
pub fn knn(
    data: &Matrix,
    k: usize,
    method: KnnMethod,
    exact_max: usize,
    seed: u64,
    device: &Device,
) -> Result<KnnGraph> {
    let _ = (data, k, method, exact_max, seed, device);
    Err(EngineError::input("knn: not implemented yet"))
}
