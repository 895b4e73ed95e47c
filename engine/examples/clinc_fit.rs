//! Fits the in-scope CLINC150 documents (the first 22,500 rows) with precomputed embeddings and
//! writes `shared/tools/score.py`'s `{"assignments": [...], "topic_words": {...}}`, for before /
//! after comparisons of the engine's fit:
//!
//! ```text
//! cargo run -p topic-engine --example clinc_fit -- DATASET_DIR OUT.json [seed]
//! python3 shared/tools/score.py OUT.json
//! ```

use std::collections::BTreeMap;
use std::io::BufRead;

use chrono::NaiveDate;
use topic_engine::{FitInput, FitParams, Matrix};

const IN_SCOPE: usize = 22_500;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: clinc_fit DATASET_DIR OUT.json [seed]".into());
    }
    let dir = std::path::Path::new(&args[1]);
    let seed: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(42);
    let file = std::fs::File::open(dir.join("clinc150.jsonl"))?;
    let mut texts = Vec::with_capacity(IN_SCOPE);
    for line in std::io::BufReader::new(file).lines().take(IN_SCOPE) {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        texts.push(v["text"].as_str().ok_or("row without text")?.to_string());
    }
    let bytes = std::fs::read(dir.join("clinc150.npy"))?;
    let npy = npyz::NpyFile::new(&bytes[..])?;
    let cols = npy.shape()[1] as usize;
    let data: Vec<f32> = npy.into_vec()?;
    let embeddings = Matrix::new(data[..IN_SCOPE * cols].to_vec(), IN_SCOPE, cols)?;
    let day = NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?;
    let input = FitInput {
        texts: &texts,
        embeddings: &embeddings,
        dates: None,
        day,
        embedding_model: "sentence-transformers/all-MiniLM-L6-v2",
    };
    let mut params = FitParams::default();
    params.seed = seed;
    let result = run_fit(&input, &params)?;
    let topic_words: BTreeMap<String, Vec<String>> = result
        .model
        .topics
        .iter()
        .map(|t| (t.id.to_string(), t.keywords.iter().map(|k| k.word.clone()).collect()))
        .collect();
    let body = serde_json::json!({ "assignments": result.assignments, "topic_words": topic_words });
    std::fs::write(&args[2], serde_json::to_vec(&body)?)?;
    let outliers = result.assignments.iter().filter(|&&a| a == -1).count();
    println!(
        "topics {} outliers {} total_s {:.1}",
        result.model.topics.iter().filter(|t| t.id >= 0).count(),
        outliers,
        result.timings.total.as_secs_f64()
    );
    Ok(())
}

fn run_fit(
    input: &FitInput<'_>,
    params: &FitParams,
) -> Result<topic_engine::FitResult, topic_engine::EngineError> {
    topic_engine::fit(input, params, topic_engine::Device::Cpu)
}
