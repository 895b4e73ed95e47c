//! Merge: a candidate day model into the tenant's active (or a chosen base) model. Matched
//! topics keep their ids, new ones are labelled, and the result is committed and activated in
//! one step ([`commit`](super::commit)). The whole Merge holds the tenant's state lock, so
//! Merges of one tenant (on any replica) form one chain of versions.
//!
//! Failpoints (feature `failpoints`): `lifecycle::merge::after_merge` (merged, nothing
//! written), `lifecycle::merge::after_write` (files written, before the transaction).

use std::sync::Arc;
use std::time::Instant;

use topic_engine::TopicModel;

use super::contract::{DayModelMetadata, MergedModelMetadata};
use super::error::{Error, Result};
use super::labelling::label_new_topics;
use super::{blocking, CancelOnDrop, Lifecycle};
use crate::store::{ModelKind, ModelRecord, TenantId, Version};

/// What to merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeDay {
    /// The candidate (a version Fit returned).
    pub day_version: Version,
    /// The model to merge into; `None`: the tenant's active model (none: the first merge).
    pub base_version: Option<Version>,
    /// Merge even when the candidate's window was merged before.
    pub force: bool,
}

/// A committed, active merged model.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Its row.
    pub record: ModelRecord,
    /// The version active before.
    pub previous: Option<Version>,
    /// Day topics that got new ids.
    pub new_topics: u64,
    /// Day topics matched to known ones.
    pub matched_topics: u64,
    /// Topics retired.
    pub retired_topics: u64,
}

impl Lifecycle {
    /// Merges the candidate `req.day_version` of `tenant` (see the module docs). Refuses a
    /// merged model as the candidate (`FailedPrecondition`) and a window merged before unless
    /// `force` (`AlreadyExists`). On any failure the previous active model stays.
    pub async fn merge_day(&self, tenant: &TenantId, req: MergeDay) -> Result<Merged> {
        let started = Instant::now();
        let day_version = req.day_version;
        let _state = self.locks.lock_state(tenant).await?;

        let day_rec = self.record(tenant, &day_version).await?;
        if day_rec.kind != ModelKind::Day {
            return Err(Error::failed_precondition(format!(
                "{day_version} is a merged model, not a candidate from Fit; pass the version Fit returned"
            )));
        }
        let active = self.meta.active(tenant).await?;
        let base_rec = match &req.base_version {
            Some(v) => Some(self.record(tenant, v).await?),
            None => active.clone(),
        };
        let window = DayModelMetadata::of_record(&day_rec).and_then(|m| m.window).map(|w| w.days());
        if let Some((start, end)) = window {
            if !req.force {
                let merged = self.meta.merged_windows(tenant).await?;
                if let Some(w) =
                    merged.iter().find(|w| w.window_start == start && w.window_end == end)
                {
                    return Err(Error::already_exists(format!(
                        "the window {start}..{end} of {day_version} was already merged into version {}; pass force=true to merge it again",
                        w.model_version
                    )));
                }
            }
        }

        let day = self.load_candidate(&day_rec).await?;
        let base = match &base_rec {
            Some(b) => Some(self.load(b).await?),
            None => None,
        };
        let params = self.settings.merge.clone();
        let guard = CancelOnDrop::new();
        let cancel = guard.token();
        let (day2, base2) = (day.clone(), base.clone());
        let outcome = blocking(move || {
            if cancel.is_cancelled() {
                return Err(Error::cancelled());
            }
            Ok(topic_engine::merge::merge(base2.as_deref(), &day2, &params)?)
        })
        .await?;
        let mut model = outcome.model;
        label_new_topics(
            self.labeler.as_ref(),
            tenant,
            &mut model,
            base.as_deref(),
            &outcome.new_topic_ids,
        )
        .await;
        if guard.is_cancelled() {
            return Err(Error::cancelled());
        }

        let metadata = MergedModelMetadata {
            day_version: day_version.to_string(),
            base_version: base_rec.as_ref().map(|b| b.version.to_string()),
            new_topics: outcome.new_topic_ids.len() as u64,
            matched_topics: outcome.matched.len() as u64,
            retired_topics: outcome.retired.len() as u64,
            labeler: self.labeler_name().to_string(),
            embedding_model: model.embedding_model.clone(),
        };
        let base_is_active =
            matches!((&base_rec, &active), (Some(b), Some(a)) if b.version == a.version);
        let active_base = base.as_deref().filter(|_| base_is_active);
        let committed =
            self.commit(tenant, model, active_base, &metadata, window.or(day.date_range)).await;
        let record = match committed {
            Ok(rec) => rec,
            Err(e) => {
                crate::metrics::record_merge(false, started.elapsed());
                tracing::warn!(tenant = %tenant, day = %day_version, error = %e,
                    "merge failed; the previous active model is unchanged");
                return Err(e);
            }
        };
        self.fitted.remove(tenant, &day_version).await;
        crate::metrics::record_merge(true, started.elapsed());
        tracing::info!(tenant = %tenant, version = %record.version, day = %day_version,
            new = metadata.new_topics, matched = metadata.matched_topics, retired = metadata.retired_topics,
            "merged and activated");
        Ok(Merged {
            record,
            previous: active.map(|a| a.version),
            new_topics: metadata.new_topics,
            matched_topics: metadata.matched_topics,
            retired_topics: metadata.retired_topics,
        })
    }

    /// The commit step of a Merge, after the `after_merge` failpoint.
    async fn commit(
        &self,
        tenant: &TenantId,
        model: TopicModel,
        active_base: Option<&TopicModel>,
        metadata: &MergedModelMetadata,
        merged_window: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    ) -> Result<ModelRecord> {
        failpoint!("lifecycle::merge::after_merge");
        self.commit_merged(tenant, Arc::new(model), active_base, metadata.to_json(), merged_window)
            .await
    }

    /// A candidate's model: from memory when this process fitted it, else from the stores.
    async fn load_candidate(&self, rec: &ModelRecord) -> Result<Arc<TopicModel>> {
        if let Some(m) = self.fitted.get(&rec.tenant, &rec.version, &rec.storage_path).await {
            return Ok(m);
        }
        self.load(rec).await
    }
}
