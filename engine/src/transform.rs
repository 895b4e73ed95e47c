//! Tagging new documents with a model's active topics (cosine to topic embeddings).
//!
//! A document goes to the active, non-outlier topic whose embedding has the highest cosine with
//! the document's embedding (ties: the smaller id); if that cosine is below
//! [`TransformParams::outlier_threshold`] it is an outlier (`-1`). No UMAP or HDBSCAN is needed at
//! serving time, so `transform(docs)[i] == transform([doc_i])` always holds (unlike BERTopic's
//! fitted-model path, #1696) and a saved and reloaded model predicts exactly as before (#2198).
//!
//! Unlike BERTopic's merged/safetensors models, the outlier topic's centroid is *not* a
//! candidate by default: it is the mean of "everything else" and so attracts ordinary documents.
//! [`TransformParams::outlier_centroid`] turns BERTopic's behaviour back on (import parity tests).
//!
//! A topic an operator hid ([`crate::edits`]) stays a candidate, but a document whose best
//! topic is hidden is an outlier (`-1`, with that cosine as score): spam and test traffic are
//! not shown, and do not leak into the next visible topic either. `nearest` (topic search)
//! and `score` skip hidden topics. A topic merged into another by hand answers as that topic:
//! its anchor is one more row of the topic it was merged into, so a document nearest to it gets
//! the surviving id.
//!
//! # Default threshold (measured on CLINC150)
//!
//! Topics built from gold intents on half of the 22,500 in-scope reference embeddings
//! (all-MiniLM-L6-v2, 150 topics, embedding = normalised mean), transform of the other half
//! (11,250 in-scope docs) and the 1,200 out-of-scope (oos) docs
//! (`cargo test -p topic-engine --lib -- --ignored clinc150_threshold --nocapture`, data found by
//! `topicd_testing::locate`):
//!
//! | threshold | in-scope accuracy | in-scope kept (≠ −1) | oos rejected (−1) |
//! |-----------|-------------------|----------------------|-------------------|
//! | 0.00      | 0.929             | 1.000                | 0.000             |
//! | 0.20      | 0.929             | 1.000                | 0.096             |
//! | 0.25      | 0.929             | 0.999                | 0.228             |
//! | 0.30      | 0.928             | 0.998                | 0.406             |
//! | **0.35**  | **0.926**         | **0.994**            | **0.582**         |
//! | 0.40      | 0.919             | 0.983                | 0.713             |
//! | 0.45      | 0.907             | 0.966                | 0.815             |
//! | 0.50      | 0.879             | 0.930                | 0.887             |
//! | 0.55      | 0.833             | 0.877                | 0.938             |
//! | 0.60      | 0.767             | 0.802                | 0.973             |
//!
//! "accuracy" counts a doc as right only when its topic is its gold intent (a rejected in-scope
//! doc counts as wrong). [`DEFAULT_OUTLIER_THRESHOLD`] = 0.35 gives up 0.6 % of in-scope
//! documents (accuracy 0.929 → 0.926) to reject 58 % of the out-of-scope ones; 0.40 rejects
//! 71 % for 1.7 % of in-scope documents. Raise it for stricter tagging.

use rayon::prelude::*;

use crate::error::{EngineError, Result};
use crate::matrix::Matrix;
use crate::model::{TopicAssignment, TopicModel, OUTLIER_TOPIC};
use crate::params::TransformParams;
use crate::simd::Isa;

/// Default [`TransformParams::outlier_threshold`] (see the table in the module docs).
pub const DEFAULT_OUTLIER_THRESHOLD: f32 = 0.35;

/// Batches at least this large are split over the rayon pool.
const PARALLEL_MIN_ROWS: usize = 64;

/// The active topics of a model as one contiguous `topics × dim` matrix, ready for many
/// transforms (the server keeps one per loaded model; [`transform`] builds one per call).
#[derive(Debug, Clone)]
pub struct TopicIndex {
    /// Topic id of each row: the topics' own rows first (ascending id, `n_own` of them), then
    /// one row per alias ([`crate::model::TopicAlias`]) with the id it answers as.
    ids: Vec<i64>,
    n_own: usize,
    /// Per row of `ids`: hidden by an operator (a best match there answers `-1`).
    hidden: Vec<bool>,
    dim: usize,
    /// Row-major `ids.len() × dim`, unit (or zero) rows.
    embeddings: Vec<f32>,
    /// The outlier topic's embedding, when the model has one.
    outlier: Option<Vec<f32>>,
    /// Where the dot products run.
    isa: Isa,
}

impl TopicIndex {
    /// Collects the active, non-outlier topics of `model` (ascending id).
    pub fn new(model: &TopicModel) -> Self {
        let mut ids = Vec::new();
        let mut hidden = Vec::new();
        let mut embeddings = Vec::new();
        for t in model.active_topics() {
            ids.push(t.id);
            hidden.push(t.is_hidden());
            embeddings.extend_from_slice(&t.embedding);
        }
        let n_own = ids.len();
        for t in model.active_topics() {
            for a in &t.memory.edits.aliases {
                ids.push(t.id);
                hidden.push(t.is_hidden());
                embeddings.extend_from_slice(&a.anchor);
            }
        }
        let outlier = model.outlier_topic().map(|t| t.embedding.clone());
        Self { ids, n_own, hidden, dim: model.dim, embeddings, outlier, isa: Isa::detect() }
    }

    /// Number of topics a document can be assigned to.
    pub fn len(&self) -> usize {
        self.n_own
    }
    /// True when the model has no active topic (every document is then an outlier).
    pub fn is_empty(&self) -> bool {
        self.n_own == 0
    }
    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Topic of one document embedding (any norm; it is normalised here).
    pub fn assign(&self, embedding: &[f32], params: &TransformParams) -> Result<TopicAssignment> {
        params.check()?;
        if embedding.len() != self.dim {
            return Err(EngineError::DimensionMismatch {
                expected: self.dim,
                got: embedding.len(),
            });
        }
        if embedding.iter().any(|v| !v.is_finite()) {
            return Err(EngineError::input("embedding contains NaN or infinity"));
        }
        Ok(self.assign_unchecked(embedding, params))
    }

    /// Topics of a batch of document embeddings (rows), in row order.
    pub fn assign_batch(
        &self,
        embeddings: &Matrix,
        params: &TransformParams,
    ) -> Result<Vec<TopicAssignment>> {
        params.check()?;
        if embeddings.cols() != self.dim {
            return Err(EngineError::DimensionMismatch {
                expected: self.dim,
                got: embeddings.cols(),
            });
        }
        embeddings.check_finite()?;
        let n = embeddings.rows();
        if n == 0 {
            return Ok(Vec::new());
        }
        let data = embeddings.as_slice();
        let rows = data.chunks_exact(self.dim);
        let out = if n >= PARALLEL_MIN_ROWS {
            data.par_chunks_exact(self.dim).map(|r| self.assign_unchecked(r, params)).collect()
        } else {
            rows.map(|r| self.assign_unchecked(r, params)).collect()
        };
        Ok(out)
    }

    /// The cosine of document `doc` (any norm, `dim` long) with active topic `topic_id`,
    /// computed exactly as [`TopicIndex::assign`] computes it (same SIMD dot, same order), so a
    /// fit's score for a training document equals the score its Transform gives bit for bit.
    /// `None` when `topic_id` is not an active, non-outlier topic of the index.
    pub fn score(&self, doc: &[f32], topic_id: i64) -> Option<f32> {
        let i = self.ids[..self.n_own].binary_search(&topic_id).ok()?;
        if self.hidden[i] {
            return None;
        }
        let row = self.embeddings.chunks_exact(self.dim).nth(i)?;
        Some(self.cosine(doc, row, self.inv_norm(doc)))
    }

    /// The `limit` active, non-outlier topics nearest to `embedding` (any norm), by cosine
    /// descending (ties: the smaller id): BERTopic's `find_topics` on an embedded phrase. No
    /// threshold: the outlier topic is never returned, however far the nearest topic is.
    pub fn nearest(&self, embedding: &[f32], limit: usize) -> Result<Vec<TopicAssignment>> {
        if embedding.len() != self.dim {
            return Err(EngineError::DimensionMismatch {
                expected: self.dim,
                got: embedding.len(),
            });
        }
        if embedding.iter().any(|v| !v.is_finite()) {
            return Err(EngineError::input("embedding contains NaN or infinity"));
        }
        let inv = self.inv_norm(embedding);
        let mut scored: Vec<TopicAssignment> = self
            .embeddings
            .chunks_exact(self.dim)
            .take(self.n_own)
            .zip(&self.ids)
            .zip(&self.hidden)
            .filter(|(_, &hidden)| !hidden)
            .map(|((row, &topic_id), _)| TopicAssignment {
                topic_id,
                score: self.cosine(embedding, row, inv),
            })
            .collect();
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.topic_id.cmp(&b.topic_id)));
        scored.truncate(limit);
        Ok(scored)
    }

    /// `1 / ‖doc‖` (0 for a zero vector).
    fn inv_norm(&self, doc: &[f32]) -> f32 {
        let norm = self.isa.dot(doc, doc).sqrt();
        if norm > 0.0 {
            1.0 / norm
        } else {
            0.0
        }
    }

    /// Cosine of `doc` with a unit (or zero) topic row, given `doc`'s inverse norm.
    fn cosine(&self, doc: &[f32], row: &[f32], inv: f32) -> f32 {
        self.isa.dot(doc, row) * inv
    }

    fn assign_unchecked(&self, doc: &[f32], params: &TransformParams) -> TopicAssignment {
        let inv = self.inv_norm(doc);
        let mut best_id = OUTLIER_TOPIC;
        let mut best_hidden = false;
        let mut best = f32::NEG_INFINITY;
        if params.outlier_centroid {
            if let Some(o) = &self.outlier {
                best = self.cosine(doc, o, inv);
            }
        }
        for (i, row) in self.embeddings.chunks_exact(self.dim).enumerate() {
            let s = self.cosine(doc, row, inv);
            // Strictly greater: ties keep the smaller id (the outlier centroid wins its ties,
            // as in BERTopic where row 0 is -1).
            if s > best {
                best = s;
                best_id = self.ids[i];
                best_hidden = self.hidden[i];
            }
        }
        if best == f32::NEG_INFINITY {
            // No topic at all.
            return TopicAssignment { topic_id: OUTLIER_TOPIC, score: 0.0 };
        }
        if best < params.outlier_threshold || best_hidden {
            best_id = OUTLIER_TOPIC;
        }
        TopicAssignment { topic_id: best_id, score: best }
    }
}

/// Assigns each row of `embeddings` (`n × model.dim`, finite) to its nearest active topic or
/// to `-1` (see the module docs). For an outlier the score is still the best cosine, so callers
/// can see how far it was from the threshold; with no active topic at all it is 0.
pub fn transform(
    model: &TopicModel,
    embeddings: &Matrix,
    params: &TransformParams,
) -> Result<Vec<TopicAssignment>> {
    let index = TopicIndex::new(model);
    let _span =
        tracing::debug_span!("transform", docs = embeddings.rows(), topics = index.len()).entered();
    index.assign_batch(embeddings, params)
}

/// [`transform`] for a single document embedding.
pub fn transform_one(
    model: &TopicModel,
    embedding: &[f32],
    params: &TransformParams,
) -> Result<TopicAssignment> {
    TopicIndex::new(model).assign(embedding, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Topic, TopicStatus};
    use crate::params::{FitParams, MergeParams};
    use chrono::NaiveDate;

    fn topic(id: i64, emb: Vec<f32>) -> Topic {
        let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        Topic {
            id,
            label: format!("topic {id}"),
            label_source: Default::default(),
            label_override: None,
            keywords: vec![],
            size: 10,
            embedding: emb,
            term_counts: vec![],
            samples: vec![],
            first_seen: day,
            last_seen: day,
            status: TopicStatus::Active,
            memory: Default::default(),
            faq: Default::default(),
            daily_counts: vec![],
        }
    }

    fn model(topics: Vec<Topic>) -> TopicModel {
        TopicModel {
            embedding_model: "test".into(),
            dim: 3,
            fit_params: FitParams::default(),
            merge_params: MergeParams::default(),
            vocabulary: vec![],
            next_topic_id: topics.iter().map(|t| t.id + 1).max().unwrap_or(0),
            topics,
            n_documents: 0,
            date_range: None,
        }
    }

    fn three() -> TopicModel {
        model(vec![
            topic(-1, vec![0.577_350_3, 0.577_350_3, 0.577_350_3]),
            topic(0, vec![1.0, 0.0, 0.0]),
            topic(1, vec![0.0, 1.0, 0.0]),
            topic(2, vec![0.0, 0.0, 1.0]),
        ])
    }

    #[test]
    fn assigns_the_nearest_topic() {
        let m = three();
        let x = Matrix::from_rows(&[[0.9, 0.1, 0.0], [0.0, 0.2, 3.0], [0.1, 1.0, 0.1]]).unwrap();
        let p = TransformParams::default();
        let a = transform(&m, &x, &p).unwrap();
        assert_eq!(a.iter().map(|a| a.topic_id).collect::<Vec<_>>(), vec![0, 2, 1]);
        // score is the cosine, independent of the document's norm
        let expected = 0.9 / (0.81f32 + 0.01).sqrt();
        assert!((a[0].score - expected).abs() < 1e-6);
    }

    #[test]
    fn nearest_ranks_every_active_topic_never_the_outlier() {
        let mut m = three();
        m.topics[2].status = TopicStatus::Retired;
        let index = TopicIndex::new(&m);
        // Closest to the outlier centroid, still only real topics come back.
        let got = index.nearest(&[1.0, 0.9, 1.1], 5).unwrap();
        assert_eq!(got.iter().map(|a| a.topic_id).collect::<Vec<_>>(), vec![2, 0]);
        assert!(got[0].score > got[1].score);
        assert_eq!(index.nearest(&[1.0, 0.0, 0.0], 1).unwrap()[0].topic_id, 0);
        // Ties: the smaller id first.
        let tie = TopicIndex::new(&three()).nearest(&[1.0, 1.0, 1.0], 3).unwrap();
        assert_eq!(tie.iter().map(|a| a.topic_id).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert!(index.nearest(&[1.0, 0.0], 1).is_err());
        assert!(index.nearest(&[f32::NAN, 0.0, 0.0], 1).is_err());
    }

    #[test]
    fn below_threshold_is_outlier_with_its_best_score() {
        let m = three();
        // cosine to every axis is 1/sqrt(3) = 0.577
        let x = Matrix::from_rows(&[[1.0, 1.0, 1.0]]).unwrap();
        let strict = TransformParams { outlier_threshold: 0.6, ..Default::default() };
        let a = transform(&m, &x, &strict).unwrap();
        assert_eq!(a[0].topic_id, OUTLIER_TOPIC);
        assert!((a[0].score - 0.577_350_3).abs() < 1e-5);
        let loose = TransformParams { outlier_threshold: 0.5, ..Default::default() };
        // tie between the three axes: the smallest id wins
        assert_eq!(transform(&m, &x, &loose).unwrap()[0].topic_id, 0);
    }

    #[test]
    fn outlier_centroid_mode_matches_bertopic() {
        let m = three();
        let x = Matrix::from_rows(&[[1.0, 1.0, 0.9], [1.0, 0.0, 0.0]]).unwrap();
        let p = TransformParams { outlier_threshold: -1.0, outlier_centroid: true };
        let a = transform(&m, &x, &p).unwrap();
        assert_eq!(a[0].topic_id, OUTLIER_TOPIC);
        assert_eq!(a[1].topic_id, 0);
        let off = TransformParams { outlier_threshold: -1.0, outlier_centroid: false };
        assert_eq!(transform(&m, &x, &off).unwrap()[0].topic_id, 0);
    }

    #[test]
    fn retired_topics_are_not_served() {
        let mut m = three();
        m.topics[1].status = TopicStatus::Retired;
        let x = Matrix::from_rows(&[[1.0, 0.1, 0.0]]).unwrap();
        let p = TransformParams { outlier_threshold: -1.0, ..Default::default() };
        assert_eq!(transform(&m, &x, &p).unwrap()[0].topic_id, 1);
    }

    #[test]
    fn dimension_mismatch_and_nan_are_errors() {
        let m = three();
        let x = Matrix::from_rows(&[[1.0, 0.0]]).unwrap();
        let p = TransformParams::default();
        assert!(matches!(
            transform(&m, &x, &p),
            Err(EngineError::DimensionMismatch { expected: 3, got: 2 })
        ));
        let x = Matrix::from_rows(&[[1.0, f32::NAN, 0.0]]).unwrap();
        assert!(matches!(transform(&m, &x, &p), Err(EngineError::InvalidInput(_))));
        assert!(transform_one(&m, &[1.0, 0.0], &p).is_err());
        let bad = TransformParams { outlier_threshold: f32::NAN, ..Default::default() };
        assert!(transform_one(&m, &[1.0, 0.0, 0.0], &bad).is_err());
    }

    #[test]
    fn batch_equals_single_and_parallel_path() {
        let m = three();
        let rows: Vec<[f32; 3]> = (0..200)
            .map(|i| {
                let f = i as f32;
                [(f * 0.37).sin(), (f * 0.91).cos(), (f * 0.13).sin() + 0.2]
            })
            .collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let p = TransformParams::default();
        let batch = transform(&m, &x, &p).unwrap();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(transform_one(&m, r, &p).unwrap(), batch[i]);
        }
    }

    #[test]
    fn empty_model_gives_outliers() {
        let m = model(vec![]);
        let a = transform_one(&m, &[1.0, 0.0, 0.0], &TransformParams::default()).unwrap();
        assert_eq!(a, TopicAssignment { topic_id: OUTLIER_TOPIC, score: 0.0 });
    }
}

/// Measures the table in the module docs. Needs the CLINC150 reference embeddings, found by
/// `topicd_testing::locate` (`$TOPICD_DATASETS`, default `../shared/datasets`); fails without.
#[cfg(test)]
mod clinc150 {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    #[ignore = "needs the CLINC150 dataset; run with --ignored --nocapture"]
    fn clinc150_threshold() {
        use crate::model::{Topic, TopicStatus};
        let dir = topicd_testing::locate::clinc150_dir();
        let bytes = std::fs::read(dir.join("clinc150.npy")).unwrap();
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
        let shape = npy.shape().to_vec();
        let data: Vec<f32> = npy.into_vec().unwrap();
        let (n, dim) = (shape[0] as usize, shape[1] as usize);
        let jsonl = std::fs::read_to_string(dir.join("clinc150.jsonl")).unwrap();
        let rows: Vec<serde_json::Value> =
            jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), n);
        let x = Matrix::new(data, n, dim).unwrap();
        let label = |i: usize| rows[i]["label"].as_str().unwrap().to_string();
        let oos = |i: usize| rows[i]["oos"].as_bool().unwrap();
        // Half of each intent (alternate rows) builds the topics, the other half is tested.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut train: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut test = Vec::new();
        for i in 0..n {
            if oos(i) {
                test.push(i);
                continue;
            }
            let c = seen.entry(label(i)).or_default();
            if *c % 2 == 0 {
                train.entry(label(i)).or_default().push(i);
            } else {
                test.push(i);
            }
            *c += 1;
        }
        let names: Vec<String> = train.keys().cloned().collect();
        let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let topics: Vec<Topic> = names
            .iter()
            .enumerate()
            .map(|(id, name)| {
                let mut e = vec![0.0f32; dim];
                for &i in &train[name] {
                    e.iter_mut().zip(x.row(i)).for_each(|(a, b)| *a += b);
                }
                let norm = Isa::detect().dot(&e, &e).sqrt();
                e.iter_mut().for_each(|v| *v /= norm);
                Topic {
                    id: id as i64,
                    label: name.clone(),
                    label_source: Default::default(),
                    label_override: None,
                    keywords: vec![],
                    size: train[name].len() as u64,
                    embedding: e,
                    term_counts: vec![],
                    samples: vec![],
                    first_seen: day,
                    last_seen: day,
                    status: TopicStatus::Active,
                    memory: Default::default(),
                    faq: Default::default(),
                    daily_counts: vec![],
                }
            })
            .collect();
        let model = TopicModel {
            embedding_model: "all-MiniLM-L6-v2".into(),
            dim,
            fit_params: Default::default(),
            merge_params: Default::default(),
            vocabulary: vec![],
            next_topic_id: topics.len() as i64,
            topics,
            n_documents: 0,
            date_range: None,
        };
        let xt = x.select_rows(&test);
        let all = TransformParams { outlier_threshold: -1.0, outlier_centroid: false };
        let a = transform(&model, &xt, &all).unwrap();
        let n_in = test.iter().filter(|&&i| !oos(i)).count();
        let n_oos = test.len() - n_in;
        println!("in-scope test docs {n_in}, oos {n_oos}, topics {}", names.len());
        println!("| threshold | in-scope accuracy | in-scope kept | oos rejected |");
        for th in [0.0f32, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6] {
            let (mut right, mut kept, mut rejected) = (0usize, 0usize, 0usize);
            for (k, &i) in test.iter().enumerate() {
                let keep = a[k].score >= th;
                if oos(i) {
                    rejected += usize::from(!keep);
                } else if keep {
                    kept += 1;
                    right += usize::from(names[a[k].topic_id as usize] == label(i));
                }
            }
            println!(
                "| {th:.2} | {:.3} | {:.3} | {:.3} |",
                right as f64 / n_in as f64,
                kept as f64 / n_in as f64,
                rejected as f64 / n_oos as f64
            );
        }
    }
}
