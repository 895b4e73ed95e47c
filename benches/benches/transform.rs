//! Transform: nearest active topic for a batch of embeddings (150 topics from CLINC150's intents,
//! or blobs when the dataset is absent), at the batch sizes a Transform RPC sees; and the issue's
//! latency targets against a 500-topic model: one document (p50 < 200 µs) and a batch of 1,000.

use std::collections::{BTreeSet, HashMap};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use topic_benches::Corpus;
use topic_engine::transform::transform_one;
use topic_engine::{transform, TopicIndex, TransformParams};

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

    // 500 topics: every gold label split into parts (by position within the label), the first
    // 500 resulting labels kept; the queries are documents of the whole corpus.
    let sub = split_labels(&corpus, 500);
    let model500 = topic_benches::model_from_labels(&sub, day).expect("500-topic model");
    assert_eq!(model500.n_active_topics(), 500, "500-topic model");
    let index = TopicIndex::new(&model500);
    let mut g = c.benchmark_group("transform_500_topics");
    let one = corpus.embeddings.row(12_345).to_vec();
    g.throughput(Throughput::Elements(1));
    // The server's path: the index of a loaded model is kept and reused.
    g.bench_function("one_doc/index", |b| {
        b.iter(|| index.assign(std::hint::black_box(&one), &params).expect("assign"))
    });
    // Building the index on every call (what `transform_one` does).
    g.bench_function("one_doc/transform_one", |b| {
        b.iter(|| transform_one(&model500, std::hint::black_box(&one), &params).expect("one"))
    });
    let idx: Vec<usize> = (0..1_000).map(|i| (i * 7919) % corpus.len()).collect();
    let batch = corpus.embeddings.select_rows(&idx);
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("batch_1000/index", |b| {
        b.iter(|| index.assign_batch(&batch, &params).expect("assign_batch"))
    });
    g.finish();
}

/// `corpus` relabelled so that it has exactly `n` labels (when possible): each label is split
/// into `ceil(n / labels)` parts by position within the label, then the documents of the first
/// `n` new labels (sorted) are kept.
fn split_labels(corpus: &Corpus, n: usize) -> Corpus {
    let distinct: BTreeSet<&str> = corpus.labels.iter().map(String::as_str).collect();
    let parts = n.div_ceil(distinct.len().max(1));
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let labels: Vec<String> = corpus
        .labels
        .iter()
        .map(|l| {
            let k = seen.entry(l.as_str()).or_default();
            *k += 1;
            format!("{l}#{}", (*k - 1) % parts)
        })
        .collect();
    let keep: BTreeSet<&str> =
        labels.iter().map(String::as_str).collect::<BTreeSet<_>>().into_iter().take(n).collect();
    let rows: Vec<usize> =
        (0..labels.len()).filter(|&i| keep.contains(labels[i].as_str())).collect();
    Corpus {
        texts: rows.iter().map(|&i| corpus.texts[i].clone()).collect(),
        embeddings: corpus.embeddings.select_rows(&rows),
        labels: rows.iter().map(|&i| labels[i].clone()).collect(),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
