//! Dense symmetric eigendecomposition: Householder reduction to tridiagonal form followed by
//! the implicit QL algorithm (EISPACK's `tred2` + `tql2`), `O(m³)` with a small constant.
//!
//! Used for the small graphs of the spectral initialisation, the component meta-layout and the
//! Rayleigh–Ritz step of the Lanczos solver. The work matrix is kept column-major so that every
//! inner loop runs over contiguous memory (the input is symmetric, so row- and column-major
//! read the same).

use crate::cancel::Cancel;
use crate::error::Result;

/// Eigenvalues and eigenvectors of the symmetric `m × m` matrix `a` (row-major; only its
/// symmetric part is meaningful). Returns `(values, vectors)` with `vectors[r * m + e]` the
/// `r`-th coordinate of the eigenvector of `values[e]`; eigenvalues in ascending order.
/// `cancel` is checked once per Householder step and per eigenvalue (`O(m²)` work apart).
pub(crate) fn symmetric_eigen(
    a: &[f64],
    m: usize,
    cancel: &Cancel,
) -> Result<(Vec<f64>, Vec<f64>)> {
    if m == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    // Column-major work matrix: element (row r, column c) at c * m + r.
    let mut v: Vec<f64> = a[..m * m].to_vec();
    let mut d = vec![0.0f64; m];
    let mut e = vec![0.0f64; m];
    tred2(&mut v, &mut d, &mut e, m, cancel)?;
    tql2(&mut v, &mut d, &mut e, m, cancel)?;
    let mut out = vec![0.0f64; m * m];
    for c in 0..m {
        for r in 0..m {
            out[r * m + c] = v[c * m + r];
        }
    }
    Ok((d, out))
}

/// Householder tridiagonalisation; on return `v` holds the orthogonal transformation,
/// `d` the diagonal and `e[1..]` the sub-diagonal.
fn tred2(v: &mut [f64], d: &mut [f64], e: &mut [f64], n: usize, cancel: &Cancel) -> Result<()> {
    let at = |r: usize, c: usize| c * n + r;
    for j in 0..n {
        d[j] = v[at(n - 1, j)];
    }
    for i in (1..n).rev() {
        cancel.check()?;
        let scale: f64 = d[..i].iter().map(|x| x.abs()).sum();
        let mut h = 0.0;
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
                v[at(j, i)] = 0.0;
            }
        } else {
            for x in d[..i].iter_mut() {
                *x /= scale;
                h += *x * *x;
            }
            let f = d[i - 1];
            let mut g = h.sqrt();
            if f > 0.0 {
                g = -g;
            }
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            e[..i].iter_mut().for_each(|x| *x = 0.0);
            for j in 0..i {
                let f = d[j];
                v[at(j, i)] = f;
                let mut g = e[j] + v[at(j, j)] * f;
                let col = &v[j * n..j * n + i];
                for k in j + 1..i {
                    g += col[k] * d[k];
                    e[k] += col[k] * f;
                }
                e[j] = g;
            }
            let mut f = 0.0;
            for j in 0..i {
                e[j] /= h;
                f += e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] -= hh * d[j];
            }
            for j in 0..i {
                let (f, g) = (d[j], e[j]);
                let col = &mut v[j * n..j * n + i];
                for k in j..i {
                    col[k] -= f * e[k] + g * d[k];
                }
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
            }
        }
        d[i] = h;
    }
    // Accumulate the transformations.
    for i in 0..n - 1 {
        cancel.check()?;
        v[at(n - 1, i)] = v[at(i, i)];
        v[at(i, i)] = 1.0;
        let h = d[i + 1];
        if h != 0.0 {
            for k in 0..=i {
                d[k] = v[at(k, i + 1)] / h;
            }
            for j in 0..=i {
                let g: f64 = (0..=i).map(|k| v[at(k, i + 1)] * v[at(k, j)]).sum();
                for k in 0..=i {
                    v[at(k, j)] -= g * d[k];
                }
            }
        }
        for k in 0..=i {
            v[at(k, i + 1)] = 0.0;
        }
    }
    for j in 0..n {
        d[j] = v[at(n - 1, j)];
        v[at(n - 1, j)] = 0.0;
    }
    v[at(n - 1, n - 1)] = 1.0;
    e[0] = 0.0;
    Ok(())
}

/// Implicit QL iterations on the tridiagonal matrix (`d`, `e`), accumulating the rotations
/// into `v`; eigenvalues end in `d` (sorted ascending, `v`'s columns permuted to match).
fn tql2(v: &mut [f64], d: &mut [f64], e: &mut [f64], n: usize, cancel: &Cancel) -> Result<()> {
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    let mut f = 0.0f64;
    let mut tst1 = 0.0f64;
    let eps = f64::EPSILON;
    for l in 0..n {
        cancel.check()?;
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n - 1 && e[m].abs() > eps * tst1 {
            m += 1;
        }
        if m > l {
            // At most 60 sweeps per eigenvalue (EISPACK uses 30); converges in 1–3 in practice.
            for _ in 0..60 {
                let g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let h = g - d[l];
                for x in d[l + 2..n].iter_mut() {
                    *x -= h;
                }
                f += h;
                p = d[m];
                let (mut c, mut c2, mut c3) = (1.0f64, 1.0f64, 1.0f64);
                let el1 = e[l + 1];
                let (mut s, mut s2) = (0.0f64, 0.0f64);
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    let g = c * e[i];
                    let h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    // Rotate columns i and i + 1 (contiguous in column-major order).
                    let (left, right) = v.split_at_mut((i + 1) * n);
                    let col_i = &mut left[i * n..];
                    let col_i1 = &mut right[..n];
                    for (a, b) in col_i.iter_mut().zip(col_i1.iter_mut()) {
                        let h = *b;
                        *b = s * *a + c * h;
                        *a = c * *a - s * h;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
    // Selection sort into ascending order (m swaps of whole columns at most).
    for i in 0..n.saturating_sub(1) {
        let mut k = i;
        let mut p = d[i];
        for (j, &dj) in d.iter().enumerate().skip(i + 1) {
            if dj < p {
                k = j;
                p = dj;
            }
        }
        if k != i {
            d[k] = d[i];
            d[i] = p;
            for r in 0..n {
                v.swap(i * n + r, k * n + r);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn random_symmetric(m: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut a = vec![0.0; m * m];
        for i in 0..m {
            for j in i..m {
                let x: f64 = rng.random_range(-1.0..1.0);
                a[i * m + j] = x;
                a[j * m + i] = x;
            }
        }
        a
    }

    /// ‖A v − λ v‖ small and V orthonormal, for every pair.
    fn check(a: &[f64], m: usize) {
        let (vals, vecs) = symmetric_eigen(a, m, &Cancel::never()).unwrap();
        assert!(vals.windows(2).all(|w| w[0] <= w[1]), "ascending");
        for e in 0..m {
            for r in 0..m {
                let av: f64 = (0..m).map(|c| a[r * m + c] * vecs[c * m + e]).sum();
                assert!((av - vals[e] * vecs[r * m + e]).abs() < 1e-9, "residual m={m} e={e}");
            }
            for f in 0..m {
                let dot: f64 = (0..m).map(|r| vecs[r * m + e] * vecs[r * m + f]).sum();
                let want = if e == f { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-9, "orthonormal m={m} {e},{f}: {dot}");
            }
        }
    }

    #[test]
    fn random_matrices_decompose() {
        for (m, seed) in [(1, 1), (2, 2), (3, 3), (7, 4), (40, 5), (97, 6)] {
            check(&random_symmetric(m, seed), m);
        }
    }

    #[test]
    fn degenerate_matrices_decompose() {
        // Zero matrix, identity (all eigenvalues equal) and a rank-one matrix.
        let m = 12;
        check(&vec![0.0; m * m], m);
        let mut id = vec![0.0; m * m];
        for i in 0..m {
            id[i * m + i] = 1.0;
        }
        check(&id, m);
        check(&vec![1.0; m * m], m);
    }

    #[test]
    fn cancelled_decomposition_is_an_error() {
        let cancel = Cancel::new();
        cancel.cancel();
        let r = symmetric_eigen(&random_symmetric(20, 7), 20, &cancel);
        assert!(matches!(r, Err(crate::EngineError::Cancelled)));
    }

    #[test]
    fn known_spectrum() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3.
        let (vals, vecs) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2, &Cancel::never()).unwrap();
        assert!((vals[0] - 1.0).abs() < 1e-12 && (vals[1] - 3.0).abs() < 1e-12);
        assert!((vecs[0].abs() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
    }
}
