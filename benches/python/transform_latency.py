"""Transform of one embedding from Python: over gRPC (the topicd client) and over HTTP/JSON
(http.client, one keep-alive connection per thread), p50/p99, sequential and 16 threads.

    python benches/python/transform_latency.py --topicd target/release/topicd [--calls 2000]

Starts its own topicd (SQLite in a temp dir, gRPC and HTTP on free loopback ports), fits and
merges a synthetic tenant (3 topics, 384-d), then times Transform calls. Prints one JSON line per
(protocol, threads) with p50/p99 in milliseconds and calls per second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "client" / "python" / "tests"))
import topicd  # noqa: E402
from conftest import Synthetic  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def run(call_factory, calls: int, threads: int):
    per = calls // threads
    lat = []
    lock = threading.Lock()

    def worker():
        call = call_factory()
        mine = []
        for _ in range(per):
            t0 = time.perf_counter()
            call()
            mine.append((time.perf_counter() - t0) * 1e3)
        with lock:
            lat.extend(mine)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - start
    return {"p50_ms": round(pct(lat, 50), 3), "p99_ms": round(pct(lat, 99), 3),
            "calls_per_s": round(len(lat) / wall, 1), "calls": len(lat)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--topicd", required=True)
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="topicd-lat-"))
    grpc_port, http_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOPICD_")}
    env["TOPICD_EMBED_MODEL"] = str(data_dir / "no-model")
    env["RUST_LOG"] = "warn"
    # The per-caller rate limit (200/s by default) would measure the limiter, not Transform.
    cfg = data_dir / "topicd.toml"
    cfg.write_text("[limits]\nrate_per_second = 1000000.0\nrate_burst = 1000000\n")
    proc = subprocess.Popen(
        [args.topicd, "--config", str(cfg), "--listen", f"127.0.0.1:{grpc_port}", "--http-listen",
         f"127.0.0.1:{http_port}", "--data-dir", str(data_dir), "--device", "cpu", "--no-metrics"],
        env=env, cwd=data_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        target = f"127.0.0.1:{grpc_port}"
        data = Synthetic(per_topic=40)
        with topicd.Client(target, timeout=60) as c:
            for _ in range(100):
                try:
                    c.health()
                    break
                except topicd.TopicdError:
                    time.sleep(0.1)
            day = c.fit("bench", data.texts, embeddings=data.embeddings,
                        window=("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"),
                        params=topicd.FitParams(seed=42, min_topic_size=5))
            c.merge("bench", day.version)
        row = data.embeddings[0]
        body = json.dumps({"embeddings": [row.tolist()]})
        shared = topicd.Client(target, timeout=60)

        def grpc_factory():
            return lambda: shared.transform("bench", embeddings=row[None, :])

        def http_factory():
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)

            def call():
                conn.request("POST", "/v1/tenants/bench/transform", body,
                             {"content-type": "application/json"})
                r = conn.getresponse()
                payload = r.read()
                assert r.status == 200, payload
            return call

        for name, factory in (("grpc", grpc_factory), ("http", http_factory)):
            run(factory, 200, 1)  # warm-up
            for threads in (1, 16):
                res = run(factory, args.calls, threads)
                print(json.dumps({"protocol": name, "threads": threads, **res}), flush=True)
        shared.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
