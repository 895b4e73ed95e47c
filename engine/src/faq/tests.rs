use super::*;
use crate::io::{from_files, to_files};
use crate::matrix::Matrix;
use crate::model::OUTLIER_TOPIC;
use crate::text::TextOptions;
use crate::TopicModelBuilder;

/// A unit vector along `axis` tilted by `tilt` towards `other`.
fn vec8(axis: usize, other: usize, tilt: f32) -> Vec<f32> {
    let mut v = [0.0f32; 8];
    v[axis] = 1.0;
    v[other] += tilt;
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

#[test]
fn questions_and_requests_are_recognised_and_tidied() {
    assert!(reads_as_question("how do I reset my pin"));
    assert!(reads_as_question("Please cancel my card today"));
    assert!(reads_as_question("Comment changer mon mot de passe"));
    assert!(reads_as_question("my card is broken?"));
    assert!(!reads_as_question("my card arrived broken yesterday"));
    assert!(!reads_as_question("showing the weather"));
    assert_eq!(tidy_question("  how do   I reset my pin. "), "How do I reset my pin?");
    assert_eq!(tidy_question("please cancel my card"), "Please cancel my card");
    assert_eq!(tidy_question("où est ma carte !"), "Où est ma carte?");
    assert_eq!(tidy_question(""), "");
}

#[test]
fn a_question_with_four_words_is_preferred_to_a_more_central_statement() {
    let topic = vec8(0, 1, 0.0);
    let statement = vec8(0, 1, 0.4);
    let question = vec8(0, 2, 0.6);
    let short = vec8(0, 3, 0.3);
    let c: Vec<(&str, &[f32])> = vec![
        ("my card arrived broken yesterday", &statement),
        ("card?", &short),
        ("why was my card declined", &question),
    ];
    let picked = select_examples(&c, &topic, &[], 3);
    assert_eq!(picked, vec![2, 0, 1], "question first, then the long statement, short last");
    assert_eq!(select_examples(&c, &topic, &[], 1), vec![2]);
}

#[test]
fn near_duplicates_and_repeated_texts_are_dropped() {
    let topic = vec8(0, 1, 0.0);
    let a = vec8(0, 1, 0.3);
    let near_a = vec8(0, 1, 0.32); // cosine to a > 0.99
    let b = vec8(0, 2, 0.6);
    let c: Vec<(&str, &[f32])> = vec![
        ("how do I top up my account", &a),
        ("how can I top up my account", &near_a),
        ("How do I  top up my account", &b), // the same text as the first
        ("what is the limit for a top up", &b),
    ];
    let picked = select_examples(&c, &topic, &[], 8);
    assert_eq!(picked, vec![0, 3]);
    let isa = Isa::detect();
    assert!(isa.dot(&a, &near_a) >= NEAR_DUPLICATE);
}

#[test]
fn selection_is_deterministic_and_diverse() {
    let topic = vec8(0, 1, 0.0);
    // 7 directions, two tilts each (cosine 0.87 between them), near-duplicates within a class.
    let rows: Vec<Vec<f32>> = (0..16)
        .map(|i| vec8(0, 1 + i % 7, if (i / 7) % 2 == 0 { 0.5 } else { 1.5 } + 0.001 * i as f32))
        .collect();
    let texts: Vec<String> = (0..16).map(|i| format!("how do I do thing number {i}")).collect();
    let c: Vec<(&str, &[f32])> =
        texts.iter().map(String::as_str).zip(rows.iter().map(Vec::as_slice)).collect();
    let a = select_examples(&c, &topic, &[], MAX_EXAMPLES);
    assert_eq!(a, select_examples(&c, &topic, &[], MAX_EXAMPLES));
    // The pool is the central half, extended until it holds 8 distinct candidates.
    assert_eq!(a.len(), MAX_EXAMPLES);
    // Diverse: the examples are spread over several tilt directions, not the 8 most central.
    let dirs: HashSet<usize> = a.iter().map(|i| 1 + i % 7).collect();
    assert!(dirs.len() >= 5, "{a:?}");
    // No pair of near-duplicates.
    let isa = Isa::detect();
    for (x, &i) in a.iter().enumerate() {
        for &j in &a[x + 1..] {
            assert!(isa.dot(&rows[i], &rows[j]) < NEAR_DUPLICATE);
        }
    }
}

#[test]
fn personal_data_is_masked_before_it_is_stored() {
    let texts: Vec<String> = vec![
        "how do I change the email jean.dupont@example.com on my account".into(),
        "can you call me back on +33 6 12 34 56 78 about my card".into(),
        "my card is blocked".into(),
    ];
    let rows = [vec8(0, 1, 0.3), vec8(0, 2, 0.9), vec8(0, 3, 0.6)];
    let analyzer = TextAnalyzer::new(&TextOptions::default()).unwrap();
    let faq = topic_faq(
        &[0, 1, 2],
        &texts,
        |d| rows[d].clone(),
        |t| analyzer.mask(t).into_owned(),
        &vec8(0, 1, 0.0),
        &[],
        Some("en".into()),
    );
    assert_eq!(faq.examples.len(), 3);
    let all: String = faq.example_texts().join("\n");
    assert!(!all.contains("jean.dupont") && !all.contains("12 34"), "{all}");
    assert!(all.contains("[email]") && all.contains("[phone]"), "{all}");
    assert_eq!(faq.question.as_deref(), Some("How do I change the email [email] on my account?"));
    assert_eq!(faq.question_source, QuestionSource::Examples);
}

fn faq_of(items: &[(&str, Vec<f32>)]) -> TopicFaq {
    let mut f = TopicFaq {
        examples: items
            .iter()
            .map(|(t, e)| FaqExample { text: t.to_string(), embedding: e.clone() })
            .collect(),
        language: Some("en".into()),
        ..TopicFaq::default()
    };
    f.refresh_question();
    f
}

#[test]
fn merge_keeps_the_best_of_old_and_new() {
    let model = crate::testutil::random_model(1, 5, 8);
    let mut t = model.topics.iter().find(|t| t.id == 0).unwrap().clone();
    t.embedding = vec8(0, 1, 0.0);
    // Old: two central questions and one far statement.
    t.faq = faq_of(&[
        ("how do I open an account", vec8(0, 1, 0.3)),
        ("the account page is slow today", vec8(0, 5, 1.2)),
        ("what documents do I need to open an account", vec8(0, 2, 0.5)),
    ]);
    // New: one more central question, a near-duplicate of an old one, an off-topic statement.
    let new = faq_of(&[
        ("can I open an account online", vec8(0, 3, 0.4)),
        ("how can I open an account", vec8(0, 1, 0.32)),
        ("nice weather", vec8(0, 6, 2.0)),
    ]);
    merge_faq(&mut t, &[(&new, 10)], 100, &[]);
    let texts = t.faq.example_texts();
    assert_eq!(
        texts,
        vec![
            "how do I open an account",
            "can I open an account online",
            "what documents do I need to open an account",
            "the account page is slow today",
            "nice weather",
        ]
    );
    assert_eq!(t.faq.question.as_deref(), Some("How do I open an account?"));
    // An LLM's question is kept; the examples still change.
    t.faq.question = Some("How can I open an account?".into());
    t.faq.question_source = QuestionSource::Llm;
    let newer = faq_of(&[("where do I sign up for an account", vec8(0, 4, 0.2))]);
    let before = t.faq.clone();
    merge_faq(&mut t, &[(&newer, 10)], 110, &[]);
    assert!(examples_changed(&before, &t.faq));
    assert_eq!(t.faq.question.as_deref(), Some("How can I open an account?"));
    assert_eq!(t.faq.example_texts()[0], "where do I sign up for an account");
}

#[test]
fn split_sends_each_example_to_the_nearer_part() {
    let f = faq_of(&[
        ("how do I open an account", vec8(0, 1, 0.1)),
        ("how do I close my card", vec8(2, 1, 0.1)),
    ]);
    let parts = split_examples(&f, &[&vec8(2, 1, 0.0), &vec8(0, 1, 0.0)]);
    assert_eq!(parts[0].example_texts(), vec!["how do I close my card"]);
    assert_eq!(parts[1].example_texts(), vec!["how do I open an account"]);
    assert_eq!(parts[0].question.as_deref(), Some("How do I close my card?"));
}

/// Three intents of 20 documents each (as the crate docs), with questions, statements and a
/// planted email.
fn fitted() -> crate::FitResult {
    let intents = [
        ("how do I get a refund for order", 0),
        ("why was my card declined at shop", 1),
        ("what is the weather tomorrow in town", 2),
    ];
    let mut texts = Vec::new();
    let mut rows = Vec::new();
    for i in 0..60usize {
        let (text, axis) = intents[i % 3];
        texts.push(match i {
            0 => "refund".to_string(),
            3 => format!("{text} {i}, write to ann@example.com"),
            _ if i % 4 == 0 => format!("I got my {i} refund card weather"),
            _ => format!("{text} {i}"),
        });
        let mut row = vec![0.02 * ((i * 7 % 11) as f32 - 5.0); 8];
        row[axis] = 1.0;
        rows.push(row);
    }
    let embeddings = Matrix::from_rows(&rows).unwrap();
    TopicModelBuilder::new().seed(42).fit(&texts, &embeddings).unwrap()
}

#[test]
fn fit_stores_masked_central_questions_and_they_survive_save_and_load() {
    let r = fitted();
    let m = &r.model;
    assert_eq!(m.active_topics().count(), 3);
    for t in m.active_topics() {
        assert!(!t.faq.examples.is_empty() && t.faq.examples.len() <= MAX_EXAMPLES);
        assert!(t.faq.examples.iter().all(|e| !e.text.contains("ann@example.com")));
        // Questions first: every intent has far more than 8 four-word questions.
        assert!(t.faq.examples.iter().all(|e| reads_as_question(&e.text)), "{:?}", t.faq);
        assert_eq!(t.faq.language.as_deref(), Some("en"));
        assert!(t.faq.question.as_deref().is_some_and(|q| q.ends_with('?')));
    }
    if let Some(o) = m.topic(OUTLIER_TOPIC) {
        assert!(o.faq.is_empty());
    }
    let files = to_files(m).unwrap();
    let back = from_files(&files.config_json, &files.tensors).unwrap();
    assert_eq!(&back, m, "examples are stored as f16, as fitted");
    assert_eq!(to_files(&back).unwrap(), files);
    // Deterministic.
    assert_eq!(fitted().model, *m);

    // A model without FAQs (as written before issue 29) has no FAQ field or tensor and loads.
    let mut old = m.clone();
    old.topics.iter_mut().for_each(|t| t.faq = TopicFaq::default());
    let files = to_files(&old).unwrap();
    assert!(!String::from_utf8_lossy(&files.config_json).contains("\"faq\""));
    assert_eq!(from_files(&files.config_json, &files.tensors).unwrap(), old);

    // A config that names examples the tensors do not hold is refused.
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&to_files(m).unwrap().config_json).unwrap();
    let topics = cfg["topics"].as_array_mut().unwrap();
    let t = topics.iter_mut().find(|t| t.get("faq").is_some()).unwrap();
    t["faq"]["examples"].as_array_mut().unwrap().push("extra".into());
    let e = from_files(&serde_json::to_vec(&cfg).unwrap(), &to_files(m).unwrap().tensors)
        .unwrap_err()
        .to_string();
    assert!(e.contains("FAQ examples"), "{e}");
}

#[test]
fn entries_rank_by_messages_and_skip_outliers() {
    let r = fitted();
    let entries = faq_entries(&r.model);
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e.topic_id >= 0 && !e.question.is_empty()));
    assert!(entries.windows(2).all(|w| w[0].message_count >= w[1].message_count));
    let total: u64 = entries.iter().map(|e| e.message_count).sum();
    let last: u64 = entries.iter().map(|e| e.last_7_days).sum();
    assert_eq!(total, last, "one day of documents, all in the last 7 days");
    assert!(entries.iter().all(|e| e.previous_7_days == 0));
}

#[test]
fn a_merge_refreshes_examples_of_matched_topics() {
    let first = crate::merge(None, &fitted().model, &crate::MergeParams::default()).unwrap().model;
    let again =
        crate::merge(Some(&first), &fitted().model, &crate::MergeParams::default()).unwrap();
    assert!(again.new_topic_ids.is_empty(), "{:?}", again.new_topic_ids);
    for t in again.model.active_topics() {
        let before = first.topic(t.id).unwrap();
        // The same documents again: the same examples (repeated texts count once).
        assert_eq!(t.faq.example_texts(), before.faq.example_texts());
    }
}

#[test]
fn two_entries_never_ask_the_same_question_from_examples() {
    let mut m = crate::testutil::random_model(3, 4, 8);
    let ids: Vec<i64> = m.active_topics().map(|t| t.id).take(2).collect();
    for (k, id) in ids.iter().enumerate() {
        let t = m.topics.iter_mut().find(|t| t.id == *id).unwrap();
        t.size = 100 - k as u64;
        t.faq = faq_of(&[
            ("how do I reset my pin", vec8(0, 1, 0.3)),
            ("where can I change the pin of my card", vec8(0, 2, 0.9)),
        ]);
    }
    for t in m.topics.iter_mut().filter(|t| !ids.contains(&t.id)) {
        t.faq = TopicFaq::default();
    }
    let e = faq_entries(&m);
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].question, "How do I reset my pin?");
    assert_eq!(e[1].question, "Where can I change the pin of my card?");
    // An LLM's question is shown as written.
    let t = m.topics.iter_mut().find(|t| t.id == ids[1]).unwrap();
    t.faq.question = Some("How do I reset my PIN?".into());
    t.faq.question_source = QuestionSource::Llm;
    assert_eq!(faq_entries(&m)[1].question, "How do I reset my PIN?");
}

/// `n` unit vectors near `axis` (cosine 0.86 to it), member `i` tilted towards axis `2 + i`
/// of 32: no two are near-duplicates.
fn group(axis: usize, n: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|i| {
            let mut v = [0.0f32; 32];
            v[axis] = 1.0;
            v[2 + i] += 0.6;
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| x / n).collect()
        })
        .collect()
}

fn centroid(rows: &[Vec<f32>]) -> Vec<f32> {
    let mut c = vec![0.0f32; rows[0].len()];
    for r in rows {
        c.iter_mut().zip(r).for_each(|(a, b)| *a += b);
    }
    let n = c.iter().map(|x| x * x).sum::<f32>().sqrt();
    c.iter().map(|x| x / n).collect()
}

#[test]
fn a_topic_of_two_groups_shows_only_the_larger() {
    // 60 % of the members near axis 0, 40 % near axis 1 (cosine about 0 between the groups):
    // the topic embedding lies between them, nearer the larger group, and the central half
    // holds that group only.
    let mut rows = group(0, 18);
    rows.extend(group(1, 12));
    let topic = centroid(&rows);
    let texts: Vec<String> = (0..30).map(|i| format!("how do I do thing number {i}")).collect();
    let c: Vec<(&str, &[f32])> =
        texts.iter().map(String::as_str).zip(rows.iter().map(Vec::as_slice)).collect();
    let picked = select_examples(&c, &topic, &[], MAX_EXAMPLES);
    assert!(!picked.is_empty());
    assert!(picked.iter().all(|&i| i < 18), "examples only from the 60 % group: {picked:?}");
    // The same members with the groups swapped in order: still the larger group only.
    let mut swapped = group(1, 12);
    swapped.extend(group(0, 18));
    let c: Vec<(&str, &[f32])> =
        texts.iter().map(String::as_str).zip(swapped.iter().map(Vec::as_slice)).collect();
    let picked = select_examples(&c, &centroid(&swapped), &[], MAX_EXAMPLES);
    assert!(picked.iter().all(|&i| i >= 12), "{picked:?}");
}

#[test]
fn examples_near_a_neighbouring_topic_are_left_out() {
    // The topic is axis 0; a neighbouring topic lies between axes 0 and 2. Members tilted
    // towards axis 2 are nearly as close to the neighbour as to their own topic.
    let topic = vec8(0, 1, 0.0);
    let neighbour = vec8(0, 2, 1.0);
    let clear: Vec<Vec<f32>> = (0..6).map(|i| vec8(0, 3 + i % 5, 0.3 + 0.1 * i as f32)).collect();
    let unclear: Vec<Vec<f32>> = (0..6).map(|i| vec8(0, 2, 0.5 + 0.02 * i as f32)).collect();
    let isa = Isa::detect();
    for u in &unclear {
        assert!(isa.dot(u, &topic) - isa.dot(u, &neighbour) < MIN_MARGIN);
        assert!(isa.dot(u, &topic) > isa.dot(&clear[5], &topic), "more central than some clear");
    }
    let rows: Vec<&Vec<f32>> = unclear.iter().chain(&clear).collect();
    let texts: Vec<String> = (0..12).map(|i| format!("how do I do thing number {i}")).collect();
    let c: Vec<(&str, &[f32])> =
        texts.iter().map(String::as_str).zip(rows.iter().map(|r| r.as_slice())).collect();
    let picked = select_examples(&c, &topic, &[&neighbour], MAX_EXAMPLES);
    assert!(!picked.is_empty());
    assert!(picked.iter().all(|&i| i >= 6), "only members clear of the neighbour: {picked:?}");
    // Without the neighbour, the central ones are shown again.
    let picked = select_examples(&c, &topic, &[], MAX_EXAMPLES);
    assert!(picked.iter().any(|&i| i < 6), "{picked:?}");
    // When no member is clear of a neighbour, one example is shown: the clearest.
    let c_unclear: Vec<(&str, &[f32])> = c[..6].to_vec();
    let picked = select_examples(&c_unclear, &topic, &[&neighbour], MAX_EXAMPLES);
    assert_eq!(picked.len(), 1);
    assert_eq!(picked, vec![0], "the smallest tilt towards the neighbour");
}

fn as_refs(v: &[(String, Vec<f32>)]) -> Vec<(&str, Vec<f32>)> {
    v.iter().map(|(t, e)| (t.as_str(), e.clone())).collect()
}

#[test]
fn a_merge_keeps_the_central_half_of_old_and_new() {
    let model = crate::testutil::random_model(1, 5, 8);
    let mut t = model.topics.iter().find(|t| t.id == 0).unwrap().clone();
    t.embedding = vec8(0, 1, 0.0);
    // Old: eight examples close to the topic; new: eight further out, in other directions.
    let old: Vec<(String, Vec<f32>)> = (0..8)
        .map(|i| {
            (
                format!("how do I open account type {i}"),
                vec8(0, 1 + i % 7, if i == 7 { 0.9 } else { 0.4 + 0.02 * i as f32 }),
            )
        })
        .collect();
    let new: Vec<(String, Vec<f32>)> = (0..8)
        .map(|i| {
            (format!("how do I close account type {i}"), vec8(0, 1 + i % 7, 1.3 + 0.05 * i as f32))
        })
        .collect();
    t.faq = faq_of(&as_refs(&old));
    let incoming = faq_of(&as_refs(&new));
    merge_faq(&mut t, &[(&incoming, 100)], 100, &[]);
    let texts = t.faq.example_texts();
    assert!(!texts.is_empty());
    assert!(texts.iter().all(|x| x.contains("open")), "{texts:?}");
}
