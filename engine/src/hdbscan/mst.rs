//! Minimum spanning tree of the mutual reachability graph, by Prim's algorithm on the implicit
//! complete graph: O(n²) distance evaluations and O(n) memory, parallel over the points not yet in
//! the tree. Exact (hdbscan's Borůvka with `approx_min_span_tree=True` may be slightly
//! non-minimal), and deterministic: ties are broken by point index.

use rayon::prelude::*;

use super::kdtree::sq_dist;

/// One MST edge `(a, b, mutual reachability distance)`.
pub(crate) type Edge = (u32, u32, f64);

/// Below this many remaining points a step runs on one thread (rayon's overhead dominates).
const PAR_MIN: usize = 4096;

/// Prim's MST over `d_mr(a, b) = max(core[a], core[b], ‖a − b‖)`. Returns `n − 1` edges in the
/// order they were added (not sorted).
pub(crate) fn mutual_reachability_mst(data: &[f64], dim: usize, core: &[f64]) -> Vec<Edge> {
    let n = core.len();
    if n < 2 {
        return Vec::new();
    }
    // Points not yet in the tree, with their best distance to the tree and the tree point
    // giving it. Kept compact (swap-remove) so each step only scans what remains.
    let mut remaining: Vec<u32> = (1..n as u32).collect();
    let mut best: Vec<f64> = vec![f64::INFINITY; n - 1];
    let mut source: Vec<u32> = vec![0; n - 1];
    let mut edges = Vec::with_capacity(n - 1);
    let mut current = 0u32;

    while !remaining.is_empty() {
        let c = current as usize;
        let cp = &data[c * dim..(c + 1) * dim];
        let core_c = core[c];
        let update = |(rem, (bst, src)): (&mut [u32], (&mut [f64], &mut [u32])),
                      offset: usize|
         -> (f64, u32, usize) {
            let mut local = (f64::INFINITY, u32::MAX, usize::MAX);
            for (k, (&j, (b, s))) in rem.iter().zip(bst.iter_mut().zip(src.iter_mut())).enumerate()
            {
                let ju = j as usize;
                let floor = core_c.max(core[ju]);
                if floor < *b {
                    let d = sq_dist(cp, &data[ju * dim..(ju + 1) * dim]).sqrt().max(floor);
                    if d < *b {
                        *b = d;
                        *s = current;
                    }
                }
                if *b < local.0 || (*b == local.0 && j < local.1) {
                    local = (*b, j, offset + k);
                }
            }
            local
        };
        let pick = |a: (f64, u32, usize), b: (f64, u32, usize)| {
            if b.0 < a.0 || (b.0 == a.0 && b.1 < a.1) {
                b
            } else {
                a
            }
        };
        let (d, next, pos) = if remaining.len() >= PAR_MIN {
            let chunk = remaining.len().div_ceil(rayon::current_num_threads() * 4).max(512);
            remaining
                .par_chunks_mut(chunk)
                .zip(best.par_chunks_mut(chunk).zip(source.par_chunks_mut(chunk)))
                .enumerate()
                .map(|(ci, (r, (b, s)))| update((r, (b, s)), ci * chunk))
                .reduce(|| (f64::INFINITY, u32::MAX, usize::MAX), pick)
        } else {
            update((&mut remaining[..], (&mut best[..], &mut source[..])), 0)
        };
        debug_assert!(pos != usize::MAX);
        edges.push((source[pos], next, d));
        remaining.swap_remove(pos);
        best.swap_remove(pos);
        source.swap_remove(pos);
        current = next;
    }
    edges
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
