"""Reading a blob into the value handed to decode (fetch._read_checked), over an in-memory body
with the botocore StreamingBody calls it uses (readinto, read): whole, short, long, wrong."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from imprint_client import DataIntegrityError
from imprint_client import fetch
from imprint_client.pb import types


def pointer(data: bytes) -> types.DataPointer:
    return types.DataPointer(size=len(data), sha256=hashlib.sha256(data).hexdigest())


def test_a_whole_blob_is_read_into_bytes_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "READ_BYTES", 1000)  # many chunks, the last one short
    data = os.urandom(10_500)
    got = fetch._read_checked(io.BytesIO(data), pointer(data), "payload")
    assert type(got) is bytes and got == data
    assert hash(got) == hash(data)  # an ordinary bytes value: hashable, equal, immutable


def test_a_blob_of_another_size_or_other_bytes_is_refused() -> None:
    data = os.urandom(4096)
    with pytest.raises(DataIntegrityError, match="has 4095 bytes, its record says 4096"):
        fetch._read_checked(io.BytesIO(data[:-1]), pointer(data), "payload")
    with pytest.raises(DataIntegrityError, match="has more than 4096 bytes"):
        fetch._read_checked(io.BytesIO(data + b"!"), pointer(data), "payload")
    with pytest.raises(DataIntegrityError, match="does not match its sha256"):
        fetch._read_checked(io.BytesIO(bytes(4096)), pointer(data), "payload")


def test_the_blob_is_read_into_the_value_itself_with_no_second_copy() -> None:
    """The value handed to decode is the buffer read into: the allocations peak at about one
    payload (a buffer copied into bytes at the end would peak at two)."""
    import tracemalloc

    data = os.urandom(16 * 1024 * 1024)
    body = io.BytesIO(data)
    tracemalloc.start()
    try:
        got = fetch._read_checked(body, pointer(data), "payload")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == data
    assert peak < 1.25 * len(data), f"allocations peaked at {peak / len(data):.2f}x the payload"


def test_an_s3_body_is_read_from_its_http_response_straight_into_the_value(s3_endpoints: list[str]) -> None:
    """boto3's body from MinIO: the bytes come from the http.client response under it (no
    urllib3 chunk copied), whole and checked, and a bigger object than the record says is refused."""
    import http.client

    from conftest import s3_regions

    r = s3_regions(s3_endpoints)[0]
    try:
        r.client.create_bucket(Bucket="py-fetch", CreateBucketConfiguration={"LocationConstraint": r.region})  # type: ignore[typeddict-item]
    except r.client.exceptions.BucketAlreadyOwnedByYou:
        pass
    data = os.urandom(3 * 1024 * 1024 + 5)
    r.client.put_object(Bucket="py-fetch", Key="blob", Body=data)
    assert isinstance(fetch._direct_reader(r.client.get_object(Bucket="py-fetch", Key="blob")["Body"]), http.client.HTTPResponse)
    assert fetch._read_checked(r.client.get_object(Bucket="py-fetch", Key="blob")["Body"], pointer(data), "payload") == data
    with pytest.raises(DataIntegrityError, match="has more than"):
        fetch._read_checked(r.client.get_object(Bucket="py-fetch", Key="blob")["Body"], pointer(data[:-1]), "payload")
