//! Where the test data is: ONE locator for the whole workspace.
//!
//! - Datasets: `$TOPICD_DATASETS`, else `../shared/datasets` beside the repository root.
//! - Encoder weights: `$TOPICD_MODEL_DIR`, else `models/all-MiniLM-L6-v2` in the repository root
//!   (`scripts/fetch-model.sh` puts them there; `scripts/test.sh` runs it first).
//! - The optional multilingual encoder: `$TOPICD_MULTILINGUAL_MODEL_DIR`, else
//!   `models/multilingual-e5-small` (`scripts/fetch-multilingual-model.sh`). Not fetched by
//!   `scripts/test.sh` (a 90 MB download and a 470 MB file): its tests are skipped, saying so,
//!   without it.
//!
//! The functions panic with an actionable message when the data is missing: a test that needs
//! CLINC150 or the weights must fail, not pass as a no-op (CI has both).

use std::path::{Path, PathBuf};

/// Files the local encoder needs in its model directory.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The repository root (the workspace this crate belongs to).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The shared datasets folder: `$TOPICD_DATASETS`, else `<repo>/../shared/datasets`.
pub fn datasets_dir() -> PathBuf {
    match std::env::var_os("TOPICD_DATASETS") {
        Some(d) => PathBuf::from(d),
        None => repo_root().join("../shared/datasets"),
    }
}

/// The CLINC150 folder (`clinc150.jsonl`, `clinc150.npy`, `REFERENCE.md`), if it is there.
pub fn try_clinc150_dir() -> Option<PathBuf> {
    let dir = datasets_dir().join("clinc150");
    (dir.join("clinc150.jsonl").is_file() && dir.join("clinc150.npy").is_file()).then_some(dir)
}

/// The CLINC150 folder.
///
/// # Panics
/// When it is missing, with a message naming where it looked and how to point at it.
pub fn clinc150_dir() -> PathBuf {
    try_clinc150_dir().unwrap_or_else(|| {
        panic!(
            "CLINC150 not found in {} (expected clinc150.jsonl and clinc150.npy): set \
             TOPICD_DATASETS to the folder holding clinc150/",
            datasets_dir().join("clinc150").display()
        )
    })
}

/// The local encoder's weights folder, if all of [`MODEL_FILES`] are there.
pub fn try_model_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("TOPICD_MODEL_DIR") {
        Some(d) => PathBuf::from(d),
        None => repo_root().join("models/all-MiniLM-L6-v2"),
    };
    MODEL_FILES.iter().all(|f| dir.join(f).is_file()).then_some(dir)
}

/// The local encoder's weights folder.
///
/// # Panics
/// When the weights are missing, saying to run `scripts/fetch-model.sh`.
pub fn model_dir() -> PathBuf {
    try_model_dir().unwrap_or_else(|| {
        panic!(
            "encoder weights not found (need {} in $TOPICD_MODEL_DIR or models/all-MiniLM-L6-v2): \
             run scripts/fetch-model.sh",
            MODEL_FILES.join(", ")
        )
    })
}

/// The optional multilingual encoder's folder (`$TOPICD_MULTILINGUAL_MODEL_DIR`, else
/// `models/multilingual-e5-small`), if all of [`MODEL_FILES`] are there. Tests that need it skip
/// with [`MULTILINGUAL_MODEL_MISSING`] when it is not.
pub fn try_multilingual_model_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("TOPICD_MULTILINGUAL_MODEL_DIR") {
        Some(d) => PathBuf::from(d),
        None => repo_root().join("models/multilingual-e5-small"),
    };
    MODEL_FILES.iter().all(|f| dir.join(f).is_file()).then_some(dir)
}

/// What a test prints when it skips for want of the multilingual encoder.
pub const MULTILINGUAL_MODEL_MISSING: &str = "SKIPPED: no multilingual encoder (config.json, \
     tokenizer.json, model.safetensors) in $TOPICD_MULTILINGUAL_MODEL_DIR or \
     models/multilingual-e5-small; run scripts/fetch-multilingual-model.sh to run this test";
