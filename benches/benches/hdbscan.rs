//! HDBSCAN (min_cluster_size 10, EOM) on 5-d points: Gaussian blobs, the shape UMAP hands it.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use topic_engine::internals::hdbscan::{fit, HdbscanParams};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("hdbscan");
    g.sample_size(10);
    let params =
        HdbscanParams { min_cluster_size: 10, min_samples: None, allow_single_cluster: false };
    for n in [5_000usize, 20_000] {
        let points = topic_benches::blobs(n, 5, 150, 42).expect("blobs").embeddings;
        g.bench_with_input(BenchmarkId::new("fit", n), &points, |b, p| {
            b.iter(|| fit(p, &params).expect("hdbscan"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
