#!/usr/bin/env bash
# Load test of a release `topicd` over loopback with `loadgen` (issue 9's benchmark):
# starts a fresh server on a temporary data directory (SQLite + local model store), creates the
# tenants' models through Fit + Merge, then runs the Transform load twice: idle, and while
# Fit+Merge writers re-fit tenants ("nightly merges"). Stops the server at the end.
#
#   benches/load_test.sh [--tenants 1000] [--clients 64] [--duration 60] [--batch 8]
#                        [--docs-per-tenant 200] [--setup-concurrency 2] [--merge-writers 1]
#                        [--port 50151] [--out DIR] [--texts]
#
# Environment: TOPICD_BIN, LOADGEN_BIN (default $CARGO_TARGET_DIR/release/{topicd,loadgen}, build
# with `cargo build --release -p topicd -p topic-benches --bin topicd --bin loadgen`),
# TOPICD_DATASETS (directory holding clinc150/). The server runs with the request-rate limit off
# (TOPICD_RATE_PER_SECOND=0): the point is to measure the server, not the limiter.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TENANTS=1000
CLIENTS=64
DURATION=60
BATCH=8
DOCS=200
SETUP_CONC=2
WRITERS=1
PORT=50151
OUT=""
TEXTS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --tenants) TENANTS="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --batch) BATCH="$2"; shift 2 ;;
        --docs-per-tenant) DOCS="$2"; shift 2 ;;
        --setup-concurrency) SETUP_CONC="$2"; shift 2 ;;
        --merge-writers) WRITERS="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --texts) TEXTS="--texts"; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
# shellcheck source=benches/lib.sh
. "$HERE/lib.sh"

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
TOPICD="${TOPICD_BIN:-$TARGET/release/topicd}"
LOADGEN="${LOADGEN_BIN:-$TARGET/release/loadgen}"
[ -x "$TOPICD" ] || die "no topicd at $TOPICD (cargo build --release -p topicd, or set TOPICD_BIN)"
[ -x "$LOADGEN" ] || die "no loadgen at $LOADGEN (cargo build --release -p topic-benches --bin loadgen, or set LOADGEN_BIN)"
OUT="${OUT:-$ROOT/benches/out/load-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
rm -rf "$OUT/data"
ADDR="127.0.0.1:$PORT"
export TOPICS_SERVER="http://$ADDR"

{
    bench_machine_info
    echo "args: tenants=$TENANTS clients=$CLIENTS duration=$DURATION batch=$BATCH docs_per_tenant=$DOCS merge_writers=$WRITERS ${TEXTS:-embeddings}"
} | tee "$OUT/machine.txt"

start_topicd "$TOPICD" "$PORT" "$OUT/data" "$OUT/topicd.log"
echo "topicd pid $SERVER_PID on $ADDR"
echo "server RSS idle, no tenants: $(server_rss)" | tee -a "$OUT/machine.txt"

echo "== setup: $TENANTS tenants × $DOCS docs"
"$LOADGEN" --tenants "$TENANTS" setup --docs-per-tenant "$DOCS" --concurrency "$SETUP_CONC" | tee "$OUT/setup.txt"
echo "server RSS after setup: $(server_rss)" | tee -a "$OUT/machine.txt"

echo "== run: idle"
"$LOADGEN" --tenants "$TENANTS" run --clients "$CLIENTS" --duration "$DURATION" --batch "$BATCH" $TEXTS \
    --server-pid "$SERVER_PID" --json "$OUT/run-idle.json" | tee "$OUT/run-idle.txt"

if [ "$WRITERS" -gt 0 ]; then
    echo "== run: with $WRITERS Fit+Merge writer(s)"
    "$LOADGEN" --tenants "$TENANTS" run --clients "$CLIENTS" --duration "$DURATION" --batch "$BATCH" $TEXTS \
        --merge-writers "$WRITERS" --merge-docs "$DOCS" --server-pid "$SERVER_PID" \
        --json "$OUT/run-merge.json" | tee "$OUT/run-merge.txt"
fi
echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
echo "server peak RSS (VmHWM): $(server_peak_rss)" | tee -a "$OUT/machine.txt"
echo "results: $OUT"
