#!/usr/bin/env bash
# Outlier policy (issue 30): outlier share and NMI with `outliers = keep` and with `reduce` at
# two thresholds, Fit and Transform agreement on every training document, and BERTopic's
# `reduce_outliers(strategy="embeddings")` at the same thresholds, in one run, on CLINC150 and
# Banking77 (the same texts and embeddings for both systems).
#
#   benches/outliers.sh [--thresholds "0.35 0.5"] [--out DIR] [--only clinc150|banking77] [--no-bertopic]
#
# topicd: `topics fit --bertopic-compat --no-small-talk --no-mask --seed 42 --outliers …` (BERTopic's
# exact input), then `topics transform` of the same documents with the fitted model (which uses
# the model's own threshold under `reduce`). benches/python/outliers_bench.py scores every run.
#
# Needs: ../shared/datasets/clinc150, benches/datasets/banking77/banking77.{jsonl,npy}
# (benches/datasets/prepare_banking77.sh), TOPICS_BIN (default target/debug/topics, built when
# missing) and the bench venv (TOPICS_BENCH_VENV, default benches/.venv).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
THRESHOLDS="0.35 0.5"
OUT="$ROOT/target/outliers"
ONLY=""
BERTOPIC=1
while [ $# -gt 0 ]; do
    case "$1" in
        --thresholds) THRESHOLDS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --no-bertopic) BERTOPIC=0; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
# shellcheck source=lib.sh
. "$HERE/lib.sh"
bench_venv_and_topics
DATASETS="$(find_datasets)"
mkdir -p "$OUT"

run_dataset() {
    local name="$1" docs="$2" emb="$3" dir="$OUT/$1"
    mkdir -p "$dir"
    local fit=("$TOPICS_BIN" fit --docs "$docs" --embeddings "$emb" --bertopic-compat
        --no-small-talk --no-mask --seed 42)
    local runs=()
    one() {
        local label="$1"; shift
        "${fit[@]}" "$@" --out "$dir/$label" --assignments "$dir/$label.fit.json" >"$dir/$label.log" 2>&1
        "$TOPICS_BIN" transform --model "$dir/$label" --docs "$docs" --embeddings "$emb" \
            --out "$dir/$label.transform.json" >>"$dir/$label.log" 2>&1
        runs+=("$label=$dir/$label.fit.json:$dir/$label.transform.json")
    }
    one keep --outliers keep
    for t in $THRESHOLDS; do
        one "reduce-$t" --outliers reduce --outlier-threshold "$t"
    done
    echo "## $name ($(wc -l <"$docs") documents)"
    local bt=()
    [ "$BERTOPIC" = 1 ] && bt=(--bertopic-thresholds $THRESHOLDS)
    "$VENV/bin/python" "$HERE/python/outliers_bench.py" --docs "$docs" --embeddings "$emb" \
        --topicd "${runs[@]}" "${bt[@]}" --out "$dir/results.json"
}

echo "# outlier policy — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(git -C "$ROOT" rev-parse --short HEAD)"
[ "$ONLY" = banking77 ] || run_dataset clinc150 "$DATASETS/clinc150/clinc150.jsonl" "$DATASETS/clinc150/clinc150.npy"
[ "$ONLY" = clinc150 ] || run_dataset banking77 "$HERE/datasets/banking77/banking77.jsonl" "$HERE/datasets/banking77/banking77.npy"
