//! The local encoder against the reference all-MiniLM-L6-v2 embeddings of CLINC150 (made with
//! `sentence-transformers`). Fails, saying what is missing, when the weights or the data set are
//! absent (`topicd_testing::locate`); `scripts/test.sh` fetches the weights first.
//!
//! And the optional multilingual encoder (multilingual-e5-small, XLM-R tokenizer,
//! `scripts/fetch-multilingual-model.sh`): skipped with a message when it is not there.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use candle_core::Device;
use topic_encoder::{EncoderOptions, LocalEncoder};

fn load_texts(dir: &Path) -> Vec<String> {
    let raw = std::fs::read_to_string(dir.join("clinc150.jsonl")).unwrap();
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn load_reference(dir: &Path) -> (Vec<f32>, usize) {
    let bytes = std::fs::read(dir.join("clinc150.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    let data: Vec<f32> = npy.into_vec().unwrap();
    (data, shape[1] as usize)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[test]
fn matches_sentence_transformers_on_clinc150_sample() {
    // Both fail with instructions when missing (scripts/fetch-model.sh, $TOPICD_DATASETS).
    let model = topicd_testing::locate::model_dir();
    let data = topicd_testing::locate::clinc150_dir();
    let texts = load_texts(&data);
    let (reference, dim) = load_reference(&data);
    assert_eq!(reference.len(), texts.len() * dim);

    // A spread of rows, plus the longest texts (truncation / padding paths) and the oos tail.
    let mut idx: Vec<usize> = (0..texts.len()).step_by(texts.len() / 40).collect();
    let mut by_len: Vec<usize> = (0..texts.len()).collect();
    by_len.sort_by_key(|&i| std::cmp::Reverse(texts[i].len()));
    idx.extend(by_len.iter().take(4));
    idx.push(texts.len() - 1);
    idx.sort_unstable();
    idx.dedup();
    let sample: Vec<String> = idx.iter().map(|&i| texts[i].clone()).collect();

    // A small batch size so several length-sorted batches must be put back in order.
    let enc = LocalEncoder::load_with(
        model.to_str().unwrap(),
        &Device::Cpu,
        EncoderOptions { batch_size: 7, ..Default::default() },
    )
    .unwrap();
    assert_eq!(enc.dim(), dim);
    assert_eq!(enc.name(), "sentence-transformers/all-MiniLM-L6-v2");
    let got = enc.encode(&sample).unwrap();
    assert_eq!((got.rows(), got.cols()), (sample.len(), dim));
    for (k, &i) in idx.iter().enumerate() {
        let row = got.row(k);
        let norm: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "row {i} norm {norm}");
        let cos = cosine(row, &reference[i * dim..(i + 1) * dim]);
        assert!(cos >= 0.999, "text {i} {:?}: cosine {cos}", texts[i]);
    }

    // Order and batching do not change a text's embedding.
    let single = enc.encode(&sample[3..4]).unwrap();
    assert!(cosine(single.row(0), got.row(3)) > 0.99999);
    // Empty input and empty text.
    assert_eq!(enc.encode(&[]).unwrap().rows(), 0);
    let empty = enc.encode(&[String::new()]).unwrap();
    assert!(empty.row(0).iter().all(|v| v.is_finite()));
}

/// Support messages of four themes, each in French, English, German and Spanish.
const THEMES: [[&str; 4]; 4] = [
    [
        "Je n'ai toujours pas reçu mon remboursement.",
        "I still have not received my refund.",
        "Ich habe meine Rückerstattung immer noch nicht erhalten.",
        "Todavía no he recibido mi reembolso.",
    ],
    [
        "Mon colis est en retard depuis une semaine.",
        "My parcel has been late for a week.",
        "Mein Paket ist seit einer Woche verspätet.",
        "Mi paquete lleva una semana de retraso.",
    ],
    [
        "Impossible de me connecter, mon mot de passe est refusé.",
        "I cannot log in, my password is rejected.",
        "Ich kann mich nicht anmelden, mein Passwort wird abgelehnt.",
        "No puedo iniciar sesión, mi contraseña es rechazada.",
    ],
    [
        "Je voudrais une journée de télétravail supplémentaire.",
        "I would like an extra day of working from home.",
        "Ich hätte gern einen zusätzlichen Tag im Homeoffice.",
        "Quisiera un día más de teletrabajo.",
    ],
];

#[test]
fn multilingual_model_groups_messages_by_theme_across_languages() {
    let Some(dir) = topicd_testing::locate::try_multilingual_model_dir() else {
        eprintln!("{}", topicd_testing::locate::MULTILINGUAL_MODEL_MISSING);
        return;
    };
    let enc =
        LocalEncoder::from_dir(&dir, "multilingual-e5-small", &Device::Cpu, Default::default())
            .unwrap();
    assert_eq!(enc.dim(), 384);
    // fetch-multilingual-model.sh writes E5's prompt for symmetric tasks.
    assert_eq!(enc.prompt(), "query: ");
    assert_eq!(enc.vocab_size(), 250_002, "XLM-R's SentencePiece vocabulary");
    let texts: Vec<String> = THEMES.iter().flatten().map(|s| s.to_string()).collect();
    let m = enc.encode(&texts).unwrap();
    let theme = |i: usize| i / 4;
    let lang = |i: usize| i % 4;
    // Across languages a message finds its translation: among the four messages of any other
    // language, the nearest is the same theme. (Within one language, a small model can still
    // prefer another theme in the same language.) And on average a theme's messages are closer
    // to each other than to other themes'.
    let (mut within, mut across, mut nw, mut na) = (0.0f32, 0.0f32, 0, 0);
    for i in 0..texts.len() {
        for other in (0..4).filter(|&l| l != lang(i)) {
            let best = (0..texts.len())
                .filter(|&j| lang(j) == other)
                .max_by(|&a, &b| cosine(m.row(i), m.row(a)).total_cmp(&cosine(m.row(i), m.row(b))))
                .unwrap();
            assert_eq!(
                theme(best),
                theme(i),
                "{:?}: nearest in language {other} is {:?}",
                texts[i],
                texts[best]
            );
        }
        for j in (0..texts.len()).filter(|&j| j != i) {
            let c = cosine(m.row(i), m.row(j));
            if theme(i) == theme(j) {
                within += c;
                nw += 1;
            } else {
                across += c;
                na += 1;
            }
        }
    }
    let (within, across) = (within / nw as f32, across / na as f32);
    assert!(within > across + 0.03, "within {within}, across {across}");

    // Batch company does not change a text's embedding.
    let one = enc.encode(&texts[..1]).unwrap();
    assert!(cosine(one.row(0), m.row(0)) > 0.99999);
}
