//! The offline commands end to end, through the `topics` binary, on small real models: two days
//! of CLINC150 reference embeddings are fitted (`topics fit`), merged (`topics merge`) and used
//! to tag documents (`topics transform`); a real BERTopic export is imported (`topics import`).
//! Skipped, with a notice, when the CLINC150 data set is absent.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use npyz::WriterBuilder;
use topic_engine::TopicModel;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// CLINC150's in-scope rows: texts, labels, embeddings (row-major), dimension.
pub(crate) struct Clinc {
    pub(crate) texts: Vec<String>,
    pub(crate) labels: Vec<String>,
    emb: Vec<f32>,
    dim: usize,
}

pub(crate) fn load_clinc(dir: &Path) -> Clinc {
    let raw = std::fs::read_to_string(dir.join("clinc150.jsonl")).unwrap();
    let (mut texts, mut labels) = (Vec::new(), Vec::new());
    for line in raw.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["oos"].as_bool() == Some(true) {
            break;
        }
        texts.push(v["text"].as_str().unwrap().to_string());
        labels.push(v["label"].as_str().unwrap().to_string());
    }
    let bytes = std::fs::read(dir.join("clinc150.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let dim = npy.shape()[1] as usize;
    let mut emb: Vec<f32> = npy.into_vec().unwrap();
    emb.truncate(texts.len() * dim);
    Clinc { texts, labels, emb, dim }
}

/// Writes `rows` of the corpus as `name.jsonl` + `name.npy`; returns both paths.
pub(crate) fn write_day(c: &Clinc, rows: &[usize], dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let docs = dir.join(format!("{name}.jsonl"));
    let mut body = String::new();
    for &r in rows {
        body.push_str(&serde_json::json!({ "text": c.texts[r], "label": c.labels[r] }).to_string());
        body.push('\n');
    }
    std::fs::write(&docs, body).unwrap();
    let npy = dir.join(format!("{name}.npy"));
    let mut out = Vec::new();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[rows.len() as u64, c.dim as u64])
        .writer(&mut out)
        .begin_nd()
        .unwrap();
    for &r in rows {
        w.extend(c.emb[r * c.dim..(r + 1) * c.dim].iter().copied()).unwrap();
    }
    w.finish().unwrap();
    std::fs::write(&npy, out).unwrap();
    (docs, npy)
}

/// Runs `topics ARGS`; panics with its output unless it succeeds.
pub(crate) fn topics(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_topics"))
        .args(args)
        .env("TOPICD_DEVICE", "cpu")
        .env_remove("TOPICD_EMBED_MODEL")
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "topics {args:?} failed:\n{text}");
    text
}

/// Runs `topics ARGS`, expecting failure; returns stderr.
fn topics_fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_topics"))
        .args(args)
        .env("TOPICD_DEVICE", "cpu")
        .env_remove("TOPICD_EMBED_MODEL")
        .output()
        .unwrap();
    assert!(!out.status.success(), "topics {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub(crate) fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn load(dir: &Path) -> TopicModel {
    topic_engine::io::load(dir).unwrap()
}

fn read_assignments(path: &Path) -> (Vec<i64>, Vec<f32>, serde_json::Value) {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let ids = v["assignments"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
    let scores =
        v["scores"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
    (ids, scores, v)
}

/// Majority gold label of every topic (ties: the smaller label).
fn majority(ids: &[i64], labels: &[&str]) -> BTreeMap<i64, String> {
    let mut by: BTreeMap<i64, HashMap<&str, usize>> = BTreeMap::new();
    for (&t, &l) in ids.iter().zip(labels) {
        if t >= 0 {
            *by.entry(t).or_default().entry(l).or_default() += 1;
        }
    }
    by.into_iter()
        .map(|(t, c)| {
            let best = c.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).unwrap();
            (t, best.0.to_string())
        })
        .collect()
}

/// Share of every gold label in every topic.
fn shares<'a>(ids: &[i64], labels: &[&'a str]) -> BTreeMap<i64, HashMap<&'a str, f64>> {
    let mut by: BTreeMap<i64, HashMap<&str, f64>> = BTreeMap::new();
    for (&t, &l) in ids.iter().zip(labels) {
        if t >= 0 {
            *by.entry(t).or_default().entry(l).or_default() += 1.0;
        }
    }
    for counts in by.values_mut() {
        let total: f64 = counts.values().sum();
        counts.values_mut().for_each(|c| *c /= total);
    }
    by
}

#[test]
fn fit_two_days_merge_and_transform() {
    let clinc = topicd_testing::locate::clinc150_dir();
    let c = load_clinc(&clinc);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // 12 intents: 0..10 on day 1, 2..12 on day 2 (different docs), 60 docs per intent and day.
    let mut intents: Vec<&str> = c.labels.iter().map(String::as_str).collect();
    intents.sort_unstable();
    intents.dedup();
    let intents = &intents[..12];
    let rows_of = |intent: &str, skip: usize| -> Vec<usize> {
        (0..c.labels.len()).filter(|&i| c.labels[i] == intent).skip(skip).take(60).collect()
    };
    let day1: Vec<usize> = intents[..10].iter().flat_map(|i| rows_of(i, 0)).collect();
    let day2: Vec<usize> = intents[2..].iter().flat_map(|i| rows_of(i, 60)).collect();
    let (d1, e1) = write_day(&c, &day1, dir, "day1");
    let (d2, e2) = write_day(&c, &day2, dir, "day2");
    let all: Vec<usize> = day1.iter().chain(&day2).copied().collect();
    let (da, ea) = write_day(&c, &all, dir, "all");
    let all_labels: Vec<&str> = all.iter().map(|&r| c.labels[r].as_str()).collect();

    let (m1, m2) = (dir.join("m1"), dir.join("m2"));
    for (docs, emb, out, day) in [(&d1, &e1, &m1, "2026-11-01"), (&d2, &e2, &m2, "2026-11-02")] {
        topics(&[
            "fit",
            "--docs",
            p(docs),
            "--embeddings",
            p(emb),
            "--out",
            p(out),
            "--day",
            day,
            "--seed",
            "42",
        ]);
    }
    let day1_model = load(&m1);
    assert!(day1_model.n_active_topics() >= 5, "day 1: {} topics", day1_model.n_active_topics());

    // First night: no base, the day model becomes the long-lived model with its ids.
    let b1 = dir.join("base1");
    let out = topics(&["merge", "--day", p(&m1), "--out", p(&b1)]);
    assert!(out.contains("merged"), "{out}");
    let base1 = load(&b1);
    let ids = |m: &TopicModel| m.topics.iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(&base1), ids(&day1_model));

    // Second night, with a report.
    let b2 = dir.join("base2");
    let report = dir.join("report.json");
    topics(&[
        "merge",
        "--base",
        p(&b1),
        "--day",
        p(&m2),
        "--out",
        p(&b2),
        "--min-similarity",
        "0.7",
        "--report",
        p(&report),
    ]);
    let base2 = load(&b2);
    let rep: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(rep["params"]["min_similarity"].as_f64().unwrap() as f32, 0.7);
    assert!(!rep["matched"].as_array().unwrap().is_empty(), "{rep}");
    // Ids never change meaning: every base topic is still there with its label and first day;
    // new ids come after the base's.
    for t in &base1.topics {
        let u = base2.topic(t.id).unwrap();
        assert_eq!((&u.label, u.first_seen), (&t.label, t.first_seen), "topic {}", t.id);
    }
    let new_ids: Vec<i64> =
        rep["new_topic_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert!(new_ids.iter().all(|&id| id >= base1.next_topic_id), "{new_ids:?}");
    for &id in &new_ids {
        assert_eq!(
            base2.topic(id).unwrap().first_seen,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
        );
    }
    // Merging is deterministic: the same inputs give byte-identical files.
    let b2_again = dir.join("base2-again");
    topics(&["merge", "--base", p(&b1), "--day", p(&m2), "--out", p(&b2_again)]);
    for f in ["config.json", "model.safetensors"] {
        assert_eq!(std::fs::read(b2.join(f)).unwrap(), std::fs::read(b2_again.join(f)).unwrap());
    }

    // Transform every doc of both days with both long-lived models.
    let (a1, a2) = (dir.join("a1.json"), dir.join("a2.json"));
    for (model, out) in [(&b1, &a1), (&b2, &a2)] {
        topics(&[
            "transform",
            "--model",
            p(model),
            "--docs",
            p(&da),
            "--embeddings",
            p(&ea),
            "--out",
            p(out),
        ]);
    }
    let (ids1, _, _) = read_assignments(&a1);
    let (ids2, scores2, body2) = read_assignments(&a2);
    assert_eq!(ids2.len(), all.len());
    assert_eq!(scores2.len(), all.len());
    let active: BTreeSet<i64> =
        base2.active_topics().filter(|t| !t.is_outlier()).map(|t| t.id).collect();
    assert!(ids2.iter().all(|id| *id == -1 || active.contains(id)));
    assert!(scores2.iter().all(|s| s.is_finite() && (-1.01..=1.01).contains(s)));
    for id in &active {
        let label = body2["labels"][id.to_string()].as_str().unwrap();
        assert_eq!(label, base2.topic(*id).unwrap().label);
        assert!(body2["topic_words"][id.to_string()].is_array());
    }
    let outliers = ids2.iter().filter(|&&t| t == -1).count();
    assert!(outliers * 10 < ids2.len(), "{outliers} outliers of {}", ids2.len());
    // Stable ids: a day-1 topic means the same under the merged model: its majority intent
    // there is one of the intents that made up at least a quarter of it before (a day-1 cluster
    // can hold two close intents, e.g. bill_balance and bill_due, whose balance may tip).
    let (share1, maj2) = (shares(&ids1, &all_labels), majority(&ids2, &all_labels));
    let mut compared = 0;
    for (id, intents) in &share1 {
        if let Some(now) = maj2.get(id) {
            let share = intents.get(now.as_str()).copied().unwrap_or(0.0);
            assert!(share >= 0.25, "topic {id} changed meaning: now {now}, before {intents:?}");
            compared += 1;
        }
    }
    assert!(compared >= 5, "only {compared} day-1 topics compared");
    // The two intents only on day 2 are tagged with topics of their own, not day-1 ones.
    for intent in &intents[10..] {
        let mut counts: HashMap<i64, usize> = HashMap::new();
        for (&t, &l) in ids2.iter().zip(&all_labels) {
            if l == *intent {
                *counts.entry(t).or_default() += 1;
            }
        }
        let (&best, _) = counts.iter().max_by_key(|&(t, n)| (*n, -*t)).unwrap();
        assert!(best >= base1.next_topic_id, "{intent} went to topic {best}");
    }

    // The same documents without --embeddings: the local encoder.
    {
        let enc = topicd_testing::locate::model_dir();
        let a3 = dir.join("a3.json");
        topics(&[
            "transform",
            "--model",
            p(&b2),
            "--docs",
            p(&da),
            "--limit",
            "40",
            "--encoder",
            p(&enc),
            "--out",
            p(&a3),
        ]);
        let (ids3, _, _) = read_assignments(&a3);
        let same = ids3.iter().zip(&ids2).filter(|(a, b)| a == b).count();
        assert_eq!(ids3.len(), 40);
        assert!(same >= 38, "{same}/40 equal to the reference-embedding assignments");
    }
    let e = topics_fails(&[
        "transform",
        "--model",
        p(&b2),
        "--docs",
        p(&da),
        "--encoder",
        p(&dir.join("no-such-encoder")),
        "--out",
        p(&dir.join("x.json")),
    ]);
    assert!(e.contains("local encoder") && e.contains("no-such-encoder"), "{e}");
    // Embeddings that do not match the documents are refused.
    let e = topics_fails(&[
        "transform",
        "--model",
        p(&b2),
        "--docs",
        p(&da),
        "--embeddings",
        p(&e1),
        "--out",
        p(&dir.join("x.json")),
    ]);
    assert!(e.contains("embedding rows"), "{e}");
}

#[test]
fn import_a_bertopic_model() {
    let fixture = repo_root().join("engine/tests/fixtures/bertopic_small");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("imported");
    topics(&["import", "--bertopic", p(&fixture), "--out", p(&out), "--day", "2025-06-01"]);
    let m = load(&out);
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture.join("expected.json")).unwrap()).unwrap();
    let want: Vec<i64> =
        expected["topic_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(m.topics.iter().map(|t| t.id).collect::<Vec<_>>(), want);
    assert_eq!(m.dim, 384);
    let e = topics_fails(&["import", "--bertopic", p(tmp.path()), "--out", p(&out)]);
    assert!(e.contains("importing the BERTopic model"), "{e}");
}
