"""The shared vectors of docs/CLIENTS.md (test/vectors/), read by the TypeScript tests too
(test/unit/client-vectors.test.ts): this implementation gives exactly their answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imprint_client import DataIntegrityError, record_digest, record_encoding, record_problem, sha256_hex
from imprint_client.pb import types
from imprint_client.snapshot import decide_from_snapshot, decode_snapshot, record_from_json

VECTORS = Path(__file__).resolve().parents[2] / "test" / "vectors"
RECORDS: dict[str, Any] = json.loads((VECTORS / "records.json").read_text())
SNAPSHOT: dict[str, Any] = json.loads((VECTORS / "snapshot.json").read_text())


@pytest.mark.parametrize("case", RECORDS["cases"], ids=lambda c: str(c["record"]["topic"]))
def test_record_digest(case: dict[str, Any]) -> None:
    r = record_from_json({**case["record"], "digest": case["digest"]})
    assert record_encoding(r) == case["encoding"]
    assert sha256_hex(case["encoding"].encode()) == case["digest"]
    assert record_digest(r) == case["digest"]
    assert record_problem(r) is None


@pytest.mark.parametrize("case", RECORDS["problems"], ids=lambda c: str(c["about"]))
def test_record_problem(case: dict[str, Any]) -> None:
    assert record_problem(record_from_json({**case["record"], "digest": case["digest"]})) == case["problem"]


def test_a_direct_payload_that_does_not_match_its_sha256_fails() -> None:
    case = RECORDS["cases"][0]
    r = record_from_json({**case["record"], "digest": case["digest"]})
    r.pointer.direct = b"b"
    assert record_problem(r) == f"direct payload of {r.topic} v{r.version} does not match its sha256"


@pytest.mark.parametrize("case", SNAPSHOT["decisions"], ids=lambda c: str(c["about"]))
def test_snapshot_decision(case: dict[str, Any]) -> None:
    snap = decode_snapshot(SNAPSHOT["snapshot"].encode())
    i = case["identity"]
    identity = types.ConsumerIdentity(app=i["app"], cluster=i["cluster"], region=i["region"], node_id=i["nodeId"], labels=i["labels"])
    known, d = decide_from_snapshot(snap, case["topic"], identity, int(case["lastSeen"]))
    got = {"known": known, "version": str(d.record.version) if d.record else None, "pinned": d.pinned}
    assert got == case["expect"]


@pytest.mark.parametrize("case", SNAPSHOT["refused"], ids=lambda c: str(c["about"]))
def test_snapshot_refused(case: dict[str, Any]) -> None:
    with pytest.raises(DataIntegrityError, match=case["problem"]):
        decode_snapshot(case["snapshot"].encode())
