//! Spectral initialisation as umap-learn's `spectral_layout` / `multi_component_layout`.
//!
//! For a connected graph the layout is the eigenvectors 2..=dim+1 (by ascending eigenvalue) of
//! the normalised Laplacian `L = I − D^{-½} P D^{-½}`, i.e. the largest non-trivial eigenvectors
//! of the normalised adjacency `A = D^{-½} P D^{-½}`. Small graphs use a dense (Householder + QL)
//! eigensolver; large ones a thick-restart Lanczos iteration with the trivial eigenvector
//! `D^{½}·1` deflated, which after its first cycle runs on a Chebyshev filter of `A` cut below
//! the wanted eigenvalues (22,500 CLINC150 docs: 10 restarts instead of 30; 100,000 synthetic
//! docs: 35 instead of 135), converging to the same eigenvectors. A graph with several
//! components places each component's own spectral layout around a meta layout of the
//! components; failures fall back to uniform random coordinates, as umap-learn does.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use super::eigen::symmetric_eigen;
use super::fuzzy::Graph;
use crate::cancel::Cancel;
use crate::error::Result;
use crate::matrix::Matrix;

/// Graphs up to this many vertices are solved densely.
const DENSE_MAX: usize = 256;
/// Convergence tolerance on the Ritz residual `‖A x − θ x‖` (eigsh's `tol = 1e-4`).
const TOL: f64 = 1e-4;
/// Most Lanczos basis vectors (see [`lanczos_top`]).
const NCV_MAX: usize = 32;
/// Restart cycles before accepting the current Ritz vectors.
const MAX_RESTARTS: usize = 300;

/// Initial layout, `n × dim` row-major, before umap-learn's rescaling. `cancel` is checked per
/// component, per Lanczos basis vector and restart, and inside the dense eigensolver.
pub(crate) fn spectral_layout(
    graph: &Graph,
    data: Option<&Matrix>,
    dim: usize,
    rng: &mut ChaCha8Rng,
    cancel: &Cancel,
) -> Result<Vec<f64>> {
    let (n_comp, labels) = connected_components(graph);
    if n_comp > 1 {
        tracing::debug!(components = n_comp, "graph is disconnected: multi-component layout");
        return multi_component_layout(graph, data, dim, n_comp, &labels, rng, cancel);
    }
    Ok(match leading_eigenvectors(graph, dim, rng, cancel)? {
        Some(v) => v,
        None => {
            tracing::warn!("spectral initialisation failed, using random initialisation");
            uniform(graph.n * dim, 10.0, rng)
        }
    })
}

fn uniform(len: usize, half_width: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..len).map(|_| rng.random_range(-half_width..half_width)).collect()
}

/// Connected components by union-find; labels are numbered by first appearance.
fn connected_components(graph: &Graph) -> (usize, Vec<usize>) {
    let n = graph.n;
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for i in 0..n {
        for p in graph.indptr[i]..graph.indptr[i + 1] {
            let (a, b) = (find(&mut parent, i), find(&mut parent, graph.indices[p] as usize));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut label_of_root = vec![usize::MAX; n];
    let mut labels = vec![0; n];
    let mut count = 0;
    for (i, label) in labels.iter_mut().enumerate() {
        let r = find(&mut parent, i);
        if label_of_root[r] == usize::MAX {
            label_of_root[r] = count;
            count += 1;
        }
        *label = label_of_root[r];
    }
    (count, labels)
}

/// umap-learn's `multi_component_layout`.
fn multi_component_layout(
    graph: &Graph,
    data: Option<&Matrix>,
    dim: usize,
    n_comp: usize,
    labels: &[usize],
    rng: &mut ChaCha8Rng,
    cancel: &Cancel,
) -> Result<Vec<f64>> {
    let meta = if n_comp > 2 * dim {
        component_layout(data, dim, n_comp, labels, rng, cancel)?
    } else {
        // ± unit axes: components 0..k on +e_i, the next ones on −e_i.
        let k = n_comp.div_ceil(2);
        let mut meta = vec![0.0; n_comp * dim];
        for c in 0..n_comp {
            let axis = c % k;
            if axis < dim {
                meta[c * dim + axis] = if c < k { 1.0 } else { -1.0 };
            }
        }
        meta
    };
    let mut result = vec![0.0; graph.n * dim];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_comp];
    for (i, &l) in labels.iter().enumerate() {
        members[l].push(i);
    }
    for (c, verts) in members.iter().enumerate() {
        cancel.check()?;
        let centre = &meta[c * dim..(c + 1) * dim];
        let min_dist = (0..n_comp)
            .filter(|&o| o != c)
            .map(|o| {
                let other = &meta[o * dim..(o + 1) * dim];
                centre.iter().zip(other).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
            })
            .filter(|&d| d > 0.0)
            .fold(f64::INFINITY, f64::min);
        let data_range = if min_dist.is_finite() { min_dist / 2.0 } else { 1.0 };
        let m = verts.len();
        let local = if m < 2 * dim || m <= dim + 1 {
            None
        } else {
            let sub = subgraph(graph, verts, labels, c);
            leading_eigenvectors(&sub, dim, rng, cancel)?.map(|mut e| {
                let max_abs = e.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
                if max_abs > 0.0 {
                    e.iter_mut().for_each(|v| *v *= data_range / max_abs);
                }
                e
            })
        };
        let local = local.unwrap_or_else(|| uniform(m * dim, data_range, rng));
        for (r, &v) in verts.iter().enumerate() {
            for d in 0..dim {
                result[v * dim + d] = local[r * dim + d] + centre[d];
            }
        }
    }
    Ok(result)
}

/// The vertices `verts` (all of component `c`) as their own graph, renumbered in order.
fn subgraph(graph: &Graph, verts: &[usize], labels: &[usize], c: usize) -> Graph {
    let mut new_id = vec![u32::MAX; graph.n];
    for (r, &v) in verts.iter().enumerate() {
        new_id[v] = r as u32;
    }
    let mut indptr = vec![0usize];
    let mut indices = Vec::new();
    let mut weights = Vec::new();
    for &v in verts {
        for p in graph.indptr[v]..graph.indptr[v + 1] {
            let j = graph.indices[p] as usize;
            if labels[j] == c {
                indices.push(new_id[j]);
                weights.push(graph.weights[p]);
            }
        }
        indptr.push(indices.len());
    }
    Graph { n: verts.len(), indptr, indices, weights }
}

/// umap-learn's `component_layout`: a spectral embedding of the component centroids with
/// affinity `exp(−d²)` (cosine distance between centroids of the input vectors). Without the
/// input vectors, seeded Gaussian directions stand in for it.
fn component_layout(
    data: Option<&Matrix>,
    dim: usize,
    n_comp: usize,
    labels: &[usize],
    rng: &mut ChaCha8Rng,
    cancel: &Cancel,
) -> Result<Vec<f64>> {
    let meta = match data {
        Some(x) => centroid_spectral_embedding(x, dim, n_comp, labels, cancel)?,
        None => None,
    };
    let mut meta = meta.unwrap_or_else(|| {
        (0..n_comp * dim)
            .map(|_| <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng))
            .collect()
    });
    // component_embedding /= component_embedding.max()
    let max = meta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max > 0.0 {
        meta.iter_mut().for_each(|v| *v /= max);
    }
    Ok(meta)
}

/// scikit-learn's `SpectralEmbedding(affinity="precomputed")` of the component centroids.
fn centroid_spectral_embedding(
    x: &Matrix,
    dim: usize,
    n_comp: usize,
    labels: &[usize],
    cancel: &Cancel,
) -> Result<Option<Vec<f64>>> {
    if x.rows() != labels.len() || n_comp > 2048 || n_comp <= dim + 1 {
        return Ok(None);
    }
    let d = x.cols();
    let mut centroids = vec![0.0f64; n_comp * d];
    let mut counts = vec![0usize; n_comp];
    for (i, &l) in labels.iter().enumerate() {
        counts[l] += 1;
        for (c, v) in centroids[l * d..(l + 1) * d].iter_mut().zip(x.row(i)) {
            *c += *v as f64;
        }
    }
    for (l, &cnt) in counts.iter().enumerate() {
        centroids[l * d..(l + 1) * d].iter_mut().for_each(|v| *v /= cnt.max(1) as f64);
    }
    let norms: Vec<f64> =
        centroids.chunks(d).map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt()).collect();
    let mut affinity = vec![0.0f64; n_comp * n_comp];
    for a in 0..n_comp {
        cancel.check()?;
        for b in 0..n_comp {
            let dot: f64 = centroids[a * d..(a + 1) * d]
                .iter()
                .zip(&centroids[b * d..(b + 1) * d])
                .map(|(p, q)| p * q)
                .sum();
            let dist = if norms[a] == 0.0 || norms[b] == 0.0 {
                if norms[a] == norms[b] {
                    0.0
                } else {
                    1.0
                }
            } else {
                (1.0 - dot / (norms[a] * norms[b])).max(0.0)
            };
            affinity[a * n_comp + b] = (-dist * dist).exp();
        }
    }
    // Normalised Laplacian with the diagonal removed (scipy's csgraph.laplacian, normed=True).
    let mut deg = vec![0.0f64; n_comp];
    for a in 0..n_comp {
        deg[a] = (0..n_comp).filter(|&b| b != a).map(|b| affinity[a * n_comp + b]).sum::<f64>();
    }
    let dd: Vec<f64> = deg.iter().map(|&v| v.sqrt()).collect();
    let mut adj = vec![0.0f64; n_comp * n_comp];
    for a in 0..n_comp {
        for b in 0..n_comp {
            if a != b && dd[a] > 0.0 && dd[b] > 0.0 {
                adj[a * n_comp + b] = affinity[a * n_comp + b] / (dd[a] * dd[b]);
            }
        }
    }
    let (vals, vecs) = symmetric_eigen(&adj, n_comp, cancel)?;
    let order = sorted_desc(&vals);
    let mut out = vec![0.0; n_comp * dim];
    for (col, &e) in order.iter().skip(1).take(dim).enumerate() {
        let mut v: Vec<f64> =
            (0..n_comp).map(|r| vecs[r * n_comp + e] / dd[r].max(1e-300)).collect();
        // scikit-learn's deterministic sign flip: the largest |entry| is positive.
        let (mut best, mut best_abs) = (0.0, -1.0);
        for &x in &v {
            if x.abs() > best_abs {
                best_abs = x.abs();
                best = x;
            }
        }
        if best < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        for r in 0..n_comp {
            out[r * dim + col] = v[r];
        }
    }
    Ok(Some(out))
}

fn sorted_desc(vals: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..vals.len()).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]).then(a.cmp(&b)));
    order
}

/// The `dim` largest non-trivial eigenvectors of `A = D^{-½} P D^{-½}` of a connected graph,
/// `n × dim` row-major, or `None` when the graph is too small or the solver breaks down.
fn leading_eigenvectors(
    graph: &Graph,
    dim: usize,
    rng: &mut ChaCha8Rng,
    cancel: &Cancel,
) -> Result<Option<Vec<f64>>> {
    let n = graph.n;
    if n <= dim + 1 {
        return Ok(None);
    }
    let deg: Vec<f64> = (0..n)
        .map(|i| {
            graph.weights[graph.indptr[i]..graph.indptr[i + 1]].iter().map(|&w| w as f64).sum()
        })
        .collect();
    if deg.iter().any(|&d| d <= 0.0) {
        return Ok(None);
    }
    let inv_sqrt: Vec<f64> = deg.iter().map(|d| 1.0 / d.sqrt()).collect();
    if n <= DENSE_MAX {
        let mut a = vec![0.0f64; n * n];
        for i in 0..n {
            for p in graph.indptr[i]..graph.indptr[i + 1] {
                let j = graph.indices[p] as usize;
                a[i * n + j] = graph.weights[p] as f64 * inv_sqrt[i] * inv_sqrt[j];
            }
        }
        let (vals, vecs) = symmetric_eigen(&a, n, cancel)?;
        let order = sorted_desc(&vals);
        let mut out = vec![0.0; n * dim];
        for (col, &e) in order.iter().skip(1).take(dim).enumerate() {
            for r in 0..n {
                out[r * dim + col] = vecs[r * n + e];
            }
        }
        return Ok(Some(out));
    }
    let op = NormalizedAdjacency::new(graph, &inv_sqrt);
    let norm = deg.iter().sum::<f64>().sqrt();
    let trivial: Vec<f64> = deg.iter().map(|d| d.sqrt() / norm).collect();
    lanczos_top(&op, &trivial, dim, rng, cancel)
}

/// `A = D^{-½} P D^{-½}` with its entries computed once (the Lanczos iteration applies it
/// hundreds of times).
struct NormalizedAdjacency<'a> {
    graph: &'a Graph,
    weights: Vec<f64>,
}

impl<'a> NormalizedAdjacency<'a> {
    fn new(graph: &'a Graph, inv_sqrt: &[f64]) -> Self {
        let mut weights = Vec::with_capacity(graph.weights.len());
        for i in 0..graph.n {
            for p in graph.indptr[i]..graph.indptr[i + 1] {
                let j = graph.indices[p] as usize;
                weights.push(graph.weights[p] as f64 * inv_sqrt[i] * inv_sqrt[j]);
            }
        }
        NormalizedAdjacency { graph, weights }
    }

    /// `y = A·x`.
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        self.apply_update(x, y, |_, s, _| s);
    }

    /// `y[i] = f(i, (A·x)[i], y[i])` for every row, in one parallel pass (the Chebyshev
    /// recurrence's vector updates ride along instead of taking passes of their own). Rows are
    /// summed in order, two rows at a time: each row's sum is a chain of dependent additions,
    /// and two chains side by side keep the adder busy.
    fn apply_update<F>(&self, x: &[f64], y: &mut [f64], f: F)
    where
        F: Fn(usize, f64, f64) -> f64 + Sync,
    {
        let g = self.graph;
        let row = |i: usize| {
            let (lo, hi) = (g.indptr[i], g.indptr[i + 1]);
            (&g.indices[lo..hi], &self.weights[lo..hi])
        };
        y.par_chunks_mut(CHUNK).enumerate().for_each(|(c, ys)| {
            let (base, len) = (c * CHUNK, ys.len());
            let mut pairs = ys.chunks_exact_mut(2);
            for (p, out) in (&mut pairs).enumerate() {
                let (a, b) = (base + 2 * p, base + 2 * p + 1);
                let ((ia, wa), (ib, wb)) = (row(a), row(b));
                let common = ia.len().min(ib.len());
                let (mut sa, mut sb) = (-0.0f64, -0.0f64);
                for t in 0..common {
                    sa += wa[t] * x[ia[t] as usize];
                    sb += wb[t] * x[ib[t] as usize];
                }
                for t in common..ia.len() {
                    sa += wa[t] * x[ia[t] as usize];
                }
                for t in common..ib.len() {
                    sb += wb[t] * x[ib[t] as usize];
                }
                out[0] = f(a, sa, out[0]);
                out[1] = f(b, sb, out[1]);
            }
            if let [last] = pairs.into_remainder() {
                let i = base + len - 1;
                let (idx, w) = row(i);
                let s: f64 = idx.iter().zip(w).map(|(&j, w)| w * x[j as usize]).sum();
                *last = f(i, s, *last);
            }
        });
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Rows per parallel task in the basis passes. Fixed (not derived from the thread count), and
/// partial sums are added in chunk order, so results do not depend on the number of threads.
const CHUNK: usize = 256;

/// The Lanczos basis: up to `cap` columns of length `n`, stored row-major (row `i` holds entry
/// `i` of every column). A projection onto all columns, or a combination of them, is then one
/// sequential pass over the matrix, split into row chunks that run in parallel, instead of one
/// pass per column.
struct Basis {
    n: usize,
    cap: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Basis {
    fn new(n: usize, cap: usize) -> Self {
        Basis { n, cap, cols: 0, data: vec![0.0; n * cap] }
    }

    fn push(&mut self, v: &[f64]) {
        let (cap, j) = (self.cap, self.cols);
        self.data.par_chunks_mut(cap * CHUNK).zip(v.par_chunks(CHUNK)).for_each(|(rows, vc)| {
            for (row, &x) in rows.chunks_exact_mut(cap).zip(vc) {
                row[j] = x;
            }
        });
        self.cols += 1;
    }

    /// Sums per-chunk partial vectors (length `m + 1`) in chunk order.
    fn reduce(parts: Vec<Vec<f64>>, len: usize) -> Vec<f64> {
        let mut total = vec![0.0; len];
        for p in parts {
            total.iter_mut().zip(&p).for_each(|(t, v)| *t += v);
        }
        total
    }

    /// `[Vᵀw, deflate·w]`.
    fn project(&self, w: &[f64], deflate: &[f64]) -> Vec<f64> {
        let (cap, m) = (self.cap, self.cols);
        let parts: Vec<Vec<f64>> = self
            .data
            .par_chunks(cap * CHUNK)
            .zip(w.par_chunks(CHUNK))
            .zip(deflate.par_chunks(CHUNK))
            .map(|((rows, wc), dc)| {
                let mut c = vec![0.0; m + 1];
                for ((row, &wi), &di) in rows.chunks_exact(cap).zip(wc).zip(dc) {
                    c[..m].iter_mut().zip(&row[..m]).for_each(|(c, v)| *c += v * wi);
                    c[m] += di * wi;
                }
                c
            })
            .collect();
        Self::reduce(parts, m + 1)
    }

    /// `w −= V·c[..m] + c[m]·deflate`; with `again`, also returns the projection of the
    /// updated `w` (as [`Basis::project`]) from the same pass.
    fn subtract(&self, w: &mut [f64], c: &[f64], deflate: &[f64], again: bool) -> Vec<f64> {
        let (cap, m) = (self.cap, self.cols);
        let parts: Vec<Vec<f64>> = self
            .data
            .par_chunks(cap * CHUNK)
            .zip(w.par_chunks_mut(CHUNK))
            .zip(deflate.par_chunks(CHUNK))
            .map(|((rows, wc), dc)| {
                let mut p = if again { vec![0.0; m + 1] } else { Vec::new() };
                for ((row, wi), &di) in rows.chunks_exact(cap).zip(wc).zip(dc) {
                    let s: f64 = row[..m].iter().zip(&c[..m]).map(|(v, c)| v * c).sum();
                    *wi -= s + c[m] * di;
                    if again {
                        let x = *wi;
                        p[..m].iter_mut().zip(&row[..m]).for_each(|(p, v)| *p += v * x);
                        p[m] += di * x;
                    }
                }
                p
            })
            .collect();
        if again {
            Self::reduce(parts, m + 1)
        } else {
            Vec::new()
        }
    }

    /// Classical Gram–Schmidt applied twice (CGS2) against the columns and `deflate`, in three
    /// passes (the first subtraction and the second projection share one). Returns the total
    /// coefficients on the columns.
    fn orthogonalize(&self, w: &mut [f64], deflate: &[f64]) -> Vec<f64> {
        let c1 = self.project(w, deflate);
        let c2 = self.subtract(w, &c1, deflate, true);
        self.subtract(w, &c2, deflate, false);
        let mut c: Vec<f64> = c1.iter().zip(&c2).map(|(a, b)| a + b).collect();
        c.truncate(self.cols);
        c
    }

    /// `V[:, ..m]·Y` as `n × k` row-major, `Y` `m × k` row-major.
    fn combine(&self, y: &[f64], k: usize) -> Vec<f64> {
        let (cap, m) = (self.cap, self.cols);
        let mut out = vec![0.0; self.n * k];
        out.par_chunks_mut(k * CHUNK).zip(self.data.par_chunks(cap * CHUNK)).for_each(
            |(oc, rows)| {
                for (o, row) in oc.chunks_exact_mut(k).zip(rows.chunks_exact(cap)) {
                    for (r, &v) in row[..m].iter().enumerate() {
                        o.iter_mut().zip(&y[r * k..(r + 1) * k]).for_each(|(o, y)| *o += v * y);
                    }
                }
            },
        );
        out
    }

    /// Replaces the basis by its first `k` combinations `V·Y` (`Y` `m × k`), in place.
    fn restart(&mut self, y: &[f64], k: usize) {
        let (cap, m) = (self.cap, self.cols);
        self.data.par_chunks_mut(cap * CHUNK).for_each(|rows| {
            let mut tmp = vec![0.0; k];
            for row in rows.chunks_exact_mut(cap) {
                tmp.iter_mut().for_each(|t| *t = 0.0);
                for (r, &v) in row[..m].iter().enumerate() {
                    tmp.iter_mut().zip(&y[r * k..(r + 1) * k]).for_each(|(t, y)| *t += v * y);
                }
                row[..k].copy_from_slice(&tmp);
            }
        });
        self.cols = k;
    }
}

/// Thick-restart Lanczos (Rayleigh–Ritz on an explicitly orthogonalised Krylov basis) for the
/// `nev` algebraically largest eigenpairs of `op` on the complement of the unit vector
/// `deflate`. Returns the eigenvectors `n × nev` row-major. `cancel` is checked before every
/// restart and every new basis vector.
fn lanczos_top(
    op: &NormalizedAdjacency<'_>,
    deflate: &[f64],
    nev: usize,
    rng: &mut ChaCha8Rng,
    cancel: &Cancel,
) -> Result<Option<Vec<f64>>> {
    let n = deflate.len();
    // umap-learn: ncv = max(2k + 1, √n). The basis is capped at NCV_MAX vectors: each new
    // vector costs a pass over the whole basis, and on kNN graphs a short basis restarted more
    // often reaches the tolerance sooner (22,500 CLINC150 docs: 0.59 s with 32 vectors and 30
    // restarts, 0.99 s with 96 and 8, 2.1 s with umap-learn's 150 and 5).
    let ncv = (((n as f64).sqrt() as usize).min(NCV_MAX).max(2 * (nev + 1) + 1)).min(n - 1);
    if ncv <= nev + 1 {
        return Ok(None);
    }
    let keep = (nev + (ncv - nev) / 2).min(ncv - 2);
    let mut basis = Basis::new(n, ncv);
    // A unit vector orthogonal to the basis and `deflate`, from a random direction.
    let fresh = |basis: &Basis, rng: &mut ChaCha8Rng| -> Option<Vec<f64>> {
        let mut r: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        basis.orthogonalize(&mut r, deflate);
        let s = dot(&r, &r).sqrt();
        (s > 0.0).then(|| r.iter().map(|x| x / s).collect())
    };
    let Some(start) = fresh(&basis, rng) else {
        return Ok(None);
    };
    basis.push(&start);
    // The newest column, contiguous: the operator is applied to it next.
    let mut current = start;
    // Projected matrix H = Vᵀ A V, ncv × ncv, row-major.
    let mut h = vec![0.0f64; ncv * ncv];
    let mut w = vec![0.0f64; n];
    // After the first cycle the iteration runs on a Chebyshev filter of A (see [`Filter`]).
    let mut filter: Option<Filter> = None;
    let mut scratch = (vec![0.0f64; n], vec![0.0f64; n]);
    for restart in 0..MAX_RESTARTS {
        cancel.check()?;
        let residual = loop {
            cancel.check()?;
            let j = basis.cols - 1;
            match &filter {
                Some(f) => f.apply(op, &current, &mut w, &mut scratch),
                None => op.apply(&current, &mut w),
            }
            // Full orthogonalisation; the coefficients are column j of H.
            let coefs = basis.orthogonalize(&mut w, deflate);
            for (i, &c) in coefs.iter().enumerate() {
                h[i * ncv + j] = c;
                h[j * ncv + i] = c;
            }
            let beta = dot(&w, &w).sqrt();
            let v: Vec<f64> = if beta > 1e-12 {
                w.iter().map(|x| x / beta).collect()
            } else {
                // Invariant subspace: continue with a fresh random direction.
                match fresh(&basis, rng) {
                    Some(r) => r,
                    None => return Ok(None),
                }
            };
            if basis.cols < ncv {
                if beta > 1e-12 {
                    h[(j + 1) * ncv + j] = beta;
                    h[j * ncv + j + 1] = beta;
                }
                basis.push(&v);
                current = v;
            } else {
                break v;
            }
        };
        let m = basis.cols;
        let mut hm = vec![0.0f64; m * m];
        for i in 0..m {
            for j in 0..m {
                hm[i * m + j] = h[i * ncv + j];
            }
        }
        let (vals, vecs) = symmetric_eigen(&hm, m, cancel)?;
        let order = sorted_desc(&vals);
        // The eigenvector coefficients of the Ritz pairs `sel`, m × sel.len() row-major.
        let coefs_of = |sel: &[usize]| -> Vec<f64> {
            let k = sel.len();
            let mut y = vec![0.0; m * k];
            for r in 0..m {
                for (c, &e) in sel.iter().enumerate() {
                    y[r * k + c] = vecs[r * m + e];
                }
            }
            y
        };
        // True residuals of the wanted Ritz pairs.
        let wanted = basis.combine(&coefs_of(&order[..nev]), nev);
        let mut max_res = 0.0f64;
        let mut x = vec![0.0f64; n];
        for (c, &e) in order[..nev].iter().enumerate() {
            x.iter_mut().zip(wanted.chunks_exact(nev)).for_each(|(x, row)| *x = row[c]);
            op.apply(&x, &mut w);
            let d = dot(&w, deflate);
            axpy(-d, deflate, &mut w);
            // The Rayleigh quotient with A (the Ritz value is one of the filter when filtered).
            let theta = if filter.is_some() { dot(&x, &w) / dot(&x, &x) } else { vals[e] };
            axpy(-theta, &x, &mut w);
            max_res = max_res.max(dot(&w, &w).sqrt());
        }
        if max_res <= TOL || restart + 1 == MAX_RESTARTS {
            if max_res > TOL {
                tracing::debug!(max_res, "spectral init: Lanczos stopped before tolerance");
            }
            tracing::debug!(restarts = restart + 1, max_res, ncv, "spectral init converged");
            return Ok(Some(wanted));
        }
        if filter.is_none() {
            // Switch to the filter: its cut-off is the Ritz value 2·nev from the top, below the
            // wanted eigenvalues (Ritz values of the top end lie below the eigenvalues they
            // approximate). Start afresh from the sum of the wanted Ritz vectors.
            let cut = vals[order[(2 * nev).min(m - 1)]];
            let mut v0: Vec<f64> = wanted.chunks_exact(nev).map(|r| r.iter().sum()).collect();
            let d = dot(&v0, deflate);
            axpy(-d, deflate, &mut v0);
            let norm = dot(&v0, &v0).sqrt();
            if cut < 1.0 - 1e-9 && norm > 0.0 {
                filter = Some(Filter::new(cut));
                v0.iter_mut().for_each(|x| *x /= norm);
                basis.cols = 0;
                basis.push(&v0);
                h.iter_mut().for_each(|v| *v = 0.0);
                current = v0;
                continue;
            }
        }
        // Thick restart: keep the best `keep` Ritz vectors, continue from the residual.
        basis.restart(&coefs_of(&order[..keep]), keep);
        h.iter_mut().for_each(|v| *v = 0.0);
        for (i, &e) in order[..keep].iter().enumerate() {
            h[i * ncv + i] = vals[e];
        }
        basis.push(&residual);
        current = residual;
    }
    Ok(None)
}

/// Chebyshev filter `T_d(t(A))` with `t(x) = (2x − (c − 1)) / (c + 1)`: eigenvalues in
/// `[−1, c]` map into `[−1, 1]`, those above `c` grow fast and keep their order, so the top
/// eigenvectors of the filter are those of `A`, with far larger relative gaps between them and
/// the rest of the spectrum. Lanczos on the filter needs fewer steps (each costing `d` sparse
/// products, cheaper than a step's orthogonalisation against the whole basis).
struct Filter {
    alpha: f64,
    beta: f64,
}

/// Degree of the Chebyshev filter.
const FILTER_DEGREE: usize = 8;

impl Filter {
    fn new(cut: f64) -> Self {
        Filter { alpha: 2.0 / (cut + 1.0), beta: (cut - 1.0) / (cut + 1.0) }
    }

    /// `y = T_d(t(A))·x` by the three-term recurrence `T_{k+1} = 2 t(A) T_k − T_{k−1}`, each
    /// step one pass: the new vector overwrites `T_{k−1}` in place (entry `i` depends only on
    /// entry `i` of it), then the two buffers swap roles.
    fn apply(
        &self,
        op: &NormalizedAdjacency<'_>,
        x: &[f64],
        y: &mut [f64],
        (prev, cur): &mut (Vec<f64>, Vec<f64>),
    ) {
        let (alpha, beta) = (self.alpha, self.beta);
        // cur = T_1 x = t(A) x (T_0 x = x).
        op.apply_update(x, cur, |i, s, _| alpha * s - beta * x[i]);
        for k in 1..FILTER_DEGREE {
            let c: &[f64] = cur;
            if k == 1 {
                op.apply_update(c, prev, |i, s, _| 2.0 * (alpha * s - beta * c[i]) - x[i]);
            } else {
                op.apply_update(c, prev, |i, s, p| 2.0 * (alpha * s - beta * c[i]) - p);
            }
            std::mem::swap(prev, cur);
        }
        y.copy_from_slice(cur);
    }
}

fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += alpha * xi);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// A ring of `n` vertices with unit weights (connected, known spectrum).
    fn ring(n: usize) -> Graph {
        let mut indptr = vec![0];
        let mut indices = Vec::new();
        for i in 0..n {
            let mut nb = [(i + n - 1) % n, (i + 1) % n];
            nb.sort();
            indices.extend(nb.iter().map(|&j| j as u32));
            indptr.push(indices.len());
        }
        let weights = vec![1.0; indices.len()];
        Graph { n, indptr, indices, weights }
    }

    #[test]
    fn dense_eigen_diagonalises() {
        let a = vec![2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0, 1.0, 2.0];
        let (vals, _) = symmetric_eigen(&a, 3, &Cancel::never()).unwrap();
        let mut vals = vals;
        vals.sort_by(f64::total_cmp);
        let expect = [2.0 - 2f64.sqrt(), 2.0, 2.0 + 2f64.sqrt()];
        for (v, e) in vals.iter().zip(expect) {
            assert!((v - e).abs() < 1e-10);
        }
    }

    /// A path of `n` vertices with unit weights (simple eigenvalues cos(πk/(n−1))).
    fn path(n: usize) -> Graph {
        let mut indptr = vec![0];
        let mut indices = Vec::new();
        for i in 0..n {
            if i > 0 {
                indices.push(i as u32 - 1);
            }
            if i + 1 < n {
                indices.push(i as u32 + 1);
            }
            indptr.push(indices.len());
        }
        let weights = vec![1.0; indices.len()];
        Graph { n, indptr, indices, weights }
    }

    #[test]
    fn lanczos_finds_path_eigenvectors() {
        // Normalised adjacency of a path: eigenvalues cos(πk/(n−1)); the top non-trivial ones
        // are k = 1, 2. With the residual tolerance 1e-4 the Rayleigh quotient is accurate to
        // about tol² / gap.
        let n = 300;
        let g = path(n);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let v = leading_eigenvectors(&g, 2, &mut rng, &Cancel::never()).unwrap().unwrap();
        let deg: Vec<f64> = (0..n).map(|i| if i == 0 || i == n - 1 { 1.0 } else { 2.0 }).collect();
        let inv_sqrt: Vec<f64> = deg.iter().map(|d| 1.0 / d.sqrt()).collect();
        let op = NormalizedAdjacency::new(&g, &inv_sqrt);
        for c in 0..2 {
            let expect = (std::f64::consts::PI * (c + 1) as f64 / (n - 1) as f64).cos();
            let x: Vec<f64> = (0..n).map(|r| v[r * 2 + c]).collect();
            let mut y = vec![0.0; n];
            op.apply(&x, &mut y);
            let rq = dot(&x, &y) / dot(&x, &x);
            assert!((rq - expect).abs() < 5e-5, "{rq} vs {expect}");
            let trivial: f64 = x.iter().zip(&deg).map(|(a, d)| a * d.sqrt()).sum();
            assert!(trivial.abs() < 1e-6, "not orthogonal to the trivial vector");
        }
    }

    #[test]
    fn cancelled_token_stops_the_solvers() {
        let cancel = Cancel::new();
        cancel.cancel();
        // Lanczos (n > DENSE_MAX), the dense solver and the multi-component layout.
        for g in [path(300), path(100), ring(30)] {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let r = leading_eigenvectors(&g, 2, &mut rng, &cancel);
            assert!(matches!(r, Err(crate::EngineError::Cancelled)));
        }
        let two = Graph {
            n: 4,
            indptr: vec![0, 1, 2, 3, 4],
            indices: vec![1, 0, 3, 2],
            weights: vec![1.0; 4],
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let r = spectral_layout(&two, None, 2, &mut rng, &cancel);
        assert!(matches!(r, Err(crate::EngineError::Cancelled)));
    }

    #[test]
    fn disconnected_graph_uses_component_layout() {
        // Two rings: each component lands around its own meta position.
        let a = ring(300);
        let mut indptr = a.indptr.clone();
        let mut indices = a.indices.clone();
        for i in 0..300 {
            for p in a.indptr[i]..a.indptr[i + 1] {
                indices.push(a.indices[p] + 300);
            }
            indptr.push(indices.len());
        }
        let weights = vec![1.0; indices.len()];
        let g = Graph { n: 600, indptr, indices, weights };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let v = spectral_layout(&g, None, 2, &mut rng, &Cancel::never()).unwrap();
        let mean = |range: std::ops::Range<usize>| -> f64 {
            range.clone().map(|r| v[r * 2]).sum::<f64>() / range.len() as f64
        };
        assert!((mean(0..300) - 1.0).abs() < 0.2);
        assert!((mean(300..600) + 1.0).abs() < 0.2);
    }
}
