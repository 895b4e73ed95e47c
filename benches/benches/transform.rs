//! Transform: nearest active topic for a batch of embeddings (150 topics from CLINC150's intents,
//! or blobs when the dataset is absent), at the batch sizes a Transform RPC sees.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use topic_engine::{transform, TransformParams};

fn bench(c: &mut Criterion) {
    let corpus = topic_benches::corpus_or_blobs(22_500, 42).expect("bench corpus");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).expect("valid date");
    let model = topic_benches::model_from_labels(&corpus, day).expect("model");
    let params = TransformParams::default();
    let mut g = c.benchmark_group("transform");
    for batch in [1usize, 8, 64, 1_000] {
        let idx: Vec<usize> = (0..batch).map(|i| (i * 7919) % corpus.len()).collect();
        let emb = corpus.embeddings.select_rows(&idx);
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_with_input(BenchmarkId::new("batch", batch), &emb, |b, e| {
            b.iter(|| transform(&model, e, &params).expect("transform"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
