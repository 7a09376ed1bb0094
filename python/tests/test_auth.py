"""TLS and bearer tokens against a real server that requires both (serve --tls-cert/--tls-key
and --jwt-jwks); the certificate and token are made by test/python-auth-fixture.ts."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO, Server, start_server
from imprint_client import Client, ImprintError
from imprint_client.pb import operator
from imprint_client.publisher import Publisher

ISSUER, AUDIENCE = "https://issuer.imprint.test", "imprint"


@pytest.fixture(scope="module")
def secure() -> Iterator[tuple[Server, Path]]:
    d = Path(tempfile.mkdtemp(prefix="imprint-py-auth-"))
    made = subprocess.run([str(REPO / "node_modules" / ".bin" / "tsx"), "test/python-auth-fixture.ts", str(d), ISSUER, AUDIENCE], cwd=REPO, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    args = ["--tls-cert", str(d / "server.crt"), "--tls-key", str(d / "server.key"), "--jwt-jwks", str(d / "jwks.json"), "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE]
    s = start_server(d / "data", args)
    try:
        yield s, d
    finally:
        s.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_tls_and_a_token_publish_as_the_token_s_principal(secure: tuple[Server, Path]) -> None:
    server, d = secure
    token = (d / "token.txt").read_text().strip()
    with Client(server.address, tls_ca=(d / "ca.crt").read_bytes(), token=lambda: token) as c:
        pub = Publisher(c)
        pub.create_topic("secured")
        assert pub.publish("secured", b"over tls").record.version == 1
        pub.pin("secured", 1, reason="check the principal")
        history = c.call(c.operator.ListHistory, operator.ListHistoryRequest(topic="secured"))
        assert history.changes and all(ch.by.principal == "airflow" and ch.by.authenticated for ch in history.changes)


def test_without_the_token_or_the_ca_the_call_is_refused(secure: tuple[Server, Path]) -> None:
    server, d = secure
    with Client(server.address, tls_ca=(d / "ca.crt").read_bytes(), timeout_s=5) as c, pytest.raises(ImprintError) as e:
        Publisher(c).create_topic("no-token")
    assert e.value.code == "UNAUTHENTICATED"
    with Client(server.address, tls=True, token=(d / "token.txt").read_text().strip(), timeout_s=5) as c, pytest.raises(ImprintError) as e2:
        Publisher(c).create_topic("no-ca")  # the system roots do not know the test CA
    assert e2.value.code == "UNAVAILABLE"
