#!/usr/bin/env bash
# Create the pinned Python venv used by the BERTopic side of the benchmarks and by
# /work/shared/tools/score.py (numpy + scikit-learn).
#
#   benches/python/setup_venv.sh [VENV_DIR]
#
# VENV_DIR defaults to $TOPICS_BENCH_VENV, else benches/.venv (gitignored). Every benchmark script
# reads the same TOPICS_BENCH_VENV, so `TOPICS_BENCH_VENV=/opt/venv` points them all at one venv.
#
# Installs the exact versions in requirements.txt, then bertopic==0.17.4 with --no-deps
# (no torch / sentence-transformers: every benchmark passes precomputed embeddings).
# Idempotent: re-running on an existing venv only installs what differs.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${1:-${TOPICS_BENCH_VENV:-$HERE/../.venv}}"
PYTHON="${PYTHON:-python3}"
BERTOPIC_VERSION="0.17.4"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating venv at $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$HERE/requirements.txt"
"$VENV/bin/python" -m pip install --quiet --no-deps "bertopic==$BERTOPIC_VERSION"

# Fail loudly here rather than in the middle of a benchmark.
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
from bertopic import BERTopic  # noqa: F401
import hdbscan, numpy, sklearn, umap  # noqa: F401,E401
for name in ("bertopic", "umap-learn", "hdbscan", "numba", "numpy", "scikit-learn", "pandas"):
    print(f"{name}=={md.version(name)}")
PY
# bertopic declares plotly and sentence-transformers as hard requirements; both are deliberately
# absent (see requirements.txt), so pip check reports exactly those two and nothing else.
"$VENV/bin/python" -m pip check | grep -v -e "requires plotly" -e "requires sentence-transformers" || true
echo "venv ready: $VENV"
