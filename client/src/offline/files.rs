//! What the offline commands share: reading documents (JSONL) and embeddings (`.npy`), computing
//! embeddings with the local encoder when none are given, loading and writing model directories
//! and writing score.py-style assignment files.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use topic_encoder::LocalEncoder;
use topic_engine::device::{self, DevicePreference, TensorDevice};
use topic_engine::{Matrix, TopicModel};

/// Where embeddings come from when `--embeddings` is not given.
#[derive(Debug, Clone, clap::Args)]
pub struct EncoderArgs {
    /// Local encoder used when `--embeddings` is not given: a directory with `config.json`,
    /// `tokenizer.json` and `model.safetensors` (scripts/fetch-model.sh), or a model-hub id present
    /// in the local Hugging Face cache.
    #[arg(long, env = "TOPICD_EMBED_MODEL", default_value = "./models/all-MiniLM-L6-v2")]
    pub encoder: String,
    /// Device for the heavy math: auto, cpu or cuda:N.
    #[arg(long, env = "TOPICD_DEVICE", default_value = "auto")]
    pub device: String,
}

impl EncoderArgs {
    /// Opens the device `--device` asks for.
    pub fn device(&self) -> anyhow::Result<TensorDevice> {
        let pref = self.device.parse::<DevicePreference>().context("--device")?;
        Ok(device::select(pref)?)
    }
}

/// The documents of `topics fit` and `topics transform` and where their embeddings come from.
#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    /// JSONL file, one object with a `text` field per line.
    #[arg(long)]
    pub docs: PathBuf,
    /// float32 `[n, d]` NumPy array of embeddings in the same order as the docs.
    #[arg(long)]
    pub embeddings: Option<PathBuf>,
    /// Use only the first N documents (and embedding rows).
    #[arg(long)]
    pub limit: Option<usize>,
}

impl DocsArgs {
    /// Reads the documents and their embeddings ([`embeddings_for`]): the texts, the matrix and,
    /// when the encoder made it, the encoder's model name.
    pub fn read(
        &self,
        encoder: &EncoderArgs,
        dev: &TensorDevice,
    ) -> anyhow::Result<(Vec<String>, Matrix, Option<String>)> {
        let texts = read_docs(&self.docs, self.limit)?;
        let (embeddings, name) =
            embeddings_for(&texts, self.embeddings.as_deref(), self.limit.is_some(), encoder, dev)?;
        Ok((texts, embeddings, name))
    }
}

/// Embeddings of `texts`: read from `path` when given (see [`read_embeddings`]), else computed
/// with the local encoder `encoder.encoder` on `dev`. Returns the matrix and, when computed here, the
/// encoder's model name (what a fitted model records and what a model must have been fitted with).
pub fn embeddings_for(
    texts: &[String],
    path: Option<&Path>,
    limited: bool,
    encoder: &EncoderArgs,
    dev: &TensorDevice,
) -> anyhow::Result<(Matrix, Option<String>)> {
    if let Some(path) = path {
        return Ok((read_embeddings(path, texts.len(), limited)?, None));
    }
    let enc = LocalEncoder::load(&encoder.encoder, dev).with_context(|| {
        format!(
            "no --embeddings given, and the local encoder {:?} could not be loaded",
            encoder.encoder
        )
    })?;
    eprintln!(
        "encoding {} documents with {} ({} dims, device {})",
        texts.len(),
        enc.name(),
        enc.dim(),
        device::name(dev)
    );
    let m = enc.encode(texts).context("encoding the documents")?;
    Ok((m, Some(enc.name().to_string())))
}

/// Reads the `text` field of every non-blank JSONL line (at most `limit`).
pub fn read_docs(path: &Path, limit: Option<usize>) -> anyhow::Result<Vec<String>> {
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
/// rows, or at least `n_docs` (then truncated) when `limited` (`--limit`) is set.
pub fn read_embeddings(path: &Path, n_docs: usize, limited: bool) -> anyhow::Result<Matrix> {
    // Streamed from the file straight into the matrix: the file is read once and never held in
    // memory twice (1,000,000 × 384 is 1.5 GB).
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let file_len = file.metadata().with_context(|| format!("reading {}", path.display()))?.len();
    let npy = npyz::NpyFile::new(std::io::BufReader::with_capacity(1 << 20, file))
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
    // The header's shape must agree with the bytes actually present before anything is
    // allocated for it (a hostile header cannot make us allocate more than the file's size).
    let need = rows.checked_mul(cols).and_then(|n| n.checked_mul(4));
    if need.is_none_or(|n| n as u64 > file_len) {
        bail!("{}: shape {shape:?} does not fit in a {file_len}-byte file", path.display());
    }
    let keep = n_docs * cols;
    let mut data: Vec<f32> = Vec::with_capacity(keep);
    let values =
        npy.data::<f32>().with_context(|| format!("{}: reading float32 data", path.display()))?;
    for v in values.take(keep) {
        data.push(v.with_context(|| format!("{}: reading float32 data", path.display()))?);
    }
    if data.len() != keep {
        bail!("{}: the file ends after {} of {keep} values", path.display(), data.len());
    }
    Ok(Matrix::new(data, n_docs, cols)?)
}

/// Loads a model directory (`config.json` + `model.safetensors`).
pub fn load_model(dir: &Path) -> anyhow::Result<TopicModel> {
    topic_engine::io::load(dir).with_context(|| format!("loading the model in {}", dir.display()))
}

/// Writes the model files (`config.json` + `model.safetensors`) into `dir`; returns `dir`.
pub fn write_model(model: &TopicModel, dir: &Path) -> anyhow::Result<PathBuf> {
    topic_engine::io::save(model, dir)
        .with_context(|| format!("writing the model to {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

/// `{"<id>": [keyword, ...]}` for every topic of `model` (score.py's `topic_words`).
pub fn topic_words(model: &TopicModel) -> BTreeMap<String, Vec<&str>> {
    model
        .topics
        .iter()
        .map(|t| (t.id.to_string(), t.keywords.iter().map(|k| k.word.as_str()).collect()))
        .collect()
}

/// Writes `body` as compact JSON to `path`.
pub fn write_json(path: &Path, body: &serde_json::Value) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("writing {}", path.display()))?;
    let mut w = BufWriter::new(file);
    serde_json::to_writer(&mut w, body).with_context(|| format!("writing {}", path.display()))?;
    w.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Prints the largest topics of a model (id, size, label).
pub fn print_topics(model: &TopicModel, limit: usize) {
    let mut topics: Vec<_> = model.topics.iter().filter(|t| t.is_active()).collect();
    topics.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    let n_topics = model.active_topics().filter(|t| !t.is_outlier()).count();
    let outliers = model.topic(-1).map_or(0, |t| t.size);
    println!(
        "{n_topics} topics, {outliers} outliers ({:.1} %) of {} documents",
        100.0 * outliers as f64 / model.n_documents.max(1) as f64,
        model.n_documents
    );
    println!("{:>6} {:>7}  label", "id", "size");
    for t in topics.iter().take(limit) {
        println!("{:>6} {:>7}  {}", t.id, t.size, t.display_label());
    }
    if topics.len() > limit {
        println!("   ... {} more", topics.len() - limit);
    }
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

    #[test]
    fn a_header_larger_than_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // A valid version-1 header claiming 2 billion rows, followed by only 24 bytes of data.
        let mut header =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000, 3), }".to_string();
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0u8; 24]);
        let p = write(dir.path(), "big.npy", &bytes);
        let e = format!("{:#}", read_embeddings(&p, 2_000_000_000, false).unwrap_err());
        assert!(e.contains("does not fit"), "{e}");
    }
}
