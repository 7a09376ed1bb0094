"""Starting with the service dead: the subscriber decides from the janitor's fallback snapshot
(written by the real `imprint janitor --once` to both MinIO regions) and fetches from S3."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import CLI, S3_ENV, Server, s3_args, s3_regions
from imprint_client import Client, ImprintError
from imprint_client.publisher import Publisher
from imprint_client.snapshot import SnapshotReader
from imprint_client.subscriber import Subscriber, identity


def test_start_up_from_the_fallback_snapshot_with_the_service_dead(s3_server: Server, s3_endpoints: list[str], topic_name: str) -> None:
    rs = s3_regions(s3_endpoints)
    v1, v2 = os.urandom(2 * 1024 * 1024), b"small v2"
    with Client(s3_server.address) as c:
        pub = Publisher(c, regions=rs)
        pub.create_topic(topic_name)
        pub.publish(topic_name, v1)
        pub.publish(topic_name, v2)
        pub.pin(topic_name, 1, scope={"region": "eu-west-1"}, reason="v2 is bad in eu")
    run = subprocess.run(
        ["node", str(CLI), "--data-dir", str(s3_server.data_dir), "janitor", "--once", *s3_args(s3_endpoints, "py-{region}")],
        capture_output=True,
        text=True,
        env={**os.environ, **S3_ENV},
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The first region's snapshot is damaged: the reader passes to the second.
    first = rs[0]
    first.client.put_object(Bucket=first.bucket, Key="imprint-snapshots/LATEST", Body=b"{not json")
    dead = Client("127.0.0.1:1", timeout_s=1)  # nothing listens there
    try:
        reader = SnapshotReader(rs)
        with Subscriber(dead, identity("fallback-test", region="eu-west-1"), regions=rs, fallback=reader, interval_s=0.05, backoff_max_s=0.2) as eu, Subscriber(
            dead, identity("fallback-test", region="us-east-1"), regions=rs, fallback=reader, interval_s=0.05, backoff_max_s=0.2
        ) as us:
            in_eu = eu.subscribe(topic_name, bytes, b"")
            in_us = us.subscribe(topic_name, bytes, b"")
            assert in_eu.ready(60) and in_us.ready(60)
            assert in_eu.version == 1 and in_eu.held.pinned and in_eu.current == v1  # the pin, from S3
            assert in_us.version == 2 and in_us.current == v2
            assert eu.poll_failures >= 1 and eu.last_poll_error is not None and eu.last_poll_error.code == "UNAVAILABLE"
    finally:
        dead.close()


def test_no_readable_snapshot_is_unavailable_naming_each_region(s3_endpoints: list[str]) -> None:
    rs = s3_regions(s3_endpoints)
    with pytest.raises(ImprintError) as e:
        SnapshotReader(rs, prefix="no-such-prefix").read()
    assert e.value.code == "UNAVAILABLE"
    assert "region eu-west-1" in e.value.message and "region us-east-1" in e.value.message
