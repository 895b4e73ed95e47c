use candle_core::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

fn random_matrix(n: usize, d: usize, seed: u64) -> Matrix {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = (0..n * d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    Matrix::new(data, n, d).unwrap()
}

/// Brute force in f64: (distance, index) pairs per row, self first.
fn brute_force(m: &Matrix, k: usize) -> Vec<Vec<(f64, usize)>> {
    let norm = |r: &[f32]| r.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
    (0..m.rows())
        .map(|i| {
            let mut row: Vec<(f64, usize)> = (0..m.rows())
                .filter(|&j| j != i)
                .map(|j| {
                    let dot: f64 =
                        m.row(i).iter().zip(m.row(j)).map(|(a, b)| *a as f64 * *b as f64).sum();
                    (1.0 - dot / (norm(m.row(i)) * norm(m.row(j))), j)
                })
                .collect();
            row.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut out = vec![(0.0, i)];
            out.extend(row.into_iter().take(k - 1));
            out
        })
        .collect()
}

#[test]
fn exact_matches_brute_force() {
    let m = random_matrix(300, 16, 1);
    let g = knn(&m, 10, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap();
    g.validate().unwrap();
    assert_eq!(g.n(), 300);
    let bf = brute_force(&m, 10);
    for i in 0..300 {
        assert_eq!(g.neighbors(i)[0] as usize, i);
        assert_eq!(g.neighbor_distances(i)[0], 0.0);
        for (c, &(d, j)) in bf[i].iter().enumerate() {
            assert!((g.neighbor_distances(i)[c] as f64 - d).abs() < 1e-5, "row {i} col {c}");
            // Random data has no near-ties, so the indices match exactly.
            assert_eq!(g.neighbors(i)[c] as usize, j, "row {i} col {c}");
        }
        assert!(g.neighbor_distances(i).windows(2).all(|w| w[0] <= w[1]));
    }
}

#[test]
fn duplicates_are_deterministic_and_self_first() {
    // Rows 0, 1, 2 are identical, rows 3 and 4 too (up to scale), row 5 stands alone.
    let rows = vec![
        vec![1.0f32, 0.0, 0.0],
        vec![1.0, 0.0, 0.0],
        vec![1.0, 0.0, 0.0],
        vec![0.0, 2.0, 0.0],
        vec![0.0, 1.0, 0.0],
        vec![0.3, 0.3, 1.0],
    ];
    let m = Matrix::from_rows(&rows).unwrap();
    let g = knn(&m, 3, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap();
    assert_eq!(g.neighbors(0), &[0, 1, 2]);
    assert_eq!(g.neighbors(1), &[1, 0, 2]);
    assert_eq!(g.neighbors(2), &[2, 0, 1]);
    assert_eq!(&g.neighbors(3)[..2], &[3, 4]);
    assert_eq!(&g.neighbors(4)[..2], &[4, 3]);
    assert!(g.neighbor_distances(0)[1] < 1e-6);
    assert_eq!(g, knn(&m, 3, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap());
}

#[test]
fn zero_vectors_follow_umap_cosine() {
    let rows = vec![vec![0.0f32, 0.0], vec![0.0, 0.0], vec![1.0, 0.0], vec![0.9, 0.1]];
    let m = Matrix::from_rows(&rows).unwrap();
    let g = knn(&m, 3, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap();
    assert_eq!(g.neighbors(0), &[0, 1, 2]);
    assert_eq!(g.neighbor_distances(0), &[0.0, 0.0, 1.0]);
    assert_eq!(&g.neighbors(2)[..2], &[2, 3]);
    assert_eq!(g.neighbor_distances(2)[2], 1.0);
}

#[test]
fn k_equal_to_n_and_k_one() {
    let m = random_matrix(5, 4, 3);
    let g = knn(&m, 5, KnnMethod::Auto, 100, 0, &Device::Cpu).unwrap();
    for i in 0..5 {
        let mut seen: Vec<u32> = g.neighbors(i).to_vec();
        seen.sort();
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    }
    let g1 = knn(&m, 1, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap();
    assert_eq!(g1.indices, vec![0, 1, 2, 3, 4]);
}

#[test]
fn bad_input_is_an_error() {
    let m = random_matrix(5, 4, 3);
    assert!(knn(&m, 6, KnnMethod::Exact, 0, 0, &Device::Cpu).is_err());
    assert!(knn(&m, 0, KnnMethod::Exact, 0, 0, &Device::Cpu).is_err());
    let empty = Matrix::new(vec![], 0, 4).unwrap();
    assert!(knn(&empty, 1, KnnMethod::Exact, 0, 0, &Device::Cpu).is_err());
    let mut nan = m.clone();
    nan.row_mut(2)[1] = f32::NAN;
    let err = knn(&nan, 2, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("row 2"), "{err}");
    let bad = KnnGraph { k: 2, indices: vec![0, 7], distances: vec![0.0, 0.1] };
    assert!(bad.validate().is_err());
}

/// Clustered data in `d` dimensions: `clusters` random centres with Gaussian noise.
fn clustered(n: usize, d: usize, clusters: usize, noise: f32, seed: u64) -> Matrix {
    use rand_distr::{Distribution, Normal};
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 1.0).unwrap();
    let centres: Vec<Vec<f32>> =
        (0..clusters).map(|_| (0..d).map(|_| normal.sample(&mut rng)).collect()).collect();
    let mut data = Vec::with_capacity(n * d);
    for _ in 0..n {
        let c = &centres[rng.random_range(0..clusters)];
        data.extend(c.iter().map(|x| x + noise * normal.sample(&mut rng)));
    }
    Matrix::new(data, n, d).unwrap()
}

fn recall(approx: &KnnGraph, exact: &KnnGraph) -> f64 {
    let mut hits = 0usize;
    for i in 0..exact.n() {
        let truth = &exact.neighbors(i)[1..];
        hits += approx.neighbors(i)[1..].iter().filter(|j| truth.contains(j)).count();
    }
    hits as f64 / (exact.n() * (exact.k - 1)) as f64
}

#[test]
fn approximate_recall_and_determinism() {
    let m = clustered(20_000, 48, 150, 0.6, 5);
    let exact = knn(&m, 15, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap();
    let approx = knn(&m, 15, KnnMethod::Approximate, 0, 9, &Device::Cpu).unwrap();
    approx.validate().unwrap();
    for i in 0..approx.n() {
        assert_eq!(approx.neighbors(i)[0] as usize, i);
        assert!(approx.neighbor_distances(i).windows(2).all(|w| w[0] <= w[1]));
        let mut row = approx.neighbors(i).to_vec();
        row.sort();
        row.dedup();
        assert_eq!(row.len(), 15, "row {i} has duplicates");
    }
    let r = recall(&approx, &exact);
    assert!(r >= 0.95, "recall {r}");
    // Auto switches on size; the same seed gives the same graph.
    let auto = knn(&m, 15, KnnMethod::Auto, 10_000, 9, &Device::Cpu).unwrap();
    assert_eq!(auto, approx);
}

#[test]
fn approximate_handles_duplicates_and_small_inputs() {
    let mut rows = vec![vec![1.0f32, 2.0, 3.0]; 50];
    rows.extend((0..50).map(|i| vec![i as f32, 1.0, -(i as f32)]));
    let m = Matrix::from_rows(&rows).unwrap();
    let g = knn(&m, 10, KnnMethod::Approximate, 0, 1, &Device::Cpu).unwrap();
    g.validate().unwrap();
    for i in 0..50 {
        assert_eq!(g.neighbors(i)[0] as usize, i);
        assert!(g.neighbors(i)[1..].iter().all(|&j| j < 50), "row {i}");
        assert!(g.neighbor_distances(i).iter().all(|&d| d < 1e-6));
    }
}

#[test]
fn cancelled_token_stops_both_methods() {
    let m = random_matrix(600, 8, 9);
    let cancel = Cancel::new();
    for method in [KnnMethod::Exact, KnnMethod::Approximate] {
        let never = knn_cancellable(&m, 10, method, 0, 1, &Device::Cpu, &Cancel::never()).unwrap();
        assert_eq!(never, knn(&m, 10, method, 0, 1, &Device::Cpu).unwrap());
    }
    cancel.cancel();
    for method in [KnnMethod::Exact, KnnMethod::Approximate] {
        let r = knn_cancellable(&m, 10, method, 0, 1, &Device::Cpu, &cancel);
        assert!(matches!(r, Err(EngineError::Cancelled)), "{method:?}");
    }
}
