"""The fallback snapshot (docs/CLIENTS.md, "The fallback snapshot"): decoding and the decision
from it, as core/snapshot.ts writes and decides them."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._proto.imprint.v1 import types_pb2
from .errors import DataIntegrityError, ImprintError, InvalidArgumentError
from .publisher import S3Region
from .rules import Decision, Head, PinRule, decide, identity_attributes

SNAPSHOT_FORMAT = "imprint.snapshot.v1"
_KIND = {"file": types_pb2.BLOB_KIND_FILE, "s3": types_pb2.BLOB_KIND_S3}


@dataclass(frozen=True)
class SnapshotTopic:
    name: str
    max_staleness_ms: int | None
    heads: list[Head]
    pins: list[PinRule]
    records: dict[int, types_pb2.VersionRecord]


@dataclass(frozen=True)
class Snapshot:
    written_at_ms: int
    topics: dict[str, SnapshotTopic]


def record_from_json(r: dict[str, Any]) -> types_pb2.VersionRecord:
    """A record as snapshots and the vectors write it (version a decimal string, direct bytes base64)."""
    p = r["pointer"]
    if p["kind"] == "direct":
        pointer = types_pb2.DataPointer(size=p["size"], sha256=p["sha256"], direct=base64.b64decode(p["bytes"]))
    else:
        locations = [types_pb2.BlobLocation(kind=_KIND[loc["kind"]], region=loc["region"], bucket=loc["bucket"], key=loc["key"]) for loc in p["locations"]]
        pointer = types_pb2.DataPointer(size=p["size"], sha256=p["sha256"], blob=types_pb2.BlobLocations(locations=locations))
    return types_pb2.VersionRecord(
        topic=r["topic"],
        version=int(r["version"]),
        published_at_ms=r["publishedAtMs"],
        metadata=r["metadata"],
        pointer=pointer,
        scopes=[types_pb2.Scope(match=s) for s in r.get("scopes", [])],
        digest=r.get("digest", ""),
    )


def decode_snapshot(data: bytes) -> Snapshot:
    """Raises DataIntegrityError for anything but a whole, unaltered snapshot."""
    nl = data.find(b"\n")
    if nl < 0:
        raise DataIntegrityError("snapshot has no header line")
    try:
        header = json.loads(data[:nl])
    except ValueError:
        raise DataIntegrityError("snapshot header is not JSON") from None
    if not isinstance(header, dict) or header.get("format") != SNAPSHOT_FORMAT:
        raise DataIntegrityError(f"snapshot format {header.get('format') if isinstance(header, dict) else header} is not {SNAPSHOT_FORMAT}")
    body = data[nl + 1 :]
    if len(body) != header.get("size"):
        raise DataIntegrityError(f"snapshot body has {len(body)} bytes, its header says {header.get('size')}")
    if hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise DataIntegrityError("snapshot body does not match its sha256")
    raw = json.loads(body)
    topics: dict[str, SnapshotTopic] = {}
    for t in raw["topics"]:
        records = [record_from_json(r) for r in t["records"]]
        topics[t["topic"]["name"]] = SnapshotTopic(
            name=t["topic"]["name"],
            max_staleness_ms=t["topic"].get("maxStalenessMs"),
            heads=[Head(h["scope"], int(h["version"])) for h in t["heads"]],
            pins=[PinRule(p["scope"], int(p["version"]), p["createdAtMs"]) for p in t["pins"]],
            records={r.version: r for r in records},
        )
    return Snapshot(raw["writtenAtMs"], topics)


def decide_from_snapshot(snap: Snapshot, topic: str, identity: types_pb2.ConsumerIdentity, last_seen: int) -> tuple[bool, Decision]:
    """(known, decision): what the service would answer, from the snapshot; known is False when it lacks the topic."""
    t = snap.topics.get(topic)
    if t is None:
        return False, Decision(None, False)
    newest_first = sorted(t.records.values(), key=lambda r: r.version, reverse=True)
    return True, decide(t.heads, t.pins, t.records.get, lambda below: (r for r in newest_first if r.version < below), identity_attributes(identity), last_seen)


DEFAULT_PREFIX = "imprint-snapshots"  # core/blob-keys.ts SNAPSHOT_PREFIX


class SnapshotReader:
    """Reads the janitor's current fallback snapshot from the first region that has it whole:
    the pointer `PREFIX/LATEST`, then the snapshot it names, checked (decode_snapshot). The
    decoded snapshot is kept while the pointer names the same one."""

    def __init__(self, regions: Sequence[S3Region], prefix: str = DEFAULT_PREFIX) -> None:
        if not regions:
            raise InvalidArgumentError("regions", "must name at least one region")
        self.regions = list(regions)
        self.prefix = prefix
        self._cached: tuple[str, Snapshot] | None = None

    def read(self) -> Snapshot:
        """ImprintError("UNAVAILABLE") naming each region's problem when none has a whole snapshot."""
        problems: list[str] = []
        for r in self.regions:
            try:
                pointer = json.loads(r.client.get_object(Bucket=r.bucket, Key=f"{r.prefix}{self.prefix}/LATEST")["Body"].read())
                if not isinstance(pointer, dict) or pointer.get("format") != SNAPSHOT_FORMAT or not isinstance(pointer.get("key"), str):
                    raise DataIntegrityError("snapshot pointer is malformed")
                key: str = pointer["key"]
                if self._cached is not None and self._cached[0] == key:
                    return self._cached[1]
                snap = decode_snapshot(r.client.get_object(Bucket=r.bucket, Key=f"{r.prefix}{key}")["Body"].read())
                self._cached = (key, snap)
                return snap
            except Exception as err:  # this region cannot give it: the next may
                problems.append(f"region {r.region}: {err}")
        raise ImprintError("UNAVAILABLE", "no region has a readable fallback snapshot: " + "; ".join(problems))
