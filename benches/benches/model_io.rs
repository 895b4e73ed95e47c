//! Model files: serialise to / parse from `config.json` + `model.safetensors` bytes (what the
//! server does on every store put / cache miss), for a 150-topic CLINC150-sized model.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use topic_engine::io::{from_files, to_files};

fn bench(c: &mut Criterion) {
    let corpus = topic_benches::corpus_or_blobs(22_500, 42).expect("bench corpus");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).expect("valid date");
    let model = topic_benches::model_from_labels(&corpus, day).expect("model");
    let files = to_files(&model).expect("to_files");
    let bytes = (files.config_json.len() + files.tensors.len()) as u64;
    eprintln!(
        "model_io: {} topics, vocabulary {}, config.json {} B, model.safetensors {} B",
        model.topics.len(),
        model.vocabulary.len(),
        files.config_json.len(),
        files.tensors.len()
    );
    let mut g = c.benchmark_group("model_io");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("to_files", |b| b.iter(|| to_files(&model).expect("to_files")));
    g.bench_function("from_files", |b| {
        b.iter(|| from_files(&files.config_json, &files.tensors).expect("from_files"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
