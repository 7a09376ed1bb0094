"""Payloads over 1 MiB through the upload URLs the service lends (BeginUpload, the PUTs,
CompleteUpload), with no store credentials in Python; read back by the TypeScript CLI and
through GetDownload's URLs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import urllib.request
from pathlib import Path

from conftest import CLI, S3_ENV, Server, s3_args
from imprint_client import Client, record_problem
from imprint_client.pb import consumer
from imprint_client.publisher import Publisher


def download_through_lent_urls(c: Client, topic: str, version: int) -> bytes:
    d = c.call(c.consumer.GetDownload, consumer.GetDownloadRequest(topic=topic, version=version))
    assert d.urls, "a blob payload has download URLs"
    with urllib.request.urlopen(d.urls[0].url, timeout=120) as res:
        data: bytes = res.read()
    assert len(data) == d.size and hashlib.sha256(data).hexdigest() == d.sha256
    return data


def test_local_store_through_lent_urls(server: Server, topic_name: str, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    with Client(server.address) as c:
        pub = Publisher(c)
        pub.create_topic(topic_name)
        rec = pub.publish(topic_name, data).record
        assert rec.pointer.WhichOneof("payload") == "blob" and record_problem(rec) is None
        assert download_through_lent_urls(c, topic_name, rec.version) == data
    out = tmp_path / "ts.bin"
    run = subprocess.run(["node", str(CLI), "--address", server.address, "--data-dir", str(server.data_dir), "download", topic_name, str(rec.version), "-o", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == data


def test_two_s3_regions_through_lent_urls_multipart(s3_server: Server, s3_endpoints: list[str], topic_name: str, tmp_path: Path) -> None:
    data = os.urandom(12 * 1024 * 1024 + 3)
    with Client(s3_server.address) as c:
        pub = Publisher(c)
        pub.create_topic(topic_name)
        rec = pub.publish(topic_name, data).record
        assert len(rec.pointer.blob.locations) == 2
        assert download_through_lent_urls(c, topic_name, rec.version) == data
    out = tmp_path / "ts.bin"
    run = subprocess.run(
        ["node", str(CLI), "--address", s3_server.address, "download", topic_name, str(rec.version), "-o", str(out), *s3_args(s3_endpoints, "py-{region}")],
        capture_output=True,
        text=True,
        env={**os.environ, **S3_ENV},
    )
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == data
