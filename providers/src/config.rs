//! Provider configuration (TOML via serde, then environment overrides) and the factories that
//! turn it into an [`Embedder`] or a [`Labeler`].
//!
//! Environment variables (each overrides the file):
//! `TOPICD_EMBED_PROVIDER` (local | gemini | openai), `TOPICD_EMBED_MODEL`, `TOPICD_EMBED_BASE_URL`,
//! `TOPICD_EMBED_DIMENSION`, `TOPICD_EMBED_BATCH_SIZE`, `TOPICD_DEVICE`,
//! `TOPICD_LABEL_PROVIDER` (keywords | gemini | openai), `TOPICD_LABEL_MODEL`,
//! `TOPICD_LABEL_BASE_URL`, and the keys `GEMINI_API_KEY` / `OPENAI_API_KEY`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::keywords::KeywordLabeler;
use super::labels::PromptLimits;
use super::retry::RetryPolicy;
use super::{gemini, local, openai, Embedder, Labeler, ProviderError};

/// Where the local encoder's weights are by default (`scripts/fetch-model.sh` puts them there).
pub const DEFAULT_LOCAL_MODEL: &str = "./models/all-MiniLM-L6-v2";
/// Default Gemini embedding model.
pub const DEFAULT_GEMINI_EMBED_MODEL: &str = "gemini-embedding-001";
/// Default Gemini labeling model (a current Flash model).
pub const DEFAULT_GEMINI_LABEL_MODEL: &str = "gemini-2.5-flash";
/// Default OpenAI embedding model.
pub const DEFAULT_OPENAI_EMBED_MODEL: &str = "text-embedding-3-small";
/// Default OpenAI labeling model.
pub const DEFAULT_OPENAI_LABEL_MODEL: &str = "gpt-4o-mini";
/// Default Gemini API base URL.
pub const DEFAULT_GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";
/// Default OpenAI API base URL (the `/v1` prefix included, as OpenAI-compatible servers expect).
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// Gemini embedding size we ask for (`outputDimensionality`).
pub const DEFAULT_GEMINI_DIMENSION: usize = 768;

/// An API key: never printed by `Debug`, never serialised.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
    /// The key itself, for the request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() { "<unset>" } else { "<redacted>" })
    }
}

/// Which service embeds texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbedProvider {
    /// The local encoder (offline).
    #[default]
    Local,
    /// Google Gemini (`batchEmbedContents`).
    Gemini,
    /// Any OpenAI-compatible `/embeddings` endpoint (OpenAI, vLLM, Ollama, TEI).
    Openai,
}

impl EmbedProvider {
    /// The environment variable holding this provider's API key (`None`: needs none).
    pub fn key_var(self) -> Option<&'static str> {
        match self {
            Self::Local => None,
            Self::Gemini => Some("GEMINI_API_KEY"),
            Self::Openai => Some("OPENAI_API_KEY"),
        }
    }
}

impl std::str::FromStr for EmbedProvider {
    type Err = ProviderError;
    fn from_str(s: &str) -> Result<Self, ProviderError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(Self::Local),
            "gemini" => Ok(Self::Gemini),
            "openai" => Ok(Self::Openai),
            other => Err(ProviderError::Config(format!(
                "unknown embedding provider {other:?}: expected local, gemini or openai"
            ))),
        }
    }
}

/// Which service names topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelProvider {
    /// Keyword labels (offline).
    #[default]
    Keywords,
    /// Google Gemini (`generateContent`).
    Gemini,
    /// Any OpenAI-compatible `/chat/completions` endpoint.
    Openai,
}

impl LabelProvider {
    /// The environment variable holding this provider's API key (`None`: needs none).
    pub fn key_var(self) -> Option<&'static str> {
        match self {
            Self::Keywords => None,
            Self::Gemini => Some("GEMINI_API_KEY"),
            Self::Openai => Some("OPENAI_API_KEY"),
        }
    }
}

impl std::str::FromStr for LabelProvider {
    type Err = ProviderError;
    fn from_str(s: &str) -> Result<Self, ProviderError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keywords" | "keyword" | "none" => Ok(Self::Keywords),
            "gemini" => Ok(Self::Gemini),
            "openai" => Ok(Self::Openai),
            other => Err(ProviderError::Config(format!(
                "unknown label provider {other:?}: expected keywords, gemini or openai"
            ))),
        }
    }
}

/// How texts are embedded (`[embedding]` in the server's TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddingConfig {
    /// `local` (default), `gemini` or `openai`.
    pub provider: EmbedProvider,
    /// Local: a directory or a model-hub id (default `./models/all-MiniLM-L6-v2`); remote: the
    /// model name (defaults `gemini-embedding-001`, `text-embedding-3-small`).
    pub model: Option<String>,
    /// Remote API base URL (defaults: Gemini `…/v1beta`, OpenAI `https://api.openai.com/v1`).
    pub base_url: Option<String>,
    /// The API key; better set through `GEMINI_API_KEY` / `OPENAI_API_KEY`.
    #[serde(skip_serializing)]
    pub api_key: Option<ApiKey>,
    /// Output dimension asked of a remote model (Gemini default 768; OpenAI: the model's own
    /// unless set).
    pub dimension: Option<usize>,
    /// Texts per request / forward pass (local 64, Gemini ≤ 100, OpenAI 256).
    pub batch_size: Option<usize>,
    /// Local encoder device: `auto`, `cpu`, `cuda:N` (default `auto`).
    pub device: String,
    /// Local encoder: download a model-hub id that is not in the local cache (default true).
    pub allow_download: bool,
    /// Timeouts, retries and concurrency of remote calls.
    pub retry: RetryPolicy,
}

impl Default for EmbeddingConfig {
    fn default() -> Self {
        Self {
            provider: EmbedProvider::Local,
            model: None,
            base_url: None,
            api_key: None,
            dimension: None,
            batch_size: None,
            device: "auto".into(),
            allow_download: true,
            retry: RetryPolicy::default(),
        }
    }
}

/// A provider configuration that environment variables override (empty values are ignored).
pub trait EnvOverrides: Default {
    /// Overrides fields from the variables `var` reads: the process environment in
    /// [`EnvOverrides::apply_env`], any source in tests and `topics providers check`.
    fn apply_vars(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ProviderError>;

    /// Overrides fields from the process environment.
    fn apply_env(&mut self) -> Result<(), ProviderError> {
        self.apply_vars(|k| std::env::var(k).ok())
    }

    /// Defaults overridden by the environment.
    fn from_env() -> Result<Self, ProviderError> {
        let mut c = Self::default();
        c.apply_env()?;
        Ok(c)
    }
}

impl EnvOverrides for EmbeddingConfig {
    /// `TOPICD_EMBED_*`, `TOPICD_DEVICE` and, when no key is configured, the provider's key
    /// variable.
    fn apply_vars(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ProviderError> {
        let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        if let Some(d) = var("TOPICD_EMBED_DIMENSION") {
            self.dimension = Some(parse_positive("TOPICD_EMBED_DIMENSION", &d)?);
        }
        if let Some(b) = var("TOPICD_EMBED_BATCH_SIZE") {
            self.batch_size = Some(parse_positive("TOPICD_EMBED_BATCH_SIZE", &b)?);
        }
        if let Some(d) = var("TOPICD_DEVICE") {
            self.device = d;
        }
        let shared = Shared {
            provider: &mut self.provider,
            model: &mut self.model,
            base_url: &mut self.base_url,
            api_key: &mut self.api_key,
        };
        shared.apply(&var, "TOPICD_EMBED", EmbedProvider::key_var)
    }
}

impl EmbeddingConfig {
    /// The model in force, defaults applied.
    pub fn model_or_default(&self) -> String {
        match (&self.model, self.provider) {
            (Some(m), _) if !m.trim().is_empty() => m.trim().to_string(),
            (_, EmbedProvider::Local) => DEFAULT_LOCAL_MODEL.into(),
            (_, EmbedProvider::Gemini) => DEFAULT_GEMINI_EMBED_MODEL.into(),
            (_, EmbedProvider::Openai) => DEFAULT_OPENAI_EMBED_MODEL.into(),
        }
    }
}

/// How topics are named (`[labels]` in the server's TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelConfig {
    /// `keywords` (default), `gemini` or `openai`.
    pub provider: LabelProvider,
    /// The LLM (defaults `gemini-2.5-flash`, `gpt-4o-mini`).
    pub model: Option<String>,
    /// API base URL (defaults as for embeddings).
    pub base_url: Option<String>,
    /// The API key; better set through `GEMINI_API_KEY` / `OPENAI_API_KEY`.
    #[serde(skip_serializing)]
    pub api_key: Option<ApiKey>,
    /// How much of each topic goes into the prompt.
    pub prompt: PromptLimits,
    /// Largest number of topics in one call; more are split into several calls. Default 200.
    pub max_topics_per_call: usize,
    /// Timeouts, retries and concurrency of remote calls.
    pub retry: RetryPolicy,
}

impl Default for LabelConfig {
    fn default() -> Self {
        Self {
            provider: LabelProvider::Keywords,
            model: None,
            base_url: None,
            api_key: None,
            prompt: PromptLimits::default(),
            max_topics_per_call: 200,
            retry: RetryPolicy::default(),
        }
    }
}

impl EnvOverrides for LabelConfig {
    /// `TOPICD_LABEL_*` and, when no key is configured, the provider's key variable.
    fn apply_vars(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ProviderError> {
        let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let shared = Shared {
            provider: &mut self.provider,
            model: &mut self.model,
            base_url: &mut self.base_url,
            api_key: &mut self.api_key,
        };
        shared.apply(&var, "TOPICD_LABEL", LabelProvider::key_var)
    }
}

impl LabelConfig {
    /// The model in force, defaults applied ("" for keywords).
    pub fn model_or_default(&self) -> String {
        match (&self.model, self.provider) {
            (_, LabelProvider::Keywords) => String::new(),
            (Some(m), _) if !m.trim().is_empty() => m.trim().to_string(),
            (_, LabelProvider::Gemini) => DEFAULT_GEMINI_LABEL_MODEL.into(),
            (_, LabelProvider::Openai) => DEFAULT_OPENAI_LABEL_MODEL.into(),
        }
    }
}

fn parse_positive(name: &str, v: &str) -> Result<usize, ProviderError> {
    match v.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ProviderError::Config(format!("{name} must be a positive integer, got {v:?}"))),
    }
}

/// The key, or a clear error naming the variable to set.
pub(crate) fn require_key(
    key: &Option<ApiKey>,
    var: &str,
    what: &str,
) -> Result<ApiKey, ProviderError> {
    match key {
        Some(k) if !k.is_empty() => Ok(k.clone()),
        _ => Err(ProviderError::Config(format!("{what} needs an API key: set {var}"))),
    }
}

/// The settings `[embedding]` and `[labels]` share, for their one environment-override rule.
struct Shared<'a, P> {
    provider: &'a mut P,
    model: &'a mut Option<String>,
    base_url: &'a mut Option<String>,
    api_key: &'a mut Option<ApiKey>,
}

impl<P: Copy + std::str::FromStr<Err = ProviderError>> Shared<'_, P> {
    /// `{prefix}_PROVIDER`, `{prefix}_MODEL`, `{prefix}_BASE_URL`, then, when no key is
    /// configured, the key variable `key_var` names for the provider in force.
    fn apply(
        self,
        var: &dyn Fn(&str) -> Option<String>,
        prefix: &str,
        key_var: impl Fn(P) -> Option<&'static str>,
    ) -> Result<(), ProviderError> {
        if let Some(p) = var(&format!("{prefix}_PROVIDER")) {
            *self.provider = p.parse()?;
        }
        if let Some(m) = var(&format!("{prefix}_MODEL")) {
            *self.model = Some(m);
        }
        if let Some(u) = var(&format!("{prefix}_BASE_URL")) {
            *self.base_url = Some(u);
        }
        if self.api_key.as_ref().is_none_or(ApiKey::is_empty) {
            if let Some(k) = key_var(*self.provider).and_then(var) {
                *self.api_key = Some(ApiKey::new(k.trim()));
            }
        }
        Ok(())
    }
}

/// Builds the configured embedder. The local encoder loads its weights here (seconds); a
/// model-hub id that is not cached yet needs [`local::ensure_model`] first.
pub fn build_embedder(cfg: &EmbeddingConfig) -> Result<Arc<dyn Embedder>, ProviderError> {
    if let Some(0) = cfg.batch_size {
        return Err(ProviderError::Config("embedding batch_size must be at least 1".into()));
    }
    Ok(match cfg.provider {
        EmbedProvider::Local => Arc::new(local::LocalEmbedder::from_config(cfg)?),
        EmbedProvider::Gemini => Arc::new(gemini::GeminiEmbedder::from_config(cfg)?),
        EmbedProvider::Openai => Arc::new(openai::OpenAiEmbedder::from_config(cfg)?),
    })
}

/// Builds the configured labeler.
pub fn build_labeler(cfg: &LabelConfig) -> Result<Arc<dyn Labeler>, ProviderError> {
    if cfg.max_topics_per_call == 0 {
        return Err(ProviderError::Config("labels.max_topics_per_call must be at least 1".into()));
    }
    Ok(match cfg.provider {
        LabelProvider::Keywords => Arc::new(KeywordLabeler::new()),
        LabelProvider::Gemini => Arc::new(gemini::GeminiLabeler::from_config(cfg)?),
        LabelProvider::Openai => Arc::new(openai::OpenAiLabeler::from_config(cfg)?),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn defaults_are_offline() {
        let e = EmbeddingConfig::default();
        assert_eq!(e.provider, EmbedProvider::Local);
        assert_eq!(e.model_or_default(), DEFAULT_LOCAL_MODEL);
        assert_eq!(LabelConfig::default().provider, LabelProvider::Keywords);
    }

    #[test]
    fn env_overrides_and_keys() {
        let mut e = EmbeddingConfig::default();
        e.apply_vars(vars(&[
            ("TOPICD_EMBED_PROVIDER", "Gemini"),
            ("GEMINI_API_KEY", " g-key "),
            ("OPENAI_API_KEY", "o-key"),
            ("TOPICD_EMBED_BATCH_SIZE", "50"),
        ]))
        .unwrap();
        assert_eq!(e.provider, EmbedProvider::Gemini);
        assert_eq!(e.api_key.as_ref().unwrap().expose(), "g-key");
        assert_eq!(e.batch_size, Some(50));
        assert_eq!(e.model_or_default(), DEFAULT_GEMINI_EMBED_MODEL);
        assert!(!format!("{e:?}").contains("g-key"));

        let mut l = LabelConfig::default();
        l.apply_vars(vars(&[
            ("TOPICD_LABEL_PROVIDER", "openai"),
            ("OPENAI_API_KEY", "o-key"),
            ("TOPICD_LABEL_MODEL", "llama3"),
        ]))
        .unwrap();
        assert_eq!((l.provider, l.model_or_default().as_str()), (LabelProvider::Openai, "llama3"));
        assert_eq!(l.api_key.unwrap().expose(), "o-key");

        let err = EmbeddingConfig::default()
            .apply_vars(vars(&[("TOPICD_EMBED_PROVIDER", "cohere")]))
            .unwrap_err();
        assert!(err.to_string().contains("expected local, gemini or openai"), "{err}");
        let err = EmbeddingConfig::default()
            .apply_vars(vars(&[("TOPICD_EMBED_BATCH_SIZE", "0")]))
            .unwrap_err();
        assert!(err.to_string().contains("positive integer"), "{err}");
    }

    #[test]
    fn toml_round_trip_never_writes_the_key() {
        let c: EmbeddingConfig = toml::from_str(
            "provider = \"openai\"\nmodel = \"nomic-embed-text\"\nbase_url = \"http://localhost:11434/v1\"\napi_key = \"secret\"\n[retry]\nmax_attempts = 2\n",
        )
        .unwrap();
        assert_eq!(c.retry.max_attempts, 2);
        assert_eq!(c.api_key.as_ref().unwrap().expose(), "secret");
        let out = toml::to_string(&c).unwrap();
        assert!(!out.contains("secret"), "{out}");
        assert!(toml::from_str::<EmbeddingConfig>("bogus = 1").is_err());
    }

    #[test]
    fn missing_keys_are_clear_errors() {
        let cfg = EmbeddingConfig { provider: EmbedProvider::Gemini, ..Default::default() };
        let err = build_embedder(&cfg).err().unwrap().to_string();
        assert!(err.contains("GEMINI_API_KEY"), "{err}");
        let cfg = LabelConfig { provider: LabelProvider::Gemini, ..Default::default() };
        let err = build_labeler(&cfg).err().unwrap().to_string();
        assert!(err.contains("GEMINI_API_KEY"), "{err}");
    }
}
