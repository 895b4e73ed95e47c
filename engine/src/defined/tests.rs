use super::*;
use crate::matrix::Matrix;
use crate::merge::merge;
use crate::params::MergeParams;
use crate::testutil::day;
use crate::{fit, transform_one, TransformParams};

const DIM: usize = 8;
const WORDS: [&str; 6] = ["refund", "declined", "weather", "password", "delivery", "music"];

fn axis(a: usize) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    v[a] = 1.0;
    v
}

/// 25 documents on each of `axes` (embedding near the axis, seeded uniform noise).
fn docs(axes: &[usize], salt: usize) -> (Vec<String>, Matrix) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(salt as u64);
    let mut texts = Vec::new();
    let mut rows = Vec::new();
    for i in 0..25 * axes.len() {
        let a = axes[i % axes.len()];
        texts.push(format!("{} question number {} {}", WORDS[a], i % 7, WORDS[(a + i) % 6]));
        let mut row: Vec<f32> = (0..DIM).map(|_| rng.random_range(-0.12f32..0.12)).collect();
        row[a] = 1.0;
        rows.push(row);
    }
    (texts, Matrix::from_rows(&rows).unwrap())
}

fn defined(name: &str, a: usize) -> DefinedTopic {
    DefinedTopic { name: name.into(), embedding: axis(a) }
}

fn fit_day(axes: &[usize], n: i64, list: &[DefinedTopic]) -> (FitResult, Vec<String>, Matrix) {
    let (texts, emb) = docs(axes, n as usize);
    let input = FitInput {
        texts: &texts,
        embeddings: &emb,
        dates: None,
        day: day(n),
        embedding_model: "t",
    };
    let r =
        crate::fit_with_defined(&input, &FitParams::default(), Device::Cpu, &Cancel::never(), list)
            .unwrap();
    (r, texts, emb)
}

#[test]
fn the_list_is_checked_and_normalised() {
    let spec =
        |name: &str| DefinedTopicSpec { name: name.into(), description: None, examples: vec![] };
    let err = |specs: &[DefinedTopicSpec]| normalize_specs(specs).unwrap_err().to_string();
    assert!(err(&[]).contains("list is empty"), "{}", err(&[]));
    let many: Vec<_> = (0..=MAX_DEFINED_TOPICS).map(|i| spec(&format!("t{i}"))).collect();
    assert!(err(&many).contains("more than 200"));
    let e = err(&[spec("Refund"), spec("Login"), spec(" refund ")]);
    assert!(e.contains("topics 0 and 2") && e.contains("ignoring case"), "{e}");
    assert!(err(&[spec("  ")]).contains("topic 0: the name is empty"));
    assert!(err(&[spec(&"x".repeat(101))]).contains("101 characters, more than 100"));
    assert!(err(&[spec("a\nb")]).contains("control character"));
    let long = DefinedTopicSpec { examples: vec!["e".into(); 21], ..spec("A") };
    assert!(err(&[long]).contains("21 examples"));
    let blank = DefinedTopicSpec { examples: vec![" ".into()], ..spec("A") };
    assert!(err(&[blank]).contains("example 0 is empty"));
    let ok = normalize_specs(&[DefinedTopicSpec {
        name: " Refund request ".into(),
        description: Some("  ".into()),
        examples: vec![" where is my money ".into()],
    }])
    .unwrap();
    assert_eq!(ok[0].name, "Refund request");
    assert_eq!(ok[0].description, None);
    assert_eq!(ok[0].embedding_texts(), vec!["Refund request", "where is my money"]);
    let with = DefinedTopicSpec { description: Some("money back".into()), ..ok[0].clone() };
    assert_eq!(with.embedding_texts()[0], "Refund request: money back");
}

#[test]
fn the_embedding_is_the_mean_of_unit_rows() {
    let e = combine_embeddings(&[vec![2.0f32, 0.0], vec![0.0, 0.5]]).unwrap();
    let h = std::f32::consts::FRAC_1_SQRT_2;
    assert!((e[0] - h).abs() < 1e-6 && (e[1] - h).abs() < 1e-6, "{e:?}");
    assert!(combine_embeddings::<Vec<f32>>(&[]).is_err());
    assert!(combine_embeddings(&[vec![1.0f32, 0.0], vec![-1.0, 0.0]]).is_err());
    assert!(combine_embeddings(&[vec![1.0f32, 0.0], vec![1.0]]).is_err());
}

#[test]
fn without_defined_topics_the_fit_is_unchanged() {
    let (texts, emb) = docs(&[0, 1, 2], 0);
    let input = FitInput {
        texts: &texts,
        embeddings: &emb,
        dates: None,
        day: day(0),
        embedding_model: "t",
    };
    let p = FitParams::default();
    let a = fit(&input, &p, Device::Cpu).unwrap();
    let b = crate::fit_with_defined(&input, &p, Device::Cpu, &Cancel::never(), &[]).unwrap();
    assert_eq!(a.model, b.model);
    assert_eq!(a.assignments, b.assignments);
}

#[test]
fn documents_near_a_defined_topic_join_it_the_rest_is_clustered() {
    let list = [defined("Refund request", 0), defined("Login problem", 3)];
    let (r, _, emb) = fit_day(&[0, 1, 2], 0, &list);
    let m = &r.model;
    // Refund documents (axis 0) all joined defined topic 0.
    for (i, &a) in r.assignments.iter().enumerate() {
        if i % 3 == 0 {
            assert_eq!(a, 0, "doc {i}");
            assert!(r.probabilities[i] >= FitParams::default().defined_min_similarity);
        } else {
            assert!(a >= 2 || a == OUTLIER_TOPIC, "doc {i} went to {a}");
        }
    }
    let refund = m.topic(0).unwrap();
    assert_eq!(
        (refund.label.as_str(), refund.label_source),
        ("Refund request", LabelSource::Defined)
    );
    assert_eq!(refund.size, 25);
    assert_eq!(refund.keywords[0].word, "refund");
    // Nobody mentioned logins: the topic exists with 0 documents, a 0 on the day, and its
    // defined embedding.
    let login = m.topic(1).unwrap();
    assert_eq!((login.label.as_str(), login.size), ("Login problem", 0));
    assert_eq!(login.daily_counts, vec![DailyCount { date: day(0), count: 0 }]);
    assert_eq!(login.embedding, axis(3));
    assert!(login.keywords.is_empty());
    // The two other intents were discovered as usual: keyword topics, each of one intent.
    let discovered: Vec<&Topic> = m.active_topics().filter(|t| !t.is_defined()).collect();
    assert!(!discovered.is_empty());
    for t in &discovered {
        assert_eq!(t.label_source, LabelSource::Keywords);
        let axes: BTreeSet<usize> =
            (0..r.assignments.len()).filter(|&i| r.assignments[i] == t.id).map(|i| i % 3).collect();
        assert_eq!(axes.len(), 1, "topic {} mixes intents {axes:?}", t.id);
    }
    // Transform tags a refund document with the defined topic, and its score is the fit's.
    let t = transform_one(m, emb.row(0), &TransformParams::default()).unwrap();
    assert_eq!(t.topic_id, 0);
    assert_eq!(t.score, r.scores[0]);
    // Deterministic, and the model saves and loads (label source included).
    let (again, _, _) = fit_day(&[0, 1, 2], 0, &list);
    assert_eq!(again.model, r.model);
    let files = crate::io::to_files(m).unwrap();
    let back = crate::io::from_files(&files.config_json, &files.tensors).unwrap();
    assert_eq!(back.topic(1).unwrap().label_source, LabelSource::Defined);
}

/// 25 documents on each of `groups`: a unit axis plus `lean` times axis 0 (a neighbour of the
/// intent on axis 0 when `lean` > 0), seeded uniform noise; texts by the group's axis.
fn leaning_docs(groups: &[(usize, f32)], salt: u64) -> (Vec<String>, Matrix) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(salt);
    let mut texts = Vec::new();
    let mut rows = Vec::new();
    for i in 0..25 * groups.len() {
        let (a, lean) = groups[i % groups.len()];
        texts.push(format!("{} question number {} {}", WORDS[a], i % 7, WORDS[(a + i) % 6]));
        let mut row: Vec<f32> = (0..DIM).map(|_| rng.random_range(-0.12f32..0.12)).collect();
        row[a] = 1.0;
        row[0] += lean;
        rows.push(row);
    }
    (texts, Matrix::from_rows(&rows).unwrap())
}

fn fit_at(texts: &[String], emb: &Matrix, threshold: f32, list: &[DefinedTopic]) -> FitResult {
    let input = FitInput { texts, embeddings: emb, dates: None, day: day(0), embedding_model: "t" };
    let p = FitParams { defined_min_similarity: threshold, ..FitParams::default() };
    crate::fit_with_defined(&input, &p, Device::Cpu, &Cancel::never(), list).unwrap()
}

#[test]
fn the_defined_intents_own_cluster_folds_into_it() {
    // Only about a third of the refund documents reach the threshold on their own (the
    // others are refund documents too, just noisier), but their cluster's centroid is close to
    // the defined topic: the whole cluster folds, non-candidates included.
    let list = [defined("Refund request", 0)];
    let (texts, emb) = docs(&[0, 1, 2], 0);
    let unit_rows = pipeline::unit_rows(&emb);
    let mut cos: Vec<f32> = (0..texts.len()).step_by(3).map(|i| unit_rows.row(i)[0]).collect();
    cos.sort_by(f32::total_cmp);
    let threshold = cos[cos.len() * 2 / 3];
    let candidates = cos.iter().filter(|&&c| c >= threshold).count();
    assert!((3..=12).contains(&candidates), "{candidates} candidates");
    let r = fit_at(&texts, &emb, threshold, &list);
    let refund = r.model.topic(0).unwrap();
    assert_eq!(refund.label, "Refund request");
    assert_eq!(refund.size, 25, "the refund cluster folded into the defined topic");
    assert!((0..texts.len()).step_by(3).all(|i| r.assignments[i] == 0));
    // The other intents are not touched.
    assert!((0..texts.len()).filter(|i| i % 3 != 0).all(|i| r.assignments[i] != 0));
}

#[test]
fn a_neighbour_intents_cluster_is_not_folded() {
    // Axis 1 leans towards the defined refund topic (cosine ~0.62): half of its documents
    // reach the threshold (their median) and are candidates, but its centroid is far from the
    // defined topic and its candidates are much closer to their own cluster: it stays a
    // discovered topic, whole. The refund intent itself (axis 0) folds.
    let list = [defined("Refund request", 0)];
    let (texts, emb) = leaning_docs(&[(0, 0.0), (1, 0.8), (2, 0.0)], 7);
    let unit_rows = pipeline::unit_rows(&emb);
    let neighbour: Vec<usize> = (1..texts.len()).step_by(3).collect();
    let mut cos: Vec<f32> = neighbour.iter().map(|&i| unit_rows.row(i)[0]).collect();
    cos.sort_by(f32::total_cmp);
    let threshold = cos[cos.len() / 2];
    assert!(threshold > 0.5, "{threshold}");
    let r = fit_at(&texts, &emb, threshold, &list);
    assert_eq!(r.model.topic(0).unwrap().size, 25);
    assert!((0..texts.len()).step_by(3).all(|i| r.assignments[i] == 0));
    let topics: BTreeSet<i64> = neighbour.iter().map(|&i| r.assignments[i]).collect();
    assert_eq!(topics.len(), 1, "the neighbour intent was split: {topics:?}");
    let t = *topics.iter().next().unwrap();
    assert!(t >= 1, "the neighbour intent went to {t}");
    assert_eq!(r.model.topic(t).unwrap().label_source, LabelSource::Keywords);
    // Its centroid is not within the fold cosine of the defined topic.
    let centroid = combine_embeddings(
        &neighbour.iter().map(|&i| unit_rows.row(i).to_vec()).collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(centroid[0] < FOLD_CENTROID_SIMILARITY, "{centroid:?}");
}

#[test]
fn a_defined_topics_best_match_folds_below_the_centroid_cosine() {
    // The defined topic sits between axis 1 and axis 4: the axis-1 cluster's centroid is at
    // cosine ~0.74 (below FOLD_CENTROID_SIMILARITY) and, with the threshold just under it,
    // fewer than 60 % of its documents are candidates. It is still the defined topic's best
    // match (nearest discovered topic, and the defined topic is its nearest): it folds, whole.
    let mut e = vec![0.0; DIM];
    e[1] = 1.0;
    e[4] = 0.9;
    let list = [DefinedTopic { name: "Card declined".into(), embedding: e }];
    let (texts, emb) = docs(&[0, 1, 2], 3);
    let unit_rows = pipeline::unit_rows(&emb);
    let q = combine_embeddings(&[&list[0].embedding]).unwrap();
    let rows: Vec<usize> = (1..texts.len()).step_by(3).collect();
    let centroid =
        combine_embeddings(&rows.iter().map(|&i| unit_rows.row(i).to_vec()).collect::<Vec<_>>())
            .unwrap();
    let cos = |a: &[f32]| a.iter().zip(&q).map(|(x, y)| x * y).sum::<f32>();
    let c = cos(&centroid);
    assert!(c < FOLD_CENTROID_SIMILARITY && c > 0.6, "{c}");
    let threshold = c - 1e-3;
    let candidates = rows.iter().filter(|&&i| cos(unit_rows.row(i)) >= threshold).count();
    assert!((candidates as f32) < FOLD_MEMBER_SHARE * 25.0, "{candidates} candidates");
    let r = fit_at(&texts, &emb, threshold, &list);
    assert_eq!(r.model.topic(0).unwrap().size, 25);
    assert!(rows.iter().all(|&i| r.assignments[i] == 0));
    assert!((0..texts.len()).filter(|i| i % 3 != 1).all(|i| r.assignments[i] != 0));
}

#[test]
fn bad_defined_topics_are_rejected() {
    let (texts, emb) = docs(&[0, 1], 0);
    let input = FitInput {
        texts: &texts,
        embeddings: &emb,
        dates: None,
        day: day(0),
        embedding_model: "t",
    };
    let p = FitParams::default();
    let run = |list: &[DefinedTopic]| {
        crate::fit_with_defined(&input, &p, Device::Cpu, &Cancel::never(), list)
            .unwrap_err()
            .to_string()
    };
    let short = DefinedTopic { name: "A".into(), embedding: vec![1.0; 3] };
    assert!(run(&[short]).contains("3 values but the documents have 8"));
    let zero = DefinedTopic { name: "A".into(), embedding: vec![0.0; DIM] };
    assert!(run(&[zero]).contains("zero or not finite"));
    assert!(run(&[defined("A", 0), defined("a", 1)]).contains("names must differ"));
}

fn names(m: &TopicModel) -> Vec<(i64, String)> {
    m.active_topics().filter(|t| t.is_defined()).map(|t| (t.id, t.label.clone())).collect()
}

#[test]
fn defined_topics_keep_their_ids_and_names_over_seven_merges() {
    let list = vec![defined("Refund request", 0), defined("Login problem", 3)];
    let (first, _, _) = fit_day(&[0, 1, 2], 0, &list);
    let mut base = merge(None, &first.model, &MergeParams::default()).unwrap().model;
    let ids = names(&base);
    assert_eq!(ids, vec![(0, "Refund request".to_string()), (1, "Login problem".to_string())]);
    for n in 1..=7 {
        // Logins come up on odd nights only; refunds every night; other intents vary.
        let axes: Vec<usize> = if n % 2 == 1 { vec![0, 1, 3] } else { vec![0, 2, 4] };
        let (r, _, _) = fit_day(&axes, n, &list);
        let out = merge(Some(&base), &r.model, &MergeParams::default()).unwrap();
        base = out.model;
        assert_eq!(names(&base), ids, "night {n}");
        assert!(out.new_topic_ids.iter().all(|&id| !base.topic(id).unwrap().is_defined()));
        let login = base.topic(1).unwrap();
        assert_eq!(login.last_seen, day(n));
        // A quiet night is a 0 in the history, not a gap.
        let on = |t: &Topic, d| t.daily_counts.iter().find(|c| c.date == d).map(|c| c.count);
        assert_eq!(on(login, day(n)), Some(if n % 2 == 1 { 25 } else { 0 }));
        assert_eq!(on(base.topic(0).unwrap(), day(n)), Some(25));
    }
    assert_eq!(base.topic(0).unwrap().size, 8 * 25);
    assert_eq!(base.topic(1).unwrap().size, 4 * 25);
    // No discovered topic ever folded into a defined one.
    for t in base.active_topics().filter(|t| t.is_defined()) {
        assert!(t.memory.lineage.iter().all(|e| e.similarity == 1.0));
    }
}

#[test]
fn removing_a_defined_topic_retires_it_and_adding_it_back_revives_it() {
    let both = vec![defined("Refund request", 0), defined("Login problem", 3)];
    let (r0, _, _) = fit_day(&[0, 1, 3], 0, &both);
    let base = merge(None, &r0.model, &MergeParams::default()).unwrap().model;
    let only_refund = vec![defined("Refund request", 0)];
    let (r1, _, _) = fit_day(&[0, 1, 3], 1, &only_refund);
    let out = merge(Some(&base), &r1.model, &MergeParams::default()).unwrap();
    assert!(out.retired.contains(&1), "{:?}", out.retired);
    assert_eq!(out.model.topic(1).unwrap().status, TopicStatus::Retired);
    assert_eq!(names(&out.model), vec![(0, "Refund request".to_string())]);
    // The login documents of night 1 were clustered as a discovered topic with a new id.
    assert!(out.new_topic_ids.iter().all(|&id| id > 1));
    // A day model without defined topics (an offline fit) retires nothing.
    let (plain, _, _) = fit_day(&[0, 1], 2, &[]);
    let kept = merge(Some(&out.model), &plain.model, &MergeParams::default()).unwrap();
    assert_eq!(names(&kept.model), vec![(0, "Refund request".to_string())]);
    // Back in the list: the old id again.
    let (r3, _, _) = fit_day(&[0, 3], 3, &both);
    let back = merge(Some(&kept.model), &r3.model, &MergeParams::default()).unwrap();
    assert_eq!(
        names(&back.model),
        vec![(0, "Refund request".to_string()), (1, "Login problem".to_string())]
    );
    assert!(back.new_topic_ids.iter().all(|&id| id != 1));
}
