//! `topics fit`: fit a model from a JSONL file (+ optional `.npy` embeddings), in-process.
//!
//! ```text
//! topics fit --docs D.jsonl --embeddings E.npy --out DIR [--assignments A.json]
//!            [--limit N] [--min-topic-size 10] [--nr-topics none|auto|N] [--seed 42]
//! ```
//! `A.json` is `{"assignments": [topic per doc, -1 = outlier], "topic_words": {"<id>": [...]}}`,
//! the format `shared/tools/score.py` reads.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::NaiveDate;
use topic_engine::device::{self, DevicePreference};
use topic_engine::{FitInput, FitParams, Matrix, NrTopics, TopicModel};

/// Arguments of `topics fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// JSONL file, one object with a `text` field per line.
    #[arg(long)]
    pub docs: PathBuf,
    /// float32 `[n, d]` NumPy array of embeddings in the same order as the docs.
    #[arg(long)]
    pub embeddings: Option<PathBuf>,
    /// Use only the first N documents (and embedding rows).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Output directory for the model files.
    #[arg(long)]
    pub out: PathBuf,
    /// Write `{"assignments": [...], "topic_words": {...}}` here.
    #[arg(long)]
    pub assignments: Option<PathBuf>,
    /// HDBSCAN min_cluster_size.
    #[arg(long, default_value_t = 10)]
    pub min_topic_size: usize,
    /// none, auto or N (N counts the outlier topic, as BERTopic: N − 1 topics + -1).
    #[arg(long, default_value = "none")]
    pub nr_topics: String,
    /// Seed for every random step.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The day the model describes (YYYY-MM-DD; default today, UTC).
    #[arg(long)]
    pub day: Option<NaiveDate>,
    /// Device for the heavy math: auto, cpu or cuda:N.
    #[arg(long, env = "TOPICD_DEVICE", default_value = "auto")]
    pub device: String,
    /// Name of the embedding model recorded in the model.
    #[arg(long, default_value = "sentence-transformers/all-MiniLM-L6-v2")]
    pub embedding_model: String,
}

/// Runs `topics fit`.
pub fn run(args: FitArgs) -> anyhow::Result<ExitCode> {
    let nr_topics: NrTopics = args.nr_topics.parse().context("--nr-topics")?;
    let texts = read_docs(&args.docs, args.limit)?;
    let embeddings = match &args.embeddings {
        Some(path) => read_embeddings(path, texts.len(), args.limit.is_some())?,
        None => bail!(
            "--embeddings is required: computing embeddings in-process needs the local encoder \
             (topic_engine::embed::LocalEncoder), which this build does not have yet"
        ),
    };
    let dev = device::select(args.device.parse::<DevicePreference>().context("--device")?)?;
    let params = FitParams {
        min_topic_size: args.min_topic_size,
        nr_topics,
        seed: args.seed,
        ..FitParams::default()
    };
    let day = args.day.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let input = FitInput {
        texts: &texts,
        embeddings: &embeddings,
        dates: None,
        day,
        embedding_model: &args.embedding_model,
    };
    eprintln!(
        "fitting {} documents ({} dims, min_topic_size {}, nr_topics {}, seed {}, device {})",
        texts.len(),
        embeddings.cols(),
        params.min_topic_size,
        params.nr_topics,
        params.seed,
        device::name(&dev)
    );
    let result = topic_engine::fit(&input, &params, &dev)?;

    print_timings(&result.timings);
    print_topics(&result.model, 20);

    let model_path = write_model(&result.model, &args.out)?;
    println!("model: {}", model_path.display());
    if let Some(path) = &args.assignments {
        write_assignments(path, &result.assignments, &result.model)?;
        println!("assignments: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the `text` field of every non-blank JSONL line (at most `limit`).
fn read_docs(path: &Path, limit: Option<usize>) -> anyhow::Result<Vec<String>> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut texts = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        if limit.is_some_and(|l| texts.len() >= l) {
            break;
        }
        let line = line.with_context(|| format!("reading {} line {}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not valid JSON", path.display(), i + 1))?;
        match row.get("text").and_then(|t| t.as_str()) {
            Some(t) => texts.push(t.to_string()),
            None => bail!("{} line {}: no string field \"text\"", path.display(), i + 1),
        }
    }
    if texts.is_empty() {
        bail!("{}: no documents", path.display());
    }
    Ok(texts)
}

/// Reads a float32 `[n, d]` C-order `.npy` and checks it against the documents: exactly `n_docs`
/// rows, or at least `n_docs` (then truncated) when `--limit` is given.
fn read_embeddings(path: &Path, n_docs: usize, limited: bool) -> anyhow::Result<Matrix> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .with_context(|| format!("{}: not a NumPy .npy file", path.display()))?;
    let descr = npy.dtype().descr();
    if descr != "'<f4'" && descr != "<f4" {
        bail!("{}: expected a float32 array, got dtype {descr}", path.display());
    }
    if npy.order() != npyz::Order::C {
        bail!("{}: expected a C-order (row-major) array, got Fortran order", path.display());
    }
    let shape = npy.shape().to_vec();
    let [rows, cols] = shape[..] else {
        bail!("{}: expected a 2-d [n, d] array, got shape {shape:?}", path.display());
    };
    let (rows, cols) = (rows as usize, cols as usize);
    if rows != n_docs && !(limited && rows > n_docs) {
        bail!(
            "{}: {rows} embedding rows for {n_docs} documents; they must match (or pass --limit)",
            path.display()
        );
    }
    let mut data: Vec<f32> =
        npy.into_vec().with_context(|| format!("{}: reading float32 data", path.display()))?;
    data.truncate(n_docs * cols);
    Ok(Matrix::new(data, n_docs, cols)?)
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn print_timings(t: &topic_engine::StageTimings) {
    println!("stage        seconds");
    for (name, d) in t.stages() {
        println!("{name:<12} {:>8}", secs(d));
    }
}

fn print_topics(model: &TopicModel, limit: usize) {
    let mut topics: Vec<_> = model.topics.iter().collect();
    topics.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    let n_topics = model.active_topics().count();
    let outliers = model.topic(-1).map_or(0, |t| t.size);
    println!(
        "{n_topics} topics, {outliers} outliers ({:.1} %) of {} documents",
        100.0 * outliers as f64 / model.n_documents.max(1) as f64,
        model.n_documents
    );
    println!("{:>6} {:>7}  label", "id", "size");
    for t in topics.iter().take(limit) {
        println!("{:>6} {:>7}  {}", t.id, t.size, t.label);
    }
    if topics.len() > limit {
        println!("   ... {} more", topics.len() - limit);
    }
}

/// Writes the model files (`config.json` + `model.safetensors`) into `dir`; returns `dir`.
fn write_model(model: &TopicModel, dir: &Path) -> anyhow::Result<PathBuf> {
    topic_engine::io::save(model, dir)
        .with_context(|| format!("writing the model to {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

/// Writes score.py's `{"assignments": [...], "topic_words": {"id": [...]}}`.
fn write_assignments(path: &Path, assignments: &[i64], model: &TopicModel) -> anyhow::Result<()> {
    let topic_words: BTreeMap<String, Vec<&str>> = model
        .topics
        .iter()
        .map(|t| (t.id.to_string(), t.keywords.iter().map(|k| k.word.as_str()).collect()))
        .collect();
    let body = serde_json::json!({ "assignments": assignments, "topic_words": topic_words });
    let file = File::create(path).with_context(|| format!("writing {}", path.display()))?;
    let mut w = BufWriter::new(file);
    serde_json::to_writer(&mut w, &body).with_context(|| format!("writing {}", path.display()))?;
    w.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use npyz::WriterBuilder;

    fn write(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    fn npy_f32(rows: u64, cols: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[rows, cols])
            .writer(&mut out)
            .begin_nd()
            .unwrap();
        w.extend((0..rows * cols).map(|i| i as f32)).unwrap();
        w.finish().unwrap();
        out
    }

    #[test]
    fn docs_need_a_text_field() {
        let dir = tempfile::tempdir().unwrap();
        let ok =
            write(dir.path(), "a.jsonl", b"{\"text\": \"hi\", \"x\": 1}\n\n{\"text\": \"yo\"}\n");
        assert_eq!(read_docs(&ok, None).unwrap(), vec!["hi", "yo"]);
        assert_eq!(read_docs(&ok, Some(1)).unwrap(), vec!["hi"]);
        let bad = write(dir.path(), "b.jsonl", b"{\"text\": \"hi\"}\n{\"body\": \"yo\"}\n");
        let e = format!("{:#}", read_docs(&bad, None).unwrap_err());
        assert!(e.contains("line 2") && e.contains("text"), "{e}");
        let bad = write(dir.path(), "c.jsonl", b"not json\n");
        assert!(format!("{:#}", read_docs(&bad, None).unwrap_err()).contains("line 1"));
        assert!(read_docs(&dir.path().join("missing.jsonl"), None).is_err());
    }

    #[test]
    fn embeddings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "e.npy", &npy_f32(4, 3));
        let m = read_embeddings(&p, 4, false).unwrap();
        assert_eq!((m.rows(), m.cols()), (4, 3));
        assert_eq!(m.row(1), &[3.0, 4.0, 5.0]);
        let e = format!("{:#}", read_embeddings(&p, 3, false).unwrap_err());
        assert!(e.contains("4 embedding rows for 3 documents"), "{e}");
        assert_eq!(read_embeddings(&p, 3, true).unwrap().rows(), 3);
        assert!(read_embeddings(&p, 5, true).is_err());

        let mut f64_file = Vec::new();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[2, 2])
            .writer(&mut f64_file)
            .begin_nd()
            .unwrap();
        w.extend([1.0f64, 2.0, 3.0, 4.0]).unwrap();
        w.finish().unwrap();
        let p = write(dir.path(), "d.npy", &f64_file);
        let e = format!("{:#}", read_embeddings(&p, 2, false).unwrap_err());
        assert!(e.contains("float32"), "{e}");
        let p = write(dir.path(), "x.npy", b"garbage");
        assert!(read_embeddings(&p, 2, false).is_err());
    }
}
