"""A server with a tokens file: the bearer token travels as ``authorization: Bearer <token>``;
no/unknown token → Unauthenticated, a token scoped elsewhere or too weak → PermissionDenied."""

from __future__ import annotations

import numpy as np
import pytest

import topicd

from conftest import ACME_READ, ACME_WRITE, ADMIN, DIM


def test_missing_token_is_unauthenticated(auth_server):
    with topicd.Client(auth_server.target) as c:
        with pytest.raises(topicd.Unauthenticated) as e:
            c.top_topics("acme")
    assert e.value.code.name == "UNAUTHENTICATED"
    assert e.value.message  # the server says what is missing


def test_unknown_token_is_unauthenticated(auth_server):
    with topicd.Client(auth_server.target, token="not-a-real-token-0123456789") as c:
        with pytest.raises(topicd.Unauthenticated):
            c.list_models("acme")


def test_health_needs_no_token(auth_server):
    with topicd.Client(auth_server.target) as c:
        assert c.health() == "SERVING"


def test_scopes_and_roles(auth_server, data):
    with topicd.Client(auth_server.target, token=ACME_WRITE) as w:
        fit = w.fit(
            "acme",
            data.texts,
            created_at="2026-11-24T12:00:00Z",
            window=("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"),
            embeddings=data.embeddings,
        )
        w.merge("acme", fit.version)
        # Scoped to acme: globex is PERMISSION_DENIED.
        with pytest.raises(topicd.PermissionDenied) as e:
            w.top_topics("globex")
        assert e.value.code.name == "PERMISSION_DENIED" and e.value.message
        with pytest.raises(topicd.PermissionDenied):
            w.fit("globex", data.texts, embeddings=data.embeddings)
        # write may not activate (admin only).
        with pytest.raises(topicd.PermissionDenied):
            w.activate("acme", fit.version)

    # "Bearer " given explicitly is accepted too.
    with topicd.Client(auth_server.target, token=f"Bearer {ACME_READ}") as r:
        assert len(r.top_topics("acme")) == 3
        assert len(r.transform("acme", embeddings=data.centres)) == 3
        with pytest.raises(topicd.PermissionDenied):
            r.fit("acme", data.texts, embeddings=data.embeddings)  # read role cannot fit

    with topicd.Client(auth_server.target, token=ADMIN) as a:
        everyone = a.list_models(None)
        assert {m.tenant for m in everyone} == {"acme"}
        # No embedder on this server: texts are FAILED_PRECONDITION with the reason.
        with pytest.raises(topicd.FailedPrecondition) as e:
            a.transform("acme", texts=["where is my refund"])
        assert "precomputed embeddings" in e.value.message
        assert a.transform("acme", embeddings=np.ones((1, DIM))).tenant == "acme"
