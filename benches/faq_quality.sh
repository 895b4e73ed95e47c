#!/usr/bin/env bash
# FAQ quality benchmark (issue 29): a tenant's FAQ after 3 nights of the nightly path, scored
# against the intent labels of CLINC150 or Banking77.
#
#   benches/faq_quality.sh [--dataset clinc150|banking77] [--days 3] [--seed 42]
#                          [--port 50171] [--http-port 50172] [--out DIR]
#
# 1. python/faq_days.py: the dataset's in-scope messages, seeded, spread over --days days of one
#    tenant, as `topics nightly --jsonl` input with their reference embeddings.
# 2. A fresh `topicd` (SQLite + local model store, keyword labels: the canonical question is the
#    most central example, tidied) and `topics nightly` once per day (Fit + Merge).
# 3. `topics faq --format json`; every message tagged with the final model (HTTP transform);
#    questions and examples embedded with the local encoder (`topics embed`).
# 4. python/faq_quality.py score: (a) % of examples in the topic's majority intent, (b) % of
#    questions nearest to their majority intent's centroid, (c) near-duplicate examples within an
#    entry, (d) near-duplicate question pairs, over entries of topics with >= 20 messages.
#
# Environment: TOPICD_BIN, TOPICS_BIN (default $CARGO_TARGET_DIR/debug/{topicd,topics}, the
# workspace's optimised dev profile), PYTHON (with numpy), TOPICD_DATASETS (directory holding
# clinc150/), TOPICD_MODEL_DIR (all-MiniLM-L6-v2 weights; default models/all-MiniLM-L6-v2).
# Banking77 must have been prepared (benches/datasets/prepare_banking77.sh).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DATASET=clinc150
DAYS=3
SEED=42
PORT=50171
HTTP_PORT=50172
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dataset) DATASET="$2"; shift 2 ;;
        --days) DAYS="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --http-port) HTTP_PORT="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
# shellcheck source=benches/lib.sh
. "$HERE/lib.sh"

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
TOPICD="${TOPICD_BIN:-$TARGET/debug/topicd}"
TOPICS="${TOPICS_BIN:-$TARGET/debug/topics}"
PY="${PYTHON:-python3}"
MODEL="${TOPICD_MODEL_DIR:-$ROOT/models/all-MiniLM-L6-v2}"
[ -x "$TOPICD" ] || die "no topicd at $TOPICD (cargo build -p topicd, or set TOPICD_BIN)"
[ -x "$TOPICS" ] || die "no topics at $TOPICS (cargo build -p topics, or set TOPICS_BIN)"
[ -f "$MODEL/model.safetensors" ] || die "no encoder weights in $MODEL (set TOPICD_MODEL_DIR)"
case "$DATASET" in
    clinc150)
        DATASETS="$(find_datasets)"
        DOCS="$DATASETS/clinc150/clinc150.jsonl"
        EMB="$DATASETS/clinc150/clinc150.npy"
        ;;
    banking77)
        DOCS="$ROOT/benches/datasets/banking77/banking77.jsonl"
        EMB="$ROOT/benches/datasets/banking77/banking77.npy"
        [ -f "$EMB" ] || die "Banking77 not prepared: run benches/datasets/prepare_banking77.sh"
        ;;
    *) die "unknown --dataset $DATASET (clinc150 or banking77)" ;;
esac
OUT="${OUT:-$ROOT/benches/out/faq-$DATASET-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
rm -rf "$OUT/data"
TENANT="faq-$DATASET"
START=2026-11-23
{
    bench_machine_info
    echo "args: dataset=$DATASET days=$DAYS seed=$SEED"
} | tee "$OUT/machine.txt"

"$PY" "$HERE/python/faq_days.py" --docs "$DOCS" --embeddings "$EMB" --out "$OUT/days.jsonl" \
    --tenant "$TENANT" --start "$START" --days "$DAYS" --seed "$SEED"

TOPICD_RATE_PER_SECOND=0 RUST_LOG="${RUST_LOG:-warn}" "$TOPICD" --listen "127.0.0.1:$PORT" \
    --http-listen "127.0.0.1:$HTTP_PORT" --data-dir "$OUT/data" --no-metrics \
    > "$OUT/topicd.log" 2>&1 &
SERVER_PID=$!
trap stop_topicd EXIT
for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$OUT/topicd.log"; die "topicd exited at start"; }
    sleep 0.2
done

SERVER="http://127.0.0.1:$PORT"
for d in $(seq 0 $((DAYS - 1))); do
    day="$(date -u -d "$START + $d day" +%Y-%m-%d)"
    next="$(date -u -d "$START + $((d + 1)) day" +%Y-%m-%d)"
    echo "night $((d + 1)): $day"
    RUST_LOG="${RUST_LOG:-warn}" "$TOPICS" --server "$SERVER" nightly --jsonl "$OUT/days.jsonl" \
        --since "$day" --until "$next" --deadline 2h --summary "$OUT/night-$((d + 1)).json"
done

"$TOPICS" --server "$SERVER" faq --tenant "$TENANT" --format json > "$OUT/faq.json"
"$TOPICS" --server "$SERVER" faq --tenant "$TENANT" --format markdown > "$OUT/faq.md"
"$PY" "$HERE/python/faq_quality.py" assign --http "http://127.0.0.1:$HTTP_PORT" \
    --tenant "$TENANT" --days-jsonl "$OUT/days.jsonl" --out "$OUT/assign.json"
"$PY" "$HERE/python/faq_quality.py" texts --faq "$OUT/faq.json" --out "$OUT/texts.jsonl"
"$TOPICS" embed --docs "$OUT/texts.jsonl" --out "$OUT/texts.npy" --provider local \
    --model "$MODEL" --device cpu
"$PY" "$HERE/python/faq_quality.py" score --docs "$DOCS" --embeddings "$EMB" \
    --faq "$OUT/faq.json" --assign "$OUT/assign.json" --text-embeddings "$OUT/texts.npy" \
    --out "$OUT/scores.json" | tee "$OUT/summary.json"
echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
echo "results: $OUT"
