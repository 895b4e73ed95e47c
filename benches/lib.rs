//! Shared helpers for the benchmarks: loading the CLINC150 reference corpus from
//! `../shared/datasets`, seeded synthetic corpora (perturbed copies of real embeddings, or
//! Gaussian blobs with generated texts when the dataset is absent), and latency statistics.
//!
//! Everything here is deterministic for a seed.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use topic_engine::Matrix;

/// Errors of the benchmark helpers.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file was readable but its content is not what the benchmark needs.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The CLINC150 dataset directory was not found.
    #[error("CLINC150 not found in {0}: set TOPICD_DATASETS to the directory holding clinc150/")]
    NoDataset(PathBuf),
    /// Bad arguments to a generator.
    #[error("{0}")]
    Invalid(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, BenchError>;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BenchError + '_ {
    move |source| BenchError::Io { path: path.to_path_buf(), source }
}

/// A benchmark corpus: texts, one embedding per text, and a gold label per text.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Document texts.
    pub texts: Vec<String>,
    /// `texts.len() × dim` embeddings, L2-normalised.
    pub embeddings: Matrix,
    /// Gold label per document (intent name, or `blob-<k>` for generated blobs).
    pub labels: Vec<String>,
}

impl Corpus {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.texts.len()
    }
    /// True when the corpus has no documents.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
    /// The first `n` documents (all of them if `n >= len`).
    pub fn head(&self, n: usize) -> Corpus {
        let n = n.min(self.len());
        let idx: Vec<usize> = (0..n).collect();
        Corpus {
            texts: self.texts[..n].to_vec(),
            embeddings: self.embeddings.select_rows(&idx),
            labels: self.labels[..n].to_vec(),
        }
    }
}

/// The directory holding `clinc150/`, from the workspace's one locator
/// (`topicd_testing::locate`: `$TOPICD_DATASETS`, else `../shared/datasets` beside the repository).
pub fn datasets_dir() -> Result<PathBuf> {
    let dir = topicd_testing::locate::datasets_dir();
    if dir.join("clinc150").join("clinc150.npy").is_file() {
        Ok(dir)
    } else {
        Err(BenchError::NoDataset(dir))
    }
}

/// Reads a float32 `[n, d]` C-order `.npy` file.
pub fn load_npy(path: &Path) -> Result<Matrix> {
    let file = File::open(path).map_err(io_err(path))?;
    let npy = npyz::NpyFile::new(BufReader::new(file)).map_err(io_err(path))?;
    let shape = npy.shape().to_vec();
    let fmt = |message: String| BenchError::Format { path: path.to_path_buf(), message };
    if shape.len() != 2 {
        return Err(fmt(format!("expected a 2-d array, got shape {shape:?}")));
    }
    if npy.order() != npyz::Order::C {
        return Err(fmt("expected a C-order (row-major) array".into()));
    }
    let (rows, cols) = (shape[0] as usize, shape[1] as usize);
    let data: Vec<f32> = npy.into_vec::<f32>().map_err(|e| fmt(format!("not float32: {e}")))?;
    Matrix::new(data, rows, cols).map_err(|e| fmt(e.to_string()))
}

/// Writes a float32 `[rows, cols]` `.npy` file.
pub fn save_npy(path: &Path, m: &Matrix) -> Result<()> {
    use npyz::WriterBuilder;
    let file = File::create(path).map_err(io_err(path))?;
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[m.rows() as u64, m.cols() as u64])
        .writer(std::io::BufWriter::new(file))
        .begin_nd()
        .map_err(io_err(path))?;
    w.extend(m.as_slice().iter().copied()).map_err(io_err(path))?;
    w.finish().map_err(io_err(path))
}

/// Reads `text` and `label` of the first `limit` rows of a JSONL file.
pub fn load_jsonl(path: &Path, limit: Option<usize>) -> Result<(Vec<String>, Vec<String>)> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for (lineno, line) in BufReader::new(file).lines().enumerate() {
        if limit.is_some_and(|l| texts.len() >= l) {
            break;
        }
        let line = line.map_err(io_err(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| BenchError::Format {
            path: path.to_path_buf(),
            message: format!("line {}: {e}", lineno + 1),
        })?;
        let text = v.get("text").and_then(|t| t.as_str()).ok_or_else(|| BenchError::Format {
            path: path.to_path_buf(),
            message: format!("line {}: no string field \"text\"", lineno + 1),
        })?;
        texts.push(text.to_string());
        labels.push(v.get("label").and_then(|l| l.as_str()).unwrap_or_default().to_string());
    }
    Ok((texts, labels))
}

/// The first `n` rows of a dataset in CLINC150's layout: `docs` (JSONL, `text` and `label` per
/// row) and `embeddings` (float32 `.npy`, one row per JSONL row, in the same order).
pub fn corpus_files(docs: &Path, embeddings: &Path, n: usize) -> Result<Corpus> {
    let (texts, labels) = load_jsonl(docs, Some(n))?;
    let all = load_npy(embeddings)?;
    if all.rows() < n || texts.len() < n {
        return Err(BenchError::Invalid(format!(
            "{} has {} texts and {} has {} embeddings, need {n}",
            docs.display(),
            texts.len(),
            embeddings.display(),
            all.rows()
        )));
    }
    let idx: Vec<usize> = (0..n).collect();
    Ok(Corpus { texts, embeddings: all.select_rows(&idx), labels })
}

/// The sentence encoder behind the CLINC150 reference embeddings.
pub const CLINC150_EMBEDDING_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// The first `n` in-scope CLINC150 documents (at most 22,500) with their reference embeddings.
pub fn clinc150(n: usize) -> Result<Corpus> {
    clinc150_rows(n.min(22_500))
}

/// The first `n` CLINC150 rows in file order, out-of-scope ones (the last 1,200) included, with
/// their reference embeddings; `n` is capped at the number of rows (23,700).
pub fn clinc150_rows(n: usize) -> Result<Corpus> {
    let dir = datasets_dir()?.join("clinc150");
    let (texts, labels) = load_jsonl(&dir.join("clinc150.jsonl"), Some(n))?;
    let all = load_npy(&dir.join("clinc150.npy"))?;
    if all.rows() < n || texts.len() < n {
        return Err(BenchError::Invalid(format!(
            "CLINC150 has {} embeddings and {} texts, need {n}",
            all.rows(),
            texts.len()
        )));
    }
    let n = n.min(texts.len());
    let idx: Vec<usize> = (0..n).collect();
    Ok(Corpus { texts, embeddings: all.select_rows(&idx), labels })
}

/// `n` perturbed copies of `src`: row i copies a uniformly drawn source row j and adds Gaussian
/// noise of std `sigma` per dimension, re-normalised; text and label of j are copied.
/// Same recipe as `benches/python/make_synthetic.py` (a different RNG, so not the same rows).
pub fn perturbed(src: &Corpus, n: usize, sigma: f32, seed: u64) -> Result<Corpus> {
    if src.is_empty() {
        return Err(BenchError::Invalid("perturbed: empty source corpus".into()));
    }
    let normal = Normal::new(0.0f32, sigma)
        .map_err(|e| BenchError::Invalid(format!("perturbed: bad sigma {sigma}: {e}")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dim = src.embeddings.cols();
    let mut data = Vec::with_capacity(n * dim);
    let mut texts = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let j = rng.random_range(0..src.len());
        data.extend(src.embeddings.row(j).iter().map(|v| v + normal.sample(&mut rng)));
        texts.push(src.texts[j].clone());
        labels.push(src.labels[j].clone());
    }
    let mut embeddings =
        Matrix::new(data, n, dim).map_err(|e| BenchError::Invalid(e.to_string()))?;
    embeddings.normalize_rows();
    Ok(Corpus { texts, embeddings, labels })
}

/// `n` points in `centers` separated Gaussian blobs on the unit sphere of dimension `dim`, with
/// generated texts: each blob has its own 8 topic words, each text draws 4 of them plus 2 words
/// shared by all blobs. For benchmarks that must run without the dataset.
pub fn blobs(n: usize, dim: usize, centers: usize, seed: u64) -> Result<Corpus> {
    if centers == 0 || dim == 0 {
        return Err(BenchError::Invalid(
            "blobs: need at least one center and one dimension".into(),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let unit = Normal::new(0.0f32, 1.0).map_err(|e| BenchError::Invalid(e.to_string()))?;
    let mut centroid =
        Matrix::new((0..centers * dim).map(|_| unit.sample(&mut rng)).collect(), centers, dim)
            .map_err(|e| BenchError::Invalid(e.to_string()))?;
    centroid.normalize_rows();
    let noise = Normal::new(0.0f32, 0.25 / (dim as f32).sqrt())
        .map_err(|e| BenchError::Invalid(e.to_string()))?;
    const SHARED: [&str; 6] = ["please", "help", "need", "question", "today", "account"];
    let mut data = Vec::with_capacity(n * dim);
    let mut texts = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % centers;
        data.extend(centroid.row(c).iter().map(|v| v + noise.sample(&mut rng)));
        let mut words: Vec<String> =
            (0..4).map(|_| format!("topic{c}word{}", rng.random_range(0..8))).collect();
        words.push(SHARED[rng.random_range(0..SHARED.len())].to_string());
        words.push(SHARED[rng.random_range(0..SHARED.len())].to_string());
        texts.push(words.join(" "));
        labels.push(format!("blob-{c}"));
    }
    let mut embeddings =
        Matrix::new(data, n, dim).map_err(|e| BenchError::Invalid(e.to_string()))?;
    embeddings.normalize_rows();
    Ok(Corpus { texts, embeddings, labels })
}

/// CLINC150's first `n` documents when the dataset is present, else [`blobs`] of 384 dims with
/// 150 centers (so benchmarks run anywhere). Says which on stderr.
pub fn corpus_or_blobs(n: usize, seed: u64) -> Result<Corpus> {
    match clinc150(n) {
        Ok(c) if c.len() == n => Ok(c),
        Ok(c) => perturbed(&c, n, 0.02, seed),
        Err(e) => {
            eprintln!("bench data: {e}; using synthetic blobs");
            blobs(n, 384, 150, seed)
        }
    }
}

/// A topic model with one topic per gold label of `corpus` (as if clustering had recovered the
/// labels exactly): embedding = normalised mean of the members, keywords and term counts from
/// lower-cased whitespace tokens, the first 5 members as samples, all on `day`. A realistic
/// input for benchmarks of transform and model I/O that must not depend on the fit pipeline.
pub fn model_from_labels(
    corpus: &Corpus,
    day: chrono::NaiveDate,
) -> Result<topic_engine::TopicModel> {
    use std::collections::{BTreeMap, HashMap};
    use topic_engine::model::{DailyCount, LabelSource, TopicStatus};
    use topic_engine::{Keyword, Topic, TopicModel};

    if corpus.is_empty() {
        return Err(BenchError::Invalid("model_from_labels: empty corpus".into()));
    }
    let dim = corpus.embeddings.cols();
    let mut vocab: Vec<String> = Vec::new();
    let mut vocab_index: HashMap<String, u32> = HashMap::new();
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in corpus.labels.iter().enumerate() {
        members.entry(l.as_str()).or_default().push(i);
    }
    let mut topics = Vec::with_capacity(members.len());
    for (id, (label, rows)) in members.into_iter().enumerate() {
        let mut emb = vec![0f32; dim];
        let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
        for &r in &rows {
            emb.iter_mut().zip(corpus.embeddings.row(r)).for_each(|(a, b)| *a += b);
            for tok in corpus.texts[r].split_whitespace() {
                let tok = tok.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
                if tok.len() < 2 {
                    continue;
                }
                let next = vocab.len() as u32;
                let idx = *vocab_index.entry(tok.clone()).or_insert_with(|| {
                    vocab.push(tok);
                    next
                });
                *counts.entry(idx).or_default() += 1;
            }
        }
        let norm = emb.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            emb.iter_mut().for_each(|v| *v /= norm);
        }
        let total: u32 = counts.values().sum::<u32>().max(1);
        let mut by_count: Vec<(u32, u32)> = counts.iter().map(|(&k, &v)| (k, v)).collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let keywords: Vec<Keyword> = by_count
            .iter()
            .take(10)
            .map(|&(k, c)| Keyword {
                word: vocab[k as usize].clone(),
                weight: c as f32 / total as f32,
            })
            .collect();
        topics.push(Topic {
            id: id as i64,
            label: label.to_string(),
            label_source: LabelSource::Keywords,
            label_override: None,
            keywords,
            size: rows.len() as u64,
            embedding: emb,
            term_counts: counts.into_iter().collect(),
            samples: rows.iter().take(5).map(|&r| corpus.texts[r].clone()).collect(),
            first_seen: day,
            last_seen: day,
            status: TopicStatus::Active,
            memory: Default::default(),
            faq: Default::default(),
            daily_counts: vec![DailyCount { date: day, count: rows.len() as u64 }],
        });
    }
    Ok(TopicModel {
        embedding_model: CLINC150_EMBEDDING_MODEL.into(),
        dim,
        fit_params: Default::default(),
        merge_params: Default::default(),
        vocabulary: vocab,
        next_topic_id: topics.len() as i64,
        topics,
        n_documents: corpus.len() as u64,
        date_range: Some((day, day)),
    })
}

/// Latency summary of a set of samples (seconds).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest sample.
    pub max: f64,
}

impl LatencySummary {
    /// Summarises `samples` (sorted in place); `None` when empty. Percentiles are nearest-rank.
    pub fn from_samples(samples: &mut [f64]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| {
            let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[rank - 1]
        };
        Some(Self {
            count: samples.len(),
            mean: samples.iter().sum::<f64>() / samples.len() as f64,
            p50: q(0.50),
            p90: q(0.90),
            p99: q(0.99),
            p999: q(0.999),
            max: samples[samples.len() - 1],
        })
    }
}

/// Resident set size (current, peak) in bytes of process `pid` from `/proc/<pid>/status`
/// (`VmRSS`, `VmHWM`); `None` where /proc is unavailable or the process is gone.
pub fn process_rss(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// One night of the lifecycle benchmarks (`drift`, `longrun`): the day's fit and its merge into
/// the long-lived model, with their wall-clock times.
pub struct Night {
    /// The day's fit.
    pub fitted: topic_engine::FitResult,
    /// The merge of the day model into the long-lived one.
    pub outcome: topic_engine::merge::MergeOutcome,
    /// Seconds of the fit.
    pub fit_s: f64,
    /// Seconds of the merge.
    pub merge_s: f64,
}

/// Fits one day's documents (CLINC150 reference embeddings, every document on `day`) and merges
/// the day model into `base` (the first day when `None`).
pub fn fit_and_merge(
    texts: &[String],
    embeddings: &Matrix,
    day: chrono::NaiveDate,
    base: Option<&topic_engine::TopicModel>,
    fit_params: &topic_engine::FitParams,
    merge_params: &topic_engine::MergeParams,
    device: topic_engine::Device,
) -> topic_engine::Result<Night> {
    let input = topic_engine::FitInput {
        texts,
        embeddings,
        dates: None,
        day,
        embedding_model: CLINC150_EMBEDDING_MODEL,
    };
    let t = std::time::Instant::now();
    let fitted = topic_engine::fit(&input, fit_params, device)?;
    let fit_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let outcome = topic_engine::merge(base, &fitted.model, merge_params)?;
    Ok(Night { fitted, outcome, fit_s, merge_s: t.elapsed().as_secs_f64() })
}

/// The exit status of a benchmark binary: failure with the error chain on stderr.
pub fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_nearest_rank() {
        let mut s: Vec<f64> = (1..=100).map(f64::from).collect();
        let l = LatencySummary::from_samples(&mut s).unwrap();
        assert_eq!((l.p50, l.p99, l.max, l.count), (50.0, 99.0, 100.0, 100));
        assert!(LatencySummary::from_samples(&mut []).is_none());
    }

    #[test]
    fn blobs_are_deterministic_and_normalised() {
        let a = blobs(300, 16, 5, 7).unwrap();
        let b = blobs(300, 16, 5, 7).unwrap();
        assert_eq!(a.embeddings, b.embeddings);
        assert_eq!(a.texts, b.texts);
        for r in a.embeddings.iter_rows() {
            let norm: f32 = r.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn perturbed_copies_stay_close_to_their_source() {
        let src = blobs(50, 32, 5, 1).unwrap();
        let p = perturbed(&src, 200, 0.01, 3).unwrap();
        assert_eq!(p.len(), 200);
        // every copy is within cos 0.9 of some source row with the same text
        for i in 0..p.len() {
            let best = (0..src.len())
                .filter(|&j| src.texts[j] == p.texts[i])
                .map(|j| {
                    src.embeddings
                        .row(j)
                        .iter()
                        .zip(p.embeddings.row(i))
                        .map(|(a, b)| a * b)
                        .sum::<f32>()
                })
                .fold(f32::MIN, f32::max);
            assert!(best > 0.9, "row {i}: best cos {best}");
        }
    }

    #[test]
    fn model_from_labels_is_valid() {
        let c = blobs(500, 16, 7, 5).unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let m = model_from_labels(&c, day).unwrap();
        assert_eq!(m.topics.len(), 7);
        m.validate().unwrap();
    }

    #[test]
    fn npy_round_trip() {
        let dir = std::env::temp_dir().join(format!("topic-benches-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.npy");
        let m = Matrix::new((0..12).map(|v| v as f32).collect(), 3, 4).unwrap();
        save_npy(&path, &m).unwrap();
        assert_eq!(load_npy(&path).unwrap(), m);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
