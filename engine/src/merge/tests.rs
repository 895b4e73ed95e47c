use super::*;
use crate::io;
use crate::merge::members::quantize;
use crate::model::TopicMemory;
use crate::params::MergeRule;
use crate::testutil::{day, day_model, random_model, unit, TopicSpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn e(i: usize) -> Vec<f32> {
    let mut v = vec![0.05f32; 6];
    v[i] = 1.0;
    v
}

/// Day `n` with topics on axes `axes` (word `w{axis}` dominant in each).
fn day_with(n: i64, axes: &[usize]) -> TopicModel {
    let specs: Vec<TopicSpec<'_>> = axes
        .iter()
        .map(|&a| {
            let w: &'static str = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"][a];
            (e(a), vec![(w, 10), ("common", 5)], 10)
        })
        .collect();
    day_model(day(n), &specs, Some((vec![1.0; 6], vec![("noise", 3), ("common", 1)], 4)))
}

fn p() -> MergeParams {
    MergeParams::default()
}

#[test]
fn first_day_becomes_the_base_unchanged() {
    let d = day_with(0, &[0, 1, 2]);
    let out = merge(None, &d, &p()).unwrap();
    let forget = |ts: &[Topic]| -> Vec<Topic> {
        ts.iter().cloned().map(|t| Topic { memory: TopicMemory::default(), ..t }).collect()
    };
    assert_eq!(forget(&out.model.topics), forget(&d.topics));
    // Every topic is born: anchored at its embedding, one lineage entry.
    for t in out.model.active_topics() {
        assert_eq!(t.memory.anchor.as_ref(), Some(&t.embedding));
        assert_eq!(t.memory.lineage.len(), 1);
        assert_eq!(t.memory.lineage[0].event, LineageEvent::Born);
        assert_eq!((t.memory.lineage[0].date, t.memory.lineage[0].day_topic), (day(0), t.id));
    }
    assert_eq!(out.model.outlier_topic().unwrap().memory, TopicMemory::default());
    assert_eq!(out.new_topic_ids, vec![0, 1, 2]);
    assert!(out.matched.is_empty() && out.retired.is_empty());
    assert_eq!(out.model.next_topic_id, 3);
}

#[test]
fn merging_a_model_with_itself_keeps_every_topic() {
    let d = day_with(0, &[0, 1, 2]);
    let base = merge(None, &d, &p()).unwrap().model;
    let out = merge(Some(&base), &d, &p()).unwrap();
    assert!(out.new_topic_ids.is_empty());
    assert_eq!(
        out.matched.iter().map(|m| (m.0, m.1)).collect::<Vec<_>>(),
        vec![(0, 0), (1, 1), (2, 2)]
    );
    let m = &out.model;
    assert_eq!(m.topics.len(), base.topics.len());
    for (a, b) in m.topics.iter().zip(&base.topics) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.label, b.label);
        assert_eq!(a.size, 2 * b.size);
        for (x, y) in a.embedding.iter().zip(&b.embedding) {
            assert!((x - y).abs() < 1e-6);
        }
        assert_eq!(
            a.term_counts,
            b.term_counts.iter().map(|&(t, c)| (t, 2 * c)).collect::<Vec<_>>()
        );
    }
    assert_eq!(m.vocabulary, base.vocabulary);
    assert_eq!(m.next_topic_id, base.next_topic_id);
}

#[test]
fn ids_are_stable_and_never_reused_over_many_merges() {
    let params = MergeParams { retire_after_days: 3, history_days: 5, ..p() };
    let mut model = merge(None, &day_with(0, &[0, 1]), &params).unwrap().model;
    assert_eq!(model.topic(0).unwrap().label, "0_alpha");
    // axis 2 appears on day 1, axis 1 disappears after day 1, axis 3 on day 5 only.
    let schedule: [&[usize]; 9] =
        [&[0, 1, 2], &[0, 2], &[2, 0], &[0], &[0, 3], &[0], &[0, 1], &[0], &[0]];
    let mut given: BTreeSet<i64> = [0, 1].into();
    for (k, axes) in schedule.iter().enumerate() {
        let out = merge(Some(&model), &day_with(k as i64 + 1, axes), &params).unwrap();
        for id in &out.new_topic_ids {
            assert!(given.insert(*id), "id {id} reused");
        }
        // Axis 0 is always the same topic 0 with the same label.
        assert_eq!(out.model.topic(0).unwrap().label, "0_alpha");
        assert!(out.model.next_topic_id > *given.iter().max().unwrap());
        model = out.model;
    }
    // Axis 1 came back on day 7 after retiring on day 5 (last seen day 1): it gets a new id.
    let axis1: Vec<&Topic> = model.active_topics().filter(|t| t.label.ends_with("bravo")).collect();
    assert_eq!(axis1.len(), 1);
    assert!(axis1[0].id > 1);
    assert_eq!(axis1[0].first_seen, day(7));
}

#[test]
fn matched_counts_add_and_keywords_follow_the_documents() {
    let base = merge(None, &day_with(0, &[0, 1]), &p()).unwrap().model;
    let kw0: Vec<String> = base.topic(0).unwrap().keywords.iter().map(|k| k.word.clone()).collect();
    // Same topic 0, but today its documents talk about "refund" a lot.
    let today = day_model(
        day(1),
        &[(e(0), vec![("alpha", 2), ("refund", 40)], 30), (e(1), vec![("bravo", 10)], 5)],
        None,
    );
    let out = merge(Some(&base), &today, &p()).unwrap();
    let t0 = out.model.topic(0).unwrap();
    assert_eq!(t0.size, 10 + 30);
    assert_eq!(t0.label, "0_alpha");
    assert_eq!(t0.first_seen, day(0));
    assert_eq!(t0.last_seen, day(1));
    assert_eq!(
        t0.daily_counts,
        vec![DailyCount { date: day(0), count: 10 }, DailyCount { date: day(1), count: 30 }]
    );
    let kw: Vec<&str> = t0.keywords.iter().map(|k| k.word.as_str()).collect();
    assert_eq!(kw[0], "refund", "keywords {kw:?} (before: {kw0:?})");
    let refund = out.model.vocabulary.iter().position(|w| w == "refund").unwrap() as u32;
    assert!(t0.term_counts.contains(&(refund, 40)));
    assert_eq!(
        t0.samples,
        vec!["doc of 0 on 2024-01-02".to_string(), "doc of 0 on 2024-01-01".to_string()]
    );
    // The outlier topic of the base was kept, the day had none.
    assert_eq!(out.model.outlier_topic().unwrap().size, 4);
    assert_eq!(out.model.n_documents, base.n_documents + 35);
}

#[test]
fn weighted_embedding_mean_is_renormalised() {
    let base =
        merge(None, &day_model(day(0), &[(vec![1.0, 0.0, 0.0], vec![("a", 1)], 30)], None), &p())
            .unwrap()
            .model;
    let d = day_model(day(1), &[(vec![0.8, 0.6, 0.0], vec![("a", 1)], 10)], None);
    let t = merge(Some(&base), &d, &p()).unwrap().model.topics[0].clone();
    let raw = [30.0 + 8.0, 6.0, 0.0f32];
    let n = (raw[0] * raw[0] + raw[1] * raw[1]).sqrt();
    assert!(
        (t.embedding[0] - raw[0] / n).abs() < 1e-6 && (t.embedding[1] - raw[1] / n).abs() < 1e-6
    );
}

#[test]
fn several_day_topics_may_fold_into_one_and_outliers_never_match() {
    let base = merge(None, &day_with(0, &[0, 1]), &p()).unwrap().model;
    // Two halves of topic 0, a topic that points at the outlier centroid (all ones).
    let mut half = e(0);
    half[5] = 0.3;
    let today = day_model(
        day(1),
        &[
            (e(0), vec![("alpha", 5)], 5),
            (half, vec![("alpha", 5)], 5),
            (vec![1.0; 6], vec![("x", 5)], 5),
        ],
        Some((vec![1.0; 6], vec![("noise", 2)], 7)),
    );
    let out = merge(Some(&base), &today, &p()).unwrap();
    assert_eq!(out.matched.iter().map(|m| (m.0, m.1)).collect::<Vec<_>>(), vec![(0, 0), (1, 0)]);
    assert_eq!(out.new_topic_ids, vec![2]);
    let o = out.model.outlier_topic().unwrap();
    assert_eq!(o.size, 4 + 7);
    assert_eq!(out.model.topic(0).unwrap().size, 20);
}

#[test]
fn a_distinct_day_topic_near_the_same_base_topic_becomes_new() {
    let base = merge(None, &day_with(0, &[0, 1]), &p()).unwrap().model;
    // Both lean towards topic 0 (cosines 0.85 and 0.81) but not towards each other (0.69): the
    // better match folds, the other is a different topic and gets a new id.
    let mut a = e(0);
    a[2] = 0.7;
    let mut b = e(0);
    b[3] = 0.8;
    let today =
        day_model(day(1), &[(b, vec![("delta", 5)], 5), (a, vec![("charlie", 5)], 5)], None);
    let out = merge(Some(&base), &today, &p()).unwrap();
    assert_eq!(out.matched.iter().map(|m| (m.0, m.1)).collect::<Vec<_>>(), vec![(1, 0)]);
    assert_eq!(out.new_topic_ids, vec![2]);
    assert_eq!(out.model.topic(0).unwrap().size, 15);
    assert_eq!(out.model.topic(2).unwrap().size, 5);
    assert_eq!(out.model.topic(2).unwrap().first_seen, day(1));
}

#[test]
fn retirement_after_thirty_days_and_daily_window() {
    let params = p(); // retire 30, history 90
    let mut model = merge(None, &day_with(0, &[0, 1]), &params).unwrap().model;
    let mut retired_at = None;
    for n in 1..=130 {
        let out = merge(Some(&model), &day_with(n, &[0]), &params).unwrap();
        if out.retired.contains(&1) {
            retired_at = Some(n);
        }
        model = out.model;
        let t0 = model.topic(0).unwrap();
        assert!(t0.daily_counts.len() <= 90);
        assert!(t0.daily_counts.iter().all(|d| (day(n) - d.date).num_days() < 90));
    }
    assert_eq!(retired_at, Some(30));
    // Forgotten after 90 days; id 1 is still never reused.
    assert!(model.topic(1).is_none());
    assert_eq!(model.topic(0).unwrap().daily_counts.len(), 90);
    assert!(model.next_topic_id >= 2);
    // The vocabulary no longer holds words only topic 1 used.
    assert!(!model.vocabulary.iter().any(|w| w == "bravo"));
}

#[test]
fn a_topic_seen_every_night_keeps_only_its_most_frequent_terms() {
    // Every night topic 0 and the outlier topic bring their usual words and one new order
    // number each; without a cap their term counts would grow by one word a night forever.
    let params = MergeParams { max_terms_per_topic: 4, ..p() };
    let night = |n: i64| {
        let (order, oid) = (format!("order{n:03}"), format!("oid{n:03}"));
        let t0 = vec![("alpha", 10), ("common", 5), ("refund", 2), (order.as_str(), 1)];
        let outlier = vec![("noise", 3), (oid.as_str(), 1)];
        day_model(day(n), &[(e(0), t0, 10)], Some((vec![1.0; 6], outlier, 4)))
    };
    let mut model = merge(None, &night(0), &params).unwrap().model;
    for n in 1..=20 {
        model = merge(Some(&model), &night(n), &params).unwrap().model;
        for t in &model.topics {
            assert!(t.term_counts.len() <= 4, "topic {} keeps {}", t.id, t.term_counts.len());
            assert!(t.term_counts.windows(2).all(|w| w[0].0 < w[1].0), "sorted by index");
        }
    }
    let word = |i: u32| model.vocabulary[i as usize].as_str();
    let t0: Vec<(&str, u32)> =
        model.topic(0).unwrap().term_counts.iter().map(|&(i, c)| (word(i), c)).collect();
    // The three frequent words and, of the order numbers (count 1 each), the alphabetically
    // first still kept.
    assert_eq!(t0, vec![("alpha", 210), ("common", 105), ("order000", 1), ("refund", 42)]);
    let outlier: Vec<&str> =
        model.outlier_topic().unwrap().term_counts.iter().map(|&(i, _)| word(i)).collect();
    assert_eq!(outlier, vec!["noise", "oid000", "oid001", "oid002"]);
    // The vocabulary holds only what some topic still counts.
    assert_eq!(model.vocabulary.len(), 8);
    assert_eq!(model.topic(0).unwrap().keywords[0].word, "alpha");
}

#[test]
fn keep_most_frequent_terms_breaks_ties_by_index() {
    let counts = vec![(0, 1), (1, 5), (2, 1), (3, 5), (4, 2)];
    let kept = |max: usize| {
        let mut c = counts.clone();
        keep_most_frequent_terms(&mut c, max);
        c
    };
    assert_eq!(kept(2), vec![(1, 5), (3, 5)]);
    assert_eq!(kept(3), vec![(1, 5), (3, 5), (4, 2)]);
    assert_eq!(kept(4), vec![(0, 1), (1, 5), (3, 5), (4, 2)]);
    assert_eq!(kept(9), counts);
}

#[test]
fn retired_topics_are_not_matched_nor_served() {
    let params = MergeParams { retire_after_days: 2, ..p() };
    let mut model = merge(None, &day_with(0, &[0, 1]), &params).unwrap().model;
    for n in 1..=2 {
        model = merge(Some(&model), &day_with(n, &[0]), &params).unwrap().model;
    }
    assert_eq!(model.topic(1).unwrap().status, TopicStatus::Retired);
    assert!(model.topic(1).unwrap().term_counts.is_empty());
    let a = crate::transform::transform_one(&model, &e(1), &Default::default()).unwrap();
    assert_ne!(a.topic_id, 1);
    let out = merge(Some(&model), &day_with(3, &[1]), &params).unwrap();
    assert_eq!(out.new_topic_ids, vec![2]);
    assert_eq!(out.model.topic(1).unwrap().status, TopicStatus::Retired);
    assert!(out.model.top_topics(10).iter().all(|t| t.id != 1));
}

fn base_active(base: &TopicModel, i: usize) {
    assert!(base.topics[i].is_active(), "random_model retires id 3 only");
}

#[test]
fn merge_is_deterministic() {
    let base = random_model(5, 20, 12);
    let mut d = random_model(6, 15, 12);
    d.date_range = Some((day(8), day(8)));
    for t in &mut d.topics {
        t.status = TopicStatus::Active;
        t.first_seen = day(8);
        t.last_seen = day(8);
        t.daily_counts = vec![DailyCount { date: day(8), count: t.size }];
    }
    // Five day topics repeat base topics, the rest are random directions in 12-d.
    for (k, b) in [(1, 1), (2, 2), (3, 6), (4, 7), (5, 8)] {
        d.topics[k].embedding = base.topics[b].embedding.clone();
        base_active(&base, b);
    }
    let params = p();
    let a = merge(Some(&base), &d, &params).unwrap();
    let b = merge(Some(&base), &d, &params).unwrap();
    assert_eq!(a, b);
    assert!(!a.matched.is_empty() && !a.new_topic_ids.is_empty());
    assert_eq!(io::to_files(&a.model).unwrap(), io::to_files(&b.model).unwrap());
}

#[test]
fn mismatched_embedding_models_are_rejected() {
    let base = merge(None, &day_with(0, &[0]), &p()).unwrap().model;
    let mut d = day_with(1, &[0]);
    d.embedding_model = "other".into();
    assert!(
        matches!(merge(Some(&base), &d, &p()), Err(EngineError::InvalidInput(m)) if m.contains("other"))
    );
    let d3 = day_model(day(1), &[(vec![1.0, 0.0, 0.0], vec![("a", 1)], 3)], None);
    assert!(matches!(
        merge(Some(&base), &d3, &p()),
        Err(EngineError::DimensionMismatch { expected: 6, got: 3 })
    ));
    let bad = MergeParams { min_similarity: f32::NAN, ..p() };
    assert!(matches!(merge(Some(&base), &d, &bad), Err(EngineError::InvalidParam { .. })));
}

/// An operator's label stays on its topic through merges (matched or not), is saved with the
/// model, and a new topic never inherits one.
#[test]
fn label_overrides_survive_merges_and_files() {
    let mut base = merge(None, &day_with(0, &[0, 1, 2]), &p()).unwrap().model;
    assert!(base.set_label_override(1, Some("  Card problems ")).unwrap());
    assert!(!base.set_label_override(1, Some("Card problems")).unwrap(), "no change");
    let generated = base.topic(1).unwrap().label.clone();
    assert_eq!(base.label_of(1), Some("Card problems"));
    // Day 1 matches topics 0 and 1 and brings a new one on axis 3.
    let out = merge(Some(&base), &day_with(1, &[0, 1, 3]), &p()).unwrap();
    let m = &out.model;
    assert_eq!(out.new_topic_ids, vec![3]);
    let t1 = m.topic(1).unwrap();
    assert_eq!(t1.label_override.as_deref(), Some("Card problems"));
    assert_eq!(t1.display_label(), "Card problems");
    assert_eq!(t1.label, generated, "the generated label is kept underneath");
    assert!(m.topics.iter().filter(|t| t.id != 1).all(|t| t.label_override.is_none()));
    // Unmatched today (topic 2 is not in day 2) keeps it too, as does the file round trip.
    let mut m2 = merge(Some(m), &day_with(2, &[0]), &p()).unwrap().model;
    assert!(m2.set_label_override(2, Some("Weather")).unwrap());
    let files = io::to_files(&m2).unwrap();
    let back = io::from_files(&files.config_json, &files.tensors).unwrap();
    assert_eq!(back, m2);
    assert_eq!(back.label_of(1), Some("Card problems"));
    assert_eq!(back.label_of(2), Some("Weather"));
    // Clearing restores the generated label.
    assert!(m2.set_label_override(1, Some("")).unwrap());
    assert_eq!(m2.label_of(1), Some(generated.as_str()));
    assert!(m2.set_label_override(1, None).is_ok_and(|changed| !changed));
}

#[test]
fn label_override_rules() {
    let mut m = merge(None, &day_with(0, &[0, 1]), &p()).unwrap().model;
    assert!(m.set_label_override(99, Some("x")).unwrap_err().to_string().contains("no topic 99"));
    assert!(m.set_label_override(-1, Some("x")).is_err());
    assert!(m
        .set_label_override(0, Some("two\nlines"))
        .unwrap_err()
        .to_string()
        .contains("control"));
    assert!(m
        .set_label_override(0, Some(&"é".repeat(201)))
        .unwrap_err()
        .to_string()
        .contains("201"));
    assert!(m.set_label_override(0, Some(&"é".repeat(200))).unwrap());
    // A file holding an invalid override is refused on load.
    m.topics[1].label_override = Some(" padded ".into());
    assert!(m.validate().unwrap_err().to_string().contains("label override"));
    m.topics[1].label_override = Some(String::new());
    assert!(m.validate().is_err());
}

// ---- The member rule (issue 24) on hand-built topics ----

/// `n` unit vectors around the unit vector `center`, each at cosine `cos` to it in a random
/// direction (what a topic's documents look like: intents in all-MiniLM-L6-v2 have member to
/// centroid cosines of about 0.6-0.8), rounded as member samples are.
fn cloud(center: &[f32], n: usize, cos: f32, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let g: Vec<f32> = (0..center.len()).map(|_| StandardNormal.sample(&mut rng)).collect();
            let along: f32 = g.iter().zip(center).map(|(a, b)| a * b).sum();
            let u = unit(g.iter().zip(center).map(|(a, b)| a - along * b).collect());
            let sin = (1.0 - cos * cos).sqrt();
            quantize(&unit(center.iter().zip(&u).map(|(c, v)| cos * c + sin * v).collect()))
        })
        .collect()
}

fn axis(dim: usize, i: usize) -> Vec<f32> {
    let mut v = vec![0.0; dim];
    v[i] = 1.0;
    v
}

/// `a·cos(θ) + b·sin(θ)` for unit, orthogonal `a` and `b`.
fn towards(a: &[f32], b: &[f32], theta: f32) -> Vec<f32> {
    unit(a.iter().zip(b).map(|(x, y)| x * theta.cos() + y * theta.sin()).collect())
}

/// A day model whose topic `i` has `members[i]` as members (the topic embedding is their mean,
/// as a fit makes it) and `size` documents.
fn day_of(n: i64, members: Vec<Vec<Vec<f32>>>, size: u64) -> TopicModel {
    let specs: Vec<TopicSpec<'_>> = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let dim = m[0].len();
            let mean: Vec<f32> = (0..dim).map(|j| m.iter().map(|r| r[j]).sum::<f32>()).collect();
            let w: &'static str = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"][i % 6];
            (mean, vec![(w, 10), ("common", 5)], size)
        })
        .collect();
    let mut d = day_model(day(n), &specs, None);
    for (t, m) in d.topics.iter_mut().zip(members) {
        t.memory = TopicMemory {
            anchor: Some(t.embedding.clone()),
            birth_members: m,
            ..TopicMemory::default()
        };
    }
    d
}

fn ids_of(out: &MergeOutcome) -> Vec<(i64, i64)> {
    out.matched.iter().map(|m| (m.0, m.1)).collect()
}

#[test]
fn a_neighbour_intent_at_cosine_0_8_is_not_absorbed() {
    let dim = 32;
    let (a, b) = (axis(dim, 0), towards(&axis(dim, 0), &axis(dim, 1), 0.8f32.acos()));
    let base = merge(None, &day_of(0, vec![cloud(&a, 16, 0.8, 1)], 40), &p()).unwrap().model;
    // Today: the known intent again, and a new intent whose centroid is at cosine 0.8 to it.
    let today = day_of(1, vec![cloud(&a, 16, 0.8, 2), cloud(&b, 16, 0.8, 3)], 40);
    let cos = today.topics[1].embedding.iter().zip(&base.topics[0].embedding);
    let cos: f32 = cos.map(|(x, y)| x * y).sum();
    assert!((0.75..0.85).contains(&cos), "the neighbour is at cosine {cos}");
    let out = merge(Some(&base), &today, &p()).unwrap();
    assert_eq!(ids_of(&out), vec![(0, 0)]);
    assert_eq!(out.new_topic_ids, vec![1]);
    assert_eq!(out.model.topic(0).unwrap().size, 80);
    assert_eq!(out.model.topic(1).unwrap().size, 40);
    // BERTopic's rule (cosine ≥ 0.7) absorbs it: topic 0 now means both intents.
    let centroid = MergeParams { rule: MergeRule::Centroid, ..p() };
    let out = merge(Some(&base), &today, &centroid).unwrap();
    assert_eq!(ids_of(&out), vec![(0, 0), (1, 0)]);
    assert!(out.new_topic_ids.is_empty());
}

#[test]
fn a_topic_whose_wording_drifts_keeps_its_id() {
    let dim = 32;
    let (a, b, other) = (axis(dim, 0), axis(dim, 1), axis(dim, 5));
    // Day n's documents about topic 0 lean 2.5 degrees a day further from where it started
    // (35 degrees after 14 days: cosine 0.82 to the first day); topic 1 stays put.
    let day_n = |n: i64| {
        let center = towards(&a, &b, (2.5 * n as f32).to_radians());
        day_of(
            n,
            vec![cloud(&center, 16, 0.75, 10 + n as u64), cloud(&other, 16, 0.75, 50 + n as u64)],
            30,
        )
    };
    let mut model = merge(None, &day_n(0), &p()).unwrap().model;
    for n in 1..=14 {
        let out = merge(Some(&model), &day_n(n), &p()).unwrap();
        assert_eq!(ids_of(&out), vec![(0, 0), (1, 1)], "day {n}");
        assert!(out.new_topic_ids.is_empty(), "day {n}");
        model = out.model;
    }
    let t0 = model.topic(0).unwrap();
    assert_eq!(t0.size, 15 * 30);
    // Its embedding followed the documents, but no further than 0.9 from its anchor.
    let anchor = t0.memory.anchor.as_ref().unwrap();
    let to_anchor: f32 = t0.embedding.iter().zip(anchor).map(|(x, y)| x * y).sum();
    let now = towards(&a, &b, 35f32.to_radians());
    let to_now: f32 = t0.embedding.iter().zip(&now).map(|(x, y)| x * y).sum();
    assert!((0.9 - 1e-4..0.97).contains(&to_anchor), "cosine to the anchor {to_anchor}");
    assert!(to_now > 0.9, "cosine to today's documents {to_now}");
    // The lineage tells the story: born on day 0, one fold a day since.
    let lineage = &t0.memory.lineage;
    assert_eq!(lineage.len(), 15);
    assert_eq!((lineage[0].event, lineage[0].date), (LineageEvent::Born, day(0)));
    for (n, e) in lineage.iter().enumerate().skip(1) {
        assert_eq!(
            (e.event, e.date, e.day_topic, e.documents),
            (LineageEvent::Folded, day(n as i64), 0, 30)
        );
        assert!(e.vote_share.is_some_and(|v| v > 0.0) && e.similarity > 0.9);
    }
    // Its samples are bounded: the first day's 16 members (a day topic's whole sample) and
    // `n_members` (32) of the later ones.
    assert_eq!((t0.memory.birth_members.len(), t0.memory.members.len()), (16, 32));
}

#[test]
fn a_day_topic_that_straddles_two_known_topics_is_split_between_them() {
    let dim = 32;
    let (a, b) = (axis(dim, 0), towards(&axis(dim, 0), &axis(dim, 1), 0.75f32.acos()));
    let base =
        merge(None, &day_of(0, vec![cloud(&a, 16, 0.85, 1), cloud(&b, 16, 0.85, 2)], 40), &p())
            .unwrap()
            .model;
    // Today's clustering lumped both intents into one topic, half and half.
    let mut both = cloud(&a, 8, 0.85, 3);
    both.extend(cloud(&b, 8, 0.85, 4));
    let out = merge(Some(&base), &day_of(1, vec![both], 41), &p()).unwrap();
    assert_eq!(out.split, vec![0]);
    assert_eq!(ids_of(&out), vec![(0, 0), (0, 1)]);
    assert!(out.new_topic_ids.is_empty());
    let (t0, t1) = (out.model.topic(0).unwrap(), out.model.topic(1).unwrap());
    // 41 documents divided 8:8 (rounded), term and daily counts alike.
    assert_eq!((t0.size, t1.size), (40 + 21, 40 + 20));
    assert_eq!(t0.daily_counts[1].count + t1.daily_counts[1].count, 41);
    for t in [t0, t1] {
        let e = t.memory.lineage.last().unwrap();
        assert_eq!((e.event, e.day_topic), (LineageEvent::Split, 0));
        // Each keeps meaning what it meant.
        let c: f32 =
            t.embedding.iter().zip(t.memory.anchor.as_ref().unwrap()).map(|(x, y)| x * y).sum();
        assert!(c > 0.99, "topic {} moved to cosine {c} from its anchor", t.id);
    }
    // BERTopic's rule absorbs the whole day topic into one of them.
    let centroid = MergeParams { rule: MergeRule::Centroid, ..p() };
    let out = merge(Some(&base), &day_of(1, vec![both_again()], 41), &centroid).unwrap();
    assert_eq!(out.matched.len(), 1);
    assert!(out.split.is_empty());

    fn both_again() -> Vec<Vec<f32>> {
        let dim = 32;
        let (a, b) = (axis(dim, 0), towards(&axis(dim, 0), &axis(dim, 1), 0.75f32.acos()));
        let mut both = cloud(&a, 8, 0.85, 3);
        both.extend(cloud(&b, 8, 0.85, 4));
        both
    }
}

#[test]
fn the_minority_part_of_a_mixed_topic_gets_its_own_id() {
    let dim = 32;
    let (a, b) = (axis(dim, 0), towards(&axis(dim, 0), &axis(dim, 1), 0.8f32.acos()));
    // Day 0's clustering put two intents in one topic, 10 of its 16 members about `a`.
    let mut mixed = cloud(&a, 10, 0.85, 1);
    mixed.extend(cloud(&b, 6, 0.85, 2));
    let base = merge(None, &day_of(0, vec![mixed], 50), &p()).unwrap().model;
    // Today they come apart: `a` continues topic 0, `b` is a topic of its own.
    let out = merge(
        Some(&base),
        &day_of(1, vec![cloud(&a, 16, 0.85, 3), cloud(&b, 16, 0.85, 4)], 30),
        &p(),
    )
    .unwrap();
    assert_eq!(ids_of(&out), vec![(0, 0)]);
    assert_eq!(out.new_topic_ids, vec![1]);
    // Also on a day when only the minority shows up.
    let out = merge(Some(&base), &day_of(1, vec![cloud(&b, 16, 0.85, 4)], 30), &p()).unwrap();
    assert!(out.matched.is_empty());
    assert_eq!(out.new_topic_ids, vec![1]);
}

fn fixture_v1() -> TopicModel {
    io::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/topicd_v1"))
        .unwrap()
}

#[test]
fn a_model_saved_before_issue_24_still_merges() {
    let old = fixture_v1();
    assert!(old
        .topics
        .iter()
        .all(|t| t.memory.anchor.is_none() && t.memory.birth_members.is_empty()));
    // Tomorrow's fit of the same three intents: members around each old topic.
    let next = |n: u64| old.date_range.unwrap().1 + chrono::Days::new(n);
    let mut today = old.clone();
    today.date_range = Some((next(1), next(1)));
    for (i, t) in today.topics.iter_mut().enumerate() {
        t.memory = TopicMemory {
            anchor: Some(t.embedding.clone()),
            birth_members: cloud(&t.embedding, 16, 0.8, i as u64),
            ..TopicMemory::default()
        };
        t.first_seen = next(1);
        t.last_seen = next(1);
        t.daily_counts = vec![DailyCount { date: next(1), count: t.size }];
    }
    // No members on the base side: the centroid rule decides, and the old topics are anchored
    // and start remembering.
    let out = merge(Some(&old), &today, &p()).unwrap();
    assert_eq!(ids_of(&out), vec![(0, 0), (1, 1), (2, 2)]);
    assert!(out.new_topic_ids.is_empty());
    for t in out.model.active_topics() {
        let before = old.topic(t.id).unwrap();
        assert_eq!(t.memory.anchor.as_ref(), Some(&before.embedding));
        assert_eq!(t.memory.members.len(), 16);
        assert!(t.memory.birth_members.is_empty());
        assert_eq!(t.memory.lineage.len(), 1);
        assert_eq!(t.memory.lineage[0].vote_share, None);
    }
    // The next night the member rule has something to vote with.
    let mut tomorrow = today.clone();
    tomorrow.date_range = Some((next(2), next(2)));
    for (i, t) in tomorrow.topics.iter_mut().enumerate() {
        t.memory.birth_members = cloud(&t.embedding, 16, 0.8, 10 + i as u64);
        t.first_seen = next(2);
        t.last_seen = next(2);
        t.daily_counts = vec![DailyCount { date: next(2), count: t.size }];
    }
    let out = merge(Some(&out.model), &tomorrow, &p()).unwrap();
    assert_eq!(ids_of(&out), vec![(0, 0), (1, 1), (2, 2)]);
    assert!(out.model.active_topics().all(|t| t.memory.lineage[1].vote_share.is_some()));
    let files = io::to_files(&out.model).unwrap();
    assert_eq!(io::from_files(&files.config_json, &files.tensors).unwrap(), out.model);
}

#[test]
fn lineage_and_samples_stay_bounded() {
    let dim = 16;
    let params = MergeParams { history_days: 10, ..p() };
    let center = axis(dim, 0);
    let night = |n: i64| day_of(n, vec![cloud(&center, 16, 0.8, n as u64)], 10);
    let mut model = merge(None, &night(0), &params).unwrap().model;
    for n in 1..=40 {
        model = merge(Some(&model), &night(n), &params).unwrap().model;
    }
    let t = model.topic(0).unwrap();
    // Born on day 0 (kept), then only the folds of the last 10 days.
    assert_eq!(t.memory.lineage.len(), 11);
    assert_eq!(t.memory.lineage[0].event, LineageEvent::Born);
    assert_eq!(t.memory.lineage[1].date, day(31));
    assert_eq!((t.memory.birth_members.len(), t.memory.members.len()), (16, 32));
    // Half of the later members are from the last night, the rest from earlier nights.
    let last: Vec<Vec<f32>> = cloud(&center, 16, 0.8, 40);
    assert_eq!(t.memory.members.iter().filter(|m| last.contains(m)).count(), 16);
}

#[test]
fn a_split_request_is_honoured_when_the_documents_divide() {
    use crate::edits::{apply, TopicEdit};
    use crate::model::EditAuthor;
    let dim = 32;
    let (a, b) = (axis(dim, 0), towards(&axis(dim, 0), &axis(dim, 1), 0.95f32.acos()));
    // Day 0's clustering put two intents in one topic, half and half.
    let mut mixed = cloud(&a, 8, 0.85, 1);
    mixed.extend(cloud(&b, 8, 0.85, 2));
    let base = merge(None, &day_of(0, vec![mixed], 50), &p()).unwrap().model;
    let today = || day_of(1, vec![cloud(&a, 16, 0.85, 3), cloud(&b, 16, 0.85, 4)], 30);
    // Left alone, the topic stays whole: both halves fold into it.
    let out = merge(Some(&base), &today(), &p()).unwrap();
    assert_eq!(ids_of(&out), vec![(0, 0), (1, 0)]);
    // An operator asks for a split: one half continues topic 0, the other gets an id.
    let who = EditAuthor { by: "ops".into(), at: chrono::Utc::now() };
    let flagged = apply(&base, &TopicEdit::Split(0), &who).unwrap().model;
    // A night with only one of them does not divide it: the request stands.
    let one = merge(Some(&flagged), &day_of(1, vec![cloud(&a, 16, 0.85, 3)], 30), &p()).unwrap();
    assert!(one.new_topic_ids.is_empty());
    assert!(one.model.topic(0).unwrap().memory.edits.split_requested);
    let out = merge(Some(&flagged), &today(), &p()).unwrap();
    assert_eq!(out.matched.len(), 1);
    assert_eq!(out.new_topic_ids, vec![1]);
    let t0 = out.model.topic(0).unwrap();
    assert!(!t0.memory.edits.split_requested);
    let last = t0.memory.lineage.last().unwrap();
    assert_eq!(last.event, LineageEvent::SplitOff);
    // The split sticks: the next night both halves keep their own topics.
    let next = merge(
        Some(&out.model),
        &day_of(2, vec![cloud(&a, 16, 0.85, 5), cloud(&b, 16, 0.85, 6)], 30),
        &p(),
    )
    .unwrap();
    assert!(next.new_topic_ids.is_empty(), "new {:?}", next.new_topic_ids);
    let mut pairs = ids_of(&next);
    pairs.sort();
    assert_eq!(pairs.len(), 2);
    assert_ne!(pairs[0].1, pairs[1].1, "both halves folded into one topic: {pairs:?}");
}
