#!/usr/bin/env bash
# One-command demo (the README's run command): builds topicd + topics, fetches the local
# encoder's weights, starts topicd on its embedded defaults (SQLite + ./data/models, local
# encoder, keyword labels) in the background, runs the nightly job once per demo day over
# examples/clinc150-demo.jsonl (4 tenants x 3 days of CLINC150 messages, see
# examples/ATTRIBUTION.md), tags two new messages, ends by printing a tenant's top topics, and
# stops the server (the last run's JSON summary is kept in $DATA/last-summary.json).
#
# Re-running is safe and quick: the server remembers which windows it merged, so the nightly
# runs skip them (set TOPICS_DEMO_FRESH=1 to start from an empty data directory).
#
# Environment: TOPICS_DEMO_PORT (50051), TOPICS_DEMO_DATA (./data), TOPICS_DEMO_TENANT (banking),
# TOPICS_DEMO_PROFILE (release | debug), TOPICS_DEMO_FRESH (0 | 1), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${TOPICS_DEMO_PORT:-50051}"
DATA="${TOPICS_DEMO_DATA:-./data}"
TENANT="${TOPICS_DEMO_TENANT:-banking}"
PROFILE="${TOPICS_DEMO_PROFILE:-release}"
DEMO="examples/clinc150-demo.jsonl"
# The demo file's days; each nightly run covers one [day, next day) window.
DAYS=(2026-11-16 2026-11-17 2026-11-18 2026-11-19)
SERVER="http://127.0.0.1:${PORT}"
TARGET="${CARGO_TARGET_DIR:-target}"

say() { printf '\n==> %s\n' "$*" >&2; }

say "building topicd and topics ($PROFILE)"
if [ "$PROFILE" = release ]; then
    cargo build --release --locked -p topicd -p topics
    BIN="$TARGET/release"
else
    cargo build --locked -p topicd -p topics
    BIN="$TARGET/debug"
fi

say "fetching the local encoder's weights"
scripts/fetch-model.sh

if [ "${TOPICS_DEMO_FRESH:-0}" = 1 ]; then
    say "removing $DATA (TOPICS_DEMO_FRESH=1)"
    rm -rf "$DATA"
fi
mkdir -p "$DATA"
LOG="$DATA/topicd-demo.log"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "stopping topicd (pid $SERVER_PID)" >&2
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if "$BIN/topics" --server "$SERVER" health >/dev/null 2>&1; then
    echo "error: something already serves $SERVER; stop it or set TOPICS_DEMO_PORT" >&2
    exit 1
fi

say "starting topicd on $SERVER (data in $DATA, log in $LOG)"
"$BIN/topicd" --listen "127.0.0.1:${PORT}" --data-dir "$DATA" --no-metrics >"$LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do
    if "$BIN/topics" --server "$SERVER" health >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "error: topicd exited during start-up; its log:" >&2
        tail -n 40 "$LOG" >&2
        exit 1
    fi
    sleep 0.5
done
"$BIN/topics" --server "$SERVER" health

export TOPICS_SERVER="$SERVER"
for ((i = 0; i + 1 < ${#DAYS[@]}; i++)); do
    since="${DAYS[$i]}"
    until="${DAYS[$((i + 1))]}"
    say "nightly run for $since"
    status=0
    RUST_LOG="${RUST_LOG:-warn}" "$BIN/topics" nightly --jsonl "$DEMO" --since "$since" --until "$until" \
        --summary "$WORK/summary.json" || status=$?
    python3 - "$WORK/summary.json" <<'PY' 2>/dev/null || cat "$WORK/summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
print(f"  tenants {s['total_users']}: processed {s['processed_users']}, skipped {s['skipped_users']}"
      f" (already merged {s['already_merged_users']}), failed {s['failed_users']};"
      f" {s['total_messages_processed']} messages in {s['duration_seconds']:.1f} s")
for t in s["tenants"]:
    extra = f"version {t.get('version', '')}, {t.get('new_topics', 0)} new topics" if t["status"] == "merged" else t.get("reason", "")
    print(f"    {t['tenant_id']:<20} {t['status']:<15} {t['messages']:>4} msgs  {extra}")
PY
    if [ "$status" -ne 0 ]; then
        echo "error: the nightly run failed (exit $status); topicd log: $LOG" >&2
        exit "$status"
    fi
done

cp "$WORK/summary.json" "$DATA/last-summary.json"
echo "(the last run's full JSON summary: $DATA/last-summary.json)" >&2

say "tagging two new messages for $TENANT"
"$BIN/topics" tag --tenant "$TENANT" "my card got declined at the store" "how do I send money to my brother"

say "top topics of tenant $TENANT"
"$BIN/topics" top --tenant "$TENANT" --limit 10 --trend
