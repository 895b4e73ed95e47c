//! Google Gemini: embeddings with `models/<model>:batchEmbedContents` (task type `CLUSTERING`,
//! reduced to 768 dimensions and re-normalised, ≤ 100 texts a request) and topic labels with
//! `models/<model>:generateContent` (temperature 0, JSON output with a response schema, all
//! topics in one call). The key goes in the `x-goog-api-key` header, never in a URL or a log.

use async_trait::async_trait;
use serde_json::json;
use topic_engine::Matrix;

use super::config::{self, ApiKey, EmbeddingConfig, LabelConfig};
use super::labels::{self, PromptLimits};
use super::retry::RemoteClient;
use super::Embedder;
use super::{embed_in_chunks, record_tokens, LabelOutcome, Labeler, ProviderError, TopicToLabel};

const PROVIDER: &str = "gemini";
/// Gemini's limit on texts per `batchEmbedContents` request.
pub const MAX_BATCH: usize = 100;

fn model_id(model: &str) -> String {
    model.trim().trim_start_matches("models/").to_string()
}

fn base_url(cfg_url: &Option<String>) -> String {
    cfg_url.as_deref().unwrap_or(config::DEFAULT_GEMINI_BASE_URL).trim_end_matches('/').to_string()
}

/// Gemini embeddings.
#[derive(Debug)]
pub struct GeminiEmbedder {
    client: RemoteClient,
    url: String,
    model: String,
    dimension: usize,
    batch: usize,
    key: ApiKey,
}

impl GeminiEmbedder {
    /// From configuration; fails without a key or with a batch size over [`MAX_BATCH`].
    pub fn from_config(cfg: &EmbeddingConfig) -> Result<Self, ProviderError> {
        let key =
            config::require_key(&cfg.api_key, "GEMINI_API_KEY", "the Gemini embedding provider")?;
        let batch = cfg.batch_size.unwrap_or(MAX_BATCH);
        if batch == 0 || batch > MAX_BATCH {
            return Err(ProviderError::Config(format!(
                "Gemini takes 1 to {MAX_BATCH} texts per request, batch_size is {batch}"
            )));
        }
        let model = model_id(&cfg.model_or_default());
        let url = format!("{}/models/{model}:batchEmbedContents", base_url(&cfg.base_url));
        let client =
            RemoteClient::new(PROVIDER, cfg.retry.clone(), Some(key.expose().to_string()))?;
        Ok(Self {
            client,
            url,
            model,
            dimension: cfg.dimension.unwrap_or(config::DEFAULT_GEMINI_DIMENSION),
            batch,
            key,
        })
    }

    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        let model_ref = format!("models/{}", self.model);
        let requests: Vec<serde_json::Value> = texts
            .iter()
            .map(|t| {
                json!({
                    "model": model_ref,
                    "content": {"parts": [{"text": t}]},
                    "taskType": "CLUSTERING",
                    "outputDimensionality": self.dimension,
                })
            })
            .collect();
        let body = json!({ "requests": requests });
        let headers = [("x-goog-api-key", self.key.expose().to_string())];
        let answer = self.client.post_json("embed", &self.url, &headers, &body).await?;
        let malformed = |message: String| ProviderError::Malformed { provider: PROVIDER, message };
        let embeddings = answer
            .get("embeddings")
            .and_then(|e| e.as_array())
            .ok_or_else(|| malformed("no `embeddings` array".into()))?;
        if embeddings.len() != texts.len() {
            return Err(malformed(format!(
                "{} vectors for {} texts",
                embeddings.len(),
                texts.len()
            )));
        }
        embeddings
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let values = e
                    .get("values")
                    .and_then(|v| v.as_array())
                    .ok_or_else(|| malformed(format!("embedding {i} has no `values`")))?;
                values
                    .iter()
                    .map(|v| {
                        v.as_f64()
                            .map(|x| x as f32)
                            .ok_or_else(|| malformed(format!("embedding {i} holds a non-number")))
                    })
                    .collect()
            })
            .collect()
    }
}

#[async_trait]
impl Embedder for GeminiEmbedder {
    fn model_name(&self) -> &str {
        &self.model
    }
    fn dimension(&self) -> usize {
        self.dimension
    }
    fn max_batch(&self) -> usize {
        self.batch
    }
    async fn embed(&self, texts: &[String]) -> Result<Matrix, ProviderError> {
        embed_in_chunks(PROVIDER, texts, self.batch, self.dimension, |chunk| {
            self.embed_batch(chunk)
        })
        .await
    }
}

/// Gemini topic labels.
#[derive(Debug)]
pub struct GeminiLabeler {
    client: RemoteClient,
    url: String,
    name: String,
    key: ApiKey,
    limits: PromptLimits,
    max_topics_per_call: usize,
}

impl GeminiLabeler {
    /// From configuration; fails without a key.
    pub fn from_config(cfg: &LabelConfig) -> Result<Self, ProviderError> {
        let key = config::require_key(&cfg.api_key, "GEMINI_API_KEY", "the Gemini label provider")?;
        let model = model_id(&cfg.model_or_default());
        let url = format!("{}/models/{model}:generateContent", base_url(&cfg.base_url));
        let client =
            RemoteClient::new(PROVIDER, cfg.retry.clone(), Some(key.expose().to_string()))?;
        Ok(Self {
            client,
            url,
            name: format!("gemini:{model}"),
            key,
            limits: cfg.prompt.clone(),
            max_topics_per_call: cfg.max_topics_per_call.max(1),
        })
    }

    /// The request body for one labeling call.
    pub fn request_body(&self, topics: &[TopicToLabel]) -> serde_json::Value {
        json!({
            "systemInstruction": {"parts": [{"text": labels::SYSTEM_PROMPT}]},
            "contents": [{"role": "user", "parts": [{"text": labels::build_prompt(topics, &self.limits)}]}],
            "generationConfig": {
                "temperature": 0,
                "responseMimeType": "application/json",
                "responseSchema": labels::gemini_response_schema(),
            },
        })
    }

    async fn label_chunk(&self, topics: &[TopicToLabel]) -> Result<LabelOutcome, ProviderError> {
        let headers = [("x-goog-api-key", self.key.expose().to_string())];
        let answer =
            self.client.post_json("label", &self.url, &headers, &self.request_body(topics)).await?;
        if let Some(usage) = answer.get("usageMetadata") {
            record_tokens(
                PROVIDER,
                usage.get("promptTokenCount"),
                usage.get("candidatesTokenCount"),
            );
        }
        let text: String = answer
            .pointer("/candidates/0/content/parts")
            .and_then(|p| p.as_array())
            .map(|parts| {
                parts.iter().filter_map(|p| p.get("text").and_then(|t| t.as_str())).collect()
            })
            .unwrap_or_default();
        if text.is_empty() {
            let reason = answer
                .pointer("/candidates/0/finishReason")
                .or_else(|| answer.pointer("/promptFeedback/blockReason"))
                .and_then(|r| r.as_str())
                .unwrap_or("no candidate");
            tracing::warn!(
                provider = PROVIDER,
                reason,
                "label answer has no text; using keyword labels"
            );
        }
        let (outcome, problems) = labels::parse_answer(&text, topics, &self.limits);
        labels::report_problems(PROVIDER, &problems);
        Ok(outcome)
    }
}

#[async_trait]
impl Labeler for GeminiLabeler {
    fn name(&self) -> &str {
        &self.name
    }
    async fn label(&self, topics: &[TopicToLabel]) -> Result<LabelOutcome, ProviderError> {
        labels::label_in_chunks(topics, self.max_topics_per_call, |chunk| self.label_chunk(chunk))
            .await
    }
}
