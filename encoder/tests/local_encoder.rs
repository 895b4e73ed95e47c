//! The local encoder against the reference all-MiniLM-L6-v2 embeddings of CLINC150 (made with
//! `sentence-transformers`). Fails, saying what is missing, when the weights or the data set are
//! absent (`topicd_testing::locate`); `scripts/test.sh` fetches the weights first.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use candle_core::Device;
use topic_encoder::{EncoderOptions, LocalEncoder};

fn load_texts(dir: &Path) -> Vec<String> {
    let raw = std::fs::read_to_string(dir.join("clinc150.jsonl")).unwrap();
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn load_reference(dir: &Path) -> (Vec<f32>, usize) {
    let bytes = std::fs::read(dir.join("clinc150.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    let data: Vec<f32> = npy.into_vec().unwrap();
    (data, shape[1] as usize)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[test]
fn matches_sentence_transformers_on_clinc150_sample() {
    // Both fail with instructions when missing (scripts/fetch-model.sh, $TOPICD_DATASETS).
    let model = topicd_testing::locate::model_dir();
    let data = topicd_testing::locate::clinc150_dir();
    let texts = load_texts(&data);
    let (reference, dim) = load_reference(&data);
    assert_eq!(reference.len(), texts.len() * dim);

    // A spread of rows, plus the longest texts (truncation / padding paths) and the oos tail.
    let mut idx: Vec<usize> = (0..texts.len()).step_by(texts.len() / 40).collect();
    let mut by_len: Vec<usize> = (0..texts.len()).collect();
    by_len.sort_by_key(|&i| std::cmp::Reverse(texts[i].len()));
    idx.extend(by_len.iter().take(4));
    idx.push(texts.len() - 1);
    idx.sort_unstable();
    idx.dedup();
    let sample: Vec<String> = idx.iter().map(|&i| texts[i].clone()).collect();

    // A small batch size so several length-sorted batches must be put back in order.
    let enc = LocalEncoder::load_with(
        model.to_str().unwrap(),
        &Device::Cpu,
        EncoderOptions { batch_size: 7, ..Default::default() },
    )
    .unwrap();
    assert_eq!(enc.dim(), dim);
    assert_eq!(enc.name(), "sentence-transformers/all-MiniLM-L6-v2");
    let got = enc.encode(&sample).unwrap();
    assert_eq!((got.rows(), got.cols()), (sample.len(), dim));
    for (k, &i) in idx.iter().enumerate() {
        let row = got.row(k);
        let norm: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "row {i} norm {norm}");
        let cos = cosine(row, &reference[i * dim..(i + 1) * dim]);
        assert!(cos >= 0.999, "text {i} {:?}: cosine {cos}", texts[i]);
    }

    // Order and batching do not change a text's embedding.
    let single = enc.encode(&sample[3..4]).unwrap();
    assert!(cosine(single.row(0), got.row(3)) > 0.99999);
    // Empty input and empty text.
    assert_eq!(enc.encode(&[]).unwrap().rows(), 0);
    let empty = enc.encode(&[String::new()]).unwrap();
    assert!(empty.row(0).iter().all(|v| v.is_finite()));
}
