#!/usr/bin/env bash
# Issue 21's text-handling benchmark: keyword quality and clustering quality of `topics fit` on a
# labelled French support set, before (BERTopic's English preprocessing) and after (the
# language-aware text handling), and CLINC150 quality with language = auto vs compat.
#
#   benches/french_keywords.sh [options]
#
# Options:
#   --docs F        labelled JSONL ("text", "label"; default benches/data/french-support.jsonl,
#                   written by benches/python/make_french_support.py)
#   --lang L        the corpus language for the stop-word yardstick (default fr)
#   --encoder DIR   local encoder for the French set (default ./models/all-MiniLM-L6-v2)
#   --min-topic-size N   (default 10)
#   --skip-clinc    only the French set
#   --out DIR       results directory (default benches/out/french-<UTC timestamp>)
#
# Settings (`topics fit` flags):
#   legacy  --bertopic-compat --no-small-talk --no-mask   exactly topicd before issue 21
#   compat  --bertopic-compat                             BERTopic's tokens, small talk + masking on
#   auto    (defaults)                                    language per document, small talk, masking
#   fixed   --language L                                  every document in L
#
# Environment: TOPICS_BIN (default $CARGO_TARGET_DIR/release/topics, else target/release/topics;
# quality does not depend on the build profile), TOPICS_BENCH_VENV (needs numpy, scikit-learn and
# stop-words: benches/python/setup_venv.sh), TOPICD_DATASETS, TOPICS_SCORE (as compare_fit.sh).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

DOCS="$ROOT/benches/data/french-support.jsonl"
LANG_CODE=fr
ENCODER="$ROOT/models/all-MiniLM-L6-v2"
MIN_TOPIC_SIZE=10
SKIP_CLINC=0
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --docs) DOCS="$2"; shift 2 ;;
        --lang) LANG_CODE="$2"; shift 2 ;;
        --encoder) ENCODER="$2"; shift 2 ;;
        --min-topic-size) MIN_TOPIC_SIZE="$2"; shift 2 ;;
        --skip-clinc) SKIP_CLINC=1; shift ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=lib.sh
. "$HERE/lib.sh"

TOPICS="${TOPICS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/topics}"
[ -x "$TOPICS" ] || die "no topics binary at $TOPICS: run 'cargo build --release -p topics' (or set TOPICS_BIN)"
VENV="${TOPICS_BENCH_VENV:-$ROOT/benches/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    "$HERE/python/setup_venv.sh" "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -c 'import sklearn, stop_words' 2>/dev/null \
    || die "$VENV lacks scikit-learn or stop-words: rerun benches/python/setup_venv.sh $VENV"
[ -f "$DOCS" ] || die "no $DOCS: run benches/python/make_french_support.py"
for f in config.json tokenizer.json model.safetensors; do
    [ -s "$ENCODER/$f" ] || die "no $ENCODER/$f: run scripts/fetch-model.sh (or pass --encoder)"
done
if [ "$SKIP_CLINC" = 0 ]; then
    DATASETS="$(find_datasets)"
    SCORE="${TOPICS_SCORE:-$(dirname "$DATASETS")/tools/score.py}"
else
    SCORE="${TOPICS_SCORE:-${TOPICD_DATASETS:-$ROOT/../shared/datasets}/../tools/score.py}"
fi
[ -f "$SCORE" ] || die "score.py not found at $SCORE (set TOPICS_SCORE)"

OUT="${OUT:-$ROOT/benches/out/french-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
bench_machine_info > "$OUT/machine.txt"
echo "topics: $TOPICS" >> "$OUT/machine.txt"
echo "encoder: $ENCODER" >> "$OUT/machine.txt"
echo "results in $OUT"

flags_of() {
    case "$1" in
        legacy) echo "--bertopic-compat --no-small-talk --no-mask" ;;
        compat) echo "--bertopic-compat" ;;
        auto) echo "" ;;
        auto-no-small-talk) echo "--no-small-talk" ;;
        fixed) echo "--language $LANG_CODE" ;;
        *) die "unknown setting $1" ;;
    esac
}

# fit_and_score NAME SETTING DOCS EMBEDDINGS [extra topics-fit flags...]
fit_and_score() {
    local name="$1" setting="$2" docs="$3" emb="$4"
    shift 4
    # shellcheck disable=SC2046
    "$TOPICS" fit --docs "$docs" --embeddings "$emb" --out "$OUT/model-$name" \
        --assignments "$OUT/a-$name.json" --min-topic-size "$MIN_TOPIC_SIZE" --seed 42 \
        --day 2026-12-07 $(flags_of "$setting") "$@" > "$OUT/fit-$name.txt" 2> "$OUT/fit-$name.err"
}

# --- the French set -------------------------------------------------------------------------
echo "embedding $DOCS with $ENCODER"
"$TOPICS" embed --docs "$DOCS" --out "$OUT/french.npy" --provider local --model "$ENCODER" \
    --device cpu > "$OUT/embed.txt" 2>&1

{
    echo "| setting | topics | outliers | small talk | NMI | ARI | top-10 keywords | stop words | greetings | mangled (accents stripped / glued elisions) |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$OUT/french.md"
for s in legacy compat auto fixed; do
    echo "fit: French set, $s"
    fit_and_score "fr-$s" "$s" "$DOCS" "$OUT/french.npy"
    "$PY" "$SCORE" "$OUT/a-fr-$s.json" "$DOCS" > "$OUT/score-fr-$s.json"
    "$PY" "$HERE/python/keyword_quality.py" "$OUT/a-fr-$s.json" "$DOCS" --lang "$LANG_CODE" \
        --json > "$OUT/keywords-fr-$s.json"
    "$PY" "$HERE/python/keyword_quality.py" "$OUT/a-fr-$s.json" "$DOCS" --lang "$LANG_CODE" \
        > "$OUT/keywords-fr-$s.txt"
    "$PY" - "$s" "$OUT/score-fr-$s.json" "$OUT/keywords-fr-$s.json" "$OUT/a-fr-$s.json" >> "$OUT/french.md" <<'EOF'
import json, sys
s, score, kw, a = sys.argv[1:]
sc = json.load(open(score)); k = json.load(open(kw)); asg = json.load(open(a))["assignments"]
small = sum(1 for x in asg if x == -2)
pct = lambda n: f"{n} ({100 * n / k['keywords']:.1f} %)" if k["keywords"] else "0"
print(f"| {s} | {sc['n_topics']} | {100 * sc['outlier_frac']:.1f} % | {small} | {sc['nmi_all']:.3f} | "
      f"{sc['ari_all']:.3f} | {k['keywords']} | {pct(k['stop_words'])} | {pct(k['greetings'])} | "
      f"{pct(k['mangled'])} ({k['accents_stripped']} / {k['glued_elisions']}) |")
EOF
done
cat "$OUT/french.md"

# --- CLINC150: language = auto vs compat -------------------------------------------------------
if [ "$SKIP_CLINC" = 0 ]; then
    {
        echo "| setting | topics | outliers | small talk | NMI (all) | ARI (all) |"
        echo "|---|---|---|---|---|---|"
    } > "$OUT/clinc.md"
    for s in legacy auto-no-small-talk auto; do
        echo "fit: CLINC150 22,500 in-scope docs, $s"
        fit_and_score "clinc-$s" "$s" "$DATASETS/clinc150/clinc150.jsonl" \
            "$DATASETS/clinc150/clinc150.npy" --limit 22500
        "$PY" "$SCORE" "$OUT/a-clinc-$s.json" > "$OUT/score-clinc-$s.json"
        "$PY" - "$s" "$OUT/score-clinc-$s.json" "$OUT/a-clinc-$s.json" >> "$OUT/clinc.md" <<'EOF'
import json, sys
s, score, a = sys.argv[1:]
sc = json.load(open(score)); asg = json.load(open(a))["assignments"]
small = sum(1 for x in asg if x == -2)
print(f"| {s} | {sc['n_topics']} | {100 * sc['outlier_frac']:.1f} % | {small} | "
      f"{sc['nmi_all']:.4f} | {sc['ari_all']:.4f} |")
EOF
    done
    cat "$OUT/clinc.md"
fi
echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
