//! Hand edits of a model (issue 30): merge two topics, hide or show a topic, ask for a topic to
//! be split at the next merge. BERTopic's `merge_topics` is the reference for the merge; unlike
//! a notebook step, an edit is part of the model: merges keep it ([`TopicEdits`] lives in the
//! topic's memory) and every edit adds a lineage entry saying who made it and when.
//!
//! - **Merge `from` into `into`.** `from` disappears; its id becomes an alias of `into`
//!   ([`TopicModel::resolve`]), and so do its own aliases. Sizes, term counts and daily counts
//!   add, samples are `into`'s then `from`'s (at most `n_samples`), `first_seen`/`last_seen`
//!   span both. `into` keeps its id, labels, embedding, anchor, member samples and its own
//!   hidden/split flags: it keeps meaning what it meant (mixing `from`'s members into its sample
//!   would make the member rule see a mixed topic and give `into`'s own documents a new id the
//!   next night — measured on CLINC150 in `server/tests/integration/edits.rs`), and
//!   `from`'s anchor is kept with the alias ([`crate::model::TopicAlias`]): a later merge folds
//!   a day topic near it into `into` ([`crate::merge`]), and Transform answers `into` for a
//!   document nearest to it ([`crate::transform`]). c-TF-IDF keywords are recomputed over all active topics, as a merge
//!   does.
//! - **Hide / unhide.** A hidden topic stays in the model and in merges (so tomorrow's spam
//!   keeps folding into it instead of being born as a new, visible topic) but is absent from
//!   snapshots, rankings, the topic map, search and Transform: a document nearest to a hidden
//!   topic is an outlier (`-1`), never the next visible topic, so spam does not leak into a
//!   real topic ([`crate::transform`]).
//! - **Split.** Sets [`TopicEdits::split_requested`]; the next merge in which two or more day
//!   topics fold into the topic keeps the best one (highest cosine) in it and makes each other
//!   one a topic of its own, then clears the flag (see [`crate::merge`]). Until the documents
//!   divide so, the request stands. Cancelling withdraws it.
//!
//! Ids naming an alias act on the topic it answers as. Merging a topic with an alias of itself
//! changes nothing.

use chrono::NaiveDate;

use crate::error::EngineError;
use crate::merge::{add_daily, add_sparse, recompute_keywords};
use crate::model::{
    EditAuthor, LineageEntry, LineageEvent, Topic, TopicAlias, TopicModel, TopicStatus,
    OUTLIER_TOPIC,
};

/// One hand edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicEdit {
    /// Merge topic `from` into topic `into` (`from`'s id becomes an alias of `into`).
    Merge {
        /// The topic that stays.
        into: i64,
        /// The topic merged away.
        from: i64,
    },
    /// Hide a topic.
    Hide(i64),
    /// Show a hidden topic again.
    Unhide(i64),
    /// Split a topic at the next merge where its documents divide.
    Split(i64),
    /// Withdraw a split request.
    CancelSplit(i64),
}

impl TopicEdit {
    /// The topic ids the edit names.
    pub fn ids(&self) -> Vec<i64> {
        match *self {
            TopicEdit::Merge { into, from } => vec![into, from],
            TopicEdit::Hide(id)
            | TopicEdit::Unhide(id)
            | TopicEdit::Split(id)
            | TopicEdit::CancelSplit(id) => vec![id],
        }
    }
    /// A short name (`merge`, `hide`, `unhide`, `split`, `cancel_split`).
    pub fn name(&self) -> &'static str {
        match self {
            TopicEdit::Merge { .. } => "merge",
            TopicEdit::Hide(_) => "hide",
            TopicEdit::Unhide(_) => "unhide",
            TopicEdit::Split(_) => "split",
            TopicEdit::CancelSplit(_) => "cancel_split",
        }
    }
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The model has no topic and no alias with this id.
    #[error("the model has no topic {0}")]
    UnknownTopic(i64),
    /// `-1` (outliers) or `-2` (small talk) named.
    #[error("topic id {0} is not a topic (-1 = outliers, -2 = small talk); pass a topic id")]
    NotATopic(i64),
    /// Both ids of a merge are the same.
    #[error("cannot merge topic {0} with itself; pass two different topic ids")]
    SameTopic(i64),
    /// A retired topic named.
    #[error("topic {0} is retired; only active topics can be edited")]
    Retired(i64),
    /// The model is invalid after the edit (a bug).
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Edited {
    /// The edited model (equal to the input when nothing changed).
    pub model: TopicModel,
    /// Whether anything changed (hiding a hidden topic, merging an alias into its own topic...
    /// change nothing).
    pub changed: bool,
    /// The ids the edit named, as they resolved (aliases replaced by their topic).
    pub resolved: Vec<i64>,
}

/// Applies `edit` to `model`, recording it in the lineage as made by `author`. Deterministic.
pub fn apply(
    model: &TopicModel,
    edit: &TopicEdit,
    author: &EditAuthor,
) -> Result<Edited, EditError> {
    if let TopicEdit::Merge { into, from } = *edit {
        if into == from {
            return Err(EditError::SameTopic(into));
        }
    }
    let mut resolved = Vec::new();
    for id in edit.ids() {
        if id <= OUTLIER_TOPIC {
            return Err(EditError::NotATopic(id));
        }
        let r = model.resolve(id).ok_or(EditError::UnknownTopic(id))?;
        if model.topic(r).is_some_and(|t| t.status == TopicStatus::Retired) {
            return Err(EditError::Retired(r));
        }
        resolved.push(r);
    }
    let mut out = model.clone();
    let date = edit_date(model);
    let changed = match *edit {
        TopicEdit::Merge { .. } => {
            let (into, from) = (resolved[0], resolved[1]);
            if into == from {
                false
            } else {
                merge_topics(&mut out, into, from, date, author)?;
                true
            }
        }
        TopicEdit::Hide(_) | TopicEdit::Unhide(_) => {
            let hide = matches!(edit, TopicEdit::Hide(_));
            let event = if hide { LineageEvent::Hidden } else { LineageEvent::Unhidden };
            flag(&mut out, resolved[0], date, author, event, |t| &mut t.memory.edits.hidden, hide)
        }
        TopicEdit::Split(_) | TopicEdit::CancelSplit(_) => {
            let split = matches!(edit, TopicEdit::Split(_));
            let event =
                if split { LineageEvent::SplitRequested } else { LineageEvent::SplitCancelled };
            flag(
                &mut out,
                resolved[0],
                date,
                author,
                event,
                |t| &mut t.memory.edits.split_requested,
                split,
            )
        }
    };
    if changed {
        out.validate()?;
    }
    Ok(Edited { model: out, changed, resolved })
}

/// The date an edit's lineage entry carries: the model's last day (lineage is ordered by the
/// days of the data, not by wall-clock; [`EditAuthor::at`] has the wall-clock time).
fn edit_date(model: &TopicModel) -> NaiveDate {
    let last_lineage = model.topics.iter().filter_map(|t| t.memory.lineage.last().map(|e| e.date));
    model.date_range.map(|r| r.1).into_iter().chain(last_lineage).max().unwrap_or_default()
}

fn entry(
    date: NaiveDate,
    event: LineageEvent,
    topic: i64,
    documents: u64,
    similarity: f32,
    author: &EditAuthor,
) -> LineageEntry {
    LineageEntry {
        date,
        event,
        day_topic: topic,
        documents,
        similarity,
        vote_share: None,
        edit: Some(author.clone()),
    }
}

fn index_of(model: &TopicModel, id: i64) -> Result<usize, EditError> {
    model.topics.binary_search_by_key(&id, |t| t.id).map_err(|_| EditError::UnknownTopic(id))
}

/// Sets a flag of topic `id` to `value`; false when it already had it.
fn flag(
    model: &mut TopicModel,
    id: i64,
    date: NaiveDate,
    author: &EditAuthor,
    event: LineageEvent,
    field: impl Fn(&mut Topic) -> &mut bool,
    value: bool,
) -> bool {
    let Ok(i) = index_of(model, id) else { return false };
    let t = &mut model.topics[i];
    if *field(t) == value {
        return false;
    }
    *field(t) = value;
    let size = t.size;
    t.memory.lineage.push(entry(date, event, id, size, 1.0, author));
    true
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Folds topic `from` into topic `into` (module docs) and removes `from`.
fn merge_topics(
    model: &mut TopicModel,
    into: i64,
    from: i64,
    date: NaiveDate,
    author: &EditAuthor,
) -> Result<(), EditError> {
    let b = model.topics.remove(index_of(model, from)?);
    let n_samples = model.fit_params.n_samples;
    let i = index_of(model, into)?;
    let a = &mut model.topics[i];
    let similarity = dot(&a.embedding, &b.embedding);
    // `into` keeps meaning what it meant: its embedding and anchor stay. `from`'s anchor
    // becomes an alias row: merges fold day topics near it into `into`, Transform answers
    // `into` for documents nearest to it.
    let anchor_b = b.memory.anchor.clone().unwrap_or_else(|| b.embedding.clone());
    a.size = a.size.saturating_add(b.size);
    a.term_counts = add_sparse(&a.term_counts, &b.term_counts);
    a.daily_counts = add_daily(&a.daily_counts, &b.daily_counts);
    a.first_seen = a.first_seen.min(b.first_seen);
    a.last_seen = a.last_seen.max(b.last_seen);
    let mut samples = std::mem::take(&mut a.samples);
    for s in &b.samples {
        if !samples.contains(s) {
            samples.push(s.clone());
        }
    }
    samples.truncate(n_samples.max(1));
    a.samples = samples;
    let mut aliases = a.memory.edits.aliases.clone();
    aliases.push(TopicAlias { id: b.id, anchor: anchor_b });
    aliases.extend(b.memory.edits.aliases.iter().cloned());
    aliases.sort_by_key(|a| a.id);
    aliases.dedup_by_key(|a| a.id);
    a.memory.edits.aliases = aliases;
    a.memory.lineage.push(entry(date, LineageEvent::MergedIn, b.id, b.size, similarity, author));
    recompute_keywords(model)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io;
    use crate::merge::merge;
    use crate::params::MergeParams;
    use crate::testutil::{day, day_model, TopicSpec};
    use crate::transform::transform;
    use crate::{Matrix, TransformParams};
    use chrono::{TimeZone, Utc};

    fn e(i: usize) -> Vec<f32> {
        let mut v = vec![0.05f32; 6];
        v[i] = 1.0;
        v
    }

    fn day_with(n: i64, axes: &[usize]) -> TopicModel {
        let specs: Vec<TopicSpec<'_>> = axes
            .iter()
            .map(|&a| {
                let w: &'static str = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"][a];
                (e(a), vec![(w, 10), ("common", 5)], 10 + a as u64)
            })
            .collect();
        day_model(day(n), &specs, Some((vec![1.0; 6], vec![("noise", 3), ("common", 1)], 4)))
    }

    fn who() -> EditAuthor {
        EditAuthor {
            by: "ops-admin".into(),
            at: Utc.with_ymd_and_hms(2026, 12, 7, 21, 0, 0).unwrap(),
        }
    }

    fn base() -> TopicModel {
        merge(None, &day_with(0, &[0, 1, 2]), &MergeParams::default()).unwrap().model
    }

    #[test]
    fn merge_combines_and_the_id_answers_as_an_alias() {
        let m = base();
        let out = apply(&m, &TopicEdit::Merge { into: 0, from: 1 }, &who()).unwrap();
        assert!(out.changed);
        let ed = &out.model;
        assert!(ed.topic(1).is_none());
        assert_eq!(ed.resolve(1), Some(0));
        assert_eq!(ed.resolve(0), Some(0));
        assert_eq!(ed.resolve(7), None);
        let t0 = ed.topic(0).unwrap();
        assert_eq!(t0.size, m.topic(0).unwrap().size + m.topic(1).unwrap().size);
        assert_eq!(t0.memory.edits.aliases.iter().map(|a| a.id).collect::<Vec<_>>(), vec![1]);
        let last = t0.memory.lineage.last().unwrap();
        assert_eq!((last.event, last.day_topic), (LineageEvent::MergedIn, 1));
        assert_eq!(last.edit.as_ref().unwrap().by, "ops-admin");
        assert_eq!(ed.next_topic_id, m.next_topic_id);
        // Transform answers 0 for a document like topic 1.
        let docs = Matrix::from_rows(&[e(1)]).unwrap();
        assert_eq!(transform(ed, &docs, &TransformParams::default()).unwrap()[0].topic_id, 0);
        // The daily counts of the one day add up.
        assert_eq!(t0.daily_counts[0].count, t0.size);
        // The keywords of topic 0 now include topic 1's word.
        assert!(t0.keywords.iter().any(|k| k.word == "bravo"));
        // Merging again through the alias changes nothing.
        let again = apply(ed, &TopicEdit::Merge { into: 0, from: 1 }, &who()).unwrap();
        assert!(!again.changed);
        assert_eq!(&again.model, ed);
        // Saved and loaded: aliases and who/when survive.
        let files = io::to_files(ed).unwrap();
        assert_eq!(&io::from_files(&files.config_json, &files.tensors).unwrap(), ed);
    }

    #[test]
    fn bad_edits_are_refused() {
        let m = base();
        let w = who();
        assert!(matches!(
            apply(&m, &TopicEdit::Merge { into: 2, from: 2 }, &w).unwrap_err(),
            EditError::SameTopic(2)
        ));
        assert!(matches!(
            apply(&m, &TopicEdit::Merge { into: 2, from: 9 }, &w).unwrap_err(),
            EditError::UnknownTopic(9)
        ));
        assert!(matches!(
            apply(&m, &TopicEdit::Hide(-1), &w).unwrap_err(),
            EditError::NotATopic(-1)
        ));
        assert!(matches!(
            apply(&m, &TopicEdit::Merge { into: -1, from: 0 }, &w).unwrap_err(),
            EditError::NotATopic(-1)
        ));
    }

    #[test]
    fn a_hidden_topic_answers_outlier_in_transform_and_leaves_the_ranking() {
        let m = base();
        let out = apply(&m, &TopicEdit::Hide(1), &who()).unwrap();
        assert!(out.changed);
        let h = out.model;
        assert!(h.top_topics(10).iter().all(|t| t.id != 1));
        assert_eq!(h.top_topics(10).len(), 2);
        let docs = Matrix::from_rows(&[e(0), e(1)]).unwrap();
        let tags = transform(&h, &docs, &TransformParams::default()).unwrap();
        assert_eq!(tags[0].topic_id, 0);
        assert_eq!(tags[1].topic_id, OUTLIER_TOPIC);
        // Hiding twice changes nothing; unhiding shows it again.
        assert!(!apply(&h, &TopicEdit::Hide(1), &who()).unwrap().changed);
        let shown = apply(&h, &TopicEdit::Unhide(1), &who()).unwrap().model;
        let tags = transform(&shown, &docs, &TransformParams::default()).unwrap();
        assert_eq!(tags[1].topic_id, 1);
        let events: Vec<_> =
            shown.topic(1).unwrap().memory.lineage.iter().map(|e| e.event).collect();
        assert_eq!(events, vec![LineageEvent::Born, LineageEvent::Hidden, LineageEvent::Unhidden]);
    }

    #[test]
    fn edits_survive_the_next_merge() {
        let m = base();
        let m = apply(&m, &TopicEdit::Merge { into: 0, from: 1 }, &who()).unwrap().model;
        let m = apply(&m, &TopicEdit::Hide(2), &who()).unwrap().model;
        // Tomorrow all three topics come back.
        let out = merge(Some(&m), &day_with(1, &[0, 1, 2]), &MergeParams::default()).unwrap();
        let n = out.model;
        assert!(out.new_topic_ids.is_empty(), "new topics {:?}", out.new_topic_ids);
        assert!(n.topic(1).is_none());
        assert_eq!(n.resolve(1), Some(0));
        assert!(n.topic(2).unwrap().is_hidden());
        assert_eq!(n.top_topics(10).iter().map(|t| t.id).collect::<Vec<_>>(), vec![0]);
        // Both day topics 0 and 1 folded into topic 0.
        assert!(out.matched.iter().any(|m| m.0 == 1 && m.1 == 0));
        let files = io::to_files(&n).unwrap();
        assert_eq!(io::from_files(&files.config_json, &files.tensors).unwrap(), n);
    }
}
