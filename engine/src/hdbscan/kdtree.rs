//! A small KD-tree for exact k-nearest-neighbour distances in low dimensions (UMAP's 5-d output),
//! used for HDBSCAN's core distances. Brute force takes over in high dimensions, where a KD-tree
//! prunes nothing.

use rayon::prelude::*;

/// Points per leaf: small enough to prune well, large enough to keep the tree shallow.
const LEAF_SIZE: usize = 16;
pub(super) const NO_CHILD: u32 = u32::MAX;

pub(super) struct Node {
    /// Range of `order` (and of `sorted`) covered by this node.
    pub start: u32,
    pub end: u32,
    /// Children, or [`NO_CHILD`] for a leaf. Nodes are stored in pre-order (parent first).
    pub left: u32,
    pub right: u32,
}

impl Node {
    pub(super) fn is_leaf(&self) -> bool {
        self.left == NO_CHILD
    }
}

/// KD-tree over row-major `f64` points. Bounding boxes are stored per node for pruning.
pub(crate) struct KdTree<'a> {
    data: &'a [f64],
    pub(super) dim: usize,
    /// Point index at each tree position.
    pub(super) order: Vec<u32>,
    /// The points' coordinates in tree order (leaf scans read memory sequentially).
    pub(super) sorted: Vec<f64>,
    pub(super) nodes: Vec<Node>,
    /// `2 * dim` values per node: lower corner then upper corner.
    boxes: Vec<f64>,
}

impl<'a> KdTree<'a> {
    /// Builds the tree (median split on the widest dimension of each node's bounding box).
    pub(crate) fn build(data: &'a [f64], dim: usize) -> Self {
        let n = data.len().checked_div(dim).unwrap_or(0);
        let mut tree = KdTree {
            data,
            dim,
            order: (0..n as u32).collect(),
            sorted: Vec::new(),
            nodes: Vec::new(),
            boxes: Vec::new(),
        };
        if n > 0 {
            tree.build_node(0, n);
        }
        tree.sorted = tree
            .order
            .iter()
            .flat_map(|&i| &data[i as usize * dim..(i as usize + 1) * dim])
            .copied()
            .collect();
        tree
    }

    /// Number of points.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Coordinates of point `i` (input order).
    #[inline]
    pub(super) fn point(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Coordinates of the point at tree position `pos`.
    #[inline]
    pub(super) fn at(&self, pos: usize) -> &[f64] {
        &self.sorted[pos * self.dim..(pos + 1) * self.dim]
    }

    fn build_node(&mut self, start: usize, end: usize) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            start: start as u32,
            end: end as u32,
            left: NO_CHILD,
            right: NO_CHILD,
        });
        let dim = self.dim;
        let mut lo = vec![f64::INFINITY; dim];
        let mut hi = vec![f64::NEG_INFINITY; dim];
        for &p in &self.order[start..end] {
            let row = &self.data[p as usize * dim..(p as usize + 1) * dim];
            for d in 0..dim {
                lo[d] = lo[d].min(row[d]);
                hi[d] = hi[d].max(row[d]);
            }
        }
        self.boxes.extend_from_slice(&lo);
        self.boxes.extend_from_slice(&hi);
        if end - start <= LEAF_SIZE {
            return id;
        }
        let (split_dim, spread) = (0..dim)
            .map(|d| (d, hi[d] - lo[d]))
            .fold((0, f64::NEG_INFINITY), |best, cur| if cur.1 > best.1 { cur } else { best });
        if spread <= 0.0 {
            // All points identical: nothing to split on.
            return id;
        }
        let mid = start + (end - start) / 2;
        let data = self.data;
        self.order[start..end].select_nth_unstable_by(mid - start, |&a, &b| {
            let va = data[a as usize * dim + split_dim];
            let vb = data[b as usize * dim + split_dim];
            va.total_cmp(&vb).then(a.cmp(&b))
        });
        let left = self.build_node(start, mid);
        let right = self.build_node(mid, end);
        self.nodes[id as usize].left = left;
        self.nodes[id as usize].right = right;
        id
    }

    /// Squared distance from `q` to the bounding box of node `id`.
    #[inline]
    pub(super) fn box_dist2(&self, id: u32, q: &[f64]) -> f64 {
        let b = &self.boxes[id as usize * 2 * self.dim..(id as usize + 1) * 2 * self.dim];
        let (lo, hi) = b.split_at(self.dim);
        let mut s = 0.0;
        for d in 0..self.dim {
            let v = q[d];
            let diff = if v < lo[d] {
                lo[d] - v
            } else if v > hi[d] {
                v - hi[d]
            } else {
                0.0
            };
            s += diff * diff;
        }
        s
    }

    /// The `k` nearest points to `q` as `(squared distance, point)`, ascending by distance
    /// then index (the point itself included when `q` is in the tree).
    pub(crate) fn knn(&self, q: &[f64], k: usize) -> Vec<(f64, u32)> {
        let mut best: Vec<(f64, u32)> = Vec::with_capacity(k + 1);
        if k == 0 || self.nodes.is_empty() {
            return best;
        }
        self.search(0, q, k, &mut best);
        best
    }

    fn search(&self, id: u32, q: &[f64], k: usize, best: &mut Vec<(f64, u32)>) {
        let node = &self.nodes[id as usize];
        if node.is_leaf() {
            for pos in node.start as usize..node.end as usize {
                let cand = (sq_dist(self.at(pos), q), self.order[pos]);
                if best.len() < k || cand < best[best.len() - 1] {
                    let at = best.partition_point(|&v| v < cand);
                    best.insert(at, cand);
                    best.truncate(k);
                }
            }
            return;
        }
        let (dl, dr) = (self.box_dist2(node.left, q), self.box_dist2(node.right, q));
        let (first, d_first, second, d_second) = if dl <= dr {
            (node.left, dl, node.right, dr)
        } else {
            (node.right, dr, node.left, dl)
        };
        // `<=`: a point at the same distance with a smaller index may still improve the list.
        if best.len() < k || d_first <= best[best.len() - 1].0 {
            self.search(first, q, k, best);
        }
        if best.len() < k || d_second <= best[best.len() - 1].0 {
            self.search(second, q, k, best);
        }
    }
}

/// Squared Euclidean distance.
#[inline]
pub(crate) fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    if a.len() <= super::KD_TREE_MAX_DIM {
        return a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    }
    // High dimensions (brute-force paths only): four independent partial sums, so the loop is
    // not one chain of dependent additions (and vectorises).
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
    let mut acc = [0f64; 4];
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// Distance of every point to its `k`-th nearest point, counting the point itself as the 0-th
/// (so `k = min_samples` gives hdbscan's core distance: the `min_samples`-th neighbour not
/// counting self). `k` must be `< n`. Brute force (for the high-dimensional inputs a KD-tree
/// does not prune); low dimensions use [`tree_knn`].
pub(crate) fn kth_neighbour_distances(data: &[f64], dim: usize, k: usize) -> Vec<f64> {
    let n = data.len().checked_div(dim).unwrap_or(0);
    if n == 0 {
        return Vec::new();
    }
    (0..n)
        .into_par_iter()
        .map_init(
            || Vec::with_capacity(n),
            |dists: &mut Vec<f64>, i| {
                dists.clear();
                let a = &data[i * dim..(i + 1) * dim];
                dists.extend((0..n).map(|j| sq_dist(a, &data[j * dim..(j + 1) * dim])));
                let k = k.min(n - 1);
                let (_, kth, _) = dists.select_nth_unstable_by(k, f64::total_cmp);
                kth.sqrt()
            },
        )
        .collect()
}

/// The `k + 1` nearest points of every point (itself included, first unless it has exact
/// duplicates with a smaller index) from the tree: `(distance, neighbours)`, where `distance[i]`
/// is the distance to the `k`-th (hdbscan's core distance for `k = min_samples`) and
/// `neighbours` holds `k + 1` indices per point, row-major. `k` must be `< n`.
pub(crate) fn tree_knn(tree: &KdTree<'_>, k: usize) -> (Vec<f64>, Vec<u32>) {
    let n = tree.len();
    let dim = tree.dim;
    let rows: Vec<(f64, Vec<u32>)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let found = tree.knn(&tree.data[i * dim..(i + 1) * dim], k + 1);
            let kth = found.get(k).map_or(0.0, |v| v.0.sqrt());
            (kth, found.into_iter().map(|v| v.1).collect())
        })
        .collect();
    let mut core = Vec::with_capacity(n);
    let mut neighbours = Vec::with_capacity(n * (k + 1));
    for (c, nb) in rows {
        core.push(c);
        neighbours.extend(nb);
    }
    (core, neighbours)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn kd_tree_matches_brute_force() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (n, dim) = (1500, 5);
        let data: Vec<f64> = (0..n * dim).map(|_| rng.random::<f64>()).collect();
        for k in [1, 5, 10] {
            let tree = tree_knn(&KdTree::build(&data, dim), k).0;
            let brute = kth_neighbour_distances(&data, dim, k);
            for i in (0..n).step_by(97) {
                assert!((tree[i] - brute[i]).abs() < 1e-12);
                let mut d: Vec<f64> = (0..n)
                    .map(|j| sq_dist(&data[i * dim..(i + 1) * dim], &data[j * dim..(j + 1) * dim]))
                    .collect();
                d.sort_by(f64::total_cmp);
                assert!((tree[i] - d[k].sqrt()).abs() < 1e-12, "point {i}, k {k}");
            }
        }
    }

    #[test]
    fn duplicates_give_zero_distance() {
        let data = vec![1.0; 300 * 3];
        let (d, nb) = tree_knn(&KdTree::build(&data, 3), 5);
        assert!(d.iter().all(|&v| v == 0.0));
        // Ties are broken by index.
        assert_eq!(&nb[..6], &[0, 1, 2, 3, 4, 5]);
    }
}
