//! Minimum spanning tree of the mutual reachability graph, by Prim's algorithm on the implicit
//! complete graph: O(n²) distance evaluations and O(n) memory, parallel over the points not yet in
//! the tree. Exact (hdbscan's Borůvka with `approx_min_span_tree=True` may be slightly
//! non-minimal), and deterministic: ties are broken by point index.

use rayon::prelude::*;

use super::kdtree::sq_dist;

/// One MST edge `(a, b, mutual reachability distance)`.
pub(crate) type Edge = (u32, u32, f64);

/// Below this many remaining points a step runs on one thread (rayon's overhead dominates).
const PAR_MIN: usize = 8192;

/// Prim's MST over `d_mr(a, b) = max(core[a], core[b], ‖a − b‖)`. Returns `n − 1` edges in the
/// order they were added (not sorted). Same choices as hdbscan's `mst_linkage_core_vector`
/// (strict improvements only; among equal distances the smallest point index is taken next).
pub(crate) fn mutual_reachability_mst(data: &[f64], dim: usize, core: &[f64]) -> Vec<Edge> {
    let n = core.len();
    if n < 2 || dim == 0 {
        return Vec::new();
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
        let len = state.index.len();
        let (d, next, pos) = if len >= PAR_MIN && threads > 1 {
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
                    let (d, j, k) =
                        scan(idx, xs, cores, best, source, dim, cc, current_core, current);
                    (d, j, ci * chunk + k)
                })
                .reduce(|| (f64::INFINITY, u32::MAX, usize::MAX), pick)
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
    edges
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

/// The smaller of two candidates `(distance, point, position)`; ties go to the smaller point.
fn pick(a: (f64, u32, usize), b: (f64, u32, usize)) -> (f64, u32, usize) {
    if b.0 < a.0 || (b.0 == a.0 && b.1 < a.1) {
        b
    } else {
        a
    }
}

/// Relaxes one chunk of remaining points against the newly added point `current` and returns
/// the chunk's best candidate `(distance, point, position in chunk)`.
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
) -> (f64, u32, usize) {
    let mut local = (f64::INFINITY, u32::MAX, usize::MAX);
    for (k, (((&j, x), &core_j), (b, s))) in index
        .iter()
        .zip(coords.chunks_exact(dim))
        .zip(cores)
        .zip(best.iter_mut().zip(source.iter_mut()))
        .enumerate()
    {
        let floor = current_core.max(core_j);
        if floor < *b {
            let d = sq_dist(current_coords, x).sqrt().max(floor);
            if d < *b {
                *b = d;
                *s = current;
            }
        }
        if *b < local.0 || (*b == local.0 && j < local.1) {
            local = (*b, j, k);
        }
    }
    local
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn line_of_points() {
        // 0, 1, 3, 6 on a line with zero core distances: MST edges 1, 2, 3.
        let data = [0.0, 1.0, 3.0, 6.0];
        let core = [0.0; 4];
        let mut w: Vec<f64> =
            mutual_reachability_mst(&data, 1, &core).into_iter().map(|e| e.2).collect();
        w.sort_by(f64::total_cmp);
        assert_eq!(w, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn core_distances_raise_weights() {
        let data = [0.0, 1.0, 3.0];
        let core = [5.0, 0.0, 0.0];
        let mut w: Vec<f64> =
            mutual_reachability_mst(&data, 1, &core).into_iter().map(|e| e.2).collect();
        w.sort_by(f64::total_cmp);
        assert_eq!(w, vec![2.0, 5.0]);
    }
}
