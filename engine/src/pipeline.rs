//! `fit`: the stages in order (kNN → UMAP → HDBSCAN → c-TF-IDF → reduction), one span each.

use std::time::Duration;

use candle_core::Device;
use chrono::NaiveDate;

use crate::error::{EngineError, Result};
use crate::matrix::Matrix;
use crate::model::TopicModel;
use crate::params::FitParams;

/// What `fit` needs besides parameters.
#[derive(Debug, Clone, Copy)]
pub struct FitInput<'a> {
    /// Document texts (non-empty after trimming).
    pub texts: &'a [String],
    /// One embedding per text, `texts.len() × dim`, finite.
    pub embeddings: &'a Matrix,
    /// Day of each document (for daily counts); `None` = every document on `day`.
    pub dates: Option<&'a [NaiveDate]>,
    /// The day the model describes (`first_seen`/`last_seen` of its topics).
    pub day: NaiveDate,
    /// Name of the embedding model (stored in the model).
    pub embedding_model: &'a str,
}

/// Wall-clock time per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimings {
    pub knn: Duration,
    pub umap: Duration,
    pub hdbscan: Duration,
    pub ctfidf: Duration,
    pub reduction: Duration,
    pub total: Duration,
}

/// A fitted day model plus the per-document assignments.
#[derive(Debug, Clone)]
pub struct FitResult {
    pub model: TopicModel,
    /// Topic id per input document (`-1` = outlier), in input order.
    pub assignments: Vec<i64>,
    pub timings: StageTimings,
}

/// Fits a topic model.
pub fn fit(input: &FitInput<'_>, params: &FitParams, device: &Device) -> Result<FitResult> {
    let _ = (input, params, device);
    Err(EngineError::input("fit: not implemented yet"))
}
