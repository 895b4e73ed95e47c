#!/usr/bin/env bash
# Defined topics (issue 30) side by side with BERTopic's zero-shot topic modeling, one run, on
# CLINC150 and Banking77: the same texts, the same document embeddings, the same 10 intent names
# (embedded once by the local encoder, `topics embed`, and given to both).
#
#   benches/defined_topics.sh [--thresholds "0.5 0.55 ..."] [--bertopic "0.7 0.6 0.5"] [--out DIR]
#                             [--only clinc150|banking77]
#
# topicd: `topics fit --bertopic-compat --no-small-talk --no-mask` (BERTopic's exact input)
# without defined topics, then with `--defined` at every threshold of the sweep. BERTopic:
# BERTopic(zeroshot_topic_list=names, zeroshot_min_similarity=T) with the REFERENCE.md UMAP /
# HDBSCAN settings (seed 42). benches/python/zeroshot_bertopic.py scores every run: precision
# and recall of the defined topics' members against the true intents, NMI over all documents.
#
# Needs: ../shared/datasets/clinc150, benches/datasets/banking77/banking77.{jsonl,npy}
# (benches/datasets/prepare_banking77.sh), the encoder weights ($TOPICD_MODEL_DIR, default
# models/all-MiniLM-L6-v2), TOPICS_BIN (default target/debug/topics, built when missing) and the
# bench venv (TOPICS_BENCH_VENV, default benches/.venv).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
THRESHOLDS="0.5 0.55 0.6 0.65 0.7"
BERTOPIC="0.7 0.6 0.5"
OUT="$ROOT/target/defined-topics"
ONLY=""
while [ $# -gt 0 ]; do
    case "$1" in
        --thresholds) THRESHOLDS="$2"; shift 2 ;;
        --bertopic) BERTOPIC="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
MODEL="${TOPICD_MODEL_DIR:-$ROOT/models/all-MiniLM-L6-v2}"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
bench_venv_and_topics
DATASETS="$(find_datasets)"
mkdir -p "$OUT"

run_dataset() {
    local name="$1" docs="$2" emb="$3" dir="$OUT/$1"
    mkdir -p "$dir"
    # 10 intents spread over the sorted label list (every len/10-th), out-of-scope excluded.
    "$VENV/bin/python" - "$docs" "$dir" <<'PY'
import json, sys
from pathlib import Path
docs, out = Path(sys.argv[1]), Path(sys.argv[2])
labels = sorted({json.loads(l)["label"] for l in docs.read_text().splitlines() if l.strip()} - {"oos"})
step = len(labels) // 10
intents = [labels[i * step] for i in range(10)]
names = [i.replace("_", " ") for i in intents]
(out / "names.json").write_text(json.dumps({"intents": intents, "names": names}))
(out / "defined.jsonl").write_text("".join(json.dumps({"name": n}) + "\n" for n in names))
(out / "names.jsonl").write_text("".join(json.dumps({"text": n}) + "\n" for n in names))
print(f"{out.name}: defined topics {names}", file=sys.stderr)
PY
    "$TOPICS_BIN" embed --docs "$dir/names.jsonl" --out "$dir/names.npy" --provider local \
        --model "$MODEL" --device cpu >/dev/null
    local fit=("$TOPICS_BIN" fit --docs "$docs" --embeddings "$emb" --bertopic-compat
        --no-small-talk --no-mask --encoder "$MODEL" --device cpu --seed 42)
    "${fit[@]}" --out "$dir/none" --assignments "$dir/none.json" >"$dir/none.log"
    local runs=("without=$dir/none.json")
    for t in $THRESHOLDS; do
        "${fit[@]}" --defined "$dir/defined.jsonl" --defined-min-similarity "$t" \
            --out "$dir/t$t" --assignments "$dir/t$t.json" >"$dir/t$t.log" 2>&1
        runs+=("defined_min_similarity=$t=$dir/t$t.json")
    done
    echo "## $name ($(wc -l <"$docs") documents)"
    # shellcheck disable=SC2086
    "$VENV/bin/python" "$HERE/python/zeroshot_bertopic.py" --docs "$docs" --embeddings "$emb" \
        --names "$dir/names.json" --name-embeddings "$dir/names.npy" \
        --topicd "${runs[@]}" --bertopic-thresholds $BERTOPIC --out "$dir/results.json"
}

echo "# defined topics vs BERTopic zero-shot — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs"
[ "$ONLY" = banking77 ] || run_dataset clinc150 "$DATASETS/clinc150/clinc150.jsonl" "$DATASETS/clinc150/clinc150.npy"
[ "$ONLY" = clinc150 ] || run_dataset banking77 "$HERE/datasets/banking77/banking77.jsonl" "$HERE/datasets/banking77/banking77.npy"
