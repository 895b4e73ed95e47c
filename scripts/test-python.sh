#!/usr/bin/env bash
# The Python client's tests (client/python): builds the package the way a user installs it
# (pip install ./client/python: the gRPC stubs are generated from proto/ during the build) into
# a virtual environment under target/, then runs pytest against a real topicd binary.
#
#   TOPICD_BIN=path/to/topicd   use this binary instead of building one
#   PYTHON=python3.11           interpreter for the virtual environment (default python3)
#   extra arguments go to pytest, e.g. scripts/test-python.sh -k retry -x
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
if [ -z "${TOPICD_BIN:-}" ]; then
    cargo build -p topicd --bin topicd --locked
    TOPICD_BIN="$target_dir/debug/topicd"
fi
TOPICD_BIN="$(cd "$(dirname "$TOPICD_BIN")" && pwd)/$(basename "$TOPICD_BIN")"
export TOPICD_BIN

venv="target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
# A fresh build every time: stale build/ output must not hide a broken stub generation.
rm -rf client/python/build
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    ./client/python pytest grpcio-reflection numpy openapi-spec-validator
# pip skips a local package whose version it already has: reinstall ours from this tree.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --force-reinstall --no-deps ./client/python
"$venv/bin/python" -m pytest -q client/python/tests "$@"
