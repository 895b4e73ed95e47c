//! [`TopicModelBuilder`]: the few lines a BERTopic user expects,
//! `BERTopic(min_topic_size=10).fit_transform(docs, embeddings)`.

use chrono::NaiveDate;

use crate::device::Device;
use crate::error::Result;
use crate::matrix::Matrix;
use crate::model::Topic;
use crate::params::{FitParams, NrTopics};
use crate::pipeline::{fit, FitInput, FitResult};

/// Builds and fits a topic model with BERTopic's defaults, each setter naming its default.
/// Every other parameter is reachable through [`TopicModelBuilder::params`].
#[derive(Debug, Clone)]
pub struct TopicModelBuilder {
    params: FitParams,
    device: Device,
    embedding_model: String,
    day: Option<NaiveDate>,
}

impl Default for TopicModelBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TopicModelBuilder {
    /// BERTopic 0.17's defaults (see [`FitParams`]), seed 42, the CPU.
    pub fn new() -> Self {
        Self {
            params: FitParams::default(),
            device: Device::Cpu,
            embedding_model: "unknown".to_string(),
            day: None,
        }
    }

    /// HDBSCAN's `min_cluster_size` (default 10), BERTopic's `min_topic_size`.
    pub fn min_topic_size(mut self, n: usize) -> Self {
        self.params.min_topic_size = n;
        self
    }

    /// Topic reduction after clustering (default [`NrTopics::None`]), BERTopic's `nr_topics`.
    pub fn nr_topics(mut self, nr_topics: NrTopics) -> Self {
        self.params.nr_topics = nr_topics;
        self
    }

    /// Keywords per topic (default 10), BERTopic's `top_n_words`.
    pub fn top_n_words(mut self, n: usize) -> Self {
        self.params.top_n_words = n;
        self
    }

    /// UMAP's `n_neighbors` (default 15).
    pub fn n_neighbors(mut self, n: usize) -> Self {
        self.params.n_neighbors = n;
        self
    }

    /// UMAP's `n_components` (default 5).
    pub fn n_components(mut self, n: usize) -> Self {
        self.params.n_components = n;
        self
    }

    /// Seed of every random step (default 42): the same input and seed give the same model.
    pub fn seed(mut self, seed: u64) -> Self {
        self.params.seed = seed;
        self
    }

    /// Where the heavy math runs (default [`Device::Cpu`]).
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// Name of the model that made the embeddings, recorded in the model (default "unknown");
    /// merges refuse models of different embedding models.
    pub fn embedding_model(mut self, name: impl Into<String>) -> Self {
        self.embedding_model = name.into();
        self
    }

    /// The day the documents are from (default today, UTC).
    pub fn day(mut self, day: NaiveDate) -> Self {
        self.day = Some(day);
        self
    }

    /// All parameters, to change those without a setter.
    pub fn params(&mut self) -> &mut FitParams {
        &mut self.params
    }

    /// Fits texts and their embeddings (one row per text, same order; any norm).
    pub fn fit(&self, texts: &[String], embeddings: &Matrix) -> Result<FitResult> {
        let input = FitInput {
            texts,
            embeddings,
            dates: None,
            day: self.day.unwrap_or_else(|| chrono::Utc::now().date_naive()),
            embedding_model: &self.embedding_model,
        };
        fit(&input, &self.params, self.device)
    }
}

impl FitResult {
    /// The topics, outliers (`-1`) excluded, ascending by id (largest first after a fit).
    pub fn topics(&self) -> impl Iterator<Item = &Topic> {
        self.model.active_topics()
    }
}
