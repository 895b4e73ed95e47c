#!/usr/bin/env bash
# Knowledge gaps (issue 29): is "covered by an article" vs "gap" right for the FAQ's entries?
#
#   benches/faq_gaps.sh [--seed 42] [--days 3] [--out DIR] [--threshold T]
#
# For CLINC150 (TOPICD_DATASETS) and Banking77 (benches/datasets/banking77/, embedded on first
# use by benches/datasets/prepare_banking77.sh):
# 1. src/bin/faq_gaps.rs: the in-scope docs with their reference embeddings, dealt over --days
#    nights, fitted and merged nightly by topic-engine (default parameters, the seed); topics
#    with >= 20 documents are the FAQ entries, each with its documents' majority intent.
#    Articles: half of the intents (seeded), titled by the intent's name humanised
#    ("card_arrival" -> "Card arrival"), embedded by the local all-MiniLM-L6-v2 encoder. The best
#    article per entry by topic_engine::coverage::best_articles (the server's coverage function),
#    for the topic embedding and for the most central member (the canonical question without
#    an LLM).
# 2. python/faq_gaps_table.py (standard library only): the threshold sweep, the threshold that
#    maximises the smaller accuracy of the two datasets, and accuracy, precision and recall of
#    "gap" at --threshold (default: that one). Also written to OUT/summary.md.
#
# Environment:
#   FAQ_GAPS_BIN       the faq_gaps binary (default: built here with
#                      `cargo build --profile profiling -p topic-benches --bin faq_gaps`)
#   TOPICD_MODEL_DIR   the all-MiniLM-L6-v2 weights (default models/all-MiniLM-L6-v2)
#   TOPICD_DATASETS    directory holding clinc150/ (default: shared/datasets above the repo)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

SEED=42
DAYS=3
OUT=""
THRESHOLD=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seed) SEED="$2"; shift 2 ;;
        --days) DAYS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --threshold) THRESHOLD=(--threshold "$2"); shift 2 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=lib.sh
. "$HERE/lib.sh"

DATASETS="$(find_datasets)"
export TOPICD_DATASETS="$DATASETS"
MODEL="${TOPICD_MODEL_DIR:-$ROOT/models/all-MiniLM-L6-v2}"
[ -f "$MODEL/model.safetensors" ] || die "no encoder weights in $MODEL (set TOPICD_MODEL_DIR)"
OUT="${OUT:-$ROOT/benches/out/faq-gaps-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
if [ -z "${FAQ_GAPS_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --profile profiling -p topic-benches --bin faq_gaps)
    FAQ_GAPS_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/profiling/faq_gaps"
fi
B77="$ROOT/benches/datasets/banking77"
if [ ! -f "$B77/banking77.jsonl" ] || [ ! -f "$B77/banking77.npy" ]; then
    "$ROOT/benches/datasets/prepare_banking77.sh"
fi
bench_machine_info > "$OUT/machine.txt"

"$FAQ_GAPS_BIN" --out "$OUT/clinc150.json" --name clinc150 --encoder "$MODEL" \
    --days "$DAYS" --seed "$SEED"
"$FAQ_GAPS_BIN" --out "$OUT/banking77.json" --name banking77 --encoder "$MODEL" \
    --docs "$B77/banking77.jsonl" --embeddings "$B77/banking77.npy" --days "$DAYS" --seed "$SEED"
python3 "$HERE/python/faq_gaps_table.py" "$OUT/clinc150.json" "$OUT/banking77.json" \
    "${THRESHOLD[@]}" --json "$OUT/summary.json" | tee "$OUT/summary.md"
