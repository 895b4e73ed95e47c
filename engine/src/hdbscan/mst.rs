//! Minimum spanning tree of the mutual reachability graph
//! `d_mr(a, b) = max(core[a], core[b], ‖a − b‖)`, exact:
//! - low dimensions: Borůvka over a KD-tree ([`boruvka_mst`]): every round finds each
//!   component's lightest outgoing edge by a pruned tree search per point;
//! - high dimensions (no pruning possible): Prim's algorithm on the implicit complete graph
//!   ([`mutual_reachability_mst`]), O(n²) distance evaluations and O(n) memory.
//!
//! Edges are totally ordered by `(weight, min(a, b), max(a, b))`, which makes the MST unique:
//! both algorithms return the same tree, whatever the thread count. (hdbscan's Borůvka with
//! `approx_min_span_tree=True` may be slightly non-minimal and breaks ties arbitrarily.)

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::kdtree::{sq_dist, KdTree};
use crate::cancel::Cancel;
use crate::error::Result;

/// One MST edge `(a, b, mutual reachability distance)`.
pub(crate) type Edge = (u32, u32, f64);

/// The total order on edges: weight, then the smaller end, then the larger end.
#[inline]
pub(crate) fn edge_key(e: &Edge) -> (f64, u32, u32) {
    (e.2, e.0.min(e.1), e.0.max(e.1))
}

/// Compares two edges in [`edge_key`] order.
pub(crate) fn cmp_edges(a: &Edge, b: &Edge) -> std::cmp::Ordering {
    let (ka, kb) = (edge_key(a), edge_key(b));
    ka.0.total_cmp(&kb.0).then((ka.1, ka.2).cmp(&(kb.1, kb.2)))
}

/// `a` strictly before `b` in the [`edge_key`] order (weights are never NaN).
#[inline]
fn before(a: (f64, u32, u32), b: (f64, u32, u32)) -> bool {
    a.0 < b.0 || (a.0 == b.0 && (a.1, a.2) < (b.1, b.2))
}

/// Below this many remaining points a step runs on one thread (rayon's overhead dominates).
const PAR_MIN: usize = 8192;

/// Prim's MST over `d_mr(a, b) = max(core[a], core[b], ‖a − b‖)`. Returns `n − 1` edges in the
/// order they were added (not sorted); the tree is the unique MST under [`edge_key`].
/// `cancel` is checked before every step.
pub(crate) fn mutual_reachability_mst(
    data: &[f64],
    dim: usize,
    core: &[f64],
    cancel: &Cancel,
) -> Result<Vec<Edge>> {
    let n = core.len();
    if n < 2 || dim == 0 {
        return Ok(Vec::new());
    }
    // The points not yet in the tree, kept compact (swap-remove) and with their coordinates
    // inline, so every step is one sequential scan: index, coordinates, core distance, best
    // distance to the tree so far and the tree point giving it.
    let mut state = Remaining {
        index: (1..n as u32).collect(),
        coords: data[dim..n * dim].to_vec(),
        core: core[1..].to_vec(),
        best: vec![f64::INFINITY; n - 1],
        source: vec![0; n - 1],
    };
    let mut edges = Vec::with_capacity(n - 1);
    let mut current = 0u32;
    let mut current_coords = data[..dim].to_vec();
    let mut current_core = core[0];
    let threads = rayon::current_num_threads().max(1);

    while !state.index.is_empty() {
        cancel.check()?;
        let len = state.index.len();
        let (d, next, _, pos) = if len >= PAR_MIN && threads > 1 {
            let chunk = len.div_ceil(threads);
            let cc = &current_coords;
            state
                .index
                .par_chunks(chunk)
                .zip(state.coords.par_chunks(chunk * dim))
                .zip(state.core.par_chunks(chunk))
                .zip(state.best.par_chunks_mut(chunk))
                .zip(state.source.par_chunks_mut(chunk))
                .enumerate()
                .map(|(ci, ((((idx, xs), cores), best), source))| {
                    let (d, j, s, k) =
                        scan(idx, xs, cores, best, source, dim, cc, current_core, current);
                    (d, j, s, ci * chunk + k)
                })
                .reduce(|| (f64::INFINITY, u32::MAX, u32::MAX, usize::MAX), pick)
        } else {
            scan(
                &state.index,
                &state.coords,
                &state.core,
                &mut state.best,
                &mut state.source,
                dim,
                &current_coords,
                current_core,
                current,
            )
        };
        debug_assert!(pos < len);
        edges.push((state.source[pos], next, d));
        current = next;
        current_coords.copy_from_slice(&state.coords[pos * dim..(pos + 1) * dim]);
        current_core = state.core[pos];
        state.swap_remove(pos, dim);
    }
    Ok(edges)
}

/// Points not yet in the tree (structure of arrays, coordinates row-major).
struct Remaining {
    index: Vec<u32>,
    coords: Vec<f64>,
    core: Vec<f64>,
    best: Vec<f64>,
    source: Vec<u32>,
}

impl Remaining {
    fn swap_remove(&mut self, pos: usize, dim: usize) {
        let last = self.index.len() - 1;
        if pos != last {
            self.coords.copy_within(last * dim..(last + 1) * dim, pos * dim);
        }
        self.coords.truncate(last * dim);
        self.index.swap_remove(pos);
        self.core.swap_remove(pos);
        self.best.swap_remove(pos);
        self.source.swap_remove(pos);
    }
}

/// The earlier of two candidates `(distance, point, tree end, position)` in [`edge_key`] order.
fn pick(a: (f64, u32, u32, usize), b: (f64, u32, u32, usize)) -> (f64, u32, u32, usize) {
    if a.1 == u32::MAX || (b.1 != u32::MAX && before(key(b), key(a))) {
        b
    } else {
        a
    }
}

#[inline]
fn key(c: (f64, u32, u32, usize)) -> (f64, u32, u32) {
    edge_key(&(c.1, c.2, c.0))
}

/// Relaxes one chunk of remaining points against the newly added point `current` and returns
/// the chunk's best candidate `(distance, point, tree end, position in chunk)`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn scan(
    index: &[u32],
    coords: &[f64],
    cores: &[f64],
    best: &mut [f64],
    source: &mut [u32],
    dim: usize,
    current_coords: &[f64],
    current_core: f64,
    current: u32,
) -> (f64, u32, u32, usize) {
    let mut local = (f64::INFINITY, u32::MAX, u32::MAX, usize::MAX);
    for (k, (((&j, x), &core_j), (b, s))) in index
        .iter()
        .zip(coords.chunks_exact(dim))
        .zip(cores)
        .zip(best.iter_mut().zip(source.iter_mut()))
        .enumerate()
    {
        let floor = current_core.max(core_j);
        if floor <= *b {
            let d = sq_dist(current_coords, x).sqrt().max(floor);
            if before(edge_key(&(current, j, d)), edge_key(&(*s, j, *b))) {
                *b = d;
                *s = current;
            }
        }
        let cand = (*b, j, *s, k);
        if local.1 == u32::MAX || before(key(cand), key(local)) {
            local = cand;
        }
    }
    local
}

/// Marks a KD-tree node whose points lie in more than one component.
const MIXED: u32 = u32::MAX;

/// Borůvka's MST over `d_mr` with the KD-tree `tree` (built on the same points as `core`).
/// `neighbours` holds `k` nearest neighbours per point, row-major (the ones the core distances
/// came from); they give every component a cheap first bound on its lightest outgoing edge.
/// Returns `n − 1` edges, the unique MST under [`edge_key`]. `cancel` is checked before every
/// round and before its tree searches.
pub(crate) fn boruvka_mst(
    tree: &KdTree<'_>,
    core: &[f64],
    neighbours: &[u32],
    k: usize,
    cancel: &Cancel,
) -> Result<Vec<Edge>> {
    let n = core.len();
    if n < 2 || tree.len() != n || neighbours.len() != n * k {
        return Ok(Vec::new());
    }
    let nodes = &tree.nodes;
    // Core distances in tree order, and the smallest core distance below every node (nodes are
    // stored parent first, so a reverse scan sees children before parents).
    let core_sorted: Vec<f64> = tree.order.iter().map(|&i| core[i as usize]).collect();
    let mut node_min_core = vec![f64::INFINITY; nodes.len()];
    for id in (0..nodes.len()).rev() {
        let node = &nodes[id];
        node_min_core[id] = if node.is_leaf() {
            core_sorted[node.start as usize..node.end as usize]
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
        } else {
            node_min_core[node.left as usize].min(node_min_core[node.right as usize])
        };
    }
    let mut uf = UnionFind::new(n);
    let mut edges: Vec<Edge> = Vec::with_capacity(n - 1);
    let mut comp = vec![0u32; n];
    let mut comp_sorted = vec![0u32; n];
    let mut node_comp = vec![MIXED; nodes.len()];
    let mut round = 0usize;
    while edges.len() < n - 1 {
        cancel.check()?;
        round += 1;
        for (i, c) in comp.iter_mut().enumerate() {
            *c = uf.find(i) as u32;
        }
        for (c, &i) in comp_sorted.iter_mut().zip(&tree.order) {
            *c = comp[i as usize];
        }
        for id in (0..nodes.len()).rev() {
            let node = &nodes[id];
            node_comp[id] = if node.is_leaf() {
                let pts = &comp_sorted[node.start as usize..node.end as usize];
                if pts.iter().all(|&c| c == pts[0]) {
                    pts[0]
                } else {
                    MIXED
                }
            } else {
                let (l, r) = (node_comp[node.left as usize], node_comp[node.right as usize]);
                if l == r {
                    l
                } else {
                    MIXED
                }
            };
        }
        // A first bound per component from the kNN lists (the bits of non-negative f64 values
        // order like the values, so `fetch_min` on the bits keeps the minimum).
        let bound: Vec<AtomicU64> =
            (0..n).map(|_| AtomicU64::new(f64::INFINITY.to_bits())).collect();
        (0..n).into_par_iter().for_each(|p| {
            let cp = comp[p];
            let mut best = f64::INFINITY;
            for &q in &neighbours[p * k..(p + 1) * k] {
                if comp[q as usize] != cp {
                    let d = sq_dist(tree.point(p), tree.point(q as usize))
                        .sqrt()
                        .max(core[p])
                        .max(core[q as usize]);
                    best = best.min(d);
                }
            }
            if best < f64::INFINITY {
                bound[cp as usize].fetch_min(best.to_bits(), Ordering::Relaxed);
            }
        });
        // Every point's lightest edge to another component, within its component's bound.
        cancel.check()?;
        let search = Search {
            tree,
            core_sorted: &core_sorted,
            node_min_core: &node_min_core,
            node_comp: &node_comp,
            comp_sorted: &comp_sorted,
            bound: &bound,
        };
        let found: Vec<Option<Edge>> =
            (0..n).into_par_iter().map(|pos| search.lightest_from(pos)).collect();
        // The lightest per component, then all of them (deduplicated) into the forest.
        let mut best: Vec<Option<Edge>> = vec![None; n];
        for e in found.into_iter().flatten() {
            let c = comp[e.0 as usize] as usize;
            if best[c].is_none_or(|b| before(edge_key(&e), edge_key(&b))) {
                best[c] = Some(e);
            }
        }
        let mut chosen: Vec<Edge> = best.into_iter().flatten().collect();
        if chosen.is_empty() {
            // Cannot happen for finite data (the graph is complete); never loop forever.
            tracing::warn!(round, "Borůvka found no outgoing edge; MST incomplete");
            break;
        }
        chosen.sort_by(cmp_edges);
        for e in chosen {
            if uf.union(e.0 as usize, e.1 as usize) {
                edges.push(e);
            }
        }
    }
    tracing::debug!(rounds = round, "Borůvka MST");
    Ok(edges)
}

/// One Borůvka round's read-only state for the per-point searches.
struct Search<'s, 't> {
    tree: &'s KdTree<'t>,
    core_sorted: &'s [f64],
    node_min_core: &'s [f64],
    /// Component of every node's points, or [`MIXED`].
    node_comp: &'s [u32],
    comp_sorted: &'s [u32],
    /// Best edge weight found so far per component (f64 bits).
    bound: &'s [AtomicU64],
}

/// The lightest candidate so far of one search: `(weight, other point)`.
type Best = Option<(f64, u32)>;

impl Search<'_, '_> {
    /// The lightest edge (in [`edge_key`] order) from the point at tree position `pos` to
    /// another component, if it can be the component's lightest.
    fn lightest_from(&self, pos: usize) -> Option<Edge> {
        let p = self.tree.order[pos];
        let cp = self.comp_sorted[pos];
        let core_p = self.core_sorted[pos];
        let bound = &self.bound[cp as usize];
        if core_p > f64::from_bits(bound.load(Ordering::Relaxed)) {
            return None;
        }
        let mut best: Best = None;
        let root_d2 = self.tree.box_dist2(0, self.tree.at(pos));
        self.visit(0, root_d2, pos, p, core_p, bound, &mut best);
        best.map(|(w, q)| (p, q, w))
    }

    /// Weight above which nothing can improve the search.
    #[inline]
    fn limit(bound: &AtomicU64, best: &Best) -> f64 {
        let b = f64::from_bits(bound.load(Ordering::Relaxed));
        best.map_or(b, |(w, _)| w.min(b))
    }

    #[allow(clippy::too_many_arguments)]
    fn visit(
        &self,
        id: u32,
        box_d2: f64,
        pos: usize,
        p: u32,
        core_p: f64,
        bound: &AtomicU64,
        best: &mut Best,
    ) {
        let cp = self.comp_sorted[pos];
        if self.node_comp[id as usize] == cp {
            return;
        }
        let limit = Self::limit(bound, best);
        // The box distance is computed differently from point distances: leave a relative
        // slack so that rounding never prunes a point exactly at the limit.
        if core_p.max(self.node_min_core[id as usize]) > limit
            || box_d2.sqrt() > limit * (1.0 + 1e-9)
        {
            return;
        }
        let tree = self.tree;
        let x = tree.at(pos);
        let node = &tree.nodes[id as usize];
        if node.is_leaf() {
            for qpos in node.start as usize..node.end as usize {
                if self.comp_sorted[qpos] == cp {
                    continue;
                }
                let floor = core_p.max(self.core_sorted[qpos]);
                let limit = Self::limit(bound, best);
                if floor > limit {
                    continue;
                }
                // Weights are compared exactly as computed (the same expression everywhere).
                let w = sq_dist(x, tree.at(qpos)).sqrt().max(floor);
                if w > limit {
                    continue;
                }
                let q = tree.order[qpos];
                let better = match *best {
                    None => true,
                    Some((bw, bq)) => before(edge_key(&(p, q, w)), edge_key(&(p, bq, bw))),
                };
                if better {
                    *best = Some((w, q));
                    bound.fetch_min(w.to_bits(), Ordering::Relaxed);
                }
            }
            return;
        }
        let (dl, dr) = (tree.box_dist2(node.left, x), tree.box_dist2(node.right, x));
        if dl <= dr {
            self.visit(node.left, dl, pos, p, core_p, bound, best);
            self.visit(node.right, dr, pos, p, core_p, bound, best);
        } else {
            self.visit(node.right, dr, pos, p, core_p, bound, best);
            self.visit(node.left, dl, pos, p, core_p, bound, best);
        }
    }
}

/// Union-find with path halving and union by size.
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self { parent: (0..n as u32).collect(), size: vec![1; n] }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] as usize != x {
            let grand = self.parent[self.parent[x] as usize];
            self.parent[x] = grand;
            x = grand as usize;
        }
        x
    }

    /// Joins the sets of `a` and `b`; false if they were already one.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra] < self.size[rb] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb] = ra as u32;
        self.size[ra] += self.size[rb];
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use super::super::kdtree::{kth_neighbour_distances, tree_knn};
    use rand::{Rng, SeedableRng};

    fn sorted(mut edges: Vec<Edge>) -> Vec<(f64, u32, u32)> {
        edges.sort_by(cmp_edges);
        edges.iter().map(edge_key).collect()
    }

    #[test]
    fn boruvka_and_prim_give_the_same_tree() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let dim = 3;
        // Clustered reals, and a coarse integer grid (many equal weights: ties decide).
        let smooth: Vec<f64> =
            (0..2000 * dim).map(|i| (i / (200 * dim)) as f64 * 5.0 + rng.random::<f64>()).collect();
        let ties: Vec<f64> = (0..1500 * dim).map(|_| rng.random_range(0..6) as f64).collect();
        for data in [smooth, ties] {
            let min_samples = 5;
            let tree = KdTree::build(&data, dim);
            let (core, neighbours) = tree_knn(&tree, min_samples);
            assert_eq!(core, kth_neighbour_distances(&data, dim, min_samples));
            let never = Cancel::never();
            let boruvka = boruvka_mst(&tree, &core, &neighbours, min_samples + 1, &never).unwrap();
            let prim = mutual_reachability_mst(&data, dim, &core, &never).unwrap();
            assert_eq!(boruvka.len(), core.len() - 1);
            assert_eq!(sorted(boruvka), sorted(prim));
        }
    }

    #[test]
    fn line_of_points() {
        // 0, 1, 3, 6 on a line with zero core distances: MST edges 1, 2, 3.
        let data = [0.0, 1.0, 3.0, 6.0];
        let core = [0.0; 4];
        let mut w: Vec<f64> = mutual_reachability_mst(&data, 1, &core, &Cancel::never())
            .unwrap()
            .into_iter()
            .map(|e| e.2)
            .collect();
        w.sort_by(f64::total_cmp);
        assert_eq!(w, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn core_distances_raise_weights() {
        let data = [0.0, 1.0, 3.0];
        let core = [5.0, 0.0, 0.0];
        let mut w: Vec<f64> = mutual_reachability_mst(&data, 1, &core, &Cancel::never())
            .unwrap()
            .into_iter()
            .map(|e| e.2)
            .collect();
        w.sort_by(f64::total_cmp);
        assert_eq!(w, vec![2.0, 5.0]);
    }
}
