"""Every method of the blocking client against a real topicd, and its dataclass results."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time

import numpy as np
import pytest

import topicd

from conftest import DIM

DAY1 = ("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z")
DAY2 = (dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc), dt.datetime(2026, 11, 26))  # naive = UTC


@pytest.fixture
def client(server):
    with topicd.Client(server.target, timeout=60) as c:
        yield c


def fit_day1(c: topicd.Client, tenant: str, data) -> topicd.FitResult:
    return c.fit(
        tenant,
        data.texts,
        created_at=dt.datetime(2026, 11, 24, 12, tzinfo=dt.timezone.utc),
        window=DAY1,
        embeddings=data.embeddings,
        params=topicd.FitParams(seed=42, min_topic_size=5),
    )


def test_health(client):
    assert client.health() == "SERVING"
    assert client.health("topics.v1.Topics") == "SERVING"


def test_fit_returns_dataclasses(client, data):
    fit = fit_day1(client, "fit-only", data)
    assert isinstance(fit, topicd.FitResult)
    assert fit.tenant == "fit-only"
    assert len(fit.version) == len("20261124_120000") and fit.version[8] == "_"
    assert len(fit.topics) == 3
    for t in fit.topics:
        assert isinstance(t, topicd.Topic)
        assert t.size == 20
        assert t.keywords and all(isinstance(k, topicd.Keyword) for k in t.keywords)
        assert t.keywords[0].weight > 0
        assert t.label
        assert t.sample_messages
    # Plain strings get their index as id; each cluster lands in one topic.
    assert [a.document_id for a in fit.assignments] == [str(i) for i in range(len(data.texts))]
    assert all(isinstance(a, topicd.Assignment) for a in fit.assignments)
    by_label = {}
    for a, label in zip(fit.assignments, data.labels):
        by_label.setdefault(label, set()).add(a.topic_id)
    assert all(len(ids) == 1 for ids in by_label.values())
    assert len({next(iter(ids)) for ids in by_label.values()}) == 3
    assert fit.outliers == 0
    assert isinstance(fit.timings, topicd.StageTimings) and fit.timings.total_seconds > 0
    # A candidate: listed, not active, no top topics yet.
    models = client.list_models("fit-only")
    assert [(m.version, m.kind, m.is_active) for m in models] == [(fit.version, "candidate", False)]
    with pytest.raises(topicd.NotFound):
        client.top_topics("fit-only")


def test_fit_accepts_documents_dicts_lists_and_params_dict(client, data):
    docs = [
        topicd.Document(text=t, id=f"msg-{i}", created_at="2026-11-24T08:00:00Z")
        if i % 2 == 0
        else {"text": t, "id": f"msg-{i}", "created_at": dt.datetime(2026, 11, 24, 9)}
        for i, t in enumerate(data.texts)
    ]
    fit = client.fit(
        "fit-lists",
        docs,
        embeddings=data.embeddings.tolist(),  # lists of lists instead of numpy
        params={"seed": 1, "nr_topics": "auto", "top_n_words": 3},
    )
    assert [a.document_id for a in fit.assignments] == [f"msg-{i}" for i in range(len(docs))]
    assert all(len(t.keywords) <= 3 for t in fit.topics)
    meta = json.loads(client.list_models("fit-lists")[0].metadata_json)
    assert meta["fit_params"]["seed"] == 1
    assert meta["fit_params"]["top_n_words"] == 3


def test_lifecycle_merge_transform_top_topics_models_activate_delete(client, data):
    tenant = "acme-life"
    fit1 = fit_day1(client, tenant, data)
    m1 = client.merge(tenant, fit1.version)
    assert isinstance(m1, topicd.MergeResult)
    assert (m1.total_topics, m1.new_topics, m1.matched_topics) == (3, 3, 0)
    assert m1.previous_version is None

    # Transform: the cluster centres (numpy) and one row as a plain list.
    tr = client.transform(tenant, embeddings=data.centres)
    assert isinstance(tr, topicd.TransformResult)
    assert tr.version == m1.version and len(tr) == 3
    assert tr.small_talk == 0  # embeddings are never small talk
    topic_of = {label: a.topic_id for a, label in zip(fit1.assignments, data.labels)}
    assert [r.topic_id for r in tr] == [topic_of[0], topic_of[1], topic_of[2]]
    assert all(isinstance(r, topicd.TopicMatch) and r.score > 0.9 and r.label for r in tr)
    far = -data.centres.sum(axis=0)  # points away from every topic: an outlier
    out = client.transform(tenant, embeddings=[far.tolist()])
    assert out[0].topic_id == -1

    top = client.top_topics(tenant, limit=2, trend=True)
    assert isinstance(top, topicd.TopTopics)
    assert top.version == m1.version
    assert (top.date_range_start, top.date_range_end) == ("2026-11-24", "2026-11-24")
    assert [t.rank for t in top] == [1, 2]
    t0 = top[0]
    assert isinstance(t0, topicd.TopTopic) and t0.message_count == 20
    assert t0.trend == [topicd.DailyCount(date="2026-11-24", count=20)]
    assert client.top_topics(tenant).topics[0].trend == []  # no trend unless asked

    # Day 2 merges on top of day 1.
    fit2 = client.fit(
        tenant,
        data.texts,
        created_at="2026-11-25T10:00:00Z",
        window=DAY2,
        embeddings=data.embeddings,
    )
    m2 = client.merge(tenant, fit2.version)
    assert m2.previous_version == m1.version
    assert m2.matched_topics == 3 and m2.new_topics == 0
    # The same window again: ALREADY_EXISTS unless forced.
    with pytest.raises(topicd.AlreadyExists) as e:
        client.merge(tenant, fit2.version)
    assert e.value.code.name == "ALREADY_EXISTS" and "force" in e.value.message
    windows = client.list_merged_windows(tenant)
    assert all(isinstance(w, topicd.MergedWindow) for w in windows)
    assert {(w.start, w.end) for w in windows} == {
        DAY1,
        ("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z"),
    }

    models = client.list_models(tenant)
    assert all(isinstance(m, topicd.ModelInfo) for m in models)
    assert {m.version for m in models} >= {fit1.version, fit2.version, m1.version, m2.version}
    assert [m.version for m in models if m.is_active] == [m2.version]

    active = client.get_model(tenant)
    assert isinstance(active, topicd.ModelDetails)
    assert active.info.version == m2.version and active.info.is_active
    assert active.embedding_dim == DIM
    assert len(active.topics) == 3 and all(isinstance(t, topicd.Topic) for t in active.topics)
    old = client.get_model(tenant, m1.version)
    assert old.info.version == m1.version and not old.info.is_active

    # Rollback to day 1, then forward again.
    act = client.activate(tenant, m1.version)
    assert act == topicd.ActivateResult(
        tenant=tenant, version=m1.version, previous_version=m2.version
    )
    assert client.get_model(tenant).info.version == m1.version
    assert client.transform(tenant, embeddings=data.centres[:1]).version == m1.version

    gone = client.delete_tenant(tenant)
    assert isinstance(gone, topicd.DeleteResult)
    assert gone.tenant == tenant and gone.models_deleted == len(models) and gone.files_deleted > 0
    assert client.list_models(tenant) == []
    with pytest.raises(topicd.NotFound):
        client.top_topics(tenant)


def test_transform_texts_with_local_encoder(server, client, data):
    if server.encoder is None:
        pytest.skip(
            "no encoder weights (set TOPICD_TEST_EMBED_MODEL or run scripts/fetch-model.sh)"
        )
    tenant = "acme-text"
    fit = fit_day1(client, tenant, data)
    client.merge(tenant, fit.version)
    tr = client.transform(tenant, texts=["where is my refund", "my package is late"])
    assert len(tr) == 2 and all(isinstance(r.topic_id, int) for r in tr)


def test_server_errors_carry_code_and_message(client, data):
    with pytest.raises(topicd.InvalidArgument) as e:
        client.top_topics("bad tenant!")
    assert isinstance(e.value, topicd.TopicdError)
    assert e.value.code.name == "INVALID_ARGUMENT"
    assert e.value.message.startswith("tenant_id:")
    assert e.value.method == "GetTopTopics"
    assert "INVALID_ARGUMENT" in str(e.value)

    texts = list(data.texts)
    texts[3] = "   "
    with pytest.raises(topicd.InvalidArgument) as e:
        client.fit("acme-bad", texts, embeddings=data.embeddings)
    assert "documents.text[3] is empty or whitespace" in e.value.message

    with pytest.raises(topicd.InvalidArgument) as e:
        client.fit("acme-bad", data.texts, embeddings=data.embeddings[:5])
    assert e.value.message == (
        f"5 embeddings for {len(data.texts)} documents; send exactly one per document, or none"
    )

    rows = data.embeddings.tolist()
    rows[7] = rows[7][:10]  # ragged lists of lists reach the server, which names the row
    with pytest.raises(topicd.InvalidArgument) as e:
        client.fit("acme-bad", data.texts, embeddings=rows)
    assert "embeddings[7] has dimension 10" in e.value.message

    with pytest.raises(topicd.InvalidArgument) as e:
        client.fit(
            "acme-bad",
            data.texts,
            window=("2026-11-25T00:00:00Z", "yesterday"),
            embeddings=data.embeddings,
        )
    assert "window.end" in e.value.message and "RFC 3339" in e.value.message

    with pytest.raises(topicd.InvalidArgument) as e:
        client.merge("acme-bad", "not-a-version")
    assert e.value.message.startswith("day_version")


def test_not_found(client):
    with pytest.raises(topicd.NotFound) as e:
        client.transform("nobody", embeddings=np.ones((1, DIM), dtype=np.float32))
    assert "has no active model" in e.value.message
    with pytest.raises(topicd.NotFound):
        client.get_model("nobody")
    with pytest.raises(topicd.NotFound):
        client.top_topics("nobody")


def test_client_side_argument_errors(client, data):
    with pytest.raises(topicd.InvalidArgument, match="2-D"):
        client.transform("acme", embeddings=np.zeros(DIM))
    with pytest.raises(topicd.InvalidArgument, match="texts or embeddings"):
        client.transform("acme")
    with pytest.raises(topicd.InvalidArgument, match="one per document"):
        client.fit(
            "acme", data.texts, created_at=["2026-11-24T00:00:00Z"], embeddings=data.embeddings
        )
    with pytest.raises(topicd.InvalidArgument, match="unknown fit params"):
        client.fit("acme", data.texts, embeddings=data.embeddings, params={"min_cluster": 3})


def test_deadline_exceeded():
    # A listener that never speaks HTTP/2: the call waits for the connection until its deadline.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        target = "127.0.0.1:%d" % hole.getsockname()[1]
        with topicd.Client(target, timeout=0.5) as c:
            t0 = time.monotonic()
            with pytest.raises(topicd.DeadlineExceeded) as e:
                c.list_models("acme")
            assert e.value.attempts == 1  # only UNAVAILABLE is retried
            assert 0.4 <= time.monotonic() - t0 < 5
            with pytest.raises(topicd.DeadlineExceeded):
                c.top_topics("acme", timeout=0.2)  # a per-call deadline


def test_closed_client_raises(server):
    c = topicd.Client(server.target)
    c.close()
    with pytest.raises((topicd.TopicdError, ValueError)):
        c.health()
