//! UMAP, faithful to umap-learn 0.5: fuzzy simplicial set from a kNN graph, spectral
//! initialisation and negative-sampling SGD.

use crate::error::{EngineError, Result};
use crate::knn::KnnGraph;
use crate::matrix::Matrix;
use crate::params::FitParams;

/// UMAP parameters (umap-learn's defaults, BERTopic's overrides).
#[derive(Debug, Clone, PartialEq)]
pub struct UmapParams {
    pub n_components: usize,
    pub min_dist: f32,
    pub spread: f32,
    pub n_epochs: Option<usize>,
    pub negative_sample_rate: usize,
    pub learning_rate: f32,
    pub local_connectivity: f32,
    pub set_op_mix_ratio: f32,
    pub seed: u64,
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

/// Embeds the points of `graph` into `n_components` dimensions.
pub fn fit(graph: &KnnGraph, params: &UmapParams) -> Result<Matrix> {
    let _ = (graph, params);
    Err(EngineError::input("umap: not implemented yet"))
}
