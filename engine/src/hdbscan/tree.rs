//! Single-linkage tree, condensed tree, excess-of-mass selection, labels and probabilities,
//! following hdbscan's `_hdbscan_linkage.pyx` (`label`) and `_hdbscan_tree.pyx`
//! (`condense_tree`, `compute_stability`, `get_clusters`, `do_labelling`, `get_probabilities`).

use std::collections::VecDeque;

use super::mst::{cmp_edges, Edge};

/// Smallest distance turned into a density λ = 1/d; zero distances (duplicate points) would give
/// λ = ∞ and NaN stabilities, so they get this large but finite λ instead.
const MIN_DISTANCE: f64 = 1e-30;

/// A single-linkage merge: children (point `< n` or merge `n + row`), distance, size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Merge {
    pub left: usize,
    pub right: usize,
    pub distance: f64,
    pub size: usize,
}

/// Builds the single-linkage dendrogram from MST edges, merged in ascending
/// `(weight, smaller end, larger end)` order (so equal weights merge in a fixed order).
pub(crate) fn single_linkage(n: usize, mut edges: Vec<Edge>) -> Vec<Merge> {
    edges.sort_by(cmp_edges);
    // Union-find over 2n − 1 nodes; each merge creates node n + i.
    let mut parent: Vec<usize> = (0..2 * n).collect();
    let mut size: Vec<usize> = vec![1; 2 * n];
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        let mut root = x;
        while parent[root] != root {
            root = parent[root];
        }
        while parent[x] != root {
            let next = parent[x];
            parent[x] = root;
            x = next;
        }
        root
    }
    let mut merges = Vec::with_capacity(edges.len());
    for (i, &(a, b, d)) in edges.iter().enumerate() {
        let ra = find(&mut parent, a as usize);
        let rb = find(&mut parent, b as usize);
        let node = n + i;
        let s = size[ra] + size[rb];
        merges.push(Merge { left: ra, right: rb, distance: d, size: s });
        parent[ra] = node;
        parent[rb] = node;
        size[node] = s;
    }
    merges
}

/// One row of the condensed tree: `child` (a point `< n` or a cluster `≥ n`) leaves `parent`
/// at density `lambda`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CondensedRow {
    pub parent: usize,
    pub child: usize,
    pub lambda: f64,
    pub size: usize,
}

/// Level-order traversal of the dendrogram below `root` (left before right), as hdbscan's
/// `bfs_from_hierarchy`.
fn bfs(merges: &[Merge], n: usize, root: usize, out: &mut Vec<usize>) {
    out.clear();
    let mut queue = VecDeque::from([root]);
    while let Some(x) = queue.pop_front() {
        out.push(x);
        if x >= n {
            let m = &merges[x - n];
            queue.push_back(m.left);
            queue.push_back(m.right);
        }
    }
}

/// Condenses the dendrogram with `min_cluster_size` (hdbscan's `condense_tree`). The root
/// cluster is `n`; new clusters get `n + 1, n + 2, …` in breadth-first order.
pub(crate) fn condense(merges: &[Merge], n: usize, min_cluster_size: usize) -> Vec<CondensedRow> {
    let mut rows = Vec::new();
    if merges.is_empty() {
        return rows;
    }
    let root = 2 * n - 2;
    let mut relabel = vec![0usize; root + 1];
    relabel[root] = n;
    let mut next_label = n + 1;
    let mut ignore = vec![false; root + 1];
    let mut order = Vec::new();
    bfs(merges, n, root, &mut order);
    let mut sub = Vec::new();
    let node_size = |x: usize| if x >= n { merges[x - n].size } else { 1 };
    for &node in &order {
        if ignore[node] || node < n {
            continue;
        }
        let m = merges[node - n];
        let lambda = 1.0 / m.distance.max(MIN_DISTANCE);
        let (left, right) = (m.left, m.right);
        let (left_count, right_count) = (node_size(left), node_size(right));
        let parent_label = relabel[node];
        let mut drop_subtree = |x: usize, rows: &mut Vec<CondensedRow>, ignore: &mut [bool]| {
            bfs(merges, n, x, &mut sub);
            for &s in &sub {
                if s < n {
                    rows.push(CondensedRow { parent: parent_label, child: s, lambda, size: 1 });
                }
                ignore[s] = true;
            }
        };
        if left_count >= min_cluster_size && right_count >= min_cluster_size {
            relabel[left] = next_label;
            next_label += 1;
            rows.push(CondensedRow {
                parent: parent_label,
                child: relabel[left],
                lambda,
                size: left_count,
            });
            relabel[right] = next_label;
            next_label += 1;
            rows.push(CondensedRow {
                parent: parent_label,
                child: relabel[right],
                lambda,
                size: right_count,
            });
        } else if left_count < min_cluster_size && right_count < min_cluster_size {
            drop_subtree(left, &mut rows, &mut ignore);
            drop_subtree(right, &mut rows, &mut ignore);
        } else if left_count < min_cluster_size {
            relabel[right] = parent_label;
            drop_subtree(left, &mut rows, &mut ignore);
        } else {
            relabel[left] = parent_label;
            drop_subtree(right, &mut rows, &mut ignore);
        }
    }
    rows
}

/// Result of cluster selection.
pub(crate) struct Selection {
    pub labels: Vec<i64>,
    pub probabilities: Vec<f32>,
}

/// Excess-of-mass selection, labels and membership probabilities (hdbscan's `get_clusters` with
/// `cluster_selection_method="eom"`, epsilon 0, no max cluster size).
pub(crate) fn select_eom(rows: &[CondensedRow], n: usize, allow_single_cluster: bool) -> Selection {
    let mut labels = vec![-1i64; n];
    let mut probabilities = vec![0.0f32; n];
    if rows.is_empty() {
        return Selection { labels, probabilities };
    }
    let root = n;
    let n_clusters =
        rows.iter().map(|r| r.parent.max(r.child)).max().unwrap_or(root).max(root) - root + 1;
    let ci = |c: usize| c - root;
    // Birth λ of each cluster (0 for the root), stability S(C) = Σ (λ − birth) · size.
    let mut birth = vec![0.0f64; n_clusters];
    let mut cluster_parent = vec![usize::MAX; n_clusters];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n_clusters];
    for r in rows.iter().filter(|r| r.child >= root) {
        birth[ci(r.child)] = r.lambda;
        cluster_parent[ci(r.child)] = r.parent;
        children[ci(r.parent)].push(r.child);
    }
    let mut stability = vec![0.0f64; n_clusters];
    let mut death = vec![0.0f64; n_clusters];
    for r in rows {
        let p = ci(r.parent);
        stability[p] += (r.lambda - birth[p]) * r.size as f64;
        death[p] = death[p].max(r.lambda);
    }

    // Bottom-up (children always have larger ids than their parent).
    let mut is_cluster = vec![true; n_clusters];
    if !allow_single_cluster {
        is_cluster[0] = false;
    }
    let first = if allow_single_cluster { 0 } else { 1 };
    for c in (first..n_clusters).rev() {
        let subtree: f64 = children[c].iter().map(|&ch| stability[ci(ch)]).sum();
        if subtree > stability[c] {
            is_cluster[c] = false;
            stability[c] = subtree;
        } else {
            // Deselect every descendant cluster.
            let mut stack: Vec<usize> = children[c].clone();
            while let Some(d) = stack.pop() {
                is_cluster[ci(d)] = false;
                stack.extend_from_slice(&children[ci(d)]);
            }
        }
    }

    // Labels 0..k−1 follow the ascending condensed ids of the selected clusters.
    let mut label_of = vec![-1i64; n_clusters];
    let mut next = 0i64;
    for c in 0..n_clusters {
        if is_cluster[c] {
            label_of[c] = next;
            next += 1;
        }
    }
    // Nearest selected ancestor of every cluster (or none).
    let mut selected_ancestor = vec![usize::MAX; n_clusters];
    for c in 0..n_clusters {
        selected_ancestor[c] = if is_cluster[c] {
            c
        } else if c == 0 || cluster_parent[c] == usize::MAX {
            usize::MAX
        } else {
            // Parents have smaller ids, so they are already resolved.
            selected_ancestor[ci(cluster_parent[c])]
        };
    }
    let single_root = allow_single_cluster && next == 1 && is_cluster[0];
    for r in rows.iter().filter(|r| r.child < root) {
        let p = ci(r.parent);
        let sel = selected_ancestor[p];
        if sel == usize::MAX {
            continue;
        }
        if sel == 0 && single_root && r.lambda < death[0] {
            // hdbscan keeps only the densest points when the root is the single cluster.
            continue;
        }
        labels[r.child] = label_of[sel];
        let max_lambda = death[sel];
        probabilities[r.child] =
            if max_lambda == 0.0 { 1.0 } else { (r.lambda.min(max_lambda) / max_lambda) as f32 };
    }
    Selection { labels, probabilities }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Two tight pairs far apart, min_cluster_size 2: both pairs are clusters.
    #[test]
    fn two_pairs() {
        let n = 4;
        // Points 0,1 at distance 1; 2,3 at distance 1; the pairs 10 apart.
        let edges = vec![(0, 1, 1.0), (2, 3, 1.0), (1, 2, 10.0)];
        let merges = single_linkage(n, edges);
        assert_eq!(merges[2].size, 4);
        let rows = condense(&merges, n, 2);
        // Root 4 splits into clusters 5 and 6 at λ = 0.1, each losing its two points at λ = 1.
        assert_eq!(rows.len(), 6);
        assert_eq!(rows.iter().filter(|r| r.child >= n).count(), 2);
        let sel = select_eom(&rows, n, false);
        assert_eq!(sel.labels, vec![0, 0, 1, 1]);
        assert!(sel.probabilities.iter().all(|&p| p == 1.0));
    }

    /// A tiny group below min_cluster_size falls out as noise.
    #[test]
    fn small_group_is_noise() {
        let n = 7;
        // Five points chained at distance 1, two points chained at 1, joined at 20.
        let edges =
            vec![(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 4, 1.0), (5, 6, 1.0), (4, 5, 20.0)];
        let merges = single_linkage(n, edges);
        let rows = condense(&merges, n, 3);
        let sel = select_eom(&rows, n, false);
        // Without allow_single_cluster the root is never selected: all noise.
        assert_eq!(sel.labels, vec![-1; 7]);
        let sel = select_eom(&rows, n, true);
        assert_eq!(&sel.labels[..5], &[0, 0, 0, 0, 0]);
        assert_eq!(&sel.labels[5..], &[-1, -1]);
    }
}
