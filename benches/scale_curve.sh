#!/usr/bin/env bash
# Issue 25: `topics fit` on N synthetic documents (perturbed CLINC150 embeddings,
# benches/python/make_synthetic.py), wall time, CPU time and peak RSS from /usr/bin/time -v, and
# NMI against the source intents (as ../shared/tools/score.py's nmi_all).
#
#   benches/scale_curve.sh [--sizes "250000 500000 1000000"] [--max-fit-documents 200000|none]
#                          [--data DIR] [--out DIR]
#
# --data DIR holds (or gets) DIR/<N>/synthetic.{npy,jsonl}. --max-fit-documents none fits every
# document (no sample). Needs TOPICS_BIN (default target/debug/topics) and a Python with numpy and
# scikit-learn (PYTHON, default python3).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SIZES="250000 500000 1000000"
MAX=200000
DATA="$ROOT/target/scale"
OUT="$ROOT/target/scale-out"
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES="$2"; shift 2 ;;
        --max-fit-documents) MAX="$2"; shift 2 ;;
        --data) DATA="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
PY="${PYTHON:-python3}"
TOPICS_BIN="${TOPICS_BIN:-$ROOT/target/debug/topics}"
mkdir -p "$OUT"
sample=()
[ "$MAX" = none ] || sample=(--max-fit-documents "$MAX")
echo "# scale curve — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(git -C "$ROOT" rev-parse --short HEAD), max_fit_documents $MAX"
echo "| documents | wall | CPU (user+sys) | peak RSS | topics | outliers | NMI (all) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
    d="$DATA/$n"
    [ -f "$d/synthetic.npy" ] || "$PY" "$HERE/python/make_synthetic.py" --n "$n" --out-dir "$d" >&2
    run="$OUT/$n-$MAX"
    /usr/bin/time -v "$TOPICS_BIN" fit --docs "$d/synthetic.jsonl" --embeddings "$d/synthetic.npy" \
        --out "$run.model" --assignments "$run.json" "${sample[@]}" >"$run.log" 2>"$run.time"
    wall=$(grep "Elapsed (wall" "$run.time" | awk '{print $NF}')
    cpu=$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.0f s", u+s}' "$run.time")
    rss=$(awk -F': ' '/Maximum resident/{printf "%.2f GB", $2/1048576}' "$run.time")
    # score.py's NMI (sklearn, outliers one class) without its NPMI pass over a million texts.
    read -r topics outl nmi < <("$PY" - "$run.json" "$d/synthetic.jsonl" <<'PY'
import json, sys
import numpy as np
from sklearn.metrics import normalized_mutual_info_score
a = np.asarray(json.load(open(sys.argv[1]))["assignments"])
labels = [json.loads(l)["label"] for l in open(sys.argv[2]) if l.strip()]
print(len(set(a.tolist()) - {-1, -2}), "%.1f%%" % (100 * np.mean(a == -1)), "%.3f" % normalized_mutual_info_score(labels, a))
PY
)
    echo "| $n | $wall | $cpu | $rss | $topics | $outl | $nmi |"
done
