//! UMAP (5 components, umap-learn's epoch rule) on a precomputed exact kNN graph.

use candle_core::Device;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use topic_engine::internals::knn::knn;
use topic_engine::internals::umap::{fit, UmapParams};
use topic_engine::{FitParams, KnnMethod};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("umap");
    g.sample_size(10);
    let params = UmapParams::from(&FitParams::default());
    for n in [2_000usize, 5_000] {
        let corpus = topic_benches::corpus_or_blobs(n, 42).expect("bench corpus");
        let graph = knn(&corpus.embeddings, 15, KnnMethod::Exact, usize::MAX, 42, &Device::Cpu)
            .expect("knn");
        g.bench_with_input(BenchmarkId::new("fit", n), &graph, |b, graph| {
            b.iter(|| fit(graph, &params).expect("umap"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
