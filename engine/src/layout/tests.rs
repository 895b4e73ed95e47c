use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::testutil::{random_model, unit};

fn rows(v: &[Vec<f32>]) -> Vec<&[f32]> {
    v.iter().map(Vec::as_slice).collect()
}

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// `n` unit vectors in `dim` dimensions around `centres` (noise `spread`), cluster by cluster.
fn clusters(centres: usize, n: usize, dim: usize, spread: f32, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let c: Vec<Vec<f32>> = (0..centres)
        .map(|_| unit((0..dim).map(|_| rng.random_range(-1.0..1.0)).collect()))
        .collect();
    (0..centres * n)
        .map(|i| {
            unit(c[i / n].iter().map(|&x| x + spread * rng.random_range(-1.0f32..1.0)).collect())
        })
        .collect()
}

#[test]
fn empty_single_and_pair() {
    assert!(topic_map(&[]).unwrap().is_empty());
    assert_eq!(topic_map(&[&[0.6, 0.8]]).unwrap(), vec![[0.0, 0.0]]);
    // Two topics at cosine 0.5: distance 1 − 0.5, on the first axis, the first one positive
    // (ties of magnitude go to the lower index).
    let a = [1.0f32, 0.0];
    let b = [0.5f32, 0.75f32.sqrt()];
    let p = topic_map(&[&a, &b]).unwrap();
    assert!((dist(p[0], p[1]) - 0.5).abs() < 1e-6, "{p:?}");
    assert!((p[0][0] - 0.25).abs() < 1e-6 && (p[1][0] + 0.25).abs() < 1e-6, "{p:?}");
    assert_eq!((p[0][1], p[1][1]), (0.0, 0.0));
}

#[test]
fn identical_and_zero_embeddings_sit_at_the_origin() {
    let e = vec![unit(vec![1.0, 2.0, 3.0]); 5];
    assert_eq!(topic_map(&rows(&e)).unwrap(), vec![[0.0, 0.0]; 5]);
    let z = vec![vec![0.0f32; 3]; 4];
    assert_eq!(topic_map(&rows(&z)).unwrap(), vec![[0.0, 0.0]; 4]);
    // Two identical topics and a third: the pair shares one point, the third is away from it.
    let e = vec![vec![1.0, 0.0, 0.0], vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]];
    let p = topic_map(&rows(&e)).unwrap();
    assert!(dist(p[0], p[1]) < 1e-9, "{p:?}");
    assert!(dist(p[0], p[2]) > 0.5, "{p:?}");
    assert!(p.iter().flatten().all(|v| v.is_finite()));
}

#[test]
fn rejects_ragged_or_non_finite_rows() {
    let a = [1.0f32, 0.0];
    let b = [1.0f32, 0.0, 0.0];
    assert!(matches!(topic_map(&[&a, &b]), Err(EngineError::DimensionMismatch { .. })));
    let c = [f32::NAN, 1.0];
    assert!(topic_map(&[&a, &c]).unwrap_err().to_string().contains("NaN"));
}

#[test]
fn deterministic_and_sign_normalised() {
    let e = clusters(4, 10, 32, 0.3, 1);
    let first = topic_map(&rows(&e)).unwrap();
    for _ in 0..3 {
        assert_eq!(topic_map(&rows(&e)).unwrap(), first);
    }
    // On a one-thread pool too: row-parallel work is summed in the same order.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    assert_eq!(pool.install(|| topic_map(&rows(&e)).unwrap()), first);
    for axis in 0..2 {
        let extreme =
            first.iter().map(|p| p[axis]).max_by(|a, b| a.abs().total_cmp(&b.abs())).unwrap();
        assert!(extreme > 0.0, "axis {axis}: {extreme}");
    }
    // The layout is centred (double centring) and spreads on both axes.
    for axis in 0..2 {
        let mean: f64 = first.iter().map(|p| p[axis]).sum::<f64>() / first.len() as f64;
        assert!(mean.abs() < 1e-9, "axis {axis} mean {mean}");
        assert!(first.iter().any(|p| p[axis].abs() > 0.05));
    }
}

#[test]
fn clusters_stay_together() {
    let (centres, n) = (5, 8);
    let e = clusters(centres, n, 48, 0.2, 7);
    let p = topic_map(&rows(&e)).unwrap();
    // Every point's nearest other point on the map belongs to its own cluster... on 2 axes
    // five clusters may overlap a little, so check the cluster means instead: each point is
    // closer to its own cluster's mean than the average distance between cluster means.
    let mean = |c: usize| -> [f64; 2] {
        let pts = &p[c * n..(c + 1) * n];
        [
            pts.iter().map(|q| q[0]).sum::<f64>() / n as f64,
            pts.iter().map(|q| q[1]).sum::<f64>() / n as f64,
        ]
    };
    let means: Vec<[f64; 2]> = (0..centres).map(mean).collect();
    let mut between = 0.0;
    let mut pairs = 0.0;
    for a in 0..centres {
        for b in a + 1..centres {
            between += dist(means[a], means[b]);
            pairs += 1.0;
        }
    }
    between /= pairs;
    let within: f64 =
        (0..centres * n).map(|i| dist(p[i], means[i / n])).sum::<f64>() / (centres * n) as f64;
    assert!(within < 0.5 * between, "within {within}, between {between}");
}

/// The same top-2 eigenpairs as the dense reference solver (Householder + QL), up to sign.
#[test]
fn matches_the_dense_eigensolver() {
    for (k, seed) in [(3usize, 1u64), (9, 2), (30, 3), (60, 4)] {
        let e = clusters(3, k.div_ceil(3), 16, 0.6, seed);
        let e = &e[..k];
        let b = double_centred_squared_distances(&rows(e));
        let (vals, vecs) = symmetric_eigen(&b, k, &Cancel::never()).unwrap();
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &c| vals[c].total_cmp(&vals[a]));
        let p = topic_map(&rows(e)).unwrap();
        for axis in 0..2 {
            let e_idx = order[axis];
            let root = vals[e_idx].max(0.0).sqrt();
            let mut want: Vec<f64> = (0..k).map(|r| vecs[r * k + e_idx] * root).collect();
            let extreme = want.iter().copied().max_by(|a, b| a.abs().total_cmp(&b.abs())).unwrap();
            if extreme < 0.0 {
                want.iter_mut().for_each(|v| *v = -*v);
            }
            for r in 0..k {
                assert!(
                    (p[r][axis] - want[r]).abs() < 1e-6,
                    "k {k} axis {axis} row {r}: {} vs {}",
                    p[r][axis],
                    want[r]
                );
            }
        }
    }
}

/// A matrix whose negative eigenvalues are larger in magnitude than its positive ones still
/// gets its algebraically largest eigenvectors (the shifted run).
#[test]
fn negative_eigenvalues_do_not_take_the_axes() {
    let k = 12;
    // B = 0.3·u uᵀ + 0.1·v vᵀ − Σ 5·w_i w_iᵀ over 9 more orthonormal directions, all ⟂ 1.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut q: Vec<f64> = (0..k * 11).map(|_| rng.random_range(-1.0..1.0)).collect();
    let got = orthonormalise(&mut q, k, 11, &mut rng);
    assert_eq!(got, 11);
    let weights: Vec<f64> = [0.3, 0.1].into_iter().chain(std::iter::repeat_n(-5.0, 9)).collect();
    let mut b = vec![0.0f64; k * k];
    for (c, w) in weights.iter().enumerate() {
        for r in 0..k {
            for s in 0..k {
                b[r * k + s] += w * q[r * 11 + c] * q[s * 11 + c];
            }
        }
    }
    let pairs = top_two_eigenpairs(&b, k).unwrap();
    assert!((pairs[0].0 - 0.3).abs() < 1e-7, "{}", pairs[0].0);
    assert!((pairs[1].0 - 0.1).abs() < 1e-7, "{}", pairs[1].0);
    let overlap: f64 = (0..k).map(|r| pairs[0].1[r] * q[r * 11]).sum();
    assert!((overlap.abs() - 1.0).abs() < 1e-6, "{overlap}");
}

#[test]
fn model_map_has_one_point_per_active_topic() {
    let m = random_model(3, 12, 16);
    let points = model_map(&m).unwrap();
    let ids: Vec<i64> = m.active_topics().map(|t| t.id).collect();
    assert_eq!(points.iter().map(|p| p.topic_id).collect::<Vec<_>>(), ids);
    assert!(!ids.contains(&-1) && !ids.contains(&3), "outlier and retired topics are left out");
    assert_eq!(model_map(&m).unwrap(), points);
}

#[test]
fn a_few_hundred_topics() {
    let e = clusters(20, 20, 64, 0.4, 11);
    let p = topic_map(&rows(&e)).unwrap();
    assert_eq!(p.len(), 400);
    assert!(p.iter().flatten().all(|v| v.is_finite()));
    assert!(p.iter().any(|q| q[1] != 0.0));
}

#[test]
fn too_many_topics_is_an_error() {
    let one = [1.0f32];
    let e: Vec<&[f32]> = vec![&one; MAX_MAP_TOPICS + 1];
    assert!(matches!(topic_map(&e), Err(EngineError::InvalidInput(_))));
}
