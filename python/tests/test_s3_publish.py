"""Payloads over 1 MiB through boto3 to two MinIO regions, and the TypeScript CLI reading what
Python published (and the other way), byte for byte."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import CLI, REGIONS, S3_ENV, Server, s3_args, s3_regions
from imprint_client import Client, ImprintError, record_problem
from imprint_client.fetch import fetch_payload
from imprint_client.pb import consumer
from imprint_client.publisher import Publisher


regions = s3_regions


def imprint(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    """The TypeScript CLI against `server`."""
    return subprocess.run(["node", str(CLI), "--address", server.address, *args], capture_output=True, text=True, env={**os.environ, **S3_ENV}, timeout=120)


def test_a_large_payload_goes_to_every_region_and_typescript_reads_it(s3_server: Server, s3_endpoints: list[str], topic_name: str, tmp_path: Path) -> None:
    rs = regions(s3_endpoints)
    data = os.urandom(11 * 1024 * 1024 + 7)  # two parts of 8 MiB
    seen: list[int] = []
    with Client(s3_server.address) as c:
        pub = Publisher(c, regions=rs)
        pub.create_topic(topic_name)
        v = pub.publish(topic_name, data, metadata={"from": "python"}, on_progress=lambda n, _t: seen.append(n))
        rec = v.record
        assert rec.pointer.WhichOneof("payload") == "blob"
        assert [loc.region for loc in rec.pointer.blob.locations] == list(REGIONS)
        assert record_problem(rec) is None
        assert seen[-1] == len(data) and seen == sorted(seen)
        for r, loc in zip(rs, rec.pointer.blob.locations):
            assert r.client.get_object(Bucket=loc.bucket, Key=loc.key)["Body"].read() == data
    out = tmp_path / "ts.bin"
    run = imprint(s3_server, "download", topic_name, str(rec.version), "-o", str(out), *s3_args(s3_endpoints, "py-{region}"))
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == data


def test_python_reads_what_typescript_published(s3_server: Server, s3_endpoints: list[str], topic_name: str, tmp_path: Path) -> None:
    small, large = tmp_path / "small.bin", tmp_path / "large.bin"
    small.write_bytes(b"from typescript")
    large.write_bytes(os.urandom(3 * 1024 * 1024 + 1))
    with Client(s3_server.address) as c:
        Publisher(c).create_topic(topic_name)
        for f in (small, large):
            run = imprint(s3_server, "publish", topic_name, str(f), *s3_args(s3_endpoints, "py-{region}"))
            assert run.returncode == 0, run.stderr
        for version, f in ((1, small), (2, large)):
            rec = c.call(c.consumer.GetVersion, consumer.GetVersionRequest(topic=topic_name, version=version)).record
            assert record_problem(rec) is None
            assert fetch_payload(rec, regions(s3_endpoints)) == f.read_bytes()


def test_a_refused_publish_removes_its_uploads(s3_server: Server, s3_endpoints: list[str], topic_name: str) -> None:
    rs = regions(s3_endpoints)
    with Client(s3_server.address) as c, pytest.raises(ImprintError) as e:
        Publisher(c, regions=rs).publish(topic_name, os.urandom(2 * 1024 * 1024))  # no such topic
    assert e.value.code == "FAILED_PRECONDITION"
    for r in rs:
        assert r.client.list_objects_v2(Bucket=r.bucket, Prefix=f"{topic_name}/").get("KeyCount") == 0


def test_a_region_with_wrong_bytes_is_passed_over(s3_server: Server, s3_endpoints: list[str], topic_name: str) -> None:
    rs = regions(s3_endpoints)
    data = os.urandom(2 * 1024 * 1024)
    with Client(s3_server.address) as c:
        pub = Publisher(c, regions=rs)
        pub.create_topic(topic_name)
        rec = pub.publish(topic_name, data).record
    first = rec.pointer.blob.locations[0]
    rs[0].client.put_object(Bucket=first.bucket, Key=first.key, Body=b"x" * len(data))
    assert fetch_payload(rec, rs) == data
    with pytest.raises(ImprintError) as e:
        fetch_payload(rec, rs[:1])
    assert e.value.code == "DATA_LOSS" and "does not match its sha256" in e.value.message
