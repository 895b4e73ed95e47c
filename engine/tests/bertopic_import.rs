//! Import of a model saved by real BERTopic 0.17.4 (`tests/fixtures/bertopic_small`, made by
//! `tests/fixtures/make_bertopic_small.py`): same topic ids, keywords and transform results.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use topic_engine::internals::ctfidf::class_keywords;
use topic_engine::io::bertopic::import_as_of;
use topic_engine::merge::merge;
use topic_engine::{transform, Matrix, MergeParams, TransformParams};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bertopic_small")
}

#[derive(serde::Deserialize)]
struct Expected {
    topics: Vec<i64>,
    probs: Vec<f32>,
    topic_ids: Vec<i64>,
    keywords: BTreeMap<String, Vec<String>>,
}

fn expected() -> Expected {
    serde_json::from_slice(&std::fs::read(fixture().join("expected.json")).unwrap()).unwrap()
}

fn heldout() -> Matrix {
    let bytes = std::fs::read(fixture().join("heldout.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    let data: Vec<f32> = npy.into_vec().unwrap();
    Matrix::new(data, shape[0] as usize, shape[1] as usize).unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

#[test]
fn import_keeps_ids_keywords_and_sizes() {
    let m = import_as_of(&fixture(), day()).unwrap();
    let exp = expected();
    assert_eq!(m.topics.iter().map(|t| t.id).collect::<Vec<_>>(), exp.topic_ids);
    assert!(m.outlier_topic().is_some());
    assert_eq!(m.embedding_model, "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(m.dim, 384);
    for t in &m.topics {
        let words: Vec<&str> = t.keywords.iter().map(|k| k.word.as_str()).collect();
        let want: Vec<&str> = exp.keywords[&t.id.to_string()]
            .iter()
            .map(String::as_str)
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(words, want, "topic {}", t.id);
        assert!(t.label.starts_with(&format!("{}_", t.id)));
        assert_eq!(t.first_seen, day());
    }
    assert_eq!(m.n_documents, m.topics.iter().map(|t| t.size).sum::<u64>());
    assert_eq!(m.next_topic_id, exp.topic_ids.last().unwrap() + 1);
}

#[test]
fn recovered_term_counts_reproduce_bertopic_keywords() {
    // The counts are recovered exactly, so our c-TF-IDF over them gives BERTopic's weights.
    let m = import_as_of(&fixture(), day()).unwrap();
    let classes: Vec<&[(u32, u32)]> = m.topics.iter().map(|t| t.term_counts.as_slice()).collect();
    assert!(classes.iter().all(|c| !c.is_empty()));
    let kw = class_keywords(&classes, &m.vocabulary, 10).unwrap();
    for (t, ours) in m.topics.iter().zip(&kw) {
        for (a, b) in ours.iter().zip(&t.keywords) {
            assert!((a.weight - b.weight).abs() < 1e-5, "topic {}: {a:?} vs {b:?}", t.id);
        }
        // Same words, up to the order of exact ties.
        let mut x: Vec<&str> = ours.iter().map(|k| k.word.as_str()).collect();
        let mut y: Vec<&str> = t.keywords.iter().map(|k| k.word.as_str()).collect();
        x.sort_unstable();
        y.sort_unstable();
        if ours.len() == t.keywords.len()
            && ours.last().map(|k| k.weight)
                != ours.get(ours.len().saturating_sub(2)).map(|k| k.weight)
        {
            assert_eq!(x, y, "topic {}", t.id);
        }
    }
}

#[test]
fn transform_matches_bertopic_on_held_out_docs() {
    let m = import_as_of(&fixture(), day()).unwrap();
    let exp = expected();
    let x = heldout();
    assert_eq!(x.rows(), 20);
    // BERTopic's transform for a safetensors-loaded model: argmax cosine including the -1
    // centroid, no threshold.
    let mut p = TransformParams::default();
    p.outlier_threshold = -2.0;
    p.outlier_centroid = true;
    let a = transform(&m, &x, &p).unwrap();
    assert_eq!(a.iter().map(|a| a.topic_id).collect::<Vec<_>>(), exp.topics);
    for (a, &p) in a.iter().zip(&exp.probs) {
        assert!((a.score - p).abs() < 1e-4, "{} vs {p}", a.score);
    }
}

#[test]
fn an_imported_model_can_be_merged_and_saved() {
    let m = import_as_of(&fixture(), day()).unwrap();
    let out = merge(Some(&m), &m, &MergeParams::default()).unwrap();
    assert!(out.new_topic_ids.is_empty());
    let files = topic_engine::io::to_files(&out.model).unwrap();
    let back = topic_engine::io::from_files(&files.config_json, &files.tensors).unwrap();
    assert_eq!(back, out.model);
}
