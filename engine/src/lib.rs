//! `topic-engine`: BERTopic-quality topic modeling in Rust, with no network and no database.
//!
//! Bring texts and their sentence embeddings, get topics with keywords, an assignment and a
//! probability per document, a model that merges day after day with stable ids
//! ([`merge()`]), tags new documents ([`transform()`]) and saves to two small files
//! ([`save`], [`load`]):
//!
//! ```
//! use topic_engine::{Matrix, TopicModelBuilder};
//!
//! // Three tiny synthetic "intents", 20 documents each, with embeddings near one axis each.
//! let intents = [("refund my order", 0), ("card was declined", 1), ("weather tomorrow", 2)];
//! let mut texts = Vec::new();
//! let mut rows = Vec::new();
//! for i in 0..60usize {
//!     let (text, axis) = intents[i % 3];
//!     texts.push(format!("{text} {i}"));
//!     let mut row = vec![0.02 * ((i * 7 % 11) as f32 - 5.0); 8];
//!     row[axis] = 1.0;
//!     rows.push(row);
//! }
//! let embeddings = Matrix::from_rows(&rows)?;
//!
//! // BERTopic's defaults (min_topic_size 10, top_n_words 10, UMAP 15 neighbours / 5
//! // components, HDBSCAN EOM), a fixed seed.
//! let result = TopicModelBuilder::new().seed(42).fit(&texts, &embeddings)?;
//!
//! assert_eq!(result.topics().count(), 3);
//! assert_eq!(result.assignments.len(), 60);
//! assert_eq!(result.probabilities.len(), 60);
//! for topic in result.topics() {
//!     println!("{} {} ({} docs): {}", topic.id, topic.label, topic.size, topic.keywords[0].word);
//! }
//! // Documents of one intent share a topic.
//! assert_eq!(result.assignments[0], result.assignments[3]);
//! # Ok::<(), topic_engine::EngineError>(())
//! ```
//!
//! For a dashboard, [`layout::model_map`] lays a model's topics out in 2-D (classical MDS on
//! cosine distances, deterministic) and [`TopicIndex::nearest`] finds the topics nearest to a
//! phrase's embedding; an operator's label ([`TopicModel::set_label_override`]) is kept with
//! the model and across merges.
//!
//! The stages follow BERTopic's pipeline (kNN → UMAP → HDBSCAN → c-TF-IDF → reduction), in
//! [`fit`]; the lifecycle is [`merge()`], [`transform()`] and [`io`]; the local sentence encoder
//! is the separate `topic-encoder` crate (so bringing your own embeddings compiles no
//! transformer stack). The stages themselves are not a stable API; benches and parity tests
//! reach them through the hidden `internals` module.

mod aligned;
mod builder;
pub mod cancel;
pub mod changes;
pub mod coverage;
mod ctfidf;
pub mod defined;
pub mod device;
pub mod edits;
pub mod error;
pub mod faq;
mod hdbscan;
pub mod io;
mod knn;
pub mod label;
pub mod layout;
pub mod matrix;
pub mod merge;
pub mod model;
pub mod outliers;
pub mod params;
mod pipeline;
mod reduce;
mod representative;
mod sample;
mod simd;
#[cfg(test)]
pub(crate) mod testutil;
pub mod text;
pub mod transform;
pub mod tree;
mod umap;
mod vectorize;

pub use builder::TopicModelBuilder;
pub use cancel::{Cancel, Progress, Stage};
pub use defined::{DefinedTopic, DefinedTopicSpec};
pub use device::Device;
pub use error::{BackendError, EngineError, Result};
pub use io::{load, save};
pub use matrix::Matrix;
pub use merge::{merge, MergeOutcome};
pub use model::{
    EditAuthor, Keyword, LineageEntry, LineageEvent, Topic, TopicAlias, TopicAssignment,
    TopicEdits, TopicMemory, TopicModel, OUTLIER_TOPIC, SMALL_TALK_LABEL, SMALL_TALK_TOPIC,
};
pub use outliers::OutlierMode;
pub use params::{FitParams, KnnMethod, MergeParams, MergeRule, NrTopics, TransformParams};
pub use pipeline::{
    fit, fit_cancellable, fit_with_defined, FitInput, FitResult, Sampled, StageTimings,
};
pub use transform::{transform, transform_one, TopicIndex};

/// The pipeline's stages, for benches, parity tests and examples. Not a stable API: anything
/// here may change in any release.
#[doc(hidden)]
pub mod internals {
    /// c-TF-IDF.
    pub mod ctfidf {
        pub use crate::ctfidf::*;
    }
    /// HDBSCAN.
    pub mod hdbscan {
        pub use crate::hdbscan::*;
    }
    /// kNN graphs.
    pub mod knn {
        pub use crate::knn::*;
    }
    /// Topic reduction.
    pub mod reduce {
        pub use crate::reduce::*;
    }
    /// Representative documents.
    pub mod representative {
        pub use crate::representative::*;
    }
    /// UMAP.
    pub mod umap {
        pub use crate::umap::*;
    }
    /// The vectorizer.
    pub mod vectorize {
        pub use crate::vectorize::*;
    }
}
