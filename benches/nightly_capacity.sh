#!/usr/bin/env bash
# Nightly capacity benchmark (issue 7): tenants per hour through a release `topicd` and
# `topics nightly`, with precomputed CLINC150 embeddings. Writes the input JSONL with
# benches/python/capacity_jsonl.py (TENANTS x MESSAGES, one intent mix per tenant; cached in
# benches/out), starts a fresh server on a temporary data directory (SQLite + local model store,
# keyword labels), runs one nightly pass over every tenant, stops the server.
#
#   benches/nightly_capacity.sh [--tenants 2000] [--messages 200] [--concurrency 4]
#                               [--port 50161] [--out DIR]
#
# Environment: TOPICD_BIN, TOPICS_BIN (default $CARGO_TARGET_DIR/release/{topicd,topics}; build
# with `cargo build --release -p topicd -p topics`), PYTHON (with numpy), TOPICD_DATASETS
# (directory holding clinc150/). Take `flock /work/bench.lock` around it on a shared machine.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TENANTS=2000
MESSAGES=200
CONCURRENCY=4
PORT=50161
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --tenants) TENANTS="$2"; shift 2 ;;
        --messages) MESSAGES="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
# shellcheck source=benches/lib.sh
. "$HERE/lib.sh"

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
TOPICD="${TOPICD_BIN:-$TARGET/release/topicd}"
TOPICS="${TOPICS_BIN:-$TARGET/release/topics}"
PY="${PYTHON:-python3}"
[ -x "$TOPICD" ] || die "no topicd at $TOPICD (cargo build --release -p topicd, or set TOPICD_BIN)"
[ -x "$TOPICS" ] || die "no topics at $TOPICS (cargo build --release -p topics, or set TOPICS_BIN)"
OUT="${OUT:-$ROOT/benches/out/capacity-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
rm -rf "$OUT/data"
ADDR="127.0.0.1:$PORT"
mkdir -p "$ROOT/benches/out"
INPUT="$ROOT/benches/out/capacity-${TENANTS}x${MESSAGES}.jsonl"
if [ ! -s "$INPUT" ]; then
    "$PY" "$HERE/python/capacity_jsonl.py" "$INPUT.part" --tenants "$TENANTS" --messages "$MESSAGES"
    mv "$INPUT.part" "$INPUT"
fi

{
    bench_machine_info
    echo "args: tenants=$TENANTS messages=$MESSAGES concurrency=$CONCURRENCY"
} | tee "$OUT/machine.txt"

start_topicd "$TOPICD" "$PORT" "$OUT/data" "$OUT/topicd.log"

status=0
RUST_LOG="${RUST_LOG:-warn}" "$TOPICS" --server "http://$ADDR" nightly --jsonl "$INPUT" \
    --since 2026-11-24 --until 2026-11-25 --concurrency "$CONCURRENCY" --deadline 6h \
    --summary "$OUT/summary.json" || status=$?
"$PY" - "$OUT/summary.json" <<'PY' | tee "$OUT/result.txt"
import json, sys
s = json.load(open(sys.argv[1]))
d = s["duration_seconds"]
times = sorted(t["duration_seconds"] for t in s["tenants"] if t["status"] == "merged")
q = lambda p: times[min(len(times) - 1, int(p * len(times)))] if times else 0.0
print(f"processed {s['processed_users']}/{s['total_users']} tenants (failed {s['failed_users']}), "
      f"{s['total_messages_processed']} messages in {d:.1f} s (file read included): "
      f"{s['processed_users'] / d * 3600:.0f} tenants/hour")
print(f"per-tenant wall time (ListMergedWindows + Fit + Merge, queueing included): "
      f"p50 {q(0.5):.2f} s, p90 {q(0.9):.2f} s, max {q(1.0):.2f} s")
PY
{
    echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "server peak RSS (VmHWM): $(server_peak_rss)"
    echo "data dir: $(du -sh "$OUT/data" | cut -f1)"
} | tee -a "$OUT/machine.txt"
echo "results: $OUT (topics nightly exit code $status)"
