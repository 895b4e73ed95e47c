#!/usr/bin/env bash
# Builds the Banking77 benchmark dataset next to its committed sources:
#
#   benches/datasets/prepare_banking77.sh
#
# 1. python/prepare_banking77.py: train.csv.gz + test.csv.gz (checked by SHA-256) ->
#    banking77/banking77.jsonl, CLINC150's layout (i, text, label, split, oos).
# 2. `topics embed` with the local all-MiniLM-L6-v2 encoder (the project's own, on the CPU) ->
#    banking77/banking77.npy, float32 [13083, 384], L2-normalised, in JSONL order.
#
# Both outputs are gitignored. Environment:
#   TOPICD_MODEL_DIR   the encoder weights (default models/all-MiniLM-L6-v2 in the repository)
#   TOPICS_BIN         the `topics` CLI (default: built here with --profile profiling)
#   TOPICS_BENCH_VENV  Python venv (default benches/.venv; created when missing)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib.sh
. "$ROOT/benches/lib.sh"

DIR="$HERE/banking77"
MODEL="${TOPICD_MODEL_DIR:-$ROOT/models/all-MiniLM-L6-v2}"
[ -f "$MODEL/model.safetensors" ] || die "no encoder weights in $MODEL (set TOPICD_MODEL_DIR)"
VENV="${TOPICS_BENCH_VENV:-$ROOT/benches/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    "$ROOT/benches/python/setup_venv.sh" "$VENV"
fi
if [ -z "${TOPICS_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --profile profiling -p topics --bin topics)
    TOPICS_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/profiling/topics"
fi

"$VENV/bin/python" "$ROOT/benches/python/prepare_banking77.py" --src "$DIR" --out "$DIR/banking77.jsonl"
"$TOPICS_BIN" embed --docs "$DIR/banking77.jsonl" --out "$DIR/banking77.npy" --provider local \
    --model "$MODEL" --device cpu
