"""The record digest and consistency check (docs/CLIENTS.md), as core/digest.ts defines them."""

from __future__ import annotations

import hashlib
import json

from ._proto.imprint.v1 import types_pb2

_KIND = {types_pb2.BLOB_KIND_FILE: "file", types_pb2.BLOB_KIND_S3: "s3"}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: object) -> str:
    """JSON as JavaScript's JSON.stringify writes it: no spaces, non-ASCII as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def record_encoding(r: types_pb2.VersionRecord) -> str:
    """The canonical encoding of a record's immutable fields (scopes are not in it: they may grow)."""
    metadata = [[k, r.metadata[k]] for k in sorted(r.metadata)]
    p = r.pointer
    pointer: list[object]
    if p.WhichOneof("payload") == "blob":
        locations = [[_KIND.get(loc.kind, "unspecified"), loc.region, loc.bucket, loc.key] for loc in p.blob.locations]
        pointer = ["blob", p.size, p.sha256, locations]
    else:
        pointer = ["direct", p.size, p.sha256]
    return canonical_json(["imprint.v1.record", r.topic, str(r.version), r.published_at_ms, metadata, pointer])


def record_digest(r: types_pb2.VersionRecord) -> str:
    """sha256 (hex) of record_encoding(r): what r.digest must be."""
    return sha256_hex(record_encoding(r).encode("utf-8"))


def record_problem(r: types_pb2.VersionRecord, direct_omitted: bool = False) -> str | None:
    """Why a record fails its consistency check, or None when it passes.

    `direct_omitted`: a BatchPoll/Watch answer left the direct bytes out; only the digest is
    checked (the bytes are checked when fetched).
    """
    if r.digest != record_digest(r):
        return f"record digest mismatch for {r.topic} v{r.version}"
    p = r.pointer
    if p.WhichOneof("payload") == "direct" and not direct_omitted:
        if len(p.direct) != p.size:
            return f"direct payload of {r.topic} v{r.version} has {len(p.direct)} bytes, pointer says {p.size}"
        if sha256_hex(p.direct) != p.sha256:
            return f"direct payload of {r.topic} v{r.version} does not match its sha256"
    return None
