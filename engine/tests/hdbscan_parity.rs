//! Parity with Python `hdbscan` 0.8.40 on real data: 1,112 points of a 5-d UMAP layout of
//! CLINC150 (25 of its HDBSCAN clusters plus 150 noise points), with the labels Python's
//! `HDBSCAN(min_cluster_size=10, cluster_selection_method="eom")` gives on exactly these points.
//! The layout is umap-learn 0.5.9 (`n_neighbors=15, n_components=5, min_dist=0.0,
//! metric="cosine", random_state=42`) of the first 22,500 rows of `clinc150.npy`; the subset is
//! the points of 25 randomly chosen Python clusters plus 150 random noise points (NumPy seed 0).

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use topic_engine::internals::hdbscan::{fit, HdbscanParams};
use topic_engine::Matrix;

fn load_npy<T: npyz::Deserialize>(name: &str) -> (Vec<T>, Vec<u64>) {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (npy.into_vec().unwrap(), shape)
}

/// Adjusted Rand index (Hubert & Arabie), noise counted as one more cluster as sklearn does.
fn adjusted_rand(a: &[i64], b: &[i64]) -> f64 {
    let comb2 = |x: f64| x * (x - 1.0) / 2.0;
    let mut table: HashMap<(i64, i64), f64> = HashMap::new();
    let mut ra: HashMap<i64, f64> = HashMap::new();
    let mut rb: HashMap<i64, f64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_default() += 1.0;
        *ra.entry(x).or_default() += 1.0;
        *rb.entry(y).or_default() += 1.0;
    }
    let index: f64 = table.values().map(|&v| comb2(v)).sum();
    let sa: f64 = ra.values().map(|&v| comb2(v)).sum();
    let sb: f64 = rb.values().map(|&v| comb2(v)).sum();
    let expected = sa * sb / comb2(a.len() as f64);
    let max = (sa + sb) / 2.0;
    (index - expected) / (max - expected)
}

#[test]
fn matches_python_hdbscan_on_a_umap_layout() {
    let (points, shape) = load_npy::<f32>("hdbscan_umap5_points.npy");
    let (expected, _) = load_npy::<i64>("hdbscan_umap5_labels.npy");
    let m = Matrix::new(points, shape[0] as usize, shape[1] as usize).unwrap();
    let c = fit(&m, &HdbscanParams::default()).unwrap();
    let ari = adjusted_rand(&c.labels, &expected);
    assert!(ari >= 0.99, "ARI vs Python hdbscan {ari}");
    let expected_clusters = expected.iter().max().unwrap() + 1;
    assert_eq!(c.n_clusters() as i64, expected_clusters);
}

#[test]
fn ari_helper_is_sane() {
    assert!((adjusted_rand(&[0, 0, 1, 1], &[5, 5, 7, 7]) - 1.0).abs() < 1e-12);
    assert!(adjusted_rand(&[0, 0, 1, 1], &[0, 1, 0, 1]) < 0.0);
}
