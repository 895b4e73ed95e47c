"""Retries with exponential backoff and jitter on UNAVAILABLE, for idempotent calls only."""

from __future__ import annotations

import logging
import threading
import time

import pytest

import topicd

from conftest import free_port


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    p = topicd.RetryPolicy(
        max_attempts=10, initial_backoff=0.1, max_backoff=1.0, multiplier=2.0, jitter=0.5
    )
    for n, base in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        waits = [p.backoff(n) for _ in range(200)]
        assert all(base * 0.5 <= w <= base for w in waits), (n, min(waits), max(waits))
        assert max(waits) - min(waits) > base * 0.2  # jittered, not constant
    with pytest.raises(ValueError):
        topicd.RetryPolicy(max_attempts=0)


def test_stopped_server_is_unavailable_after_all_attempts():
    target = f"127.0.0.1:{free_port()}"  # nothing listens here
    policy = topicd.RetryPolicy(max_attempts=4, initial_backoff=0.1, multiplier=2.0, jitter=0.0)
    with topicd.Client(target, timeout=5, retry=policy) as c:
        for call in (
            lambda: c.top_topics("acme"),
            lambda: c.list_models("acme"),
            lambda: c.get_model("acme"),
            c.health,
            lambda: c.transform("acme", embeddings=[[1.0, 0.0]]),
            lambda: c.list_merged_windows("acme"),
        ):
            t0 = time.monotonic()
            with pytest.raises(topicd.Unavailable) as e:
                call()
            elapsed = time.monotonic() - t0
            assert e.value.attempts == 4
            assert e.value.code.name == "UNAVAILABLE"
            assert "after 4 attempts" in str(e.value)
            assert elapsed >= 0.1 + 0.2 + 0.4 - 0.05  # waited between attempts


def test_writes_are_not_retried(data):
    target = f"127.0.0.1:{free_port()}"
    policy = topicd.RetryPolicy(max_attempts=5, initial_backoff=0.5)
    with topicd.Client(target, timeout=5, retry=policy) as c:
        for call in (
            lambda: c.fit("acme", data.texts, embeddings=data.embeddings),
            lambda: c.merge("acme", "20261124_120000"),
            lambda: c.activate("acme", "20261124_120000"),
            lambda: c.delete_tenant("acme"),
        ):
            t0 = time.monotonic()
            with pytest.raises(topicd.Unavailable) as e:
                call()
            assert e.value.attempts == 1
            assert time.monotonic() - t0 < 0.5  # no backoff sleep


def test_retries_reach_a_server_that_comes_back(restartable_server, data, caplog):
    s = restartable_server
    policy = topicd.RetryPolicy(max_attempts=30, initial_backoff=0.1, max_backoff=0.5)
    # One client (one channel) across the outage.
    with topicd.Client(s.target, timeout=5, retry=policy) as c:
        fit = c.fit(
            "acme",
            data.texts,
            embeddings=data.embeddings,
            window=("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"),
        )
        version = c.merge("acme", fit.version).version
        s.stop()
        with topicd.Client(s.target, retry=topicd.NO_RETRY) as once:
            with pytest.raises(topicd.Unavailable):
                once.health()  # really down
        restarter = threading.Timer(1.0, s.start)
        restarter.start()
        caplog.set_level(logging.DEBUG, logger="topicd")
        t0 = time.monotonic()
        try:
            top = c.top_topics("acme")
        finally:
            restarter.join()
        assert time.monotonic() - t0 >= 0.9  # answered only once the server was back
        assert top.version == version and len(top) == 3
        retries = [r for r in caplog.records if r.name == "topicd" and "retry" in r.getMessage()]
        assert retries, "the call should have been retried while the server was down"
