"""Blob payloads read through the URLs GetDownload lends (no boto3 in the reader): a Subscriber
without `regions=` loads them, and fetch_payload passes from a region that gives a short, long
or wrong body, or stops answering in the middle of the body, to the next; against two real
MinIO regions and a real server."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Server, s3_regions
from imprint_client import Client, DataIntegrityError
from imprint_client.fetch import fetch_payload
from imprint_client.pb import consumer, types
from imprint_client.publisher import Publisher
from imprint_client.subscriber import Subscriber, identity

MIB = 1024 * 1024


def publish(c: Client, topic: str, data: bytes) -> types.VersionRecord:
    pub = Publisher(c)  # no regions: through the lent upload URLs, to both regions
    pub.create_topic(topic)
    rec = pub.publish(topic, data).record
    assert [loc.region for loc in rec.pointer.blob.locations] == ["eu-west-1", "us-east-1"]
    return rec


def lent(c: Client, rec: types.VersionRecord, region: str) -> Callable[[], consumer.GetDownloadResponse]:
    return lambda: c.call(c.consumer.GetDownload, consumer.GetDownloadRequest(topic=rec.topic, version=rec.version, region=region))


def overwrite(s3_endpoints: list[str], rec: types.VersionRecord, region: str, body: bytes) -> None:
    """Puts `body` in place of the version's object in `region` (what a damaged store would serve)."""
    r = {x.region: x for x in s3_regions(s3_endpoints)}[region]
    loc = next(loc for loc in rec.pointer.blob.locations if loc.region == region)
    r.client.put_object(Bucket=loc.bucket, Key=loc.key, Body=body)


def test_a_subscriber_without_regions_loads_a_blob_through_the_lent_urls(s3_server: Server, topic_name: str) -> None:
    data = os.urandom(3 * MIB + 5)
    with Client(s3_server.address) as c:
        rec = publish(c, topic_name, data)
        with Subscriber(c, identity("pytest", region="us-east-1"), interval_s=3600) as s:
            sub = s.subscribe(topic_name, bytes, b"")
            assert sub.ready(60), sub.stats.last_rejection
            assert sub.version == rec.version and sub.current == data


@pytest.mark.parametrize(
    ("damage", "rule"),
    [
        (lambda d: d[: len(d) // 2], "has 1572866 bytes, its record says 3145733"),
        (lambda d: d + b"!", "has more than 3145733 bytes, its record says 3145733"),
        (lambda d: bytes(reversed(d)), "does not match its sha256"),
    ],
    ids=["truncated", "longer", "wrong-sha256"],
)
def test_a_region_with_a_damaged_object_passes_to_the_next_and_all_damaged_is_refused(
    s3_server: Server, s3_endpoints: list[str], topic_name: str, damage: Callable[[bytes], bytes], rule: str
) -> None:
    data = os.urandom(3 * MIB + 5)
    with Client(s3_server.address) as c:
        rec = publish(c, topic_name, data)
        overwrite(s3_endpoints, rec, "eu-west-1", damage(data))
        assert fetch_payload(rec, download=lent(c, rec, "eu-west-1")) == data  # eu-west-1's URL first, then us-east-1's
        overwrite(s3_endpoints, rec, "us-east-1", damage(data))
        with pytest.raises(DataIntegrityError) as err:
            fetch_payload(rec, download=lent(c, rec, "eu-west-1"))
    what = f"payload of {topic_name} v{rec.version}"
    assert str(err.value) == f"{what} in eu-west-1 {rule}; {what} in us-east-1 {rule}"


def minio_pid(endpoint: str) -> int:
    """The MinIO server listening on `endpoint` (its command line names the address)."""
    address = endpoint.split("//")[-1].encode()
    for p in Path("/proc").iterdir():
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if p.name.isdigit() and cmd and cmd[0].endswith(b"minio") and address in cmd:
            return int(p.name)
    raise RuntimeError(f"no MinIO process serves {endpoint}")


def bytes_written(pid: int) -> int:
    """What process `pid` has written to files and sockets so far (/proc/PID/io wchar)."""
    with open(f"/proc/{pid}/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("wchar:"))


def test_a_region_that_stops_answering_in_the_middle_of_the_body_passes_to_the_next(s3_server: Server, s3_endpoints: list[str], topic_name: str) -> None:
    """eu-west-1's MinIO is stopped (SIGSTOP) once it has sent 16 MiB of the 64 MiB body: that
    read times out (timeout_s) and us-east-1 gives the payload whole."""
    data = os.urandom(64 * MIB)
    pid = minio_pid(s3_endpoints[0])  # eu-west-1 (conftest.REGIONS)
    stopped_at: list[int] = []  # how much MinIO had sent when it was stopped
    done = threading.Event()
    rescued = threading.Event()
    with Client(s3_server.address) as c:
        rec = publish(c, topic_name, data)
        start = bytes_written(pid)

        def stop_mid_body() -> None:
            while not done.is_set():
                if (sent := bytes_written(pid) - start) >= 16 * MIB:
                    os.kill(pid, signal.SIGSTOP)
                    stopped_at.append(sent)
                    if not done.wait(120):  # the read did not give up on it: let it finish, and the test fail
                        os.kill(pid, signal.SIGCONT)
                        rescued.set()
                    return
                time.sleep(0.0005)

        watcher = threading.Thread(target=stop_mid_body, daemon=True)
        watcher.start()
        try:
            got = fetch_payload(rec, download=lent(c, rec, "eu-west-1"), timeout_s=2)
        finally:
            done.set()
            watcher.join()
            os.kill(pid, signal.SIGCONT)
    assert stopped_at and stopped_at[0] < len(data), f"eu-west-1 was not stopped in the middle of the body: {stopped_at}"
    assert not rescued.is_set(), "the read waited on the stopped region past its timeout"
    assert got == data  # whole, so from us-east-1: eu-west-1 was stopped until the read returned
