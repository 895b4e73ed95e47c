use candle_core::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::*;
use crate::knn::knn;
use crate::params::KnnMethod;

/// `blobs` Gaussian clusters of `per` points in `d` dimensions around random unit centres.
fn blobs(blobs: usize, per: usize, d: usize, noise: f32, seed: u64) -> (Matrix, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 1.0).unwrap();
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for c in 0..blobs {
        let centre: Vec<f32> = (0..d).map(|_| normal.sample(&mut rng)).collect();
        for _ in 0..per {
            rows.push(
                centre.iter().map(|x| x + noise * normal.sample(&mut rng)).collect::<Vec<_>>(),
            );
            labels.push(c);
        }
    }
    (Matrix::from_rows(&rows).unwrap(), labels)
}

fn sq(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn cos_dist(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    1.0 - dot / (na * nb)
}

/// scikit-learn's `trustworthiness` (input metric cosine, output euclidean).
fn trustworthiness(x: &Matrix, y: &Matrix, k: usize) -> f64 {
    let n = x.rows();
    let mut total = 0.0;
    for i in 0..n {
        let mut by_x: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        by_x.sort_by(|&a, &b| {
            cos_dist(x.row(i), x.row(a)).total_cmp(&cos_dist(x.row(i), x.row(b)))
        });
        let mut rank = vec![0usize; n];
        for (r, &j) in by_x.iter().enumerate() {
            rank[j] = r + 1;
        }
        let mut by_y: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        by_y.sort_by(|&a, &b| sq(y.row(i), y.row(a)).total_cmp(&sq(y.row(i), y.row(b))));
        for &j in &by_y[..k] {
            total += (rank[j] as f64 - k as f64).max(0.0);
        }
    }
    1.0 - 2.0 / (n as f64 * k as f64 * (2.0 * n as f64 - 3.0 * k as f64 - 1.0)) * total
}

fn embed(x: &Matrix, params: &UmapParams) -> Matrix {
    let g = knn(x, 15, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap();
    fit(&g, params).unwrap()
}

#[test]
fn same_seed_same_output_and_seed_matters() {
    let (x, _) = blobs(3, 100, 16, 0.3, 1);
    let p = UmapParams { n_epochs: Some(100), ..UmapParams::default() };
    let a = embed(&x, &p);
    let b = embed(&x, &p);
    assert_eq!(a, b);
    assert_eq!((a.rows(), a.cols()), (300, 5));
    let c = embed(&x, &UmapParams { seed: 7, ..p });
    assert_ne!(a, c);
}

#[test]
fn separated_blobs_stay_separated() {
    let (x, labels) = blobs(5, 200, 32, 0.25, 2);
    let y = embed(&x, &UmapParams { n_components: 2, ..UmapParams::default() });
    assert!(y.as_slice().iter().all(|v| v.is_finite()));
    // 1-NN in the embedding agrees with the blob of (almost) every point.
    let n = y.rows();
    let agree = (0..n)
        .filter(|&i| {
            let nn = (0..n)
                .filter(|&j| j != i)
                .min_by(|&a, &b| sq(y.row(i), y.row(a)).total_cmp(&sq(y.row(i), y.row(b))))
                .unwrap();
            labels[nn] == labels[i]
        })
        .count();
    assert!(agree as f64 / n as f64 > 0.99, "{agree}/{n}");
    // Every blob's spread is smaller than the gap to the nearest other blob centre.
    let centre = |c: usize| -> Vec<f32> {
        let idx: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        (0..2).map(|d| idx.iter().map(|&i| y.row(i)[d]).sum::<f32>() / idx.len() as f32).collect()
    };
    let centres: Vec<Vec<f32>> = (0..5).map(centre).collect();
    for c in 0..5 {
        let radius = (0..n)
            .filter(|&i| labels[i] == c)
            .map(|i| sq(y.row(i), &centres[c]).sqrt())
            .fold(0.0f32, f32::max);
        let gap = (0..5)
            .filter(|&o| o != c)
            .map(|o| sq(&centres[o], &centres[c]).sqrt())
            .fold(f32::INFINITY, f32::min);
        assert!(radius < gap, "blob {c}: radius {radius} vs gap {gap}");
    }
}

#[test]
fn trustworthiness_on_a_noisy_manifold() {
    // A noisy closed curve in 10-d: local neighbourhoods must survive the embedding.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let rows: Vec<Vec<f32>> = (0..600)
        .map(|i| {
            let t = i as f32 / 600.0 * std::f32::consts::TAU;
            (0..10)
                .map(|d| ((d as f32 + 1.0) * t).sin() + 2.0 + rng.random_range(-0.02..0.02))
                .collect()
        })
        .collect();
    let x = Matrix::from_rows(&rows).unwrap();
    let y = embed(&x, &UmapParams { n_components: 2, ..UmapParams::default() });
    let t = trustworthiness(&x, &y, 10);
    assert!(t >= 0.9, "trustworthiness {t}");
}

#[test]
fn small_and_degenerate_inputs() {
    // Fewer points than n_components + 2: random initialisation, still finite.
    let x = Matrix::from_rows(&[vec![1.0f32, 0.0], vec![0.0, 1.0], vec![1.0, 1.0]]).unwrap();
    let g = knn(&x, 3, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap();
    let y = fit(&g, &UmapParams::default()).unwrap();
    assert_eq!((y.rows(), y.cols()), (3, 5));
    assert!(y.as_slice().iter().all(|v| v.is_finite()));
    // All-identical points.
    let same = Matrix::from_rows(&vec![vec![0.5f32, 0.5, 0.1]; 40]).unwrap();
    let g = knn(&same, 15, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap();
    let y = fit(&g, &UmapParams::default()).unwrap();
    assert!(y.as_slice().iter().all(|v| v.is_finite()));
    // One point.
    let one = Matrix::from_rows(&[vec![1.0f32, 2.0]]).unwrap();
    let g = knn(&one, 1, KnnMethod::Exact, 0, 0, &Device::Cpu).unwrap();
    assert_eq!(fit(&g, &UmapParams::default()).unwrap(), Matrix::zeros(1, 5));
}

#[test]
fn bad_input_is_an_error() {
    let g = KnnGraph { k: 2, indices: vec![0, 1, 1, 0], distances: vec![0.0, 0.5, 0.0, 0.5] };
    assert!(fit(&g, &UmapParams { n_components: 0, ..UmapParams::default() }).is_err());
    assert!(fit(&g, &UmapParams { n_epochs: Some(0), ..UmapParams::default() }).is_err());
    assert!(fit(&g, &UmapParams { min_dist: 3.0, ..UmapParams::default() }).is_err());
    let bad = KnnGraph { k: 2, indices: vec![0, 5, 1, 0], distances: vec![0.0, 0.5, 0.0, 0.5] };
    assert!(fit(&bad, &UmapParams::default()).is_err());
    let nan =
        KnnGraph { k: 2, indices: vec![0, 1, 1, 0], distances: vec![0.0, f32::NAN, 0.0, 0.5] };
    assert!(fit(&nan, &UmapParams::default()).is_err());
    let empty = KnnGraph { k: 2, indices: vec![], distances: vec![] };
    assert!(fit(&empty, &UmapParams::default()).is_err());
    let x = Matrix::zeros(3, 2);
    assert!(fit_with_data(&g, Some(&x), &UmapParams::default()).is_err());
}
