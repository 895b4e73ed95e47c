"""Fixtures: a real ``topicd`` binary on a free loopback port (embedded SQLite and model store in
a temp dir), and synthetic clustered 384-d embeddings so no encoder weights are needed.

``TOPICD_BIN`` names the binary (default ``<repo>/target/debug/topicd``). The local encoder is
turned on for the plain server when weights are found (``TOPICD_TEST_EMBED_MODEL``, else
``<repo>/models/all-MiniLM-L6-v2``); tests that need it skip otherwise.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[3]
DIM = 384

ADMIN = "admin-secret-0123456789"
ACME_READ = "acme-read-secret-0123456789"
ACME_WRITE = "acme-write-secret-0123456789"

TOKENS = f"""
[[token]]
name = "ops"
secret = "{ADMIN}"
tenants = ["*"]
role = "admin"

[[token]]
name = "acme-dashboard"
secret = "{ACME_READ}"
tenants = ["acme"]
role = "read"

[[token]]
name = "acme-nightly"
secret = "{ACME_WRITE}"
tenants = ["acme"]
role = "write"
"""


_BIN: List[Path] = []


def topicd_bin() -> Path:
    """The binary, copied once per session so that a rebuild during the run cannot mix two
    versions of the server."""
    if _BIN:
        return _BIN[0]
    p = Path(os.environ.get("TOPICD_BIN") or REPO / "target" / "debug" / "topicd")
    if not p.is_file():
        pytest.exit(
            f"topicd binary not found at {p}: build it (cargo build -p topicd --bin topicd) "
            "or set TOPICD_BIN",
            returncode=2,
        )
    copy = Path(tempfile.mkdtemp(prefix="topicd-bin-")) / "topicd"
    shutil.copy2(p, copy)
    atexit.register(shutil.rmtree, copy.parent, True)
    _BIN.append(copy)
    return copy


_HELP: Dict[str, str] = {}


def off_switches(binary: Path) -> List[str]:
    """Flags that turn off listeners a test does not use (and whose fixed default ports could
    clash between parallel servers), among those this binary knows."""
    if str(binary) not in _HELP:
        out = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=60)
        _HELP[str(binary)] = out.stdout
    return [f for f in ("--no-metrics", "--no-http") if f in _HELP[str(binary)]]


def encoder_dir() -> Optional[Path]:
    env = os.environ.get("TOPICD_TEST_EMBED_MODEL")
    cands = [Path(env)] if env else []
    cands.append(REPO / "models" / "all-MiniLM-L6-v2")
    for c in cands:
        if (c / "model.safetensors").is_file() and (c / "tokenizer.json").is_file():
            return c
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One topicd process; ``stop()`` and ``start()`` again reuse the port and data."""

    def __init__(
        self,
        data_dir: Path,
        tokens: Optional[str] = None,
        encoder: Optional[Path] = None,
        extra_args: Optional[List[str]] = None,
        tls_ca: Optional[Path] = None,
        http: bool = False,
    ):
        self.data_dir = data_dir
        #: CA of a TLS server's certificate (the readiness probe then speaks TLS).
        self.tls_ca = tls_ca
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.encoder = encoder
        binary = topicd_bin()
        #: The HTTP/JSON API's base URL when started with ``http=True``.
        self.http_url: Optional[str] = None
        off = off_switches(binary)
        if http:
            http_port = free_port()
            self.http_url = f"http://127.0.0.1:{http_port}"
            off = [f for f in off if f != "--no-http"] + ["--http-listen", f"127.0.0.1:{http_port}"]
        self.args = (
            [
                str(binary),
                "--listen",
                self.target,
                "--data-dir",
                str(data_dir),
                "--device",
                "cpu",
            ]
            + off
            + (extra_args or [])
        )
        if tokens is not None:
            f = data_dir / "tokens.toml"
            f.write_text(tokens)
            self.args += ["--auth-tokens", str(f)]
        self.proc: Optional[subprocess.Popen] = None
        self.log = data_dir / "topicd.log"

    def env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOPICD_")}
        env["RUST_LOG"] = env.get("RUST_LOG", "warn")
        # Without weights the server has no embedder: precomputed embeddings only. The default
        # model path is relative to the working directory (the temp dir), so it is not found.
        env["TOPICD_EMBED_MODEL"] = (
            str(self.encoder) if self.encoder else str(self.data_dir / "no-model")
        )
        return env

    def start(self, timeout: float = 60.0) -> "Server":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            self.args, cwd=self.data_dir, env=self.env(), stdout=logf, stderr=subprocess.STDOUT
        )
        logf.close()
        deadline = time.monotonic() + timeout
        if self.tls_ca is not None:
            creds = grpc.ssl_channel_credentials(root_certificates=self.tls_ca.read_bytes())
            ch = grpc.secure_channel(self.target, creds)
        else:
            ch = grpc.insecure_channel(self.target)
        with ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"topicd exited ({self.proc.returncode}):\n{self.log.read_text()}"
                    )
                try:
                    r = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                    if r.status == health_pb2.HealthCheckResponse.SERVING:
                        return self
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"topicd did not become healthy:\n{self.log.read_text()}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("topicd"), encoder=encoder_dir()).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("topicd-auth"), tokens=TOKENS).start()
    yield s
    s.stop()


@pytest.fixture
def restartable_server(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


TOPIC_WORDS = [
    ["refund", "money", "back", "charge", "card"],
    ["shipping", "delivery", "package", "late", "courier"],
    ["password", "reset", "login", "account", "locked"],
]


class Synthetic:
    """``per_topic`` documents for each of ``k`` topics: 384-d vectors around random unit
    centres, texts made of the topic's words. Deterministic for a seed."""

    def __init__(self, per_topic: int = 20, k: int = 3, seed: int = 7):
        rng = np.random.default_rng(seed)
        centres = rng.normal(size=(k, DIM))
        self.centres = (centres / np.linalg.norm(centres, axis=1, keepdims=True)).astype(np.float32)
        self.labels: List[int] = []
        texts: List[str] = []
        rows = []
        for i in range(per_topic * k):
            t = i % k
            words = TOPIC_WORDS[t % len(TOPIC_WORDS)]
            w = rng.permutation(len(words))[:3]
            texts.append(f"{words[w[0]]} {words[w[1]]} {words[w[2]]} question number {i}")
            v = self.centres[t] + 0.02 * rng.normal(size=DIM).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
            self.labels.append(t)
        self.texts = texts
        self.embeddings = np.asarray(rows, dtype=np.float32)


@pytest.fixture(scope="session")
def data() -> Synthetic:
    return Synthetic()
