//! `find_ab_params`: the `a`, `b` of the low-dimensional kernel `1 / (1 + a·d^{2b})`.
//!
//! umap-learn fits `1 / (1 + a·x^{2b})` to the target `1` for `x < min_dist` and
//! `exp(-(x - min_dist) / spread)` otherwise, on 300 points evenly spaced in `[0, 3·spread]`,
//! by `scipy.optimize.curve_fit` (Levenberg–Marquardt from `a = b = 1`). We do the same
//! least-squares fit with an analytic Jacobian.

use crate::error::{EngineError, Result};

/// Fits `(a, b)` for `spread` and `min_dist` as umap-learn's `find_ab_params`.
pub fn find_ab_params(spread: f32, min_dist: f32) -> Result<(f32, f32)> {
    let spread = spread as f64;
    let min_dist = min_dist as f64;
    if !(spread > 0.0 && spread.is_finite() && min_dist >= 0.0 && min_dist <= spread) {
        return Err(EngineError::param(
            "min_dist",
            format!("need 0 ≤ min_dist ≤ spread and spread > 0, got {min_dist} and {spread}"),
        ));
    }
    let points = 300;
    let xs: Vec<f64> = (0..points).map(|i| 3.0 * spread * i as f64 / (points - 1) as f64).collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|&x| if x < min_dist { 1.0 } else { (-(x - min_dist) / spread).exp() })
        .collect();

    // Residuals and Jacobian of f(x) = 1 / (1 + a x^{2b}).
    // (sum of squared residuals, [JᵀJ_aa, JᵀJ_ab, JᵀJ_bb]).
    let eval = |a: f64, b: f64| -> (f64, [f64; 3]) {
        let mut ss = 0.0;
        let mut jtj = [0.0; 3];
        for (&x, &y) in xs.iter().zip(&ys) {
            let (r, ja, jb) = residual(x, y, a, b);
            ss += r * r;
            jtj[0] += ja * ja;
            jtj[1] += ja * jb;
            jtj[2] += jb * jb;
        }
        (ss, jtj)
    };
    let gradient = |a: f64, b: f64| -> [f64; 2] {
        let mut g = [0.0; 2];
        for (&x, &y) in xs.iter().zip(&ys) {
            let (r, ja, jb) = residual(x, y, a, b);
            g[0] += ja * r;
            g[1] += jb * r;
        }
        g
    };

    // Levenberg–Marquardt with Marquardt's diagonal scaling.
    let (mut a, mut b) = (1.0f64, 1.0f64);
    let (mut cost, mut jtj) = eval(a, b);
    let mut lambda = 1e-3;
    for _ in 0..500 {
        let g = gradient(a, b);
        let m00 = jtj[0] * (1.0 + lambda);
        let m11 = jtj[2] * (1.0 + lambda);
        let m01 = jtj[1];
        let det = m00 * m11 - m01 * m01;
        if det.abs() < 1e-300 {
            break;
        }
        let da = -(m11 * g[0] - m01 * g[1]) / det;
        let db = -(m00 * g[1] - m01 * g[0]) / det;
        let (na, nb) = (a + da, b + db);
        if !(na > 0.0 && nb > 0.0) {
            lambda *= 10.0;
            continue;
        }
        let (new_cost, new_jtj) = eval(na, nb);
        if new_cost < cost {
            let converged = (cost - new_cost) <= 1e-15 * cost.max(1e-300)
                && da.abs() <= 1e-12 * a
                && db.abs() <= 1e-12 * b;
            a = na;
            b = nb;
            cost = new_cost;
            jtj = new_jtj;
            lambda = (lambda / 10.0).max(1e-12);
            if converged {
                break;
            }
        } else {
            lambda *= 10.0;
            if lambda > 1e12 {
                break;
            }
        }
    }
    if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0) {
        return Err(EngineError::param(
            "min_dist",
            format!("could not fit the UMAP curve for min_dist {min_dist}, spread {spread}"),
        ));
    }
    Ok((a as f32, b as f32))
}

/// Residual `f(x) - y` and its partial derivatives in `a` and `b`.
fn residual(x: f64, y: f64, a: f64, b: f64) -> (f64, f64, f64) {
    if x <= 0.0 {
        // x^{2b} = 0 for b > 0: f = 1 and no dependence on a or b.
        return (1.0 - y, 0.0, 0.0);
    }
    let u = (2.0 * b * x.ln()).exp();
    let denom = 1.0 + a * u;
    let f = 1.0 / denom;
    let d2 = denom * denom;
    let ja = -u / d2;
    let jb = -a * u * 2.0 * x.ln() / d2;
    (f - y, ja, jb)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests {
    use super::*;

    #[test]
    fn matches_umap_learn_values() {
        // umap-learn 0.5.9 (scipy curve_fit): (1.932808, 0.790495) for min_dist 0 and
        // (1.576943, 0.895061) for its default min_dist 0.1.
        let (a, b) = find_ab_params(1.0, 0.0).unwrap();
        assert!((a - 1.932808).abs() < 1e-4, "a = {a}");
        assert!((b - 0.790495).abs() < 1e-4, "b = {b}");
        let (a, b) = find_ab_params(1.0, 0.1).unwrap();
        assert!((a - 1.576943).abs() < 1e-4, "a = {a}");
        assert!((b - 0.895061).abs() < 1e-4, "b = {b}");
    }

    #[test]
    fn rejects_bad_values() {
        assert!(find_ab_params(0.0, 0.0).is_err());
        assert!(find_ab_params(1.0, 2.0).is_err());
        assert!(find_ab_params(1.0, f32::NAN).is_err());
    }
}
