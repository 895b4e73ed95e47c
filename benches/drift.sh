#!/usr/bin/env bash
# 7-day drift simulation, topic-engine and Python BERTopic side by side (issue 4's acceptance).
#
#   benches/drift.sh [--dataset clinc150|banking77] [--seed 42] [--min-similarity 0.7]
#                    [--skip-python] [--skip-rust] [--rust-args "..."] [--out DIR]
#
# Datasets: clinc150 (default; 22,500 in-scope docs, 150 intents, from TOPICD_DATASETS) or
# banking77 (13,083 docs, 77 intents; benches/datasets/banking77/, embedded on first use by
# benches/datasets/prepare_banking77.sh with the local all-MiniLM-L6-v2 encoder).
#
# 1. python/drift_split.py: seeded split of the dataset's in-scope docs over 7 days; 10 intents
#    only on days 1–3, 10 only on days 4–7, the others every day.
# 2. Rust (src/bin/drift.rs): topic_engine::fit per day on the reference embeddings (default
#    FitParams, the seed), topic_engine::merge::merge nightly, transform of every doc after day 7.
# 3. Python (python/drift_bertopic.py): BERTopic 0.17.4 fit per day on the same embeddings
#    (REFERENCE.md settings, min_topic_size 10), BERTopic.merge_models([merged, day],
#    min_similarity) nightly, transform after day 7.
# 4. python/drift_table.py scores both the same way and prints a markdown table (also written to
#    OUT/summary.md; per-intent detail in OUT/scores.json).
#
# Environment:
#   DRIFT_BIN          the drift binary (default: built here with
#                      `cargo build --profile profiling -p topic-benches --bin drift`)
#   TOPICS_BENCH_VENV  Python venv (default benches/.venv; created by python/setup_venv.sh when missing)
#   TOPICD_DATASETS    directory holding clinc150/ (default: shared/datasets above the repo)
#   TOPICD_MODEL_DIR   the all-MiniLM-L6-v2 weights, only to embed banking77 the first time
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

DATASET=clinc150
SEED=42
MIN_SIM=0.7
SKIP_PY=0
SKIP_RUST=0
RUST_ARGS=""
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dataset) DATASET="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --min-similarity) MIN_SIM="$2"; shift 2 ;;
        --skip-python) SKIP_PY=1; shift ;;
        --skip-rust) SKIP_RUST=1; shift ;;
        --rust-args) RUST_ARGS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=lib.sh
. "$HERE/lib.sh"

DATASETS="$(find_datasets)"
export TOPICD_DATASETS="$DATASETS"
case "$DATASET" in
    clinc150)
        DOCS="$DATASETS/clinc150/clinc150.jsonl"
        EMB="$DATASETS/clinc150/clinc150.npy"
        DATA_ARGS=()
        ;;
    banking77)
        DOCS="$ROOT/benches/datasets/banking77/banking77.jsonl"
        EMB="$ROOT/benches/datasets/banking77/banking77.npy"
        if [ ! -f "$DOCS" ] || [ ! -f "$EMB" ]; then
            "$ROOT/benches/datasets/prepare_banking77.sh"
        fi
        DATA_ARGS=(--docs "$DOCS" --embeddings "$EMB")
        ;;
    *) die "unknown --dataset $DATASET (clinc150 or banking77)" ;;
esac
VENV="${TOPICS_BENCH_VENV:-$ROOT/benches/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    "$HERE/python/setup_venv.sh" "$VENV"
fi
PY="$VENV/bin/python"

if [ "$SKIP_RUST" = 0 ]; then
    if [ -z "${DRIFT_BIN:-}" ]; then
        (cd "$ROOT" && cargo build --profile profiling -p topic-benches --bin drift)
        DRIFT_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/profiling/drift"
    fi
    [ -x "$DRIFT_BIN" ] || die "no drift binary at $DRIFT_BIN"
fi

OUT="${OUT:-$ROOT/benches/out/drift-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
echo "results: $OUT"
{
    bench_machine_info
    echo "dataset: $DATASET, seed: $SEED, min_similarity: $MIN_SIM"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"

"$PY" "$HERE/python/drift_split.py" --docs "$DOCS" --out "$OUT/split.json" --seed "$SEED"

RESULTS=()
if [ "$SKIP_RUST" = 0 ]; then
    echo "== topic-engine"
    # shellcheck disable=SC2086
    "$DRIFT_BIN" --split "$OUT/split.json" --out "$OUT/rust.json" --seed "$SEED" \
        --min-similarity "$MIN_SIM" "${DATA_ARGS[@]}" $RUST_ARGS 2> >(tee "$OUT/rust.log" >&2)
    echo "loadavg_after_rust: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
    RESULTS+=("$OUT/rust.json")
fi
if [ "$SKIP_PY" = 0 ]; then
    echo "== BERTopic"
    "$PY" "$HERE/python/drift_bertopic.py" --docs "$DOCS" --embeddings "$EMB" --split "$OUT/split.json" \
        --out "$OUT/bertopic.json" --seed "$SEED" --min-similarity "$MIN_SIM" 2> >(tee "$OUT/bertopic.log" >&2)
    RESULTS+=("$OUT/bertopic.json")
fi
echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

"$PY" "$HERE/python/drift_table.py" --split "$OUT/split.json" --json "$OUT/scores.json" "${RESULTS[@]}" \
    | tee "$OUT/summary.md"
