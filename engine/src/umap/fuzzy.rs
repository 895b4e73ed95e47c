//! The fuzzy simplicial set of umap-learn's `fuzzy_simplicial_set`: per-point `ρ`, `σ` from
//! `smooth_knn_dist`, membership strengths, and the fuzzy union `W + Wᵀ − W∘Wᵀ`.

use rayon::prelude::*;

use crate::knn::KnnGraph;

/// umap-learn's `SMOOTH_K_TOLERANCE`.
const SMOOTH_K_TOLERANCE: f64 = 1e-5;
/// umap-learn's `MIN_K_DIST_SCALE`.
const MIN_K_DIST_SCALE: f64 = 1e-3;

/// A symmetric sparse graph in CSR form (each row sorted by column, no explicit zeros).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Graph {
    pub n: usize,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub weights: Vec<f32>,
}

impl Graph {
    /// Number of stored (directed) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Largest weight (0 for an empty graph).
    pub fn max_weight(&self) -> f32 {
        self.weights.iter().copied().fold(0.0, f32::max)
    }

    /// Drops entries whose weight is below `threshold`.
    pub fn prune_below(&mut self, threshold: f32) {
        let mut indptr = Vec::with_capacity(self.n + 1);
        let mut indices = Vec::with_capacity(self.nnz());
        let mut weights = Vec::with_capacity(self.nnz());
        indptr.push(0);
        for i in 0..self.n {
            for p in self.indptr[i]..self.indptr[i + 1] {
                if self.weights[p] >= threshold && self.weights[p] > 0.0 {
                    indices.push(self.indices[p]);
                    weights.push(self.weights[p]);
                }
            }
            indptr.push(indices.len());
        }
        self.indptr = indptr;
        self.indices = indices;
        self.weights = weights;
    }
}

/// `smooth_knn_dist` of umap-learn 0.5: per point the distance `ρ` to the nearest strictly
/// positive neighbour (for `local_connectivity`) and the bandwidth `σ` such that
/// `Σ_{j≥1} exp(−max(0, d_j − ρ)/σ) = log₂(k)`, found by 64 bisection steps, with umap-learn's
/// floors. Returns `(sigmas, rhos)`.
pub(crate) fn smooth_knn_dist(graph: &KnnGraph, local_connectivity: f64) -> (Vec<f64>, Vec<f64>) {
    let k = graph.k;
    let n = graph.n();
    let target = (k as f64).log2();
    let mean_distances =
        graph.distances.iter().map(|&d| d as f64).sum::<f64>() / (graph.distances.len() as f64);
    (0..n)
        .into_par_iter()
        .map(|i| {
            let dists = graph.neighbor_distances(i);
            let non_zero: Vec<f64> =
                dists.iter().filter(|&&d| d > 0.0).map(|&d| d as f64).collect();
            let mut rho = 0.0;
            if non_zero.len() as f64 >= local_connectivity {
                let index = local_connectivity.floor() as usize;
                let interpolation = local_connectivity - index as f64;
                if index > 0 {
                    rho = non_zero[index - 1];
                    if interpolation > SMOOTH_K_TOLERANCE {
                        rho += interpolation * (non_zero[index] - non_zero[index - 1]);
                    }
                } else {
                    rho = interpolation * non_zero[0];
                }
            } else if let Some(max) = non_zero.iter().copied().reduce(f64::max) {
                rho = max;
            }

            let (mut lo, mut hi, mut mid) = (0.0f64, f64::INFINITY, 1.0f64);
            for _ in 0..64 {
                let psum: f64 = dists[1..]
                    .iter()
                    .map(|&d| {
                        let d = d as f64 - rho;
                        if d > 0.0 {
                            (-(d / mid)).exp()
                        } else {
                            1.0
                        }
                    })
                    .sum();
                if (psum - target).abs() < SMOOTH_K_TOLERANCE {
                    break;
                }
                if psum > target {
                    hi = mid;
                    mid = (lo + hi) / 2.0;
                } else {
                    lo = mid;
                    if hi == f64::INFINITY {
                        mid *= 2.0;
                    } else {
                        mid = (lo + hi) / 2.0;
                    }
                }
            }
            let mut sigma = mid;
            if rho > 0.0 {
                let mean_i = dists.iter().map(|&d| d as f64).sum::<f64>() / k as f64;
                sigma = sigma.max(MIN_K_DIST_SCALE * mean_i);
            } else {
                sigma = sigma.max(MIN_K_DIST_SCALE * mean_distances);
            }
            (sigma, rho)
        })
        .unzip()
}

/// The fuzzy simplicial set: membership strengths `w_ij` (0 for the point itself, 1 within
/// `ρ_i`, else `exp(−(d_ij − ρ_i)/σ_i)`) symmetrised by the fuzzy union
/// `mix·(W + Wᵀ − W∘Wᵀ) + (1 − mix)·(W∘Wᵀ)`.
pub(crate) fn fuzzy_simplicial_set(
    graph: &KnnGraph,
    local_connectivity: f64,
    set_op_mix_ratio: f64,
) -> Graph {
    let n = graph.n();
    let k = graph.k;
    let (sigmas, rhos) = smooth_knn_dist(graph, local_connectivity);

    // Directed entries (row, col, value, transposed?) for W and Wᵀ, merged after sorting.
    let mut entries: Vec<(u32, u32, f32, bool)> = Vec::with_capacity(2 * n * k);
    for i in 0..n {
        for (&j, &d) in graph.neighbors(i).iter().zip(graph.neighbor_distances(i)) {
            let val = if j as usize == i {
                0.0
            } else if d as f64 - rhos[i] <= 0.0 || sigmas[i] == 0.0 {
                1.0
            } else {
                (-((d as f64 - rhos[i]) / sigmas[i])).exp() as f32
            };
            if val > 0.0 {
                entries.push((i as u32, j, val, false));
                entries.push((j, i as u32, val, true));
            }
        }
    }
    entries.par_sort_unstable_by_key(|e| (e.0, e.1, e.3));

    let mut indptr = vec![0usize; n + 1];
    let mut indices = Vec::with_capacity(entries.len());
    let mut weights = Vec::with_capacity(entries.len());
    let mut p = 0;
    while p < entries.len() {
        let (row, col) = (entries[p].0, entries[p].1);
        let (mut w, mut wt) = (0.0f64, 0.0f64);
        while p < entries.len() && entries[p].0 == row && entries[p].1 == col {
            // A kNN row lists each neighbour once; summing mirrors scipy's duplicate handling.
            if entries[p].3 {
                wt += entries[p].2 as f64;
            } else {
                w += entries[p].2 as f64;
            }
            p += 1;
        }
        let prod = w * wt;
        let val = set_op_mix_ratio * (w + wt - prod) + (1.0 - set_op_mix_ratio) * prod;
        if val > 0.0 {
            indices.push(col);
            weights.push(val as f32);
            indptr[row as usize + 1] += 1;
        }
    }
    for i in 0..n {
        indptr[i + 1] += indptr[i];
    }
    Graph { n, indptr, indices, weights }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests {
    use super::*;

    #[test]
    fn sigma_solves_the_target_sum() {
        let graph = KnnGraph {
            k: 4,
            indices: vec![0, 1, 2, 3, 1, 0, 2, 3, 2, 1, 0, 3, 3, 2, 1, 0],
            distances: vec![
                0.0, 0.1, 0.3, 0.6, 0.0, 0.1, 0.2, 0.5, 0.0, 0.2, 0.3, 0.4, 0.0, 0.4, 0.5, 0.6,
            ],
        };
        let (sigmas, rhos) = smooth_knn_dist(&graph, 1.0);
        assert!((rhos[0] - 0.1).abs() < 1e-7);
        assert!((rhos[3] - 0.4).abs() < 1e-7);
        for i in 0..4 {
            let psum: f64 = graph.neighbor_distances(i)[1..]
                .iter()
                .map(|&d| (-((d as f64 - rhos[i]).max(0.0) / sigmas[i])).exp())
                .sum();
            assert!((psum - 2.0).abs() < 1e-4, "row {i}: {psum}");
        }
        let g = fuzzy_simplicial_set(&graph, 1.0, 1.0);
        // Symmetric, no self loops, nearest neighbour at full strength.
        for i in 0..4 {
            for p in g.indptr[i]..g.indptr[i + 1] {
                let j = g.indices[p] as usize;
                assert_ne!(i, j);
                let back = (g.indptr[j]..g.indptr[j + 1]).find(|&q| g.indices[q] as usize == i);
                assert_eq!(g.weights[back.unwrap()], g.weights[p]);
            }
        }
        let w01 = (g.indptr[0]..g.indptr[1]).find(|&q| g.indices[q] == 1).unwrap();
        assert!((g.weights[w01] - 1.0).abs() < 1e-6);
    }
}
