#!/usr/bin/env bash
# Side-by-side fit benchmark: `topics fit` (release build of topic-engine) and Python BERTopic
# 0.17.4 on the same precomputed embeddings, in one run on the same machine; both scored by
# score.py; prints (and writes) a table of quality, time per stage, peak RSS and the speed ratio.
#
#   benches/compare_fit.sh [options]
#
# Options:
#   --n N                 first N docs (default 22500: CLINC150's in-scope docs)
#   --synthetic N         instead: N perturbed copies of the CLINC150 embeddings
#                         (benches/python/make_synthetic.py, seeded), scored against their copied labels
#   --docs F --embeddings F   other input (JSONL with "text" [+ "label"], float32 [n, d] .npy)
#   --settings "none auto"    nr_topics settings to run (default "none auto")
#   --python-umap "seeded unseeded"   BERTopic UMAP configurations (default both; see bertopic_fit.py)
#   --fits K              BERTopic fits per process (default 3: first = cold incl. numba JIT, then warm)
#   --rust-runs R         `topics fit` runs per setting (default 3; the median is reported)
#   --skip-python / --skip-rust
#   --out DIR             results directory (default benches/out/compare-<UTC timestamp>)
#
# Environment:
#   TOPICS_BIN         the `topics` binary (default: $CARGO_TARGET_DIR/release/topics, else
#                      target/release/topics). Build it with `cargo build --release -p topics`.
#   TOPICS_BENCH_VENV  Python venv (default benches/.venv; created by benches/python/setup_venv.sh
#                      when missing)
#   TOPICD_DATASETS    directory holding clinc150/ (default: shared/datasets above the repo)
#   TOPICS_SCORE       score.py (default: tools/score.py next to the datasets directory)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

N=22500
SYNTH=""
DOCS=""
EMB=""
SETTINGS="none auto"
PY_UMAP="seeded unseeded"
FITS=3
RUST_RUNS=3
SKIP_PY=0
SKIP_RUST=0
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --n) N="$2"; shift 2 ;;
        --synthetic) SYNTH="$2"; shift 2 ;;
        --docs) DOCS="$2"; shift 2 ;;
        --embeddings) EMB="$2"; shift 2 ;;
        --settings) SETTINGS="$2"; shift 2 ;;
        --python-umap) PY_UMAP="$2"; shift 2 ;;
        --fits) FITS="$2"; shift 2 ;;
        --rust-runs) RUST_RUNS="$2"; shift 2 ;;
        --skip-python) SKIP_PY=1; shift ;;
        --skip-rust) SKIP_RUST=1; shift ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=lib.sh
. "$HERE/lib.sh"

# --- locate things --------------------------------------------------------------------------
DATASETS="$(find_datasets)"
SCORE="${TOPICS_SCORE:-$(dirname "$DATASETS")/tools/score.py}"
[ -f "$SCORE" ] || die "score.py not found at $SCORE (set TOPICS_SCORE)"
VENV="${TOPICS_BENCH_VENV:-$ROOT/benches/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    "$HERE/python/setup_venv.sh" "$VENV"
fi
PY="$VENV/bin/python"
if [ "$SKIP_RUST" = 0 ]; then
    TOPICS="${TOPICS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/topics}"
    [ -x "$TOPICS" ] || die "no topics binary at $TOPICS: run 'cargo build --release -p topics' (or set TOPICS_BIN)"
fi
TIME=/usr/bin/time
[ -x "$TIME" ] || die "/usr/bin/time (GNU time) is needed for peak RSS"

OUT="${OUT:-$ROOT/benches/out/compare-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT/input"
echo "results: $OUT"

# --- machine --------------------------------------------------------------------------------
{
    echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cores: $(nproc)"
    echo "mem_total: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "kernel: $(uname -r)"
    [ "$SKIP_RUST" = 0 ] && echo "topics: $TOPICS ($("$TOPICS" --version 2>/dev/null || echo '?'))"
    echo "git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"

# --- input ----------------------------------------------------------------------------------
if [ -n "$SYNTH" ]; then
    "$PY" "$HERE/python/make_synthetic.py" --n "$SYNTH" --out-dir "$OUT/input" \
        --docs "$DATASETS/clinc150/clinc150.jsonl" --embeddings "$DATASETS/clinc150/clinc150.npy"
    DOCS_IN="$OUT/input/synthetic.jsonl"; EMB_IN="$OUT/input/synthetic.npy"; SCORE_DATASET="$DOCS_IN"
    N="$SYNTH"
else
    DOCS="${DOCS:-$DATASETS/clinc150/clinc150.jsonl}"
    EMB="${EMB:-$DATASETS/clinc150/clinc150.npy}"
    # `topics fit` takes whole files: cut the first N rows of both.
    "$PY" - "$DOCS" "$EMB" "$N" "$OUT/input" <<'PY'
import sys, numpy as np
docs, emb, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
e = np.load(emb, mmap_mode="r")
if e.shape[0] < n:
    sys.exit(f"error: {emb} has {e.shape[0]} rows, asked for {n}")
np.save(f"{out}/docs.npy", np.ascontiguousarray(e[:n], dtype=np.float32))
with open(docs) as fi, open(f"{out}/docs.jsonl", "w") as fo:
    for i, line in enumerate(fi):
        if i >= n:
            break
        fo.write(line)
PY
    DOCS_IN="$OUT/input/docs.jsonl"; EMB_IN="$OUT/input/docs.npy"
    # score.py scores against the "label" (and "oos") fields of exactly these rows.
    SCORE_DATASET="$DOCS_IN"
fi
echo "input: $N docs ($DOCS_IN, $EMB_IN)"

score() { # assignments.json -> score.json
    "$PY" "$SCORE" "$1" "$SCORE_DATASET" > "$2" || echo '{"error": "score.py failed"}' > "$2"
}

# --- runs -----------------------------------------------------------------------------------
for S in $SETTINGS; do
    if [ "$SKIP_RUST" = 0 ]; then
        D="$OUT/rust-$S"; mkdir -p "$D"
        for r in $(seq 1 "$RUST_RUNS"); do
            echo "== rust nr_topics=$S run $r/$RUST_RUNS"
            rm -rf "$D/model"
            # BERTopic's preprocessing on every document (no small-talk filter, no masking), so
            # both systems fit the same input with the same vectorizer.
            "$TIME" -v -o "$D/run$r.time" "$TOPICS" fit --docs "$DOCS_IN" --embeddings "$EMB_IN" \
                --out "$D/model" --assignments "$D/assignments$r.json" --nr-topics "$S" --seed 42 \
                --bertopic-compat --no-small-talk --no-mask \
                > "$D/run$r.stdout" 2> "$D/run$r.stderr" || { tail -5 "$D/run$r.stderr"; die "topics fit failed ($D)"; }
            grep -iE "knn|umap|hdbscan|tf-?idf|reduc|total" "$D/run$r.stdout" | head -8 || true
        done
        cp "$D/assignments1.json" "$D/assignments.json"
        score "$D/assignments.json" "$D/score.json"
    fi
    if [ "$SKIP_PY" = 0 ]; then
        for U in $PY_UMAP; do
            D="$OUT/py-$U-$S"; mkdir -p "$D"
            echo "== bertopic nr_topics=$S umap=$U ($FITS fits in one process)"
            "$TIME" -v -o "$D/run.time" "$PY" "$HERE/python/bertopic_fit.py" --docs "$DOCS_IN" \
                --embeddings "$EMB_IN" --nr-topics "$S" --umap "$U" --seed 42 --fits "$FITS" \
                --assignments "$D/assignments.json" --report "$D/report.json" 2> "$D/run.stderr" \
                || { tail -5 "$D/run.stderr"; die "bertopic_fit.py failed ($D)"; }
            grep "fit \|peak" "$D/run.stderr" || true
            score "$D/assignments.json" "$D/score.json"
        done
    fi
done
echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

"$PY" "$HERE/python/compare_table.py" "$OUT" | tee "$OUT/summary.md"
