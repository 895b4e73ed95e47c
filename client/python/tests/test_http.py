"""The server's HTTP/JSON API seen from Python: ``/openapi.json`` is a valid OpenAPI 3 document
(openapi-spec-validator), and a Transform over HTTP answers exactly what the gRPC client gets."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

import topicd
from conftest import Server
from test_client import fit_day1

openapi_spec_validator = pytest.importorskip("openapi_spec_validator")


def get(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, json.loads(r.read())


def post(url: str, body: dict):
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(scope="module")
def http_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("topicd-http"), http=True).start()
    yield s
    s.stop()


def test_openapi_document_is_valid(http_server):
    status, doc = get(f"{http_server.http_url}/openapi.json")
    assert status == 200
    openapi_spec_validator.validate(doc)
    assert "/v1/tenants/{tenant}/transform" in doc["paths"]


def test_http_transform_matches_grpc(http_server, data):
    with topicd.Client(http_server.target, timeout=60) as c:
        day = fit_day1(c, "web", data)
        c.merge("web", day.version)
        rows = data.embeddings[:5]
        grpc_answer = c.transform("web", embeddings=rows)
    status, body = post(
        f"{http_server.http_url}/v1/tenants/web/transform", {"embeddings": rows.tolist()}
    )
    assert status == 200, body
    assert [int(r["topic_id"]) for r in body["results"]] == [r.topic_id for r in grpc_answer.results]
    assert [r["label"] for r in body["results"]] == [r.label for r in grpc_answer.results]
    status, body = post(f"{http_server.http_url}/v1/tenants/web/transform", {"embeddings": [[1.0]]})
    assert status == 400
    assert body["error"]["code"] == "INVALID_ARGUMENT"
