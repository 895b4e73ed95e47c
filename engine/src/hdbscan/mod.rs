//! HDBSCAN (Campello et al. 2013; McInnes' `hdbscan` package semantics): core distances, mutual
//! reachability MST, condensed tree, excess-of-mass selection, outliers = -1.
//!
//! Implemented here rather than with the `hdbscan` crate: that crate counts the point itself in
//! its core distance (scikit-learn's convention, i.e. Python hdbscan with `min_samples − 1`) and
//! takes `Vec<Vec<T>>` input; BERTopic parity needs hdbscan's exact conventions
//! (`../../shared/docs/BERTOPIC_NOTES.md` §8):
//! 1. `m_s = min_samples` (default `min_cluster_size`), clipped to `[1, n − 1]`;
//!    core(x) = distance to the `m_s`-th neighbour **not counting x** (KD-tree in low dimensions).
//! 2. `d_mr(a, b) = max(core a, core b, ‖a − b‖)`; exact MST, unique under the edge order
//!    `(weight, smaller end, larger end)`: Borůvka over the KD-tree in low dimensions, Prim's
//!    algorithm in high dimensions (`mst.rs`).
//! 3. Single-linkage tree, condensed with `min_cluster_size`, λ = 1/d.
//! 4. EOM: bottom-up, a cluster is replaced by its children when their summed stability is
//!    strictly greater; the root only with `allow_single_cluster`.
//! 5. Labels `0..k−1` follow the ascending condensed ids; prob = min(λ_p, λ_max)/λ_max.

mod kdtree;
mod mst;
mod tree;

use crate::cancel::Cancel;
use crate::error::{EngineError, Result};
use crate::matrix::Matrix;

/// Up to this dimension a KD-tree prunes well (core distances and Borůvka MST); above it,
/// brute-force core distances and Prim's MST.
pub(crate) const KD_TREE_MAX_DIM: usize = 16;
/// Below this many points brute force is as fast as building a tree.
const KD_TREE_MIN_POINTS: usize = 256;

/// HDBSCAN parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HdbscanParams {
    /// Smallest cluster (BERTopic's `min_topic_size`, default 10); at least 2.
    pub min_cluster_size: usize,
    /// `None` = `min_cluster_size`.
    pub min_samples: Option<usize>,
    /// Allow the root (all points) to be selected as the one cluster (default false).
    pub allow_single_cluster: bool,
}

impl Default for HdbscanParams {
    fn default() -> Self {
        Self { min_cluster_size: 10, min_samples: None, allow_single_cluster: false }
    }
}

/// Cluster labels (`-1` = noise) and membership strengths per point.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// Cluster per point, `0..n_clusters`, or `-1` for noise.
    pub labels: Vec<i64>,
    /// Membership strength in `[0, 1]` (0 for noise), as hdbscan's `probabilities_`.
    pub probabilities: Vec<f32>,
}

impl Clustering {
    /// Number of clusters (noise not counted).
    pub fn n_clusters(&self) -> usize {
        self.labels.iter().copied().max().map_or(0, |m| (m + 1).max(0) as usize)
    }
}

/// Clusters the rows of `data` (Euclidean). Fewer than 2 points, or fewer points than
/// `min_cluster_size`, give all noise (a valid answer, as in hdbscan).
pub fn fit(data: &Matrix, params: &HdbscanParams) -> Result<Clustering> {
    fit_cancellable(data, params, &Cancel::never())
}

/// [`fit`] that stops with [`EngineError::Cancelled`] soon after `cancel` is cancelled: it is
/// checked after the core distances, in every MST round (Borůvka) or step (Prim) and before the
/// tree is condensed. Not cancelled, the clustering is exactly [`fit`]'s.
pub fn fit_cancellable(
    data: &Matrix,
    params: &HdbscanParams,
    cancel: &Cancel,
) -> Result<Clustering> {
    if params.min_cluster_size < 2 {
        return Err(EngineError::param("min_cluster_size", "must be at least 2"));
    }
    if params.min_samples == Some(0) {
        return Err(EngineError::param("min_samples", "must be at least 1"));
    }
    data.check_finite()?;
    let n = data.rows();
    let dim = data.cols();
    let noise = || Clustering { labels: vec![-1; n], probabilities: vec![0.0; n] };
    if n < 2 || dim == 0 {
        return Ok(noise());
    }
    let points: Vec<f64> = data.as_slice().iter().map(|&v| f64::from(v)).collect();
    let min_samples = params.min_samples.unwrap_or(params.min_cluster_size).clamp(1, n - 1);

    let edges = if dim <= KD_TREE_MAX_DIM && n > KD_TREE_MIN_POINTS {
        let tree = kdtree::KdTree::build(&points, dim);
        let (core, neighbours) = {
            let _span = tracing::debug_span!("core_distances", n, dim, min_samples).entered();
            kdtree::tree_knn(&tree, min_samples)
        };
        cancel.check()?;
        let _span = tracing::debug_span!("mst", n, algorithm = "boruvka").entered();
        mst::boruvka_mst(&tree, &core, &neighbours, min_samples + 1, cancel)?
    } else {
        let core = {
            let _span = tracing::debug_span!("core_distances", n, dim, min_samples).entered();
            kdtree::kth_neighbour_distances(&points, dim, min_samples)
        };
        cancel.check()?;
        let _span = tracing::debug_span!("mst", n, algorithm = "prim").entered();
        mst::mutual_reachability_mst(&points, dim, &core, cancel)?
    };
    cancel.check()?;
    let merges = tree::single_linkage(n, edges);
    let rows = tree::condense(&merges, n, params.min_cluster_size);
    let sel = tree::select_eom(&rows, n, params.allow_single_cluster);
    Ok(Clustering { labels: sel.labels, probabilities: sel.probabilities })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal, Uniform};

    /// `k` Gaussian blobs of `per` points in `dim` dimensions, centres 10 apart, sd 0.5.
    fn blobs(k: usize, per: usize, dim: usize, seed: u64) -> (Matrix, Vec<usize>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0f32, 0.5).unwrap();
        let mut data = Vec::new();
        let mut truth = Vec::new();
        for c in 0..k {
            for _ in 0..per {
                for d in 0..dim {
                    let centre = if d == c % dim { 10.0 * (1 + c / dim) as f32 } else { 0.0 };
                    data.push(centre + normal.sample(&mut rng));
                }
                truth.push(c);
            }
        }
        (Matrix::new(data, k * per, dim).unwrap(), truth)
    }

    #[test]
    fn separated_blobs_are_found_exactly() {
        let (m, truth) = blobs(4, 60, 5, 1);
        let c = fit(&m, &HdbscanParams::default()).unwrap();
        assert_eq!(c.n_clusters(), 4);
        // Same partition as the truth: every blob maps to one label, no noise inside a blob.
        for blob in 0..4 {
            let labels: Vec<i64> =
                (0..m.rows()).filter(|&i| truth[i] == blob).map(|i| c.labels[i]).collect();
            let noise = labels.iter().filter(|&&l| l == -1).count();
            assert!(noise <= 3, "blob {blob}: {noise} noise points");
            let first = labels.iter().find(|&&l| l >= 0).copied().unwrap();
            assert!(labels.iter().all(|&l| l == first || l == -1));
        }
        assert!(c.probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
    }

    #[test]
    fn uniform_noise_around_blobs_is_noise() {
        let (m, _) = blobs(3, 80, 5, 2);
        let mut rows: Vec<Vec<f32>> = m.iter_rows().map(|r| r.to_vec()).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let u = Uniform::new(-30.0f32, 60.0).unwrap();
        for _ in 0..40 {
            rows.push((0..5).map(|_| u.sample(&mut rng)).collect());
        }
        let m = Matrix::from_rows(&rows).unwrap();
        let c = fit(&m, &HdbscanParams::default()).unwrap();
        assert_eq!(c.n_clusters(), 3);
        let far_noise = c.labels[240..].iter().filter(|&&l| l == -1).count();
        assert!(far_noise >= 30, "only {far_noise} of 40 scattered points are noise");
    }

    #[test]
    fn deterministic() {
        let (m, _) = blobs(5, 50, 5, 4);
        let a = fit(&m, &HdbscanParams::default()).unwrap();
        let b = fit(&m, &HdbscanParams::default()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn degenerate_inputs_are_noise_not_panics() {
        let p = HdbscanParams::default();
        assert_eq!(fit(&Matrix::zeros(0, 5), &p).unwrap().labels, Vec::<i64>::new());
        assert_eq!(fit(&Matrix::zeros(1, 5), &p).unwrap().labels, vec![-1]);
        assert_eq!(fit(&Matrix::zeros(5, 5), &p).unwrap().labels, vec![-1; 5]);
        // All-identical points: any split is arbitrary, but the answer must be well-formed.
        let c = fit(&Matrix::zeros(50, 5), &p).unwrap();
        assert!(c.labels.iter().all(|&l| (-1..50).contains(&l)));
        assert!(c.probabilities.iter().all(|p| p.is_finite()));
        let single = HdbscanParams { allow_single_cluster: true, ..p.clone() };
        let c = fit(&Matrix::zeros(50, 5), &single).unwrap();
        assert_eq!(c.labels, vec![0; 50]);
    }

    #[test]
    fn bad_input_is_an_error() {
        let m = Matrix::new(vec![0.0, f32::NAN, 1.0, 2.0], 2, 2).unwrap();
        assert!(fit(&m, &HdbscanParams::default()).is_err());
        let p = HdbscanParams { min_cluster_size: 1, ..Default::default() };
        assert!(fit(&Matrix::zeros(4, 2), &p).is_err());
    }

    #[test]
    fn cancelled_token_stops_both_msts() {
        let cancel = Cancel::new();
        cancel.cancel();
        // KD-tree + Borůvka (5-d, > 256 points) and brute force + Prim (40-d).
        for (m, _) in [blobs(4, 80, 5, 6), blobs(6, 20, 40, 5)] {
            let p = HdbscanParams { min_cluster_size: 5, ..Default::default() };
            let never = fit_cancellable(&m, &p, &Cancel::never()).unwrap();
            assert_eq!(never, fit(&m, &p).unwrap());
            assert!(matches!(fit_cancellable(&m, &p, &cancel), Err(EngineError::Cancelled)));
        }
    }

    #[test]
    fn high_dimensional_input_uses_brute_force() {
        let (m, _) = blobs(6, 20, 40, 5);
        let p = HdbscanParams { min_cluster_size: 5, ..Default::default() };
        assert_eq!(fit(&m, &p).unwrap().n_clusters(), 6);
    }
}
