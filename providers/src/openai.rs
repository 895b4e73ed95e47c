//! Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, TEI): `<base>/embeddings` and
//! `<base>/chat/completions` with `response_format: {"type": "json_object"}`. The base URL
//! includes the version prefix (`https://api.openai.com/v1`, `http://localhost:11434/v1`); the
//! key, when set, goes in `Authorization: Bearer`.

use async_trait::async_trait;
use serde_json::json;
use topic_engine::Matrix;

use super::config::{self, ApiKey, EmbeddingConfig, LabelConfig};
use super::labels::{self, PromptLimits};
use super::retry::RemoteClient;
use super::{
    embed_in_chunks, record_tokens, Embedder, LabelOutcome, Labeler, ProviderError, TopicToLabel,
};

const PROVIDER: &str = "openai";
/// Default texts per `/embeddings` request (OpenAI takes up to 2048).
pub const DEFAULT_BATCH: usize = 256;

fn base_url(cfg_url: &Option<String>) -> String {
    cfg_url.as_deref().unwrap_or(config::DEFAULT_OPENAI_BASE_URL).trim_end_matches('/').to_string()
}

/// The key is optional for self-hosted servers; it is required for api.openai.com.
fn optional_key(key: &Option<ApiKey>, base: &str) -> Result<Option<ApiKey>, ProviderError> {
    match key {
        Some(k) if !k.is_empty() => Ok(Some(k.clone())),
        _ if base.contains("api.openai.com") => Err(ProviderError::Config(
            "the OpenAI provider needs an API key: set OPENAI_API_KEY".into(),
        )),
        _ => Ok(None),
    }
}

fn auth_headers(key: &Option<ApiKey>) -> Vec<(&'static str, String)> {
    key.as_ref()
        .map(|k| vec![("authorization", format!("Bearer {}", k.expose()))])
        .unwrap_or_default()
}

/// OpenAI-compatible embeddings.
#[derive(Debug)]
pub struct OpenAiEmbedder {
    client: RemoteClient,
    url: String,
    model: String,
    /// Sent as `dimensions` when configured.
    requested_dimension: Option<usize>,
    /// The dimension in force: configured, or learnt from the first answer.
    dimension: std::sync::OnceLock<usize>,
    batch: usize,
    key: Option<ApiKey>,
}

impl OpenAiEmbedder {
    /// From configuration.
    pub fn from_config(cfg: &EmbeddingConfig) -> Result<Self, ProviderError> {
        let base = base_url(&cfg.base_url);
        let key = optional_key(&cfg.api_key, &base)?;
        let client = RemoteClient::new(
            PROVIDER,
            cfg.retry.clone(),
            key.as_ref().map(|k| k.expose().to_string()),
        )?;
        let dimension = std::sync::OnceLock::new();
        let model = cfg.model_or_default();
        let known = cfg.dimension.or(match model.as_str() {
            "text-embedding-3-small" | "text-embedding-ada-002" => Some(1536),
            "text-embedding-3-large" => Some(3072),
            _ => None,
        });
        if let Some(d) = known {
            let _ = dimension.set(d);
        }
        Ok(Self {
            client,
            url: format!("{base}/embeddings"),
            model,
            requested_dimension: cfg.dimension,
            dimension,
            batch: cfg.batch_size.unwrap_or(DEFAULT_BATCH),
            key,
        })
    }

    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        let mut body = json!({ "model": self.model, "input": texts, "encoding_format": "float" });
        if let Some(d) = self.requested_dimension {
            body["dimensions"] = json!(d);
        }
        let answer =
            self.client.post_json("embed", &self.url, &auth_headers(&self.key), &body).await?;
        if let Some(usage) = answer.get("usage") {
            record_tokens(PROVIDER, usage.get("prompt_tokens"), None);
        }
        let malformed = |message: String| ProviderError::Malformed { provider: PROVIDER, message };
        let data = answer
            .get("data")
            .and_then(|d| d.as_array())
            .ok_or_else(|| malformed("no `data` array".into()))?;
        if data.len() != texts.len() {
            return Err(malformed(format!("{} vectors for {} texts", data.len(), texts.len())));
        }
        let mut rows: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (pos, item) in data.iter().enumerate() {
            // `index` gives the input position; servers that omit it answer in order.
            let index =
                item.get("index").and_then(|i| i.as_u64()).map(|i| i as usize).unwrap_or(pos);
            let slot = rows
                .get_mut(index)
                .ok_or_else(|| malformed(format!("index {index} out of range")))?;
            if slot.is_some() {
                return Err(malformed(format!("index {index} answered twice")));
            }
            let values = item
                .get("embedding")
                .and_then(|e| e.as_array())
                .ok_or_else(|| malformed(format!("item {pos} has no `embedding` array")))?;
            let row: Vec<f32> = values
                .iter()
                .map(|v| {
                    v.as_f64()
                        .map(|x| x as f32)
                        .ok_or_else(|| malformed(format!("item {pos} holds a non-number")))
                })
                .collect::<Result<_, _>>()?;
            *slot = Some(row);
        }
        let rows: Vec<Vec<f32>> = rows.into_iter().flatten().collect();
        if let Some(first) = rows.first() {
            let _ = self.dimension.set(first.len());
        }
        Ok(rows)
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn model_name(&self) -> &str {
        &self.model
    }
    /// The configured or known dimension; 0 until the first answer for an unknown model.
    fn dimension(&self) -> usize {
        self.dimension.get().copied().unwrap_or(0)
    }
    fn max_batch(&self) -> usize {
        self.batch
    }
    async fn embed(&self, texts: &[String]) -> Result<Matrix, ProviderError> {
        embed_in_chunks(PROVIDER, texts, self.batch, self.dimension(), |chunk| {
            self.embed_batch(chunk)
        })
        .await
    }
}

/// OpenAI-compatible chat labels.
#[derive(Debug)]
pub struct OpenAiLabeler {
    client: RemoteClient,
    url: String,
    model: String,
    name: String,
    key: Option<ApiKey>,
    limits: PromptLimits,
    max_topics_per_call: usize,
}

impl OpenAiLabeler {
    /// From configuration.
    pub fn from_config(cfg: &LabelConfig) -> Result<Self, ProviderError> {
        let base = base_url(&cfg.base_url);
        let key = optional_key(&cfg.api_key, &base)?;
        let client = RemoteClient::new(
            PROVIDER,
            cfg.retry.clone(),
            key.as_ref().map(|k| k.expose().to_string()),
        )?;
        let model = cfg.model_or_default();
        Ok(Self {
            client,
            url: format!("{base}/chat/completions"),
            name: format!("openai:{model}"),
            model,
            key,
            limits: cfg.prompt.clone(),
            max_topics_per_call: cfg.max_topics_per_call.max(1),
        })
    }

    /// The request body for one labeling call.
    pub fn request_body(&self, topics: &[TopicToLabel]) -> serde_json::Value {
        json!({
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": labels::SYSTEM_PROMPT},
                {"role": "user", "content": labels::build_prompt(topics, &self.limits)},
            ],
        })
    }

    async fn label_chunk(&self, topics: &[TopicToLabel]) -> Result<LabelOutcome, ProviderError> {
        let answer = self
            .client
            .post_json("label", &self.url, &auth_headers(&self.key), &self.request_body(topics))
            .await?;
        if let Some(usage) = answer.get("usage") {
            record_tokens(PROVIDER, usage.get("prompt_tokens"), usage.get("completion_tokens"));
        }
        let text = answer
            .pointer("/choices/0/message/content")
            .and_then(|c| c.as_str())
            .unwrap_or_default();
        if text.is_empty() {
            tracing::warn!(
                provider = PROVIDER,
                "label answer has no message content; using keyword labels"
            );
        }
        let (outcome, problems) = labels::parse_answer(text, topics, &self.limits);
        labels::report_problems(PROVIDER, &problems);
        Ok(outcome)
    }
}

#[async_trait]
impl Labeler for OpenAiLabeler {
    fn name(&self) -> &str {
        &self.name
    }
    async fn label(&self, topics: &[TopicToLabel]) -> Result<LabelOutcome, ProviderError> {
        labels::label_in_chunks(topics, self.max_topics_per_call, |chunk| self.label_chunk(chunk))
            .await
    }
}
