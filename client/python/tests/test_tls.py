"""TLS: ``tls=`` a CA bundle path or ``grpc.ChannelCredentials`` against a server started with
--tls-cert/--tls-key (certificates made with the openssl CLI; skipped without it)."""

from __future__ import annotations

import shutil
import subprocess

import grpc
import pytest

import topicd

from conftest import Server


def make_certs(d):
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=topicd-test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    return d / "ca.pem", d / "server.pem", d / "server.key"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("no openssl CLI to make test certificates")
    d = tmp_path_factory.mktemp("tls")
    ca, cert, key = make_certs(d)
    s = Server(d / "data", extra_args=["--tls-cert", str(cert), "--tls-key", str(key)], tls_ca=ca)
    s.start()
    yield s
    s.stop()


def test_tls_with_ca_path(tls_server):
    with topicd.Client(tls_server.target, tls=str(tls_server.tls_ca)) as c:
        assert c.health() == "SERVING"
        assert c.list_models("acme") == []


def test_tls_with_channel_credentials(tls_server):
    creds = grpc.ssl_channel_credentials(root_certificates=tls_server.tls_ca.read_bytes())
    with topicd.Client(f"localhost:{tls_server.port}", tls=creds) as c:
        assert c.health() == "SERVING"


def test_plaintext_client_cannot_talk_to_tls_server(tls_server):
    with topicd.Client(tls_server.target, retry=topicd.NO_RETRY, timeout=5) as c:
        with pytest.raises(topicd.TopicdError):
            c.health()


def test_untrusted_server_certificate(tls_server):
    # tls=True trusts the system roots only: the test CA is not among them.
    with topicd.Client(tls_server.target, tls=True, retry=topicd.NO_RETRY, timeout=5) as c:
        with pytest.raises(topicd.Unavailable):
            c.health()
