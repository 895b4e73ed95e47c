//! HDBSCAN (Campello et al. 2013; McInnes' `hdbscan` package semantics): core distances, mutual
//! reachability MST, condensed tree, excess-of-mass selection, outliers = -1.

use crate::error::{EngineError, Result};
use crate::matrix::Matrix;

/// HDBSCAN parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HdbscanParams {
    pub min_cluster_size: usize,
    /// `None` = `min_cluster_size`.
    pub min_samples: Option<usize>,
    pub allow_single_cluster: bool,
}

/// Cluster labels (`-1` = noise) and membership strengths per point.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    pub labels: Vec<i64>,
    pub probabilities: Vec<f32>,
}

/// Clusters the rows of `data` (Euclidean).
pub fn fit(data: &Matrix, params: &HdbscanParams) -> Result<Clustering> {
    let _ = (data, params);
    Err(EngineError::input("hdbscan: not implemented yet"))
}
