//! Fuzz target for the model loader (`topic_engine::io::from_files`, what `io::load` runs on the
//! bytes of `config.json` + `model.safetensors`).
//!
//! Input layout: a little-endian `u32` n, then n bytes of `config.json`, then the rest is
//! `model.safetensors` (a shorter input is one empty config). `make_corpus.sh` writes real model
//! files in this layout as seeds.
//!
//! Checked: loading never panics (a corrupt or hostile file is an error), and a model that loads
//! is written back byte-identically after one more round trip (save → load → save).
#![no_main]

use libfuzzer_sys::fuzz_target;
use topic_engine::io::{from_files, to_files};

fuzz_target!(|data: &[u8]| {
    let (config, tensors) = match data.get(..4) {
        Some(head) => {
            let n = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let rest = &data[4..];
            let n = n.min(rest.len());
            rest.split_at(n)
        }
        None => (data, &[][..]),
    };
    let Ok(model) = from_files(config, tensors) else { return };
    let files = to_files(&model).expect("a loaded model must serialise");
    let again = from_files(&files.config_json, &files.tensors).expect("own files must load");
    assert_eq!(again, model, "load(save(model)) != model");
    let files2 = to_files(&again).expect("serialise again");
    assert_eq!(files.config_json, files2.config_json, "config.json not stable");
    assert_eq!(files.tensors, files2.tensors, "model.safetensors not stable");
});
