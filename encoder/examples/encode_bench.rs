//! Local encoder throughput and fidelity on a JSONL corpus with reference embeddings.
//!
//! `cargo run --release -p topic-encoder --example encode_bench -- MODEL_DIR DOCS.jsonl [REF.npy]
//! [--batch-size 64] [--limit N]` encodes the `text` field of every line, prints sentences/s and,
//! with a reference `.npy` (same order), the minimum and mean cosine to it.

use std::time::Instant;

use topic_encoder::{EncoderOptions, LocalEncoder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut positional = Vec::new();
    let mut batch_size = 64usize;
    let mut limit = usize::MAX;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--batch-size" => {
                batch_size = args.next().ok_or("--batch-size needs a value")?.parse()?
            }
            "--limit" => limit = args.next().ok_or("--limit needs a value")?.parse()?,
            _ => positional.push(a),
        }
    }
    let [model, docs, rest @ ..] = positional.as_slice() else {
        return Err(
            "usage: encode_bench MODEL_DIR DOCS.jsonl [REF.npy] [--batch-size N] [--limit N]"
                .into(),
        );
    };
    let texts: Vec<String> = std::fs::read_to_string(docs)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(limit)
        .map(|l| -> Result<String, Box<dyn std::error::Error>> {
            let v: serde_json::Value = serde_json::from_str(l)?;
            Ok(v["text"].as_str().ok_or("line without a text field")?.to_string())
        })
        .collect::<Result<_, _>>()?;

    let device = topic_engine::device::select(topic_engine::device::DevicePreference::Auto)?;
    let options = EncoderOptions { batch_size, ..Default::default() };
    let enc = LocalEncoder::load_with(model, &device, options)?;
    // Warm-up (allocations, thread pool), not timed.
    enc.encode(&texts[..texts.len().min(64)])?;
    let start = Instant::now();
    let emb = enc.encode(&texts)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "encoded {} texts in {secs:.2}s: {:.0} sentences/s (batch {batch_size}, device {}, {} threads)",
        texts.len(),
        texts.len() as f64 / secs,
        topic_engine::device::name(&device),
        rayon::current_num_threads()
    );

    if let Some(reference) = rest.first() {
        let bytes = std::fs::read(reference)?;
        let npy = npyz::NpyFile::new(&bytes[..])?;
        let dim = *npy.shape().get(1).ok_or("reference is not 2-D")? as usize;
        let data: Vec<f32> = npy.into_vec()?;
        let (mut min, mut sum, mut below) = (f32::MAX, 0f64, 0usize);
        let mut worst = 0;
        for i in 0..emb.rows() {
            let r = &data[i * dim..(i + 1) * dim];
            let cos: f32 = emb.row(i).iter().zip(r).map(|(a, b)| a * b).sum();
            if cos < min {
                min = cos;
                worst = i;
            }
            sum += cos as f64;
            if cos < 0.999 {
                below += 1;
            }
        }
        println!(
            "cosine to reference: min {min:.6} (text {worst}), mean {:.6}, below 0.999: {below}",
            sum / emb.rows() as f64
        );
    }
    Ok(())
}
