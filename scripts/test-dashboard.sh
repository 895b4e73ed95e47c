#!/usr/bin/env bash
# The web dashboard's browser test (dashboard/tests/browser): headless Chromium, driven by
# Playwright for Python, loads the dashboard of a real topicd after a 3-day nightly run of the
# demo data and checks what it shows; then the offline report of `topics report`.
#
# Chromium is Debian's package (/usr/bin/chromium, installed here when missing); Playwright is
# the PyPI package, used with that browser (no browser download). The local encoder's weights
# come from scripts/fetch-model.sh.
#
#   TOPICD_BIN / TOPICS_BIN     use these binaries instead of building them
#   CHROMIUM=path               another Chromium
#   DASHBOARD_SCREENSHOTS=docs  refresh docs/dashboard.png and docs/report.png (default:
#                               target/dashboard)
#   DASHBOARD_METRICS=file.json write the page weight and the 500-topic render times there
#   extra arguments go to pytest, e.g. scripts/test-dashboard.sh -k report -x
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    echo "test-dashboard: $chromium is missing; installing Debian's chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium; }
    chromium=/usr/bin/chromium
fi
export CHROMIUM="$chromium"

if [ -z "${TOPICD_BIN:-}" ] || [ -z "${TOPICS_BIN:-}" ]; then
    cargo build -p topicd --bin topicd -p topics --bin topics --locked
fi
TOPICD_BIN="$(realpath "${TOPICD_BIN:-$target_dir/debug/topicd}")"
TOPICS_BIN="$(realpath "${TOPICS_BIN:-$target_dir/debug/topics}")"
export TOPICD_BIN TOPICS_BIN

scripts/fetch-model.sh >/dev/null
export TOPICD_TEST_EMBED_MODEL="${TOPICD_TEST_EMBED_MODEL:-$(pwd)/models/all-MiniLM-L6-v2}"

# Its own environment: the Python client's tests collect everything under client/python/tests.
venv="target/dashboard-venv"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check playwright pytest
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider dashboard/tests/browser "$@"
