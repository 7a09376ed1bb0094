"""mTLS against a real server that asks for client certificates (serve --tls-client-ca) and
takes each call's principal from the certificate (--principal-from san-uri). The CA and the
certificates are made here with the openssl CLI, as scripts/certs.ts makes the TypeScript tests'."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Server, start_server
from helpers import eventually
from imprint_client import Client, ImprintError, InvalidArgumentError
from imprint_client.pb import operator
from imprint_client.publisher import Publisher
from imprint_client.subscriber import Subscriber, identity

PRINCIPAL = "spiffe://corp/airflow"


def _openssl(d: Path, *args: str) -> None:
    run = subprocess.run(["openssl", *args], cwd=d, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def _issue(d: Path, name: str, san: str, eku: str) -> None:
    """d/NAME.pem and d/NAME-key.pem, issued by d/ca.pem for a day."""
    (d / f"{name}.ext").write_text(f"basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = {eku}\nsubjectAltName = {san}\n")
    _openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", "-subj", f"/CN={name}")
    _openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "1", "-extfile", f"{name}.ext", "-out", f"{name}.pem")


@pytest.fixture(scope="module")
def mutual() -> Iterator[tuple[Server, Path]]:
    d = Path(tempfile.mkdtemp(prefix="imprint-py-mtls-"))
    try:
        _openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=imprint-py-test-ca")
        _issue(d, "server", "DNS:localhost,IP:127.0.0.1", "serverAuth")
        _issue(d, "client", f"URI:{PRINCIPAL}", "clientAuth")
        args = ["--tls-cert", str(d / "server.pem"), "--tls-key", str(d / "server-key.pem"), "--tls-client-ca", str(d / "ca.pem"), "--principal-from", "san-uri", "--principal-apps", f"{PRINCIPAL}=*"]
        s = start_server(d / "data", args)
    except BaseException:
        shutil.rmtree(d, ignore_errors=True)
        raise
    try:
        yield s, d
    finally:
        s.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_a_client_certificate_is_the_caller_s_principal_for_publisher_and_subscriber(mutual: tuple[Server, Path]) -> None:
    server, d = mutual
    # Paths for the certificate and key, bytes for the CA: both forms are taken.
    with Client(server.address, tls_ca=(d / "ca.pem").read_bytes(), tls_cert=d / "client.pem", tls_key=str(d / "client-key.pem")) as c:
        pub = Publisher(c)
        pub.create_topic("mutual")
        pub.publish("mutual", b"over mtls")
        pub.pin("mutual", 1, reason="check the principal")
        history = c.call(c.operator.ListHistory, operator.ListHistoryRequest(topic="mutual"))
        assert history.changes and all(ch.by.principal == PRINCIPAL and ch.by.authenticated for ch in history.changes)
        with Subscriber(c, identity("mtls-test"), interval_s=3600) as s:
            sub = s.subscribe("mutual", bytes, b"")
            assert sub.ready(60) and sub.current == b"over mtls"
            pub.unpin("mutual")
            pub.publish("mutual", b"v2")
            eventually(lambda: sub.version == 2, what="v2 on the mTLS Watch stream")
            assert s.following == "watch"


def test_a_large_payload_goes_through_the_lent_https_urls_trusted_by_tls_ca(mutual: tuple[Server, Path]) -> None:
    """Over 1 MiB the Publisher PUTs to the URLs BeginUpload lends, and a Subscriber with no
    boto3 region GETs from the ones GetDownload lends: on this server both are its own HTTPS
    port, whose certificate only tls_ca (a private CA) vouches for."""
    server, d = mutual
    payload = os.urandom(3 * 1024 * 1024 + 7)
    with Client(server.address, tls_ca=d / "ca.pem", tls_cert=d / "client.pem", tls_key=d / "client-key.pem") as c:
        pub = Publisher(c)
        pub.create_topic("mutual-large")
        assert pub.publish("mutual-large", payload).record.pointer.WhichOneof("payload") == "blob"
        with Subscriber(c, identity("mtls-large"), interval_s=3600) as s:
            sub = s.subscribe("mutual-large", bytes, b"")
            assert sub.ready(60) and sub.current == payload


def test_without_a_client_certificate_the_call_is_refused(mutual: tuple[Server, Path]) -> None:
    server, d = mutual
    with Client(server.address, tls_ca=d / "ca.pem", timeout_s=5) as c, pytest.raises(ImprintError) as e:
        Publisher(c).create_topic("no-certificate")
    assert e.value.code == "UNAVAILABLE"  # the handshake fails: no call is made
    with Client(server.address, tls_ca=d / "ca.pem", tls_cert=d / "server.pem", tls_key=d / "server-key.pem", timeout_s=5) as c, pytest.raises(ImprintError) as e2:
        Publisher(c).create_topic("server-certificate")  # not issued for clientAuth
    assert e2.value.code == "UNAVAILABLE"


def test_tls_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        Client("127.0.0.1:1", tls_cert=b"-----BEGIN CERTIFICATE-----")
    assert e.value.field == "tls_key" and "together" in e.value.rule
    with pytest.raises(InvalidArgumentError) as e2:
        Client("127.0.0.1:1", tls_ca=tmp_path / "missing.pem")
    assert e2.value.field == "tls_ca" and "readable PEM file" in e2.value.rule
    (tmp_path / "not.pem").write_text("hello")
    with pytest.raises(InvalidArgumentError) as e3:
        Client("127.0.0.1:1", tls_ca=tmp_path / "not.pem", tls_cert=tmp_path / "not.pem", tls_key=tmp_path / "not.pem")
    assert e3.value.field == "tls_ca" and "no PEM block" in e3.value.rule
    with pytest.raises(InvalidArgumentError) as e4:
        Client("127.0.0.1:1", tls=False, tls_ca=b"-----BEGIN CERTIFICATE-----")
    assert e4.value.field == "tls"
    with pytest.raises(InvalidArgumentError) as e5:
        Client("127.0.0.1:1", tls_ca=b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    assert e5.value.field == "tls_ca" and "PEM certificates" in e5.value.rule
