//! Fit: one window of a tenant's documents → a candidate day model, stored but not served
//! (Merge makes it part of the active model). The model also stays in this process's memory
//! for the Merge that usually follows.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use topic_engine::{FitInput, FitParams, StageTimings, TopicModel, OUTLIER_TOPIC};

use super::contract::{fit_day, DayModelMetadata, DayWindow, Window};
use super::error::{Error, Result};
use super::{blocking, vectors, CancelOnDrop, Lifecycle};
use crate::store::{ModelRecord, TenantId};

/// The documents of one Fit, validated by the API.
#[derive(Debug, Clone)]
pub struct DayDocuments {
    /// Texts (non-blank, within the request limits).
    pub texts: Vec<String>,
    /// Each document's day, when the caller dated every document.
    pub dates: Option<Vec<NaiveDate>>,
    /// Precomputed embedding rows, one per text; `None`: the server's provider embeds the
    /// texts. Checked here ([`vectors::embeddings`]).
    pub embeddings: Option<Vec<Vec<f32>>>,
    /// The window the documents come from.
    pub window: Option<Window>,
    /// Fit parameters (the server's defaults with the caller's overrides, checked).
    pub params: FitParams,
}

/// Time spent per step of a Fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitTimings {
    /// Embedding (zero with precomputed embeddings).
    pub embed: Duration,
    /// The engine's stages.
    pub stages: StageTimings,
    /// The whole Fit, from admission to the stored row.
    pub total: Duration,
}

/// A stored candidate day model.
#[derive(Debug, Clone)]
pub struct DayFit {
    /// Its row (inactive, kind `day`).
    pub record: ModelRecord,
    /// The model.
    pub model: Arc<TopicModel>,
    /// Topic id per document (`-1` = outlier, `-2` = small talk), in input order.
    pub assignments: Vec<i64>,
    /// Cosine of each document to its topic (0 for outliers and small talk), in input order.
    pub scores: Vec<f32>,
    /// Documents left as outliers.
    pub outliers: u64,
    /// Documents recognised as small talk, left out of topic discovery (topic `-2`).
    pub small_talk: u64,
    /// Things a person should read about this fit (e.g. mostly non-English messages embedded
    /// by an English-only model); also logged.
    pub warnings: Vec<String>,
    /// Time per step.
    pub timings: FitTimings,
    /// Documents fitted and assigned by transform when the input was larger than
    /// `fit.max_fit_documents` (`None`: all were fitted).
    pub sampled: Option<topic_engine::Sampled>,
}

impl Lifecycle {
    /// Fits a day model of `tenant` on `docs` and stores it as a candidate: checks the
    /// embeddings (or that a provider can make them), admits the Fit ([`TenantLocks::admit_fit`](super::TenantLocks::admit_fit)),
    /// embeds, fits off the async runtime (cancelled when this future is dropped), then stores
    /// the model under the tenant's state lock.
    pub async fn fit_day(&self, tenant: &TenantId, docs: DayDocuments) -> Result<DayFit> {
        let n = docs.texts.len();
        let precomputed = match docs.embeddings {
            Some(rows) => Some(vectors::embeddings(rows, n, self.embedding_dimension())?),
            None => {
                self.embedder()?;
                None
            }
        };

        let _admission = self.locks.admit_fit(tenant).await?;
        let guard = CancelOnDrop::new();
        let started = Instant::now();

        let embed_started = Instant::now();
        // Whether the server embedded the texts with an English-only model (then the language
        // mix is checked, with the fit, off the async runtime).
        let mut english_only = false;
        let (embeddings, model_name) = match precomputed {
            Some(m) => {
                let name = self
                    .embedder
                    .as_ref()
                    .map(|e| e.model_name().to_string())
                    .unwrap_or_else(|_| "precomputed".into());
                (m, name)
            }
            None => {
                let m = self.embed(&docs.texts).await?;
                let embedder = self.embedder()?;
                english_only = embedder.english_only();
                (m, embedder.model_name().to_string())
            }
        };
        let embed_secs = embed_started.elapsed();
        crate::metrics::record_stage("embed", embed_secs);
        // The tenant's defined topics (issue 30), in the documents' embedding space.
        let defined = self.defined_for_fit(tenant, &model_name, embeddings.cols()).await?;

        let day = fit_day(docs.window.as_ref(), docs.dates.as_deref());
        let cancel = guard.token().with_progress(stage_logger(tenant.to_string()));
        let device = topic_engine::Device::of(&self.device);
        let (texts, dates, params) = (docs.texts, docs.dates, docs.params.clone());
        let log_tenant = tenant.clone();
        let (result, warnings) = blocking(move || {
            let warnings: Vec<String> = if english_only {
                language_warning(&texts, &model_name).into_iter().collect()
            } else {
                Vec::new()
            };
            // `fit_with_defined` checks the token before anything else, then inside every stage.
            let input = FitInput {
                texts: &texts,
                embeddings: &embeddings,
                dates: dates.as_deref(),
                day,
                embedding_model: &model_name,
            };
            match topic_engine::fit_with_defined(&input, &params, device, &cancel, &defined) {
                Ok(r) => Ok((r, warnings)),
                Err(topic_engine::EngineError::Cancelled) => {
                    crate::metrics::record_fit_cancelled();
                    tracing::info!(tenant = %log_tenant, docs = texts.len(),
                        "fit cancelled: the client gave up, engine work stopped");
                    Err(Error::cancelled())
                }
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        if guard.is_cancelled() {
            return Err(Error::cancelled());
        }
        let mut warnings = warnings;
        if let Some(s) = result.sampled {
            warnings.push(format!(
                "{n} documents are more than fit.max_fit_documents: topics were fitted on a seeded \
                 sample of {} (stratified by day) and the other {} were assigned to them by \
                 transform; keywords and samples come from the fitted ones",
                s.fitted, s.assigned
            ));
        }
        for w in &warnings {
            tracing::warn!(tenant = %tenant, warning = %w, "fit warning");
        }
        let stages = result.timings;
        for (stage, d) in stages.stages() {
            crate::metrics::record_stage(stage, d);
        }

        let outliers = result.assignments.iter().filter(|&&a| a == OUTLIER_TOPIC).count() as u64;
        let metadata = DayModelMetadata {
            window: docs.window.as_ref().map(DayWindow::of),
            fit_params: Some(docs.params),
            embedding_model: result.model.embedding_model.clone(),
            documents: n as u64,
            outliers,
            small_talk: result.small_talk,
            timings_seconds: std::iter::once(("embed", embed_secs))
                .chain(stages.stages())
                .map(|(stage, d)| (stage.to_string(), d.as_secs_f64()))
                .collect::<BTreeMap<_, _>>(),
        };
        // The engine's scores: the same SIMD cosine Transform uses, so a training document's
        // Transform score equals its Fit score.
        let scores = result.scores;
        let model = Arc::new(result.model);
        let store_started = Instant::now();
        let record = {
            let _state = self.locks.lock_state(tenant).await?;
            self.store_candidate(tenant, &model, metadata.to_json()).await?
        };
        crate::metrics::record_stage("store", store_started.elapsed());
        self.fitted.insert(tenant, record.version, &record.storage_path, model.clone()).await;

        tracing::info!(tenant = %tenant, version = %record.version, docs = n, topics = record.total_topics, outliers,
            small_talk = result.small_talk,
            secs = started.elapsed().as_secs_f64(), "fit stored as candidate");
        Ok(DayFit {
            record,
            model,
            assignments: result.assignments,
            scores,
            outliers,
            small_talk: result.small_talk,
            warnings,
            timings: FitTimings { embed: embed_secs, stages, total: started.elapsed() },
            sampled: result.sampled,
        })
    }
}

/// Share of documents above which a tenant counts as mostly not in English.
const NON_ENGLISH_SHARE: f64 = 0.5;

/// A warning when most `texts` are in a language other than English while the embedding model
/// (`model`) only knows English: such a model groups messages by language rather than by what
/// they are about. Short texts count as English (their language cannot be told).
pub fn language_warning(texts: &[String], model: &str) -> Option<String> {
    use topic_engine::text::{Language, LanguageDetector, LanguageSetting};
    if texts.is_empty() {
        return None;
    }
    let detector = LanguageDetector::new(LanguageSetting::Auto, Language::En);
    let other = texts.iter().filter(|t| detector.detect(t) != Language::En).count();
    let share = other as f64 / texts.len() as f64;
    (share > NON_ENGLISH_SHARE).then(|| {
        format!(
            "{:.0} % of the messages are not in English, but the embedding model {model} is English-only: \
             topics will tend to group messages by language; configure a multilingual model \
             ([embedding] model = a multilingual sentence-transformers directory) or the Gemini / \
             OpenAI-compatible provider",
            share * 100.0
        )
    })
}

/// Logs a fit's stage progress (`tracing` info): when a stage starts and at each quarter of a
/// stage whose length is known, so a long fit shows where it is in the server's log.
fn stage_logger(tenant: String) -> impl Fn(topic_engine::Progress) + Send + Sync + 'static {
    let last = std::sync::Mutex::new((None::<topic_engine::Stage>, 0u64));
    move |p: topic_engine::Progress| {
        let Ok(mut last) = last.lock() else { return };
        let quarter = (p.done * 4).checked_div(p.total).unwrap_or(0);
        if last.0 != Some(p.stage) {
            *last = (Some(p.stage), quarter);
            tracing::info!(tenant = %tenant, stage = %p.stage, total = p.total, "fit stage started");
        } else if quarter > last.1 {
            last.1 = quarter;
            tracing::info!(tenant = %tenant, stage = %p.stage, done = p.done, total = p.total,
                "fit stage progress");
        }
    }
}

#[cfg(test)]
mod language_tests {
    use super::*;

    fn texts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn warns_when_most_messages_are_not_english() {
        let fr = texts(&[
            "je n'ai toujours pas reçu mon remboursement pour la commande",
            "mon colis est en retard depuis plus d'une semaine maintenant",
            "je voudrais changer l'adresse de livraison de ma commande",
            "where is my refund for the order I returned last week",
        ]);
        let w = language_warning(&fr, "sentence-transformers/all-MiniLM-L6-v2").unwrap();
        assert!(w.starts_with("75 % of the messages are not in English"), "{w}");
        let en = texts(&[
            "where is my refund for the order I returned last week",
            "my parcel has been late for more than a week now",
            "je n'ai toujours pas reçu mon remboursement pour la commande",
        ]);
        assert_eq!(language_warning(&en, "m"), None);
        assert_eq!(language_warning(&[], "m"), None);
        // Short messages cannot be told apart: they count as English.
        assert_eq!(language_warning(&texts(&["merci", "ok", "bonjour"]), "m"), None);
    }
}
