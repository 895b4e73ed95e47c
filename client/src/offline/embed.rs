//! `topics embed`: embed the texts of a JSONL file with a configured provider and write them as a
//! float32 `.npy`, in input order.
//!
//! ```text
//! topics embed --docs D.jsonl --out E.npy [--provider local|gemini|openai] [--batch-size 64]
//!              [--model M] [--base-url URL] [--dimension D] [--device auto|cpu|cuda:N]
//!              [--limit N]
//! ```
//! The provider is configured as the server's (`TOPICD_EMBED_*`, `GEMINI_API_KEY`,
//! `OPENAI_API_KEY`); the flags override the environment. Rows are L2-normalised. The file is
//! written next to `E.npy` under a temporary name and renamed when complete, so an interrupted
//! run never leaves a truncated `.npy` behind.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use npyz::WriterBuilder;
use topic_engine::Matrix;
use topicd_providers::{build_embedder, EmbedProvider, EmbeddingConfig, EnvOverrides};

use super::files;

/// Texts handed to the provider per step (progress is reported after each).
const STEP: usize = 4096;

/// Arguments of `topics embed`.
#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    /// JSONL file, one object with a non-empty `text` field per line.
    #[arg(long)]
    pub docs: PathBuf,
    /// Write the `[n, d]` float32 array here (`.npy`).
    #[arg(long)]
    pub out: PathBuf,
    /// local (default, offline), gemini or openai. Default: `TOPICD_EMBED_PROVIDER`, else local.
    #[arg(long)]
    pub provider: Option<EmbedProvider>,
    /// Texts per request / forward pass (default: local 64, Gemini 100, OpenAI 256).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Local: model directory or hub id; remote: the model name.
    #[arg(long)]
    pub model: Option<String>,
    /// Remote API base URL (an OpenAI-compatible server: `http://host:port/v1`).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Output dimension asked of a remote model (Gemini default 768).
    #[arg(long)]
    pub dimension: Option<usize>,
    /// Local encoder device: auto, cpu or cuda:N.
    #[arg(long)]
    pub device: Option<String>,
    /// Embed only the first N documents.
    #[arg(long)]
    pub limit: Option<usize>,
}

impl EmbedArgs {
    /// The environment's provider configuration with this command's flags on top. With
    /// `--provider`, the environment's model and base URL count only when it configures that same
    /// provider (see [`topics::providers::embed_config`]); its key variable is always read.
    pub fn config(&self) -> anyhow::Result<EmbeddingConfig> {
        let var = |k: &str| std::env::var(k).ok();
        let mut cfg = match self.provider {
            Some(p) => topics::providers::embed_config(p, &var)?,
            None => EmbeddingConfig::from_env()
                .context("embedding provider settings in the environment")?,
        };
        if let Some(b) = self.batch_size {
            if b == 0 {
                bail!("--batch-size must be at least 1");
            }
            cfg.batch_size = Some(b);
        }
        if let Some(d) = self.dimension {
            if d == 0 {
                bail!("--dimension must be at least 1");
            }
            cfg.dimension = Some(d);
        }
        if self.model.is_some() {
            cfg.model.clone_from(&self.model);
        }
        if self.base_url.is_some() {
            cfg.base_url.clone_from(&self.base_url);
        }
        if let Some(d) = &self.device {
            cfg.device.clone_from(d);
        }
        Ok(cfg)
    }
}

/// Runs `topics embed`.
pub async fn run(args: EmbedArgs) -> anyhow::Result<ExitCode> {
    if args.limit == Some(0) {
        bail!("--limit must be at least 1");
    }
    let cfg = args.config()?;
    let texts = files::read_docs(&args.docs, args.limit)?;
    if let Some(i) = texts.iter().position(|t| t.trim().is_empty()) {
        bail!(
            "{}: document {} has an empty text; remove it or give it words to embed",
            args.docs.display(),
            i + 1
        );
    }
    let provider = cfg.provider;
    let embedder = build_embedder(&cfg)
        .with_context(|| format!("setting up the {provider:?} embedding provider"))?;
    eprintln!(
        "embedding {} documents with {} ({provider:?}, batches of {})",
        texts.len(),
        embedder.model_name(),
        embedder.max_batch()
    );
    let started = Instant::now();
    let mut out = NpyOut::create(&args.out, texts.len())?;
    for (k, chunk) in texts.chunks(STEP).enumerate() {
        let m = embedder.embed(chunk).await.context("embedding the documents")?;
        out.append(&m)?;
        let done = (k * STEP + chunk.len()).min(texts.len());
        if texts.len() > STEP {
            eprintln!(
                "  {done}/{} ({:.0} texts/s)",
                texts.len(),
                done as f64 / started.elapsed().as_secs_f64().max(1e-9)
            );
        }
    }
    let dim = out.finish()?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {} embeddings of {dim} dimensions to {} ({:.1} s, {:.0} texts/s, {})",
        texts.len(),
        args.out.display(),
        secs,
        texts.len() as f64 / secs.max(1e-9),
        embedder.model_name()
    );
    Ok(ExitCode::SUCCESS)
}

/// A float32 `[rows, d]` `.npy` written step by step into a temporary file, renamed into place by
/// [`NpyOut::finish`]; `d` is taken from the first block.
struct NpyOut {
    path: PathBuf,
    tmp: PathBuf,
    rows: usize,
    written: usize,
    writer: Option<npyz::NpyWriter<f32, BufWriter<File>>>,
    dim: usize,
    /// Renamed into place: nothing to clean up.
    done: bool,
}

impl NpyOut {
    fn create(path: &Path, rows: usize) -> anyhow::Result<Self> {
        let name = path
            .file_name()
            .with_context(|| format!("--out {}: not a file name", path.display()))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            rows,
            written: 0,
            writer: None,
            dim: 0,
            done: false,
        })
    }

    fn append(&mut self, m: &Matrix) -> anyhow::Result<()> {
        if self.writer.is_none() {
            self.dim = m.cols();
            let file = File::create(&self.tmp)
                .with_context(|| format!("creating {}", self.tmp.display()))?;
            let writer = npyz::WriteOptions::new()
                .default_dtype()
                .shape(&[self.rows as u64, self.dim as u64])
                .writer(BufWriter::new(file))
                .begin_nd()
                .with_context(|| format!("writing {}", self.tmp.display()))?;
            self.writer = Some(writer);
        }
        if m.cols() != self.dim || self.written + m.rows() > self.rows {
            bail!(
                "the provider returned a {}×{} block after {} rows of {} dimensions",
                m.rows(),
                m.cols(),
                self.written,
                self.dim
            );
        }
        if let Some(w) = self.writer.as_mut() {
            w.extend(m.as_slice().iter().copied())
                .with_context(|| format!("writing {}", self.tmp.display()))?;
        }
        self.written += m.rows();
        Ok(())
    }

    /// Completes the file and moves it into place; returns the dimension.
    fn finish(mut self) -> anyhow::Result<usize> {
        if self.written != self.rows {
            bail!("{} of {} rows embedded", self.written, self.rows);
        }
        let Some(w) = self.writer.take() else { bail!("nothing was embedded") };
        w.finish().with_context(|| format!("writing {}", self.tmp.display()))?;
        File::open(&self.tmp)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("syncing {}", self.tmp.display()))?;
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("moving {} to {}", self.tmp.display(), self.path.display()))?;
        self.done = true;
        Ok(self.dim)
    }
}

impl Drop for NpyOut {
    fn drop(&mut self) {
        // Not finished: never leave a partial file behind.
        if !self.done {
            drop(self.writer.take());
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
