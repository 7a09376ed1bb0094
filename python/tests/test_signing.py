"""Signed versions: the shared vectors (test/vectors/signing.json, which the TypeScript tests
read too), and a subscriber that takes only what a trusted key signed, from a topic the
TypeScript CLI publishes to with --sign-key."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from conftest import CLI, Server
from helpers import eventually
from imprint_client import Client, ImprintError, InvalidArgumentError
from imprint_client.signing import key_id_of, parse_trusted_key, signed_digest, signed_encoding
from imprint_client.publisher import Publisher
from imprint_client.subscriber import Subscriber, identity

VECTORS: dict[str, Any] = json.loads((Path(__file__).resolve().parents[2] / "test" / "vectors" / "signing.json").read_text())


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: str(c["content"]["topic"]))
def test_signing_vectors(case: dict[str, Any]) -> None:
    c = case["content"]
    key = next(k for k in VECTORS["keys"] if k["keyId"] == case["key"])
    assert signed_encoding(c["topic"], c["metadata"], c["pointer"]["size"], c["pointer"]["sha256"]) == case["encoding"]
    digest = signed_digest(c["topic"], c["metadata"], c["pointer"]["size"], c["pointer"]["sha256"])
    assert digest.hex() == case["signedDigestHex"]
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key["seedHex"]))
    assert base64.b64encode(private.sign(digest)).decode() == case["signature"]  # Ed25519 is deterministic
    raw = parse_trusted_key(key["publicKeyBase64"])
    assert key_id_of(raw) == key["keyId"]


def test_a_bad_trusted_key_is_refused_naming_it(client: Client) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        Subscriber(client, identity("sig-test"), trusted_keys=[VECTORS["keys"][0]["publicKeyBase64"], "not a key"])
    assert e.value.field == "trusted_keys[1]"


def imprint(server: Server, *args: str) -> None:
    run = subprocess.run(["node", str(CLI), "--address", server.address, *args], capture_output=True, text=True, env=dict(os.environ))
    assert run.returncode == 0, run.stdout + run.stderr


def test_only_versions_signed_by_a_trusted_key_are_swapped_in(server: Server, client: Client, topic_name: str, tmp_path: Path) -> None:
    imprint(server, "keygen", "--out", str(tmp_path / "k"))
    payload = tmp_path / "model.bin"
    payload.write_bytes(b"signed by the build")
    imprint(server, "topic", "create", topic_name, "--trusted-key", str(tmp_path / "k.pub"))
    imprint(server, "publish", topic_name, str(payload), "--sign-key", str(tmp_path / "k.key"))
    with Subscriber(client, identity("sig-test"), interval_s=0.02, trusted_keys=[(tmp_path / "k.pub").read_text()]) as s:
        sub = s.subscribe(topic_name, bytes, b"")
        assert sub.ready(60) and sub.current == b"signed by the build"
    other = VECTORS["keys"][0]["publicKeyBase64"]  # a key the publisher did not sign with
    with Subscriber(client, identity("sig-test"), interval_s=0.02, trusted_keys=[other]) as s:
        sub = s.subscribe(topic_name, bytes, b"")
        eventually(lambda: sub.stats.rejections["verify"] == 1, what="the signature rejection")
        assert "not a trusted one" in sub.stats.last_rejection and sub.version == 0


def test_python_signs_what_it_publishes_and_the_topic_takes_only_that(server: Server, client: Client, topic_name: str, tmp_path: Path) -> None:
    imprint(server, "keygen", "--out", str(tmp_path / "k"))
    imprint(server, "topic", "create", topic_name, "--trusted-key", str(tmp_path / "k.pub"))
    with pytest.raises(ImprintError) as e:
        Publisher(client).publish(topic_name, b"unsigned")
    assert e.value.code == "FAILED_PRECONDITION" and "signature" in e.value.message
    v = Publisher(client, sign_key=tmp_path / "k.key").publish(topic_name, b"signed in python", metadata={"build": "7"})
    assert v.record.signature.key_id == key_id_of(parse_trusted_key((tmp_path / "k.pub").read_text()))
    with Subscriber(client, identity("sig-test"), interval_s=0.02, trusted_keys=[(tmp_path / "k.pub").read_text()]) as s:
        sub = s.subscribe(topic_name, bytes, b"")
        assert sub.ready(60) and sub.current == b"signed in python"
    with pytest.raises(InvalidArgumentError) as bad:
        Publisher(client, sign_key=b"not a key")
    assert bad.value.field == "sign_key"
