//! `pipeline::fit` end to end (kNN → UMAP → HDBSCAN → c-TF-IDF → reduction) on synthetic topics,
//! on tiny and degenerate inputs, and (when the shared dataset is present) on a CLINC150 subset.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use topic_engine::{
    fit, fit_cancellable, transform, Cancel, Device, EngineError, FitInput, FitParams, FitResult,
    Matrix, NrTopics, TopicIndex, TransformParams,
};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
}

fn run(texts: &[String], emb: &Matrix, params: &FitParams) -> FitResult {
    let input =
        FitInput { texts, embeddings: emb, dates: None, day: day(), embedding_model: "synthetic" };
    fit(&input, params, Device::Cpu).unwrap()
}

fn with_nr_topics(nr_topics: NrTopics) -> FitParams {
    let mut p = FitParams::default();
    p.nr_topics = nr_topics;
    p
}

fn with_min_topic_size(n: usize) -> FitParams {
    let mut p = FitParams::default();
    p.min_topic_size = n;
    p
}

/// `k` topics of `per` documents: each topic has its own five words and a random direction in
/// 32-d; a document is four of its topic's words plus filler stop words, embedded at the topic
/// direction plus noise. Returns texts, embeddings and the true topic per document.
fn synthetic(k: usize, per: usize, seed: u64) -> (Vec<String>, Matrix, Vec<usize>) {
    let dim = 32;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0f32, 0.08).unwrap();
    let centres: Vec<Vec<f32>> = (0..k)
        .map(|_| {
            let v: Vec<f32> =
                (0..dim).map(|_| Normal::new(0.0f32, 1.0).unwrap().sample(&mut rng)).collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect()
        })
        .collect();
    let mut texts = Vec::new();
    let mut rows = Vec::new();
    let mut truth = Vec::new();
    for (t, centre) in centres.iter().enumerate() {
        for _ in 0..per {
            let words: Vec<String> =
                (0..4).map(|_| format!("topic{t}word{}", rng.random_range(0..5))).collect();
            texts.push(format!("the {} and {} of {}", words[0], words[1], words[2..].join(" ")));
            rows.push(centre.iter().map(|c| c + noise.sample(&mut rng)).collect::<Vec<f32>>());
            truth.push(t);
        }
    }
    // Interleave so that documents of a topic are not contiguous.
    let mut order: Vec<usize> = (0..texts.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let texts = order.iter().map(|&i| texts[i].clone()).collect();
    let emb =
        Matrix::from_rows(&order.iter().map(|&i| rows[i].clone()).collect::<Vec<_>>()).unwrap();
    let truth = order.iter().map(|&i| truth[i]).collect();
    (texts, emb, truth)
}

/// Share of clustered documents whose topic's majority true label is their own.
fn purity(assignments: &[i64], truth: &[usize]) -> f64 {
    let mut counts: HashMap<i64, HashMap<usize, usize>> = HashMap::new();
    for (&a, &t) in assignments.iter().zip(truth) {
        if a >= 0 {
            *counts.entry(a).or_default().entry(t).or_default() += 1;
        }
    }
    let majority: usize = counts.values().map(|m| m.values().max().copied().unwrap_or(0)).sum();
    let clustered = assignments.iter().filter(|&&a| a >= 0).count();
    majority as f64 / clustered.max(1) as f64
}

#[test]
fn finds_synthetic_topics_deterministically() {
    let (texts, emb, truth) = synthetic(10, 40, 1);
    let params = FitParams::default();
    let a = run(&texts, &emb, &params);
    let topics = a.model.active_topics().count();
    assert!((8..=12).contains(&topics), "{topics} topics");
    assert!(purity(&a.assignments, &truth) > 0.95);
    let outliers = a.assignments.iter().filter(|&&t| t == -1).count();
    assert!(outliers < texts.len() / 4, "{outliers} outliers");
    // Keywords come from the topic's own vocabulary, stop words never appear.
    for t in a.model.active_topics() {
        let prefix = &t.keywords[0].word[..t.keywords[0].word.find("word").unwrap()];
        assert!(t.keywords.iter().take(3).all(|k| k.word.starts_with(prefix)), "{:?}", t.keywords);
        assert!(t.keywords.iter().all(|k| !["the", "and", "of"].contains(&k.word.as_str())));
        assert!(!t.samples.is_empty() && t.samples.len() <= 5);
        assert_eq!(t.daily_counts.len(), 1);
        assert_eq!(t.daily_counts[0].count, t.size);
    }
    // Ids are 0..k by size descending.
    let sizes: Vec<u64> = a.model.active_topics().map(|t| t.size).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
    a.model.validate().unwrap();
    assert!(a.timings.total >= a.timings.umap);

    let b = run(&texts, &emb, &params);
    assert_eq!(a.assignments, b.assignments);
    assert_eq!(a.model, b.model);
}

/// The scores a fit reports are the ones Transform gives the same documents: same SIMD dot,
/// same normalisation, so equal bit for bit (the server's Fit and Transform answers agree).
#[test]
fn fit_score_equals_transform_score_bit_for_bit() {
    // Rows are not unit length (centre + noise): both sides normalise them the same way.
    let (texts, emb, _) = synthetic(6, 40, 11);
    let r = run(&texts, &emb, &FitParams::default());
    assert_eq!(r.scores.len(), texts.len());
    assert_eq!(r.probabilities.len(), texts.len());
    let tagged = transform(&r.model, &emb, &TransformParams::default()).unwrap();
    let index = TopicIndex::new(&r.model);
    let mut compared = 0;
    for (i, (&topic, t)) in r.assignments.iter().zip(&tagged).enumerate() {
        if topic == -1 {
            assert_eq!(r.scores[i], 0.0);
            assert_eq!(r.probabilities[i], 0.0);
            continue;
        }
        assert!((0.0..=1.0).contains(&r.probabilities[i]), "{}", r.probabilities[i]);
        // Whatever topic Transform picks, the fit score is its cosine to the fit's topic.
        assert_eq!(
            r.scores[i].to_bits(),
            index.score(emb.row(i), topic).unwrap().to_bits(),
            "doc {i}"
        );
        if t.topic_id == topic {
            assert_eq!(r.scores[i].to_bits(), t.score.to_bits(), "doc {i}");
            compared += 1;
        }
    }
    assert!(compared > texts.len() / 2, "only {compared} documents kept their topic");
}

/// Input rows are L2-normalised inside `fit` (the server and `topics fit --embeddings` get the
/// same treatment): rows scaled by powers of two (exact in floating point) give the same model
/// bit for bit, and the same scores. Without the normalisation the topic embeddings (means of
/// the input rows) would lean towards the longer rows.
#[test]
fn fit_normalises_input_embeddings() {
    let (texts, emb, _) = synthetic(6, 40, 12);
    let scaled: Vec<Vec<f32>> = emb
        .iter_rows()
        .enumerate()
        .map(|(i, r)| {
            let s = [0.5f32, 1.0, 2.0, 4.0, 8.0][i % 5];
            r.iter().map(|v| v * s).collect()
        })
        .collect();
    let scaled = Matrix::from_rows(&scaled).unwrap();
    let a = run(&texts, &emb, &FitParams::default());
    let b = run(&texts, &scaled, &FitParams::default());
    assert_eq!(a.assignments, b.assignments);
    assert_eq!(a.model, b.model);
    assert_eq!(a.scores, b.scores);
}

#[test]
fn not_cancelled_fit_cancellable_equals_fit() {
    // Small (exact kNN, dense spectral init) and 5,000 points (NN-descent, Lanczos), with
    // reduction so that every stage runs.
    for (k, per, epochs) in [(10, 40, None), (20, 250, Some(60))] {
        let (texts, emb, _) = synthetic(k, per, 3);
        let mut params = FitParams::default();
        params.n_epochs = epochs;
        params.nr_topics = NrTopics::Auto;
        let input = FitInput {
            texts: &texts,
            embeddings: &emb,
            dates: None,
            day: day(),
            embedding_model: "synthetic",
        };
        let a = fit(&input, &params, Device::Cpu).unwrap();
        let b = fit_cancellable(&input, &params, Device::Cpu, &Cancel::new()).unwrap();
        assert_eq!(a.assignments, b.assignments);
        assert_eq!(a.model, b.model);
    }
}

#[test]
fn cancelled_fit_returns_cancelled() {
    // 5,000 points (NN-descent) and far more epochs than any test would wait for: only a
    // working cancellation lets this test finish.
    let (texts, emb, _) = synthetic(20, 250, 4);
    let mut params = FitParams::default();
    params.n_epochs = Some(1_000_000);
    let input =
        FitInput { texts: &texts, embeddings: &emb, dates: None, day: day(), embedding_model: "s" };

    // Cancelled before the start: nothing runs.
    let cancel = Cancel::new();
    cancel.cancel();
    let r = fit_cancellable(&input, &params, Device::Cpu, &cancel);
    assert!(matches!(r, Err(EngineError::Cancelled)), "{:?}", r.map(|_| ()));

    // Cancelled from another thread while it runs (early: kNN or the spectral init; later:
    // the SGD epochs).
    for delay_ms in [50, 400, 1500] {
        let cancel = Cancel::new();
        let canceller = {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(delay_ms));
                cancel.cancel();
                std::time::Instant::now()
            })
        };
        let r = fit_cancellable(&input, &params, Device::Cpu, &cancel);
        let returned = std::time::Instant::now();
        let cancelled_at = canceller.join().unwrap();
        assert!(
            matches!(r, Err(EngineError::Cancelled)),
            "after {delay_ms} ms: {:?}",
            r.map(|_| ())
        );
        let lag = returned.saturating_duration_since(cancelled_at);
        eprintln!("cancelled after {delay_ms} ms, returned {} ms later", lag.as_millis());
        // Without the checks this fit would run for hours; the bound only catches that.
        assert!(lag < std::time::Duration::from_secs(60), "took {lag:?} to stop");
    }
}

#[test]
fn reduction_to_n_topics_and_auto() {
    let (texts, emb, _) = synthetic(8, 30, 2);
    let fixed = run(&texts, &emb, &with_nr_topics(NrTopics::Fixed(4)));
    let has_outliers = fixed.assignments.contains(&-1);
    let expected = if has_outliers { 3 } else { 4 };
    assert_eq!(fixed.model.active_topics().count(), expected);
    fixed.model.validate().unwrap();

    let none = run(&texts, &emb, &FitParams::default());
    let auto = run(&texts, &emb, &with_nr_topics(NrTopics::Auto));
    assert!(auto.model.active_topics().count() <= none.model.active_topics().count());
    // A reduction never moves documents into or out of -1.
    for (x, y) in none.assignments.iter().zip(&auto.assignments) {
        assert_eq!(*x == -1, *y == -1);
    }
}

#[test]
fn tiny_and_degenerate_inputs_give_valid_models() {
    // Fewer documents than n_neighbors.
    let (texts, emb, _) = synthetic(2, 6, 3);
    let m = run(&texts, &emb, &with_min_topic_size(3));
    assert_eq!(m.assignments.len(), 12);
    m.model.validate().unwrap();

    // All-identical texts and embeddings.
    let texts = vec!["refund my order".to_string(); 30];
    let emb = Matrix::from_rows(&vec![vec![0.6f32, 0.8, 0.0]; 30]).unwrap();
    let m = run(&texts, &emb, &FitParams::default());
    assert_eq!(m.assignments.len(), 30);
    m.model.validate().unwrap();

    // Exactly min_topic_size documents, and the smallest allowed input (2 documents).
    let (texts, emb, _) = synthetic(1, 10, 4);
    run(&texts, &emb, &FitParams::default()).model.validate().unwrap();
    let (texts, emb, _) = synthetic(1, 2, 5);
    let m = run(&texts, &emb, &with_min_topic_size(2));
    m.model.validate().unwrap();

    // Texts with no usable token (stop words / non-Latin) still give a model.
    let texts: Vec<String> =
        (0..20).map(|i| if i % 2 == 0 { "the and".into() } else { "日本語".into() }).collect();
    let (_, emb, _) = synthetic(2, 10, 6);
    run(&texts, &emb, &FitParams::default()).model.validate().unwrap();
}

/// CLINC150, every 7th of the 22,500 in-scope documents (≈ 21 per intent), with the shared
/// reference embeddings, found by `topicd_testing::locate` (fails, saying where it looked, when
/// the dataset is missing).
#[test]
fn clinc150_subset() {
    let dir = topicd_testing::locate::clinc150_dir();
    let jsonl = std::fs::read_to_string(dir.join("clinc150.jsonl")).unwrap();
    let npy = std::fs::read(dir.join("clinc150.npy")).unwrap();
    let rows: Vec<serde_json::Value> =
        jsonl.lines().take(22_500).map(|l| serde_json::from_str(l).unwrap()).collect();
    let npy = npyz::NpyFile::new(&npy[..]).unwrap();
    let dim = npy.shape()[1] as usize;
    let all: Vec<f32> = npy.into_vec().unwrap();
    let idx: Vec<usize> = (0..22_500).step_by(7).collect();
    let texts: Vec<String> =
        idx.iter().map(|&i| rows[i]["text"].as_str().unwrap().to_string()).collect();
    let labels: Vec<&str> = idx.iter().map(|&i| rows[i]["label"].as_str().unwrap()).collect();
    let mut data = Vec::with_capacity(idx.len() * dim);
    for &i in &idx {
        data.extend_from_slice(&all[i * dim..(i + 1) * dim]);
    }
    let emb = Matrix::new(data, idx.len(), dim).unwrap();
    let r = run(&texts, &emb, &FitParams::default());
    let topics = r.model.active_topics().count();
    assert!((40..=200).contains(&topics), "{topics} topics");
    let outliers = r.assignments.iter().filter(|&&t| t == -1).count() as f64 / texts.len() as f64;
    assert!(outliers < 0.4, "outlier share {outliers}");
    let gold: HashMap<&str, usize> = labels.iter().enumerate().map(|(i, &l)| (l, i)).collect();
    let truth: Vec<usize> = labels.iter().map(|l| gold[l]).collect();
    let p = purity(&r.assignments, &truth);
    assert!(p > 0.7, "purity {p}");
    r.model.validate().unwrap();
}

/// Issue 21: small talk is left out of topic discovery (assigned -2, aligned with the input),
/// personal data never reaches samples or keywords, and too little content left is an error.
#[test]
fn small_talk_is_set_aside_and_personal_data_masked() {
    use topic_engine::text::TextOptions;
    use topic_engine::SMALL_TALK_TOPIC;
    let (mut texts, emb, truth) = synthetic(4, 30, 21);
    // Plant personal data in every document of topic 0.
    for (t, &k) in texts.iter_mut().zip(&truth) {
        if k == 0 {
            t.push_str(" write to jean.dupont@exemple.fr or call +33 6 12 34 56 78");
        }
    }
    // Small talk at known positions, embedded near topic 1 so it would join a topic if kept.
    let chatter = ["hi", "thanks!", "ok", "merci", "Bonjour !", "👍"];
    let mut rows: Vec<Vec<f32>> = emb.iter_rows().map(<[f32]>::to_vec).collect();
    let anchor = truth.iter().position(|&k| k == 1).unwrap();
    let mut positions = Vec::new();
    for (j, c) in chatter.iter().enumerate() {
        let at = 7 + j * 13;
        texts.insert(at, c.to_string());
        rows.insert(at, rows[anchor].clone());
        positions.push(at);
    }
    let emb = Matrix::from_rows(&rows).unwrap();
    let r = run(&texts, &emb, &FitParams::default());
    assert_eq!(r.small_talk, chatter.len() as u64);
    assert_eq!(r.assignments.len(), texts.len());
    for (i, &a) in r.assignments.iter().enumerate() {
        if positions.contains(&i) {
            assert_eq!(a, SMALL_TALK_TOPIC, "{:?}", texts[i]);
            assert_eq!((r.scores[i], r.probabilities[i]), (0.0, 0.0));
        } else {
            assert!(a >= -1, "{:?} assigned {a}", texts[i]);
        }
    }
    assert!(r.model.topics.iter().all(|t| t.id >= -1));
    let kept: u64 = r.model.topics.iter().map(|t| t.size).sum();
    assert_eq!(kept, (texts.len() - chatter.len()) as u64);
    let config =
        String::from_utf8(topic_engine::io::to_files(&r.model).unwrap().config_json).unwrap();
    for planted in ["jean", "dupont", "exemple", "12 34 56"] {
        assert!(!config.contains(planted), "{planted} in the model");
    }
    assert!(r.model.topics.iter().flat_map(|t| &t.samples).any(|s| s.contains("[email]")));

    // Off: the old behaviour, small talk clustered like anything else, samples verbatim.
    let mut p = FitParams::default();
    p.text = TextOptions::default().with_small_talk(false).with_mask(false);
    let off = run(&texts, &emb, &p);
    assert_eq!(off.small_talk, 0);
    assert!(off.assignments.iter().all(|&a| a >= -1));

    // Too little left once small talk is out: the too-few-documents error.
    let few: Vec<String> = (0..12)
        .map(|i| if i < 4 { format!("refund order {i}") } else { "thanks!".into() })
        .collect();
    let emb = Matrix::from_rows(&(0..12).map(|i| [1.0, i as f32]).collect::<Vec<_>>()).unwrap();
    let input =
        FitInput { texts: &few, embeddings: &emb, dates: None, day: day(), embedding_model: "s" };
    let e = fit(&input, &FitParams::default(), Device::Cpu).unwrap_err();
    assert!(matches!(e, EngineError::InvalidInput(_)), "{e:?}");
    assert!(e.to_string().contains("small talk") && e.to_string().contains("min_topic_size"));
}

/// Progress reports reach the observer stage by stage, in the order the stages run, and
/// observing changes nothing.
#[test]
fn progress_is_reported_per_stage_and_changes_nothing() {
    use std::sync::{Arc, Mutex};
    use topic_engine::Stage;
    let (texts, emb, _) = synthetic(10, 40, 5);
    let params = FitParams::default();
    let input =
        FitInput { texts: &texts, embeddings: &emb, dates: None, day: day(), embedding_model: "s" };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let cancel = Cancel::new().with_progress(move |p| sink.lock().unwrap().push(p));
    let observed = fit_cancellable(&input, &params, Device::Cpu, &cancel).unwrap();
    assert_eq!(observed.model, fit(&input, &params, Device::Cpu).unwrap().model);
    let seen = seen.lock().unwrap();
    let mut stages: Vec<Stage> = seen.iter().map(|p| p.stage).collect();
    stages.dedup();
    assert_eq!(stages, [Stage::Neighbors, Stage::Reduce, Stage::Cluster, Stage::Topics]);
    let epochs: Vec<u64> =
        seen.iter().filter(|p| p.stage == Stage::Reduce && p.total > 0).map(|p| p.done).collect();
    assert_eq!(epochs, (0..500).collect::<Vec<_>>(), "one report per UMAP epoch (500 when small)");
    assert!(seen.iter().all(|p| p.total == 0 || p.done <= p.total));
}

/// Above `max_fit_documents` the fit runs on a day-stratified sample and the rest is assigned by
/// transform: every document gets a topic, sizes and daily counts cover all of them, the topics
/// are the ones a fit of the sample finds, and the result is deterministic.
#[test]
fn large_inputs_are_fitted_on_a_sample_and_the_rest_transformed() {
    let (texts, emb, truth) = synthetic(8, 100, 11);
    let n = texts.len();
    // Two days: the first 600 documents on day 0, the other 200 on day 1 (documents come grouped
    // by topic, so day 1 holds the last two topics).
    let dates: Vec<NaiveDate> =
        (0..n).map(|i| day() + chrono::Days::new(u64::from(i >= 600))).collect();
    let mut params = FitParams::default();
    params.max_fit_documents = Some(400);
    let input = FitInput {
        texts: &texts,
        embeddings: &emb,
        dates: Some(&dates),
        day: day(),
        embedding_model: "synthetic",
    };
    let a = fit(&input, &params, Device::Cpu).unwrap();
    let s = a.sampled.expect("sampled");
    assert_eq!((s.fitted, s.assigned), (400, 400));
    assert_eq!(a.assignments.len(), n);
    assert!(purity(&a.assignments, &truth) > 0.95);
    let topics = a.model.active_topics().count();
    assert!((7..=9).contains(&topics), "{topics} topics");
    // Sizes and daily counts cover every document that got a topic.
    let assigned = |t: i64| a.assignments.iter().filter(|&&x| x == t).count() as u64;
    for t in a.model.active_topics() {
        assert_eq!(t.size, assigned(t.id), "topic {}", t.id);
        assert_eq!(t.daily_counts.iter().map(|d| d.count).sum::<u64>(), t.size);
    }
    let day1: u64 = a
        .model
        .topics
        .iter()
        .flat_map(|t| &t.daily_counts)
        .filter(|d| d.date == dates[n - 1])
        .map(|d| d.count)
        .sum();
    assert!(day1 >= 190, "day 1's documents are counted on day 1 ({day1})");
    a.model.validate().unwrap();
    // Deterministic, and the same as a fit below the limit when the limit is not reached.
    let b = fit(&input, &params, Device::Cpu).unwrap();
    assert_eq!((a.assignments.clone(), a.model.clone()), (b.assignments, b.model));
    params.max_fit_documents = Some(n);
    let whole = fit(&input, &params, Device::Cpu).unwrap();
    assert!(whole.sampled.is_none());
    // A limit below min_topic_size can never fit.
    params.max_fit_documents = Some(5);
    assert!(matches!(fit(&input, &params, Device::Cpu), Err(EngineError::InvalidParam { .. })));
}
