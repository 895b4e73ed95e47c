"""The asyncio client (grpc.aio): the same methods, results and errors as the blocking one."""

from __future__ import annotations

import asyncio
import time

import pytest

import topicd

from conftest import ACME_WRITE, free_port


def run(coro):
    return asyncio.run(coro)


def test_async_lifecycle(server, data):
    async def main():
        async with topicd.AsyncClient(server.target, timeout=60) as c:
            assert await c.health() == "SERVING"
            tenant = "async-acme"
            fit = await c.fit(
                tenant,
                data.texts,
                created_at="2026-11-24T12:00:00Z",
                window=("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"),
                embeddings=data.embeddings,
                params=topicd.FitParams(seed=3),
            )
            assert isinstance(fit, topicd.FitResult) and len(fit.topics) == 3
            m = await c.merge(tenant, fit.version)
            assert isinstance(m, topicd.MergeResult) and m.new_topics == 3
            # Concurrent idempotent calls on one channel.
            tr, top, models, model, windows = await asyncio.gather(
                c.transform(tenant, embeddings=data.centres),
                c.top_topics(tenant, limit=3, trend=True),
                c.list_models(tenant),
                c.get_model(tenant),
                c.list_merged_windows(tenant),
            )
            assert isinstance(tr, topicd.TransformResult) and len(tr) == 3
            assert isinstance(top, topicd.TopTopics) and [t.rank for t in top] == [1, 2, 3]
            assert all(isinstance(x, topicd.ModelInfo) for x in models) and len(models) == 2
            assert isinstance(model, topicd.ModelDetails) and model.info.version == m.version
            assert [w.version for w in windows] == [m.version]
            with pytest.raises(topicd.AlreadyExists):
                await c.merge(tenant, fit.version)
            m2 = await c.merge(tenant, fit.version, force=True)
            act = await c.activate(tenant, m.version)
            assert act.previous_version == m2.version
            with pytest.raises(topicd.InvalidArgument) as e:
                await c.top_topics("bad tenant!")
            assert e.value.message.startswith("tenant_id:")
            gone = await c.delete_tenant(tenant)
            assert isinstance(gone, topicd.DeleteResult) and gone.models_deleted >= 3
            with pytest.raises(topicd.NotFound):
                await c.get_model(tenant)

    run(main())


def test_async_auth(auth_server):
    async def main():
        async with topicd.AsyncClient(auth_server.target) as c:
            with pytest.raises(topicd.Unauthenticated):
                await c.list_models("acme")
        async with topicd.AsyncClient(auth_server.target, token=ACME_WRITE) as c:
            with pytest.raises(topicd.PermissionDenied):
                await c.list_models("globex")

    run(main())


def test_async_retries_only_idempotent_calls(data):
    target = f"127.0.0.1:{free_port()}"
    policy = topicd.RetryPolicy(max_attempts=3, initial_backoff=0.1, jitter=0.0)

    async def main():
        async with topicd.AsyncClient(target, timeout=5, retry=policy) as c:
            t0 = time.monotonic()
            with pytest.raises(topicd.Unavailable) as e:
                await c.top_topics("acme")
            assert e.value.attempts == 3 and time.monotonic() - t0 >= 0.25
            with pytest.raises(topicd.Unavailable) as e:
                await c.fit("acme", data.texts, embeddings=data.embeddings)
            assert e.value.attempts == 1

    run(main())
