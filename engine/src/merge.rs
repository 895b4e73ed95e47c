//! Merging a day model into a long-lived model with stable topic ids.
//!
//! BERTopic's `merge_models` is the reference (BERTOPIC_NOTES.md §6); its weaknesses are fixed:
//!
//! | BERTopic `merge_models`                              | [`merge`]                                             |
//! |------------------------------------------------------|-------------------------------------------------------|
//! | matched topic keeps first-day vector, size, keywords (#2431) | sizes add, embedding = size-weighted mean, keywords recomputed by c-TF-IDF over the merged term counts |
//! | a day topic can be matched to the base `-1` centroid | `-1` is never a match candidate                        |
//! | new id = max id in the document list + 1             | new id = `next_topic_id`, which only grows: ids are never reused |
//! | the model only grows                                 | topics unseen for `retire_after_days` retire; retired topics are forgotten after `history_days` |
//! | no history                                           | `first_seen`, `last_seen`, daily counts and lineage (bounded to `history_days`) |
//! | "same topic" = centroid cosine ≥ 0.7; a neighbour intent is absorbed, a day cluster of two known intents drags one of them | member votes decide, the cosine is a gate; neighbours get their own id, straddling day topics are split, embeddings stay near their anchor |
//!
//! # Rules
//!
//! - **Matching, member rule** ([`MergeRule::Members`], the default; issue 24). A centroid
//!   cosine cannot tell a near-identical neighbour intent from the same intent, nor the two
//!   halves of a day-1 cluster that mixed two intents; each topic therefore keeps a small memory
//!   ([`TopicMemory`](crate::model::TopicMemory)): its birth embedding (anchor), a bottom-k
//!   sample of the embeddings of the documents it was born with, and one of those folded in later
//!   (half from the latest night). Every comparison uses the base as it was before this merge,
//!   so the result does not depend on day-topic order; `k` = `member_neighbors`, `o` =
//!   `min_member_overlap`.
//!   1. *Gate.* Candidates for a day topic are the active, non-outlier base topics whose
//!      embedding **and** anchor are at cosine `≥ min_similarity` to it, the best
//!      `MAX_CANDIDATES` (3) by cosine. None: the day topic is new.
//!   2. *Inside (forward votes).* Each day member looks at its `k` nearest rows among the
//!      candidates' members and the day topic's other members. The day topic is inside a
//!      candidate when that candidate gets at least `o` times the share it would get if the two
//!      were draws of one topic (`n_b / (n_b + n_d − 1)`). A neighbour intent, even at centroid
//!      cosine 0.8, keeps its neighbours to itself and is not inside: it becomes a new topic
//!      (BERTopic absorbs it).
//!   3. *Split.* Inside two candidates, the second with at least half the first's share: the
//!      day topic's members divide between two known topics (a day cluster that lumped two
//!      intents), so it is split rather than absorbed: each member goes to the nearer of the
//!      two topic embeddings, and each part (its share of the size, term and daily counts,
//!      rounded to add up; its members; the mean of its members as embedding) folds into its
//!      topic. The day topic gets no id of its own.
//!   4. *Continuation (backward votes).* The day topics inside a base topic are weighed by where
//!      the base topic's members look: the one getting the largest share of their neighbours
//!      leads; another joins it when the two are one topic (step 2 between them) or when it
//!      gets at least `TIE_SHARE` (0.7) of the lead's share (a base topic that mixes two intents
//!      in near-equal parts stays whole rather than being cut on a coin flip). The group folds
//!      when it covers the base topic: its share is at least `o` times what it would be as one
//!      topic with it. A day topic that is inside but not in the group, or a group that does not
//!      cover (the minority intent of a mixed topic, on a day when it comes alone), becomes a
//!      new topic, so the base topic keeps meaning what its majority meant.
//!   5. Base topics without members (models written before issue 24) and day topics without
//!      members are judged by the centroid rule below; a base topic without an anchor is
//!      anchored at its embedding by this merge and starts sampling.
//! - **Matching, centroid rule** ([`MergeRule::Centroid`]: BERTopic's rule, kept for the parity
//!   benchmark). Each active, non-outlier day topic is compared (cosine of topic embeddings)
//!   with every *active*, non-outlier base topic. The best base topic (ties: smaller id) is a
//!   match when the cosine is `≥ min_similarity`. Several day topics may fold into one base
//!   topic (as in BERTopic) when they are one topic with each other: when a day's clustering
//!   splits a known topic in two, both halves (cosine `≥ min_similarity` to each other) belong
//!   to the long-lived topic instead of creating a near-duplicate. A day topic below
//!   `min_similarity` to every day topic already folded into that base topic (best match first)
//!   is a different topic the base embedding is merely close to and becomes a new topic;
//!   BERTopic folds it.
//! - **Matched.** The base id, label and `first_seen` stay; sizes add; the embedding becomes the
//!   size-weighted mean of the base and day embeddings, re-normalised (member rule: then rotated
//!   back towards the anchor if its cosine to it fell below `anchor_similarity`); term counts
//!   add (the vocabularies are united and re-indexed); daily counts add per date; `last_seen`
//!   extends; samples are the day's newest first, then the older ones, at most `n_samples`.
//!   The later members become half tonight's members (bottom-k), half the earlier later members
//!   (bottom-k); birth members and the anchor never change. Each fold or split part adds a
//!   lineage entry (date, day topic id, documents, cosine, vote share).
//! - **New.** An unmatched day topic gets `next_topic_id` (then incremented), in ascending day-id
//!   order, and keeps its own label, keywords, samples, `first_seen` (= the day) and counts; it
//!   is anchored at its embedding, its sample becomes its birth members, and its lineage starts
//!   with a `Born` entry naming the day topic.
//! - **Outliers (`-1`).** Never matched and never a candidate; the day's outlier counts, term
//!   counts and samples accumulate into the base `-1` (created if the base has none). Its
//!   embedding is maintained but [`crate::transform`] ignores it by default.
//! - **Keywords.** After merging, the c-TF-IDF keywords of every active topic (`-1` included, as in
//!   BERTopic) are recomputed over the active classes' term counts ([`class_keywords`]), so a
//!   matched topic's keywords follow its documents. Labels do not change (ids and labels are what
//!   users see; re-labelling is the labeler's job).
//! - **Retention.** With `now` = the last day of the merged model: an active topic with
//!   `now − last_seen ≥ retire_after_days` is retired (kept, not matched, not served) and its
//!   term counts are dropped; daily counts older than `history_days` days are dropped; a retired
//!   topic whose `last_seen` is `history_days` or more in the past is removed (its id stays
//!   reserved forever by `next_topic_id`); lineage entries older than `history_days` are dropped
//!   (the `Born` entry stays) and a retired topic drops its member samples. Every topic keeps only its `max_terms_per_topic`
//!   most frequent term counts (ties: alphabetically first), so a topic seen every night — and
//!   the outlier topic — does not collect every order number, name and typo ever written. The
//!   vocabulary keeps only words still counted by some topic. So a model's size is bounded by
//!   the topics seen in the last `history_days` days, `max_terms_per_topic` terms, `2 ×
//!   n_members` member embeddings and about `history_days` lineage entries each.
//! - **First day** (`base = None`): the day model becomes the base with its ids unchanged (a fit
//!   numbers topics 0, 1, … by size), each topic born (anchor, birth members, `Born` entry);
//!   retention is applied.
//! - **Hand edits** (issue 30, [`crate::edits`]): hidden topics are matched like any other (their
//!   documents keep folding into them); a day topic that would be new but is near the anchor
//!   of a topic merged by hand into a base topic folds into that base topic; a split request is
//!   honoured when two or more day topics fold into the topic (see [`edits`](self::edits)).
//!   Aliases, flags and edit lineage entries are kept like the rest of a topic's memory.
//! - Both models must use the same embedding model name and dimension.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::ctfidf::class_keywords;
use crate::defined;
use crate::error::{EngineError, Result};
use crate::faq::{merge_faq, split_examples, TopicFaq};
use crate::model::{
    DailyCount, LineageEntry, LineageEvent, Topic, TopicModel, TopicStatus, OUTLIER_TOPIC,
};
use crate::params::{MergeParams, MergeRule};
use crate::simd::Isa;

pub(crate) use members::bottom_k;
use members::{expected_share, neighbour_shares};

/// Member rule: base topics compared with each day topic (the best by cosine past the gate).
const MAX_CANDIDATES: usize = 3;
/// Member rule: a day topic inside two base topics is split between them when the second gets
/// at least this fraction of the first's neighbour share.
const SPLIT_SHARE: f32 = 0.5;
/// Member rule: a day topic inside a base topic that is not one topic with the base topic's
/// best continuation still folds when it covers at least this fraction of what the best one
/// covers: a base topic that mixes two intents in near-equal parts is kept whole rather than
/// cut in two on what is a coin flip.
const TIE_SHARE: f32 = 0.7;

/// What [`merge`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MergeOutcome {
    /// The merged model.
    pub model: TopicModel,
    /// Ids given to day topics that matched nothing (ascending).
    pub new_topic_ids: Vec<i64>,
    /// `(day topic id, base topic id, cosine)` for every day topic folded into a base topic,
    /// and for every part of a split day topic, by day id.
    pub matched: Vec<(i64, i64, f32)>,
    /// Day topics whose members divided between two base topics and were split between them
    /// (ascending).
    pub split: Vec<i64>,
    /// Ids retired by this merge (ascending).
    pub retired: Vec<i64>,
}

/// Where one day topic goes.
#[derive(Debug, Clone)]
enum Fate {
    /// A topic of its own, with a new id.
    New,
    /// Folded whole into a base topic.
    Fold { base: i64, similarity: f32, share: Option<f32> },
    /// Divided between base topics.
    Split(Vec<Part>),
}

/// One base topic's share of a split day topic.
#[derive(Debug, Clone)]
struct Part {
    base: i64,
    similarity: f32,
    share: f32,
    /// The day topic's members nearest to this base topic.
    members: Vec<Vec<f32>>,
}

/// A day topic (or part of one) going into a base topic: the topic, its cosine to the base
/// topic, its vote share, and what the lineage calls it.
type Incoming = (Topic, f32, Option<f32>, LineageEvent);

/// An active, non-outlier base topic as the decision sees it (before this merge).
struct Candidate<'a> {
    id: i64,
    embedding: &'a [f32],
    /// The anchor, or the embedding for topics from before issue 24.
    anchor: &'a [f32],
    /// Birth and later members.
    sample: Vec<&'a [f32]>,
}

/// Merges `day` into `base` (see the module docs for the rules). Deterministic.
pub fn merge(
    base: Option<&TopicModel>,
    day: &TopicModel,
    params: &MergeParams,
) -> Result<MergeOutcome> {
    params.check()?;
    day.validate().map_err(|e| EngineError::input(format!("day model: {e}")))?;
    let _span = tracing::info_span!(
        "merge",
        base_topics = base.map(|b| b.topics.len()),
        day_topics = day.topics.len(),
        rule = ?params.rule
    )
    .entered();
    let Some(base) = base else {
        return first_day(day, params);
    };
    base.validate().map_err(|e| EngineError::input(format!("base model: {e}")))?;
    if base.dim != day.dim {
        return Err(EngineError::DimensionMismatch { expected: base.dim, got: day.dim });
    }
    if base.embedding_model != day.embedding_model {
        return Err(EngineError::input(format!(
            "the day model was fitted on embeddings of {:?} but the base model uses {:?}; \
             topics from different embedding models cannot be matched",
            day.embedding_model, base.embedding_model
        )));
    }

    // Union vocabulary, sorted (as scikit-learn's), with both models' term ids remapped.
    let (vocabulary, base_map, day_map) = unite_vocabularies(&base.vocabulary, &day.vocabulary);
    let remap = |tc: &[(u32, u32)], map: &[u32]| -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = tc.iter().map(|&(t, c)| (map[t as usize], c)).collect();
        v.sort_unstable_by_key(|p| p.0);
        v
    };

    let isa = Isa::detect();
    // Match against the base as it was before this merge.
    // Defined topics go by name, never by vote (crate::defined): not candidates, not voters.
    let defined_plan = defined::plan_merge(base, day);
    let candidates: Vec<Candidate<'_>> = base
        .active_topics()
        .filter(|t| !t.is_defined())
        .map(|t| Candidate {
            id: t.id,
            embedding: &t.embedding,
            anchor: t.memory.anchor.as_deref().unwrap_or(&t.embedding),
            sample: t.memory.all_members().map(Vec::as_slice).collect(),
        })
        .collect();
    let day_topics: Vec<&Topic> = day.active_topics().filter(|t| !t.is_defined()).collect();
    let mut fates = match params.rule {
        MergeRule::Centroid => centroid_rule(isa, &candidates, &day_topics, params),
        MergeRule::Members => member_rule(isa, &candidates, &day_topics, params),
    };
    // Hand edits (issue 30): aliases fold their topic's documents, split requests are honoured.
    let split_offs =
        edits::honour(isa, base, &candidates, &day_topics, &mut fates, params.min_similarity);
    let n_retired_day = day.topics.iter().filter(|t| !t.is_active() && !t.is_outlier()).count();
    if n_retired_day > 0 {
        tracing::debug!(n_retired_day, "retired topics of the day model are not merged");
    }

    // What goes into each base topic: (day topic, the part of it, cosine, vote share).
    let mut into: BTreeMap<i64, Vec<Incoming>> = BTreeMap::new();
    let mut matched = Vec::new();
    let mut split = Vec::new();
    let mut unmatched: Vec<&Topic> = Vec::new();
    for (d, fate) in day_topics.iter().zip(fates) {
        match fate {
            Fate::New => unmatched.push(d),
            Fate::Fold { base: b, similarity, share } => {
                matched.push((d.id, b, similarity));
                into.entry(b).or_default().push((
                    (*d).clone(),
                    similarity,
                    share,
                    LineageEvent::Folded,
                ));
            }
            Fate::Split(parts) => {
                split.push(d.id);
                for (part, p) in split_parts(d, &parts).into_iter().zip(&parts) {
                    matched.push((d.id, p.base, p.similarity));
                    into.entry(p.base).or_default().push((
                        part,
                        p.similarity,
                        Some(p.share),
                        LineageEvent::Split,
                    ));
                }
            }
        }
    }

    for &(d, b) in &defined_plan.fold {
        matched.push((d.id, b, 1.0));
        into.entry(b).or_default().push((d.clone(), 1.0, None, LineageEvent::Folded));
    }
    unmatched.extend(defined_plan.new.iter().copied());

    let n_members = day.fit_params.n_members;
    let n_samples = day.fit_params.n_samples;
    let day_date = day
        .date_range
        .map(|r| r.1)
        .or_else(|| day.topics.iter().map(|t| t.last_seen).max())
        .unwrap_or_default();
    // The topics a merged topic's FAQ examples are measured against (issue 29): the base's
    // active topics as they were and tonight's new ones; never the outliers.
    let faq_neighbours: Vec<(Option<i64>, &[f32])> = base
        .active_topics()
        .filter(|t| !t.is_outlier())
        .map(|t| (Some(t.id), t.embedding.as_slice()))
        .chain(unmatched.iter().map(|d| (None, d.embedding.as_slice())))
        .collect();
    let mut topics: Vec<Topic> = Vec::with_capacity(base.topics.len() + unmatched.len() + 1);
    for b in &base.topics {
        let mut t = b.clone();
        t.term_counts = remap(&b.term_counts, &base_map);
        defined::before_fold(&mut t, &defined_plan);
        if t.is_active() && !t.is_outlier() && t.memory.anchor.is_none() {
            // A topic from a model written before issue 24: anchored where it is now.
            t.memory.anchor = Some(t.embedding.clone());
        }
        if b.is_outlier() {
            if let Some(d) = day.outlier_topic() {
                fold_into(&mut t, d, &remap(&d.term_counts, &day_map), n_samples);
            }
        } else if let Some(parts) = into.get(&b.id) {
            remember_night(&mut t, parts.iter().map(|p| &p.0), n_members);
            for (d, similarity, share, event) in parts {
                fold_into(&mut t, d, &remap(&d.term_counts, &day_map), n_samples);
                t.memory.lineage.push(LineageEntry {
                    date: day_date,
                    event: *event,
                    day_topic: d.id,
                    documents: d.size,
                    similarity: *similarity,
                    vote_share: *share,
                    edit: None,
                });
            }
            if params.rule == MergeRule::Members && !t.is_defined() {
                keep_near_anchor(&mut t, params.anchor_similarity);
            }
            // The best of old and new examples, around the merged embedding (issue 29).
            let incoming: Vec<(&TopicFaq, u64)> =
                parts.iter().map(|p| (&p.0.faq, p.0.size)).collect();
            let others: Vec<&[f32]> = faq_neighbours
                .iter()
                .filter(|&&(id, _)| id != Some(b.id))
                .map(|&(_, e)| e)
                .collect();
            merge_faq(&mut t, &incoming, b.size, &others);
        }
        defined::touch(&mut t, &defined_plan);
        topics.push(t);
    }
    if base.outlier_topic().is_none() {
        if let Some(o) = day.outlier_topic() {
            let mut t = o.clone();
            t.term_counts = remap(&o.term_counts, &day_map);
            topics.insert(0, t);
        }
    }
    let mut next_topic_id = base.next_topic_id;
    let mut new_topic_ids = Vec::with_capacity(unmatched.len());
    unmatched.sort_by_key(|t| t.id);
    for d in unmatched {
        let mut t = d.clone();
        t.id = next_topic_id;
        t.term_counts = remap(&d.term_counts, &day_map);
        t.samples.truncate(n_samples);
        be_born(&mut t, d.id, day_date, n_members);
        new_topic_ids.push(next_topic_id);
        next_topic_id += 1;
        topics.push(t);
    }
    topics.sort_by_key(|t| t.id);
    edits::record_splits(isa, &mut topics, &split_offs, day_date);

    let date_range = match (base.date_range, day.date_range) {
        (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        (x, None) | (None, x) => x,
    };
    let mut model = TopicModel {
        embedding_model: base.embedding_model.clone(),
        dim: base.dim,
        fit_params: day.fit_params.clone(),
        merge_params: params.clone(),
        vocabulary,
        topics,
        next_topic_id,
        n_documents: base.n_documents.saturating_add(day.n_documents),
        date_range,
    };
    let mut retired = defined::retire_removed(&mut model, &defined_plan);
    retired.extend(apply_retention(&mut model, params));
    retired.sort_unstable();
    recompute_keywords(&mut model)?;
    model.validate()?;
    tracing::info!(
        matched = matched.len(),
        split = split.len(),
        new = new_topic_ids.len(),
        retired = retired.len(),
        topics = model.topics.len(),
        "merged"
    );
    Ok(MergeOutcome { model, new_topic_ids, matched, split, retired })
}

fn first_day(day: &TopicModel, params: &MergeParams) -> Result<MergeOutcome> {
    let mut model = day.clone();
    model.merge_params = params.clone();
    let max_id = model.topics.iter().map(|t| t.id).max().unwrap_or(OUTLIER_TOPIC);
    model.next_topic_id = model.next_topic_id.max(max_id + 1);
    let date = model
        .date_range
        .map(|r| r.1)
        .or_else(|| model.topics.iter().map(|t| t.last_seen).max())
        .unwrap_or_default();
    let n_members = model.fit_params.n_members;
    for t in model.topics.iter_mut().filter(|t| t.is_active() && !t.is_outlier()) {
        if t.memory.lineage.is_empty() {
            let id = t.id;
            be_born(t, id, date, n_members);
        }
    }
    let new_topic_ids = model.active_topics().map(|t| t.id).collect();
    let retired = apply_retention(&mut model, params);
    model.validate()?;
    Ok(MergeOutcome { model, new_topic_ids, matched: Vec::new(), split: Vec::new(), retired })
}

/// Gives a topic that just got its id (from day topic `day_topic`) its memory: anchored at its
/// embedding, its sample as birth members, a [`LineageEvent::Born`] entry.
fn be_born(t: &mut Topic, day_topic: i64, date: NaiveDate, n_members: usize) {
    let mem = &mut t.memory;
    let sample: Vec<&[f32]> = mem.all_members().map(Vec::as_slice).collect();
    mem.birth_members = bottom_k(sample, n_members);
    mem.members = Vec::new();
    mem.anchor = Some(t.embedding.clone());
    mem.lineage = vec![LineageEntry {
        date,
        event: LineageEvent::Born,
        day_topic,
        documents: t.size,
        similarity: 1.0,
        vote_share: None,
        edit: None,
    }];
}

/// Updates `t`'s later members with tonight's folded day topics (or parts): tonight's members
/// (bottom-k) take half of the sample, and the other half keeps the bottom-k of the earlier
/// later members (more of either when the other has fewer). So the later sample leans towards
/// what the topic has been lately (a topic whose wording drifts is still recognised), while the
/// birth members keep what it was when named.
fn remember_night<'a>(t: &mut Topic, tonight: impl Iterator<Item = &'a Topic>, n_members: usize) {
    let new_rows: Vec<&[f32]> =
        tonight.flat_map(|d| d.memory.all_members()).map(Vec::as_slice).collect();
    let new = bottom_k(new_rows, n_members);
    let keep = (n_members / 2).max(n_members.saturating_sub(new.len()));
    let old = bottom_k(t.memory.members.iter().map(Vec::as_slice), keep);
    let take = n_members.saturating_sub(old.len()).min(new.len());
    t.memory.members = new.into_iter().take(take).chain(old).collect();
}

/// Rotates `t`'s embedding towards its anchor until their cosine is at least `min_cos`.
fn keep_near_anchor(t: &mut Topic, min_cos: f32) {
    let Some(anchor) = &t.memory.anchor else { return };
    let c: f64 = t.embedding.iter().zip(anchor).map(|(&e, &a)| f64::from(e) * f64::from(a)).sum();
    if c >= f64::from(min_cos) {
        return;
    }
    // e = cos·a + sin·u, with u the unit direction of the embedding orthogonal to the anchor.
    let mut u: Vec<f64> =
        t.embedding.iter().zip(anchor).map(|(&e, &a)| f64::from(e) - c * f64::from(a)).collect();
    let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm <= 1e-12 {
        t.embedding = anchor.clone();
        return;
    }
    u.iter_mut().for_each(|v| *v /= norm);
    let cos = f64::from(min_cos);
    let sin = (1.0 - cos * cos).max(0.0).sqrt();
    let mut e: Vec<f64> =
        anchor.iter().zip(&u).map(|(&a, &v)| cos * f64::from(a) + sin * v).collect();
    let n = e.iter().map(|v| v * v).sum::<f64>().sqrt();
    if n > 0.0 {
        e.iter_mut().for_each(|v| *v /= n);
    }
    t.embedding = e.into_iter().map(|v| v as f32).collect();
}

/// The best candidate by cosine for each day topic: BERTopic's rule, with topicd's separation of
/// day topics that fold into one base topic without being one topic with each other.
fn centroid_rule(
    isa: Isa,
    candidates: &[Candidate<'_>],
    day_topics: &[&Topic],
    params: &MergeParams,
) -> Vec<Fate> {
    let mut fates = vec![Fate::New; day_topics.len()];
    // Day topics matched to each base topic: (index in day_topics, cosine).
    let mut folds: BTreeMap<i64, Vec<(usize, f32)>> = BTreeMap::new();
    for (i, d) in day_topics.iter().enumerate() {
        let mut best: Option<(i64, f32)> = None;
        for b in candidates {
            let s = isa.dot(&d.embedding, b.embedding);
            if best.is_none_or(|(_, bs)| s > bs) {
                best = Some((b.id, s));
            }
        }
        if let Some((bid, s)) = best.filter(|&(_, s)| s >= params.min_similarity) {
            folds.entry(bid).or_default().push((i, s));
        }
    }
    for (bid, parts) in folds {
        for (i, s) in keep_one_topic(isa, day_topics, parts, params.min_similarity) {
            fates[i] = Fate::Fold { base: bid, similarity: s, share: None };
        }
    }
    fates
}

/// Of the day topics matched to one base topic, those that are one topic with each other: taken
/// best match first (cosine to the base topic, then day id), a day topic below `min_similarity`
/// to every one already kept is a different topic that the base topic's embedding is merely
/// close to (a day-1 cluster that mixed two intents, a new intent next to an old one) and is
/// left out (it becomes a new topic).
fn keep_one_topic(
    isa: Isa,
    day_topics: &[&Topic],
    mut parts: Vec<(usize, f32)>,
    min_similarity: f32,
) -> Vec<(usize, f32)> {
    parts.sort_by(|(a, sa), (b, sb)| {
        sb.total_cmp(sa).then(day_topics[*a].id.cmp(&day_topics[*b].id))
    });
    let mut kept: Vec<(usize, f32)> = Vec::with_capacity(parts.len());
    for (i, s) in parts {
        let t = day_topics[i];
        if kept.is_empty()
            || kept
                .iter()
                .any(|&(k, _)| isa.dot(&day_topics[k].embedding, &t.embedding) >= min_similarity)
        {
            kept.push((i, s));
        }
    }
    kept
}

/// The member rule (module docs, "Matching").
fn member_rule(
    isa: Isa,
    candidates: &[Candidate<'_>],
    day_topics: &[&Topic],
    params: &MergeParams,
) -> Vec<Fate> {
    let k = params.member_neighbors;
    let overlap = params.min_member_overlap;
    let mut fates = vec![Fate::New; day_topics.len()];
    let samples: Vec<Vec<&[f32]>> =
        day_topics.iter().map(|d| d.memory.all_members().map(Vec::as_slice).collect()).collect();
    // Day topics provisionally folded into each base topic: (index, cosine, forward share).
    let mut inside_of: BTreeMap<usize, Vec<(usize, f32, Option<f32>)>> = BTreeMap::new();
    for (i, d) in day_topics.iter().enumerate() {
        // Gate: cosine to the topic's embedding and to its anchor; the best few by cosine.
        let mut gated: Vec<(usize, f32)> = candidates
            .iter()
            .enumerate()
            .filter_map(|(ci, c)| {
                let s = isa.dot(&d.embedding, c.embedding);
                let a = isa.dot(&d.embedding, c.anchor);
                (s >= params.min_similarity && a >= params.min_similarity).then_some((ci, s))
            })
            .collect();
        gated.sort_by(|a, b| b.1.total_cmp(&a.1).then(candidates[a.0].id.cmp(&candidates[b.0].id)));
        gated.truncate(MAX_CANDIDATES);
        let Some(&(best, best_cos)) = gated.first() else { continue };
        let sample = &samples[i];
        if sample.is_empty() || candidates[best].sample.is_empty() {
            // Nothing to vote with (a model from before issue 24): the centroid rule.
            inside_of.entry(best).or_default().push((i, best_cos, None));
            continue;
        }
        let voters: Vec<(usize, f32)> =
            gated.into_iter().filter(|&(ci, _)| !candidates[ci].sample.is_empty()).collect();
        let mut groups: Vec<&[&[f32]]> =
            voters.iter().map(|&(ci, _)| candidates[ci].sample.as_slice()).collect();
        groups.push(sample);
        let shares = neighbour_shares(isa, sample, &groups, Some(voters.len()), k);
        // Inside: the members' neighbours fall in the base topic at least `overlap` times as
        // often as if the two were one topic.
        let mut inside: Vec<(usize, f32, f32)> = voters
            .iter()
            .zip(&shares)
            .filter(|&(&(ci, _), &sh)| {
                sh >= overlap * expected_share(candidates[ci].sample.len(), sample.len())
            })
            .map(|(&(ci, s), &sh)| (ci, s, sh))
            .collect();
        inside
            .sort_by(|a, b| b.2.total_cmp(&a.2).then(candidates[a.0].id.cmp(&candidates[b.0].id)));
        tracing::debug!(
            day_topic = d.id,
            votes = ?voters
                .iter()
                .zip(&shares)
                .map(|(&(ci, s), &sh)| {
                    (candidates[ci].id, s, sh, expected_share(candidates[ci].sample.len(), sample.len()))
                })
                .collect::<Vec<_>>(),
            "forward votes (base, cosine, share, share if one topic)"
        );
        match inside.as_slice() {
            [] => {}
            [first, second, ..]
                if second.2 >= SPLIT_SHARE * first.2
                    && !one_topic(
                        isa,
                        &candidates[first.0].sample,
                        &candidates[second.0].sample,
                        k,
                        overlap,
                    ) =>
            {
                fates[i] = split_between(isa, d, [first, second], candidates);
            }
            [first, ..] => inside_of.entry(first.0).or_default().push((i, first.1, Some(first.2))),
        }
    }
    for (ci, ds) in inside_of {
        let c = &candidates[ci];
        let fold = |fates: &mut [Fate], (i, s, sh): (usize, f32, Option<f32>)| {
            fates[i] = Fate::Fold { base: c.id, similarity: s, share: sh };
        };
        if c.sample.is_empty() || ds.iter().any(|&(i, _, _)| samples[i].is_empty()) {
            let parts = ds.iter().map(|&(i, s, _)| (i, s)).collect();
            for (i, s) in keep_one_topic(isa, day_topics, parts, params.min_similarity) {
                let sh = ds.iter().find(|p| p.0 == i).and_then(|p| p.2);
                fold(&mut fates, (i, s, sh));
            }
            continue;
        }
        // Backward: where the base topic's members (birth and later) fall among these day
        // topics' members, against the share expected if they were one topic with it: a day
        // topic that is only a minority part of the base topic (the other intent of a mixed
        // day-1 cluster) covers only that part.
        let mut groups: Vec<&[&[f32]]> =
            ds.iter().map(|&(i, _, _)| samples[i].as_slice()).collect();
        groups.push(&c.sample);
        let cover = neighbour_shares(isa, &c.sample, &groups, Some(ds.len()), k);
        let lead = (0..ds.len())
            .min_by(|&a, &b| {
                cover[b]
                    .total_cmp(&cover[a])
                    .then(day_topics[ds[a].0].id.cmp(&day_topics[ds[b].0].id))
            })
            .unwrap_or(0);
        let lead_sample = samples[ds[lead].0].as_slice();
        let group: Vec<usize> = (0..ds.len())
            .filter(|&j| {
                if j == lead {
                    return true;
                }
                one_topic(isa, &samples[ds[j].0], lead_sample, k, overlap)
                    || cover[j] >= TIE_SHARE * cover[lead]
            })
            .collect();
        let n_group: usize = group.iter().map(|&j| samples[ds[j].0].len()).sum();
        let covered: f32 = group.iter().map(|&j| cover[j]).sum();
        let expected = expected_share(n_group, c.sample.len());
        tracing::debug!(
            base = c.id,
            day_topics = ?ds.iter().map(|p| day_topics[p.0].id).collect::<Vec<_>>(),
            cover = ?cover,
            lead = day_topics[ds[lead].0].id,
            group = ?group.iter().map(|&j| day_topics[ds[j].0].id).collect::<Vec<_>>(),
            covered,
            expected,
            "backward votes (base, day topics, shares, lead, group, group share, share if one topic)"
        );
        if covered >= overlap * expected {
            for j in group {
                fold(&mut fates, ds[j]);
            }
        }
    }
    fates
}

/// Whether the members `a` are inside the members `b` (step 2 of the member rule between two
/// samples): then two known topics are one topic sampled twice, and a day topic inside both is
/// folded into the one with more of its votes instead of being split between them.
fn one_topic(isa: Isa, a: &[&[f32]], b: &[&[f32]], k: usize, overlap: f32) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    neighbour_shares(isa, a, &[b, a], Some(1), k)[0] >= overlap * expected_share(b.len(), a.len())
}

/// Divides day topic `d` between two base topics, each member to the nearer topic embedding.
fn split_between(
    isa: Isa,
    d: &Topic,
    inside: [&(usize, f32, f32); 2],
    candidates: &[Candidate<'_>],
) -> Fate {
    let mut parts: Vec<Part> = inside
        .iter()
        .map(|&&(ci, s, sh)| Part {
            base: candidates[ci].id,
            similarity: s,
            share: sh,
            members: Vec::new(),
        })
        .collect();
    for m in d.memory.all_members() {
        let nearer = usize::from(
            isa.dot(m, candidates[inside[1].0].embedding)
                > isa.dot(m, candidates[inside[0].0].embedding),
        );
        parts[nearer].members.push(m.clone());
    }
    parts.retain(|p| !p.members.is_empty());
    parts.sort_by_key(|p| p.base);
    match parts.len() {
        2 => Fate::Split(parts),
        _ => {
            let p = &parts[0];
            Fate::Fold { base: p.base, similarity: p.similarity, share: Some(p.share) }
        }
    }
}

/// The parts of a split day topic as day topics of their own: the members of each part, its
/// embedding the mean of those members, and the day topic's size, term and daily counts divided
/// in proportion (rounded so that the parts add up exactly); the text samples go with the
/// larger part.
fn split_parts(d: &Topic, parts: &[Part]) -> Vec<Topic> {
    let n: usize = parts.iter().map(|p| p.members.len()).sum();
    let first_fraction = parts[0].members.len() as f64 / n.max(1) as f64;
    let divide = |c: u64| -> [u64; 2] {
        let a = ((c as f64) * first_fraction).round() as u64;
        [a.min(c), c - a.min(c)]
    };
    let larger = usize::from(parts[1].members.len() > parts[0].members.len());
    let embeddings: Vec<Vec<f32>> = parts
        .iter()
        .map(|p| {
            let mut e = vec![0f64; d.embedding.len()];
            for m in &p.members {
                e.iter_mut().zip(m).for_each(|(a, &v)| *a += f64::from(v));
            }
            let norm = e.iter().map(|v| v * v).sum::<f64>().sqrt();
            e.iter().map(|&v| if norm > 0.0 { (v / norm) as f32 } else { 0.0 }).collect()
        })
        .collect();
    let part_refs: Vec<&[f32]> = embeddings.iter().map(Vec::as_slice).collect();
    let mut faqs = split_examples(&d.faq, &part_refs).into_iter();
    (0..2)
        .map(|k| {
            let mut t = d.clone();
            let p = &parts[k];
            t.embedding = embeddings[k].clone();
            t.faq = faqs.next().unwrap_or_default();
            t.size = divide(d.size)[k];
            t.term_counts = d
                .term_counts
                .iter()
                .map(|&(w, c)| (w, divide(u64::from(c))[k] as u32))
                .filter(|&(_, c)| c > 0)
                .collect();
            t.daily_counts = d
                .daily_counts
                .iter()
                .map(|dc| DailyCount { date: dc.date, count: divide(dc.count)[k] })
                .filter(|dc| dc.count > 0)
                .collect();
            if k != larger {
                t.samples = Vec::new();
            }
            t.memory.birth_members = p.members.clone();
            t.memory.members = Vec::new();
            t
        })
        .collect()
}

/// Adds day topic `d` (whose term counts are already remapped to the merged vocabulary) into `t`.
fn fold_into(t: &mut Topic, d: &Topic, d_terms: &[(u32, u32)], n_samples: usize) {
    // Size-weighted mean of the two (unit) embeddings, re-normalised. Sizes of 0 (imported
    // topics without sizes) count as 1 so the embedding stays defined.
    let (wa, wb) = (t.size.max(1) as f64, d.size.max(1) as f64);
    let mut e: Vec<f64> = t
        .embedding
        .iter()
        .zip(&d.embedding)
        .map(|(&a, &b)| a as f64 * wa + b as f64 * wb)
        .collect();
    let norm = e.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        e.iter_mut().for_each(|v| *v /= norm);
    }
    t.embedding = e.into_iter().map(|v| v as f32).collect();
    t.size = t.size.saturating_add(d.size);
    t.term_counts = add_sparse(&t.term_counts, d_terms);
    t.daily_counts = add_daily(&t.daily_counts, &d.daily_counts);
    t.first_seen = t.first_seen.min(d.first_seen);
    t.last_seen = t.last_seen.max(d.last_seen);
    let mut samples: Vec<String> = Vec::with_capacity(n_samples);
    for s in d.samples.iter().chain(&t.samples) {
        if samples.len() >= n_samples {
            break;
        }
        if !samples.contains(s) {
            samples.push(s.clone());
        }
    }
    t.samples = samples;
}

/// Sum of two sparse count vectors sorted by index (counts saturate at `u32::MAX`).
pub(crate) fn add_sparse(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x.0 == y.0 => {
                out.push((x.0, x.1.saturating_add(y.1)));
                i += 1;
                j += 1;
            }
            (Some(&x), Some(&y)) if x.0 < y.0 => {
                out.push(x);
                i += 1;
            }
            (Some(_), Some(&y)) => {
                out.push(y);
                j += 1;
            }
            (Some(&x), None) => {
                out.push(x);
                i += 1;
            }
            (None, Some(&y)) => {
                out.push(y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

pub(crate) fn add_daily(a: &[DailyCount], b: &[DailyCount]) -> Vec<DailyCount> {
    let mut m: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for d in a.iter().chain(b) {
        let c = m.entry(d.date).or_default();
        *c = c.saturating_add(d.count);
    }
    m.into_iter().map(|(date, count)| DailyCount { date, count }).collect()
}

/// The sorted union of two vocabularies and, for each input, old index → new index.
fn unite_vocabularies(a: &[String], b: &[String]) -> (Vec<String>, Vec<u32>, Vec<u32>) {
    let words: BTreeSet<&str> = a.iter().chain(b).map(String::as_str).collect();
    let index: BTreeMap<&str, u32> =
        words.iter().enumerate().map(|(i, w)| (*w, i as u32)).collect();
    let map = |v: &[String]| v.iter().map(|w| index[w.as_str()]).collect::<Vec<u32>>();
    let (ma, mb) = (map(a), map(b));
    (words.into_iter().map(str::to_string).collect(), ma, mb)
}

/// Retires, trims and forgets (module docs, "Retention"); returns the newly retired ids.
fn apply_retention(model: &mut TopicModel, params: &MergeParams) -> Vec<i64> {
    let Some((_, now)) = model.date_range.or_else(|| {
        let last = model.topics.iter().map(|t| t.last_seen).max()?;
        Some((last, last))
    }) else {
        return Vec::new();
    };
    let mut retired = Vec::new();
    let history = i64::from(params.history_days);
    for t in &mut model.topics {
        let unseen = (now - t.last_seen).num_days();
        if t.is_active() && !t.is_outlier() && unseen >= i64::from(params.retire_after_days) {
            t.status = TopicStatus::Retired;
            t.term_counts = Vec::new();
            retired.push(t.id);
        }
        if !t.is_active() {
            // Never matched again: only the anchor and the lineage stay.
            t.memory.birth_members = Vec::new();
            t.memory.members = Vec::new();
        }
        t.daily_counts.retain(|d| (now - d.date).num_days() < history);
        t.memory
            .lineage
            .retain(|e| e.event == LineageEvent::Born || (now - e.date).num_days() < history);
    }
    model.topics.retain(|t| t.is_active() || (now - t.last_seen).num_days() < history);
    for t in &mut model.topics {
        keep_most_frequent_terms(&mut t.term_counts, params.max_terms_per_topic);
    }
    compact_vocabulary(model);
    retired
}

/// Keeps the `max` largest counts of a sparse count vector sorted by index (ties: the smaller
/// index, i.e. the alphabetically first word), still sorted by index.
fn keep_most_frequent_terms(counts: &mut Vec<(u32, u32)>, max: usize) {
    if counts.len() <= max {
        return;
    }
    let by_frequency = |a: &(u32, u32), b: &(u32, u32)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
    counts.select_nth_unstable_by(max, by_frequency);
    counts.truncate(max);
    counts.sort_unstable_by_key(|p| p.0);
}

/// Drops vocabulary words no topic counts any more, re-indexing the term counts.
fn compact_vocabulary(model: &mut TopicModel) {
    let mut used = vec![false; model.vocabulary.len()];
    for t in &model.topics {
        for &(w, _) in &t.term_counts {
            used[w as usize] = true;
        }
    }
    if used.iter().all(|&u| u) {
        return;
    }
    let mut map = vec![u32::MAX; used.len()];
    let mut vocabulary = Vec::with_capacity(used.iter().filter(|&&u| u).count());
    for (i, word) in std::mem::take(&mut model.vocabulary).into_iter().enumerate() {
        if used[i] {
            map[i] = vocabulary.len() as u32;
            vocabulary.push(word);
        }
    }
    model.vocabulary = vocabulary;
    for t in &mut model.topics {
        // Order-preserving map, so term counts stay sorted.
        t.term_counts.iter_mut().for_each(|p| p.0 = map[p.0 as usize]);
    }
}

/// Recomputes the keywords of every active topic that has term counts, with the engine's one
/// c-TF-IDF ([`class_keywords`]).
pub(crate) fn recompute_keywords(model: &mut TopicModel) -> Result<()> {
    let top_n = model.fit_params.top_n_words;
    let idx: Vec<usize> = (0..model.topics.len())
        .filter(|&i| model.topics[i].is_active() && !model.topics[i].term_counts.is_empty())
        .collect();
    if idx.is_empty() {
        return Ok(());
    }
    let classes: Vec<&[(u32, u32)]> =
        idx.iter().map(|&i| model.topics[i].term_counts.as_slice()).collect();
    let keywords = class_keywords(&classes, &model.vocabulary, top_n)?;
    for (i, kw) in idx.into_iter().zip(keywords) {
        model.topics[i].keywords = kw;
    }
    Ok(())
}

mod edits;
pub(crate) mod members;
#[cfg(test)]
mod tests;
