use super::*;
use crate::testutil::random_model;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn files() -> (TopicModel, ModelFiles) {
    let m = random_model(7, 6, 16);
    let f = to_files(&m).unwrap();
    (m, f)
}

#[test]
fn round_trip_is_lossless_and_byte_identical() {
    let (m, f) = files();
    let back = from_files(&f.config_json, &f.tensors).unwrap();
    assert_eq!(back, m);
    let again = to_files(&back).unwrap();
    assert_eq!(again, f);
}

#[test]
fn save_and_load_directory() {
    let (m, f) = files();
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("model");
    save(&m, &sub).unwrap();
    assert_eq!(load(&sub).unwrap(), m);
    assert_eq!(std::fs::read(sub.join(CONFIG_FILE)).unwrap(), f.config_json);
    assert_eq!(std::fs::read(sub.join(TENSORS_FILE)).unwrap(), f.tensors);
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 2);
    assert!(matches!(load(&dir.path().join("missing")), Err(EngineError::Io { .. })));
}

#[test]
fn empty_model_round_trips() {
    let mut m = random_model(1, 0, 4);
    m.topics.clear();
    m.vocabulary.clear();
    let f = to_files(&m).unwrap();
    assert_eq!(from_files(&f.config_json, &f.tensors).unwrap(), m);
}

fn config_value(f: &ModelFiles) -> serde_json::Value {
    serde_json::from_slice(&f.config_json).unwrap()
}

fn expect_err(config: &[u8], tensors: &[u8], needle: &str) {
    match from_files(config, tensors) {
        Err(EngineError::InvalidModel(msg)) => {
            assert!(msg.contains(needle), "error {msg:?} does not mention {needle:?}")
        }
        other => panic!("expected an InvalidModel error mentioning {needle:?}, got {other:?}"),
    }
}

#[test]
fn bad_version_is_rejected() {
    let (_, f) = files();
    let mut v = config_value(&f);
    v["format_version"] = 3.into();
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "format_version 3");
    v["format_version"] = 0.into();
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "format_version 0");
    // A version-1 config with version-2 tensors is neither.
    v["format_version"] = 1.into();
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "anchored");
    v.as_object_mut().unwrap().remove("format_version");
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "no format_version");
    expect_err(b"[1,2]", &f.tensors, "not a JSON object");
}

#[test]
fn truncated_files_are_rejected() {
    let (_, f) = files();
    for cut in [0, 4, 8, 100, f.tensors.len() - 1] {
        assert!(from_files(&f.config_json, &f.tensors[..cut]).is_err(), "tensors cut at {cut}");
    }
    for cut in [0, 10, f.config_json.len() / 2, f.config_json.len() - 3] {
        assert!(from_files(&f.config_json[..cut], &f.tensors).is_err(), "config cut at {cut}");
    }
}

#[test]
fn shape_mismatch_with_config_is_rejected() {
    let (m, f) = files();
    // One topic fewer in the config than rows in the tensors.
    let mut v = config_value(&f);
    v["topics"].as_array_mut().unwrap().pop();
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "shape");
    // Other dimension.
    let mut v = config_value(&f);
    v["dim"] = (m.dim + 1).into();
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "shape");
    // A keyword more than there are weights.
    let mut v = config_value(&f);
    v["topics"][1]["keywords"].as_array_mut().unwrap().push("extra".into());
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "keyword_weights");
    // Tensors of another model.
    let other = to_files(&random_model(8, 3, 16)).unwrap();
    expect_err(&f.config_json, &other.tensors, "shape");
}

#[test]
fn huge_declared_sizes_are_rejected_without_allocating() {
    let (_, f) = files();
    let mut v = config_value(&f);
    v["dim"] = serde_json::Value::from(u64::MAX / 2);
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "dimension");
    // A safetensors header declaring an enormous tensor.
    let header = br#"{"topic_embeddings":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,16]}}"#;
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(header);
    st.extend_from_slice(&[0u8; 16]);
    assert!(from_files(&f.config_json, &st).is_err());
    // A header length of 2^60.
    let mut st = (1u64 << 60).to_le_bytes().to_vec();
    st.extend_from_slice(b"{}");
    assert!(from_files(&f.config_json, &st).is_err());
}

/// Replaces the first occurrence of `from` in `bytes` by `to` (same length).
fn patch(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let pos = bytes.windows(from.len()).position(|w| w == from).expect("pattern present");
    let mut out = bytes.to_vec();
    out[pos..pos + to.len()].copy_from_slice(to);
    out
}

#[test]
fn nan_and_bad_values_are_rejected() {
    let (m, f) = files();
    // NaN in the first embedding value.
    let first = m.topics[0].embedding[0].to_le_bytes();
    let nan = patch(&f.tensors, &first, &f32::NAN.to_le_bytes());
    expect_err(&f.config_json, &nan, "NaN");
    // Non-normalised embedding.
    let big = patch(&f.tensors, &first, &(first_val(&m) + 0.5).to_le_bytes());
    expect_err(&f.config_json, &big, "norm");
    // Unsorted topic ids.
    let mut v = config_value(&f);
    v["topics"][2]["id"] = 0.into();
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "ascending");
    // Id at or past next_topic_id.
    let mut v = config_value(&f);
    v["next_topic_id"] = 2.into();
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "next_topic_id");
    // Unknown field (typo or hostile extra).
    let mut v = config_value(&f);
    v["topics"][0]["colour"] = "red".into();
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "colour");
    // A vocabulary too small for the stored term indices.
    let mut v = config_value(&f);
    v["vocabulary"].as_array_mut().unwrap().truncate(3);
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "vocabulary");
    // Bad params.
    let mut v = config_value(&f);
    v["merge_params"]["min_similarity"] = 3.0.into();
    expect_err(&serde_json::to_vec(&v).unwrap(), &f.tensors, "min_similarity");
}

fn first_val(m: &TopicModel) -> f32 {
    m.topics[0].embedding[0]
}

#[test]
fn to_files_refuses_invalid_models() {
    let mut m = random_model(3, 2, 8);
    m.topics[1].embedding[0] = f32::INFINITY;
    assert!(matches!(to_files(&m), Err(EngineError::InvalidModel(_))));
}

/// Property-style: random byte flips, truncations and splices of real model files must give
/// an error or a valid model, never a panic.
#[test]
fn random_corruption_never_panics() {
    let (_, f) = files();
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut accepted = 0;
    for _ in 0..3000 {
        let mut config = f.config_json.clone();
        let mut tensors = f.tensors.clone();
        let target = if rng.random_bool(0.5) { &mut config } else { &mut tensors };
        match rng.random_range(0..4) {
            0 => {
                let i = rng.random_range(0..target.len());
                target[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                for _ in 0..rng.random_range(1..16) {
                    let i = rng.random_range(0..target.len());
                    target[i] = rng.random();
                }
            }
            2 => {
                let cut = rng.random_range(0..target.len());
                target.truncate(cut);
            }
            _ => {
                let i = rng.random_range(0..target.len());
                let len = rng.random_range(1..64).min(target.len() - i);
                let chunk: Vec<u8> = target[i..i + len].to_vec();
                let j = rng.random_range(0..target.len());
                target.splice(j..j, chunk);
            }
        }
        if let Ok(m) = from_files(&config, &tensors) {
            m.validate().unwrap();
            accepted += 1;
        }
    }
    // Flips inside sample texts or float mantissas can legitimately give another valid model.
    assert!(accepted < 3000);
}

#[test]
fn model_files_without_text_options_keep_the_legacy_text_handling() {
    use crate::text::{LanguageSetting, TextOptions};
    let (mut m, _) = files();
    m.fit_params.text =
        TextOptions::default().with_language(LanguageSetting::try_from("fr".to_string()).unwrap());
    let f = to_files(&m).unwrap();
    assert_eq!(from_files(&f.config_json, &f.tensors).unwrap(), m);
    // A file written before issue 21: no `fit_params.text`.
    let mut v = config_value(&f);
    v["fit_params"].as_object_mut().unwrap().remove("text").unwrap();
    let old = serde_json::to_vec(&v).unwrap();
    let back = from_files(&old, &f.tensors).unwrap();
    assert_eq!(back.fit_params.text, TextOptions::legacy());
    assert!(back.fit_params.text.bertopic_compat);
    assert!(!back.fit_params.text.small_talk && !back.fit_params.text.mask);
}

fn fixture_v1() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/topicd_v1")
}

#[test]
fn a_model_saved_before_issue_24_loads_with_an_empty_memory() {
    let m = load(&fixture_v1()).unwrap();
    assert_eq!(m.topics.len(), 3);
    assert_eq!(m.topics[2].label, "Timer · set · minutes");
    assert!(m.topics.iter().all(|t| t.memory == crate::model::TopicMemory::default()));
    // Parameters the file predates take their defaults.
    assert_eq!(m.fit_params.n_members, FitParams::default().n_members);
    assert_eq!(m.merge_params.rule, crate::params::MergeRule::Members);
    // Saved again, it is a version-2 file that reads back the same.
    let f = to_files(&m).unwrap();
    assert_eq!(config_value(&f)["format_version"], FORMAT_VERSION);
    assert_eq!(from_files(&f.config_json, &f.tensors).unwrap(), m);
}

#[test]
fn memory_round_trips_and_bad_memory_is_rejected() {
    let (m, f) = files();
    assert!(m.topics.iter().any(|t| !t.memory.members.is_empty() && t.memory.lineage.len() > 1));
    let v = config_value(&f);
    assert_eq!(v["topics"][0]["anchored"], false);
    assert_eq!(v["topics"][1]["anchored"], true);
    // An anchored flag without an anchor row.
    let mut bad = v.clone();
    bad["topics"][0]["anchored"] = true.into();
    expect_err(&serde_json::to_vec(&bad).unwrap(), &f.tensors, "topic_anchors");
    // An unknown lineage event code.
    let (header, meta) = SafeTensors::read_metadata(&f.tensors).unwrap();
    let (start, end) = meta.info("lineage.event").unwrap().data_offsets;
    let events = &f.tensors[8 + header + start..8 + header + end];
    let at = 8 + header + start + events.iter().position(|&e| e == 2).unwrap();
    let mut t = f.tensors.clone();
    t[at] = 9;
    expect_err(&f.config_json, &t, "lineage event 9");
}
