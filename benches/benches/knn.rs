//! Exact and approximate cosine kNN (k = 15) on 384-d embeddings (CLINC150 when present).

use candle_core::Device;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use topic_engine::internals::knn::knn;
use topic_engine::KnnMethod;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("knn");
    g.sample_size(10);
    for n in [2_000usize, 5_000] {
        let corpus = topic_benches::corpus_or_blobs(n, 42).expect("bench corpus");
        for (name, method) in [("exact", KnnMethod::Exact), ("approx", KnnMethod::Approximate)] {
            g.bench_with_input(BenchmarkId::new(name, n), &corpus.embeddings, |b, m| {
                b.iter(|| knn(m, 15, method, usize::MAX, 42, &Device::Cpu).expect("knn"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
