"""Argument conversion, without a server."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import topicd
from topicd import _convert as conv
from topicd._core import metadata


def test_timestamps():
    utc = dt.timezone.utc
    assert conv.timestamp(None) == ""
    assert conv.timestamp("2026-11-24T00:00:00Z") == "2026-11-24T00:00:00Z"
    assert conv.timestamp(dt.datetime(2026, 11, 24, 3, 4, 5)) == "2026-11-24T03:04:05Z"
    cet = dt.timezone(dt.timedelta(hours=1))
    assert conv.timestamp(dt.datetime(2026, 11, 24, 3, tzinfo=cet)) == "2026-11-24T02:00:00Z"
    assert conv.timestamp(dt.datetime(2026, 11, 24, tzinfo=utc)) == "2026-11-24T00:00:00Z"
    assert conv.timestamp(dt.date(2026, 11, 24)) == "2026-11-24T00:00:00Z"
    with pytest.raises(TypeError):
        conv.timestamp(12345)


def test_embeddings_from_numpy_and_lists():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    from_np = conv.embeddings(a, "Fit")
    from_lists = conv.embeddings([[0, 1, 2], (3.0, 4.0, 5.0)], "Fit")
    from_rows = conv.embeddings([np.array([0, 1, 2]), np.array([3, 4, 5])], "Fit")
    assert [list(e.values) for e in from_np] == [[0, 1, 2], [3, 4, 5]]
    assert from_np == from_lists == from_rows
    assert conv.embeddings(None, "Fit") == []
    assert conv.embeddings(np.zeros((0, 3)), "Fit") == []
    with pytest.raises(topicd.InvalidArgument, match="2-D"):
        conv.embeddings(np.zeros((2, 2, 2)), "Fit")
    with pytest.raises(topicd.InvalidArgument, match=r"embeddings\[1\]"):
        conv.embeddings([[1.0], 2.0], "Fit")


def test_fit_request():
    req = conv.fit_request(
        "acme",
        ["a", topicd.Document("b", id="x"), {"text": "c", "created_at": "2026-11-24T05:00:00Z"}],
        dt.datetime(2026, 11, 24, 1),
        topicd.Window("2026-11-24T00:00:00Z", dt.datetime(2026, 11, 25)),
        None,
        topicd.FitParams(nr_topics=20, seed=7),
    )
    assert [(d.id, d.text, d.created_at) for d in req.documents] == [
        ("0", "a", "2026-11-24T01:00:00Z"),
        ("x", "b", "2026-11-24T01:00:00Z"),
        ("2", "c", "2026-11-24T05:00:00Z"),
    ]
    assert (req.window.start, req.window.end) == ("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z")
    assert req.params.nr_topics == "20" and req.params.seed == 7
    assert not req.params.HasField("min_topic_size")  # unset stays unset: the server's default
    bare = conv.fit_request("acme", ["a"], None, None, None, None)
    assert not bare.HasField("window") and not bare.HasField("params")
    assert bare.documents[0].created_at == ""


def test_transform_request_takes_one_text():
    assert list(conv.transform_request("acme", "hello", None).texts) == ["hello"]
    with pytest.raises(topicd.InvalidArgument, match="not both"):
        conv.transform_request("acme", ["a"], [[1.0]])


def test_bearer_metadata():
    assert metadata(None) == ()
    assert metadata("abc") == (("authorization", "Bearer abc"),)
    assert metadata("Bearer abc") == (("authorization", "Bearer abc"),)


def test_error_hierarchy():
    import grpc

    from topicd._errors import error_for

    for code in grpc.StatusCode:
        if code is grpc.StatusCode.OK:
            continue
        e = error_for(code, "boom", method="Fit")
        assert isinstance(e, topicd.TopicdError)
        assert e.code is code and e.message == "boom"
        assert type(e).__name__.upper() == code.name.replace("_", "")
    assert issubclass(topicd.NotFound, topicd.TopicdError)


def test_tls_argument():
    from topicd._core import credentials

    assert credentials(None) is None and credentials(False) is None
    with pytest.raises(TypeError):
        credentials(42)
