# Shared helpers of the benchmark scripts (load_test.sh, nightly_capacity.sh, drift.sh, compare_fit.sh,
# defined_topics.sh, outliers.sh). Sourced, not run:
#
#   . "$HERE/lib.sh"
#
# Needs ROOT (the repository root) for bench_machine_info and find_datasets. start_topicd sets SERVER_PID and an
# EXIT trap that stops the server.

die() { echo "error: $*" >&2; exit 1; }

# The directory holding clinc150/: $TOPICD_DATASETS, else ../shared/datasets beside the repository
# (the same rule as topicd_testing::locate).
find_datasets() {
    local d="${TOPICD_DATASETS:-$ROOT/../shared/datasets}"
    if [ -f "$d/clinc150/clinc150.npy" ]; then echo "$d"; return; fi
    die "CLINC150 not found; set TOPICD_DATASETS to the directory holding clinc150/"
}

# Sets VENV (TOPICS_BENCH_VENV, default benches/.venv, created by python/setup_venv.sh when
# missing) and TOPICS_BIN (default target/debug/topics, built when missing).
bench_venv_and_topics() {
    VENV="${TOPICS_BENCH_VENV:-$ROOT/benches/.venv}"
    [ -x "$VENV/bin/python" ] || "$ROOT/benches/python/setup_venv.sh" "$VENV"
    if [ -z "${TOPICS_BIN:-}" ]; then
        (cd "$ROOT" && cargo build --locked -p topics --bin topics)
        TOPICS_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/topics"
    fi
}

# Prints the machine description lines of machine.txt (date, CPU, cores, memory, load, commit).
bench_machine_info() {
    echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cores: $(nproc)"
    echo "mem_total: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
}

# start_topicd TOPICD_BINARY PORT DATA_DIR LOG_FILE
# Starts a fresh server on 127.0.0.1:PORT with its data under DATA_DIR (SQLite + local model
# store), no metrics exporter and the request-rate limit off (TOPICD_RATE_PER_SECOND=0: the point
# is to measure the server, not the limiter); logs to LOG_FILE (RUST_LOG default warn). Waits up
# to 60 s for the port to accept connections; dies with the log's tail if the server exits first.
# Sets SERVER_PID; the server is stopped when the script exits.
start_topicd() {
    local bin="$1" port="$2" data_dir="$3" log="$4"
    TOPICD_RATE_PER_SECOND=0 RUST_LOG="${RUST_LOG:-warn}" "$bin" --listen "127.0.0.1:$port" \
        --data-dir "$data_dir" --no-metrics > "$log" 2>&1 &
    SERVER_PID=$!
    trap stop_topicd EXIT
    local _
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$log"; die "topicd exited at start"; }
        sleep 0.2
    done
    die "topicd did not listen on 127.0.0.1:$port within 60 s (log: $log)"
}

# Stops the server started by start_topicd (if still running) and waits for it.
stop_topicd() {
    if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}

# The server's resident memory now (VmRSS), e.g. "412 MB".
server_rss() { awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$SERVER_PID/status"; }

# The server's peak resident memory so far (VmHWM), e.g. "980 MB".
server_peak_rss() { awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$SERVER_PID/status"; }
