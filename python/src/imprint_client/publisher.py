"""Publishing: topics, versions, scopes, pins.

A payload up to 1 MiB goes inside the record; a larger one is uploaded to every region's S3
bucket (boto3, one multipart upload per region, fed from one read of the data) while it is
hashed, then recorded. Size and sha256 are computed in the same streaming pass that uploads.
A publish whose outcome is unknown is sent again with the same publish id (the service makes
one version of it, however many attempts), and uploaded objects are removed only when the
service refused the FIRST attempt for certain: a committed version never loses its payload.
The rules are client/publisher.ts's.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import ssl
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Union

from ._proto.imprint.v1 import operator_pb2, publisher_pb2, types_pb2
from .client import Client
from .errors import ImprintError, InvalidArgumentError, PublishOutcomeUnknownError
from .signing import sign_pointer

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

MAX_DIRECT_BYTES = 1024 * 1024  # core/validate.ts
CHUNK_BYTES = 8 * 1024 * 1024  # one S3 part (at least 5 MiB), and one read of the data
_PUBLISH_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Answers the service gives before it writes anything: the publish was refused for certain.
_REFUSED = {"INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND", "ALREADY_EXISTS"}

PublishData = Union[bytes, bytearray, memoryview, Path, IO[bytes]]
"""Bytes, a file path (pathlib.Path), or a binary stream (read once, to its end)."""

Scope = Mapping[str, str]
"""A scope: label -> value a consumer must have; {} is every consumer."""

Progress = Callable[[int, "int | None"], None]
"""Called as the data is read: bytes read so far, and the total when known."""


@dataclass(frozen=True)
class S3Region:
    """One region's bucket for payloads over 1 MiB: boto3's S3 client for it, the bucket, and an
    optional key prefix. The region name must be the one the service's store names it."""

    region: str
    client: S3Client
    bucket: str
    prefix: str = ""


@dataclass(frozen=True)
class Published:
    record: types_pb2.VersionRecord
    replayed: bool  # the publish id had already made this version
    rollout: types_pb2.Rollout | None


def _scope(s: Scope) -> types_pb2.Scope:
    return types_pb2.Scope(match=dict(s))


class Publisher:
    """Creates topics and publishes versions through `client`.

    regions: one S3Region per region of the service's blob stores; every payload over 1 MiB is
    written to all of them. Default: none: payloads over 1 MiB go through the upload URLs the
    service lends (BeginUpload), with no store credentials here.
    retry_budget_s: how long a publish whose outcome is unknown keeps being sent again with its
    publish id, from the first attempt (default 60). retry_min_s / retry_max_s: the first wait,
    doubling with jitter up to the longest (defaults 0.25 and 5).
    sign_key: an Ed25519 private key in PEM (bytes, or the Path of a file `imprint keygen`
    wrote): every version is signed with it (docs/SIGNING.md; a topic with trusted keys takes
    only signed publishes). Default: unsigned. Needs the `signing` extra.
    """

    def __init__(
        self,
        client: Client,
        regions: Sequence[S3Region] = (),
        retry_budget_s: float = 60.0,
        retry_min_s: float = 0.25,
        retry_max_s: float = 5.0,
        sign_key: bytes | Path | None = None,
    ) -> None:
        if retry_budget_s < 0:
            raise InvalidArgumentError("retry_budget_s", "must be at least 0", retry_budget_s)
        if retry_min_s <= 0:
            raise InvalidArgumentError("retry_min_s", "must be more than 0", retry_min_s)
        if retry_max_s < retry_min_s:
            raise InvalidArgumentError("retry_max_s", "must be at least retry_min_s", retry_max_s)
        self.sign_key = sign_key.read_bytes() if isinstance(sign_key, Path) else sign_key
        if self.sign_key is not None:
            sign_pointer(self.sign_key, "", {}, types_pb2.DataPointer(size=1, sha256="0" * 64))  # a bad key fails here, naming sign_key
        self.client = client
        self.regions = list(regions)
        self.retry_budget_s = retry_budget_s
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s

    # ---- topics ----

    def create_topic(self, name: str, owner: str = "", description: str = "", keep_versions: int | None = None, keep_days: int | None = None) -> types_pb2.Topic:
        retention = types_pb2.Retention(keep_versions=keep_versions, keep_days=keep_days)
        req = publisher_pb2.CreateTopicRequest(name=name, owner=owner, description=description, retention=retention)
        return self.client.call(self.client.publisher.CreateTopic, req).topic

    def update_topic(self, name: str, owner: str | None = None, description: str | None = None) -> types_pb2.Topic:
        req = publisher_pb2.UpdateTopicRequest(name=name, owner=owner, description=description)
        return self.client.call(self.client.publisher.UpdateTopic, req).topic

    # ---- versions ----

    def publish(
        self,
        topic: str,
        data: PublishData,
        metadata: Mapping[str, str] | None = None,
        scopes: Sequence[Scope] = (),
        publish_id: str | None = None,
        no_rollout: bool = False,
        on_progress: Progress | None = None,
    ) -> Published:
        """Publishes `data` as the topic's next version.

        publish_id names this publish for retries (1-128 of A-Z a-z 0-9 . _ : -); a build job
        that repeats its publish step passes the same id (its run id) and gets the same version
        (replayed). Default: a new random id per call (retries within the call are covered).
        """
        pid = _publish_id(publish_id)
        stream, total, owned = _open(data)
        try:
            pointer, kept = self._upload(topic, stream, total, on_progress)
        finally:
            if owned:
                stream.close()
        return self._record(topic, pointer, metadata or {}, scopes, pid, no_rollout, kept)

    def publish_pointer(
        self, topic: str, pointer: types_pb2.DataPointer, metadata: Mapping[str, str] | None = None, scopes: Sequence[Scope] = (), publish_id: str | None = None, no_rollout: bool = False
    ) -> Published:
        """Records a version whose payload is already uploaded, retried like publish; the objects are never deleted here."""
        return self._record(topic, pointer, metadata or {}, scopes, _publish_id(publish_id), no_rollout, [])

    def add_scopes(self, topic: str, version: int, scopes: Sequence[Scope]) -> types_pb2.VersionRecord:
        req = publisher_pb2.AddScopesRequest(topic=topic, version=version, scopes=[_scope(s) for s in scopes])
        return self.client.call(self.client.publisher.AddScopes, req).record

    def pin(self, topic: str, version: int, scope: Scope | None = None, reason: str = "", created_by: str = "") -> types_pb2.Pin:
        """Forces consumers in `scope` (default: every consumer) onto `version`, older or not."""
        req = operator_pb2.PinRequest(topic=topic, version=version, scope=_scope(scope or {}), reason=reason, created_by=created_by)
        return self.client.call(self.client.operator.Pin, req).pin

    def unpin(self, topic: str, scope: Scope | None = None) -> types_pb2.Pin:
        """Removes the pin of `scope` (default: every consumer) and returns it; NOT_FOUND when there is none."""
        return self.client.call(self.client.operator.Unpin, operator_pb2.UnpinRequest(topic=topic, scope=_scope(scope or {}))).removed

    # ---- the steps ----

    def _upload(self, topic: str, stream: IO[bytes], total: int | None, on_progress: Progress | None) -> tuple[types_pb2.DataPointer, list[tuple[S3Region, str]]]:
        """1. Read the first 1 MiB + 1 byte: a payload that fits is direct.
        2. Otherwise upload to every region while hashing, part by part (one read of the data)."""
        h = hashlib.sha256()
        head = _read_full(stream, MAX_DIRECT_BYTES + 1)
        h.update(head)
        if on_progress:
            on_progress(len(head), total)
        if len(head) == 0:
            raise InvalidArgumentError("data", "must have at least 1 byte", 0)
        if len(head) <= MAX_DIRECT_BYTES:
            return types_pb2.DataPointer(size=len(head), sha256=h.hexdigest(), direct=bytes(head)), []
        if not self.regions:
            return self._upload_lent(topic, head, stream, total, on_progress), []
        key = f"{topic}/{uuid.uuid4()}"
        uploads = [(r, r.prefix + key, r.client.create_multipart_upload(Bucket=r.bucket, Key=r.prefix + key)["UploadId"]) for r in self.regions]
        etags: list[list[str]] = [[] for _ in uploads]
        more = _read_full(stream, CHUNK_BYTES - len(head))
        h.update(more)
        size = len(head) + len(more)
        part = head + more
        try:
            while part:
                for i, (r, k, upload_id) in enumerate(uploads):
                    etags[i].append(r.client.upload_part(Bucket=r.bucket, Key=k, UploadId=upload_id, PartNumber=len(etags[i]) + 1, Body=part)["ETag"])
                if on_progress:
                    on_progress(size, total)
                part = _read_full(stream, CHUNK_BYTES)
                h.update(part)
                size += len(part)
            for i, (r, k, upload_id) in enumerate(uploads):
                parts = [{"ETag": e, "PartNumber": j + 1} for j, e in enumerate(etags[i])]
                r.client.complete_multipart_upload(Bucket=r.bucket, Key=k, UploadId=upload_id, MultipartUpload={"Parts": parts})  # type: ignore[typeddict-item]
        except BaseException:
            for r, k, upload_id in uploads:
                try:
                    r.client.abort_multipart_upload(Bucket=r.bucket, Key=k, UploadId=upload_id)
                except Exception:  # best effort: the upload failed already
                    pass
            raise
        locations = [types_pb2.BlobLocation(kind=types_pb2.BLOB_KIND_S3, region=r.region, bucket=r.bucket, key=k) for r, k, _ in uploads]
        pointer = types_pb2.DataPointer(size=size, sha256=h.hexdigest(), blob=types_pb2.BlobLocations(locations=locations))
        return pointer, [(r, k) for r, k, _ in uploads]

    def _upload_lent(self, topic: str, head: bytes, stream: IO[bytes], total: int | None, on_progress: Progress | None) -> types_pb2.DataPointer:
        """Through the service's lent URLs, which need size and sha256 before the bytes:
        1. the data into a temporary file, hashed as it is written (one read of the stream);
        2. BeginUpload; 3. PUT each part of each region's target from the file;
        4. CompleteUpload when a target is multipart. The pointer it returns is what to publish."""
        with tempfile.TemporaryFile() as spool:
            h = hashlib.sha256(head)
            spool.write(head)
            size = len(head)
            for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
                h.update(chunk)
                spool.write(chunk)
                size += len(chunk)
                if on_progress:
                    on_progress(size, total)
            begin = self.client.call(self.client.publisher.BeginUpload, publisher_pb2.BeginUploadRequest(topic=topic, size=size, sha256=h.hexdigest()))
            completed: list[publisher_pb2.CompletedUpload] = []
            for target in begin.targets:
                etags = [publisher_pb2.CompletedPart(part_number=part.part_number, etag=_put_part(spool, part, self.client.http_ssl)) for part in target.parts]
                if target.multipart:
                    completed.append(publisher_pb2.CompletedUpload(region=target.region, parts=etags))
            if not completed:
                return begin.pointer
            req = publisher_pb2.CompleteUploadRequest(topic=topic, upload_id=begin.upload_id, regions=completed)
            return self.client.call(self.client.publisher.CompleteUpload, req).pointer

    def _record(
        self, topic: str, pointer: types_pb2.DataPointer, metadata: Mapping[str, str], scopes: Sequence[Scope], publish_id: str, no_rollout: bool, kept: list[tuple[S3Region, str]]
    ) -> Published:
        """Sends the publish until the service answers for certain, within the retry budget:
        1. an answer: the version (or, on a refusal of the first attempt, the error, after
           deleting the uploaded objects);
        2. no answer (UNAVAILABLE): wait (capped, doubling, with jitter) and send it again, same id;
        3. anything else, or the budget spent after an unknown outcome: PublishOutcomeUnknownError."""
        signature = sign_pointer(self.sign_key, topic, metadata, pointer) if self.sign_key is not None else None
        req = publisher_pb2.PublishRequest(
            topic=topic, metadata=dict(metadata), pointer=pointer, scopes=[_scope(s) for s in scopes], publish_id=publish_id, no_rollout=no_rollout, signature=signature
        )
        started = time.monotonic()
        wait = self.retry_min_s
        attempts = 0
        while True:
            attempts += 1
            try:
                res = self.client.call(self.client.publisher.Publish, req)
                return Published(res.record, res.replayed, res.rollout if res.HasField("rollout") else None)
            except ImprintError as err:
                if attempts == 1 and err.code in _REFUSED:
                    for r, k in kept:
                        r.client.delete_object(Bucket=r.bucket, Key=k)
                    raise
                left = self.retry_budget_s - (time.monotonic() - started)
                if err.code != "UNAVAILABLE" or left <= 0:
                    where = [f"s3://{r.bucket}/{k} ({r.region})" for r, k in kept]
                    raise PublishOutcomeUnknownError(topic, publish_id, attempts, err, where) from err
                time.sleep(min(left, wait * random.uniform(0.5, 1.0)))
                wait = min(wait * 2, self.retry_max_s)


def _put_part(spool: IO[bytes], part: publisher_pb2.UploadPart, context: ssl.SSLContext) -> str:
    """PUTs bytes [offset, offset + size) of the spooled payload to the part's URL with its
    headers (an https URL's certificate checked against `context`); returns the ETag it
    answered. A refusal is an ImprintError naming the part."""
    spool.seek(part.offset)
    body = spool.read(part.size)
    req = urllib.request.Request(part.url, data=body, method="PUT", headers={**dict(part.headers), "Content-Length": str(len(body))})
    try:
        with urllib.request.urlopen(req, timeout=300, context=context) as res:
            return str(res.headers.get("ETag", ""))
    except urllib.error.HTTPError as err:
        raise ImprintError("UNAVAILABLE", f"upload of part {part.part_number} (bytes {part.offset}-{part.offset + part.size - 1}) answered HTTP {err.code}: {err.read()[:500]!r}") from err
    except OSError as err:
        raise ImprintError("UNAVAILABLE", f"upload of part {part.part_number}: {err}") from err


def _publish_id(given: str | None) -> str:
    if given is None:
        return str(uuid.uuid4())
    if not _PUBLISH_ID.match(given):
        raise InvalidArgumentError("publish_id", 'must be 1-128 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"', given)
    return given


def _open(data: PublishData) -> tuple[IO[bytes], int | None, bool]:
    """The data as a stream, its size when known, and whether the stream is ours to close."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(data), len(data), True
    if isinstance(data, Path):
        return open(data, "rb"), os.path.getsize(data), True
    return data, None, False


def _read_full(stream: IO[bytes], n: int) -> bytes:
    """Up to n bytes: fewer only at the end of the stream."""
    chunks: list[bytes] = []
    left = n
    while left > 0:
        b = stream.read(left)
        if not b:
            break
        chunks.append(b)
        left -= len(b)
    return b"".join(chunks)
