//! `topic-engine`: BERTopic-quality topic modeling in Rust, with no network and no database.
//!
//! The modules follow the pipeline: [`knn`] → [`umap`] → [`hdbscan`] → [`vectorize`] +
//! [`ctfidf`] → [`reduce`], tied together by [`pipeline::fit`]; then the model lifecycle:
//! [`merge`], [`transform`], [`io`]; and the local encoder in [`embed`].

mod aligned;
pub mod cancel;
pub mod ctfidf;
pub mod device;
pub mod embed;
pub mod error;
pub mod hdbscan;
pub mod io;
pub mod knn;
pub mod label;
pub mod matrix;
pub mod merge;
pub mod model;
pub mod params;
pub mod pipeline;
pub mod reduce;
pub mod representative;
mod simd;
#[cfg(test)]
pub(crate) mod testutil;
pub mod text;
pub mod transform;
pub mod umap;
pub mod vectorize;

pub use cancel::Cancel;
pub use error::{EngineError, Result};
pub use matrix::Matrix;
pub use model::{Keyword, Topic, TopicAssignment, TopicModel, OUTLIER_TOPIC};
pub use params::{FitParams, KnnMethod, MergeParams, NrTopics, TransformParams};
pub use pipeline::{fit, fit_cancellable, FitInput, FitResult, StageTimings};
pub use transform::{transform, TopicIndex};
