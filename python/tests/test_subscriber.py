"""The Subscriber against real servers: swaps seen whole from many threads, rejections
counted, a killed server, pins."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

from conftest import CLI, S3_ENV, OwnServer, Server, s3_args, s3_regions
from helpers import eventually
from imprint_client import Client
from imprint_client.publisher import Publisher
from imprint_client.subscriber import Subscriber, identity

Model = dict[str, object]
EMPTY: Model = {"n": 0, "items": []}


def encode(n: int) -> bytes:
    return json.dumps({"n": n, "items": [n] * 64}).encode()


def decode(b: bytes) -> Model:
    value = json.loads(b)
    assert isinstance(value, dict)
    return value


def whole(v: Model) -> bool:
    n, items = v["n"], v["items"]
    return isinstance(items, list) and (items == [n] * 64 or (n == 0 and items == []))


def test_eight_threads_read_current_through_100_swaps(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    with Subscriber(client, identity("reader-test"), interval_s=0.02) as s:
        sub = s.subscribe(topic_name, decode, EMPTY)
        stop = threading.Event()
        problems: list[str] = []
        reads = [0] * 8

        def read(i: int) -> None:
            last = 0
            while not stop.is_set():
                try:
                    v = sub.current
                    n = v["n"]
                    assert isinstance(n, int)
                    if not whole(v):
                        problems.append(f"torn value {v!r}")
                    if n < last:
                        problems.append(f"went back from {last} to {n}")
                    held = sub.held
                    if held.value["n"] != held.version:
                        problems.append(f"held v{held.version} with the value of v{held.value['n']}")
                    last = n
                    reads[i] += 1
                except Exception as err:  # a value a reader cannot even read is torn too
                    problems.append(f"{type(err).__name__}: {err}")
                time.sleep(0)  # let the poll thread have the GIL now and then

        readers = [threading.Thread(target=read, args=(i,)) for i in range(8)]
        for t in readers:
            t.start()
        try:
            for n in range(1, 101):
                pub.publish(topic_name, encode(n))
                eventually(lambda: sub.version == n, what=f"v{n} swapped in")
        finally:
            stop.set()
            for t in readers:
                t.join()
        assert problems == []
        assert sub.stats.swaps == 100 and sub.current["n"] == 100
        assert all(r > 0 for r in reads)


def test_a_payload_that_fails_decode_or_validate_is_rejected_and_counted(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, encode(1))
    swapped: list[int] = []
    with Subscriber(client, identity("reject-test"), interval_s=0.02) as s:
        sub = s.subscribe(topic_name, decode, EMPTY, validate=lambda v: v["n"] != 3)
        sub.on_swap(lambda version, _v: swapped.append(version))
        assert sub.ready(60)
        pub.publish(topic_name, b"not json")
        eventually(lambda: sub.stats.rejections["decode"] == 1, what="the decode rejection")
        pub.publish(topic_name, encode(3))
        eventually(lambda: sub.stats.rejections["validate"] == 1, what="the validate rejection")
        assert sub.version == 1 and sub.current["n"] == 1
        assert sub.stats.last_rejection.startswith("v3 validate")
        pub.publish(topic_name, encode(4))
        eventually(lambda: sub.version == 4)
        assert swapped == [1, 4]
        # A rejected version is not tried again on every tick.
        assert sub.stats.rejections == {"fetch": 0, "verify": 0, "decode": 1, "validate": 1}


def test_a_corrupt_blob_is_rejected_and_the_next_version_loads(s3_server: Server, s3_endpoints: list[str], topic_name: str) -> None:
    rs = s3_regions(s3_endpoints)
    data = os.urandom(2 * 1024 * 1024)
    with Client(s3_server.address) as c:
        pub = Publisher(c, regions=rs)
        pub.create_topic(topic_name)
        rec = pub.publish(topic_name, data).record
        for r, loc in zip(rs, rec.pointer.blob.locations):
            r.client.put_object(Bucket=loc.bucket, Key=loc.key, Body=b"\0" * len(data))  # same size, other bytes
        with Subscriber(c, identity("corrupt-test"), regions=rs, interval_s=0.02) as s:
            sub = s.subscribe(topic_name, bytes, b"")
            eventually(lambda: sub.stats.rejections["verify"] == 1, what="the verify rejection")
            assert "does not match its sha256" in sub.stats.last_rejection
            assert sub.version == 0 and sub.current == b""
            good = os.urandom(2 * 1024 * 1024)
            pub.publish(topic_name, good)
            eventually(lambda: sub.version == 2)
            assert sub.current == good


def test_typescript_publishes_and_the_subscriber_holds_it_byte_for_byte(s3_server: Server, s3_endpoints: list[str], topic_name: str, tmp_path: Path) -> None:
    f = tmp_path / "model.bin"
    f.write_bytes(os.urandom(5 * 1024 * 1024 + 11))
    with Client(s3_server.address) as c:
        Publisher(c).create_topic(topic_name)
        run = subprocess.run(["node", str(CLI), "--address", s3_server.address, "publish", topic_name, str(f), *s3_args(s3_endpoints, "py-{region}")], capture_output=True, text=True, env={**os.environ, **S3_ENV})
        assert run.returncode == 0, run.stderr
        with Subscriber(c, identity("cross-test"), regions=s3_regions(s3_endpoints), interval_s=0.02) as s:
            sub = s.subscribe(topic_name, bytes, b"")
            assert sub.ready(60)
            assert sub.current == f.read_bytes()


def test_a_killed_server_keeps_the_value_and_the_subscriber_recovers(own_server: OwnServer) -> None:
    with Client(own_server.address, timeout_s=2) as c:
        pub = Publisher(c)
        pub.create_topic("killed")
        pub.publish("killed", encode(1))
        with Subscriber(c, identity("kill-test"), interval_s=0.02, backoff_min_s=0.02, backoff_max_s=0.2) as s:
            sub = s.subscribe("killed", decode, EMPTY)
            assert sub.ready(60)
            own_server.kill()
            eventually(lambda: s.poll_failures >= 3, what="failed polls")
            assert sub.version == 1 and sub.current["n"] == 1
            own_server.restart()
            pub.publish("killed", encode(2))
            eventually(lambda: sub.version == 2, what="v2 after the restart")


def test_pin_back_and_unpin(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, encode(1))
    pub.publish(topic_name, encode(2))
    with Subscriber(client, identity("pin-test", region="eu"), interval_s=0.02) as s:
        sub = s.subscribe(topic_name, decode, EMPTY)
        eventually(lambda: sub.version == 2)
        pub.pin(topic_name, 1, scope={"region": "us"})  # not this consumer's scope
        pub.pin(topic_name, 1, scope={"region": "eu"}, reason="v2 is bad")
        eventually(lambda: sub.version == 1, what="the pin back to v1")
        assert sub.held.pinned and sub.current["n"] == 1
        pub.unpin(topic_name, scope={"region": "eu"})
        eventually(lambda: sub.version == 2, what="back to v2 after the unpin")
        assert not sub.held.pinned


def test_a_latest_that_will_not_load_at_start_up_falls_back_to_an_older_version(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, encode(1))
    pub.publish(topic_name, encode(2), scopes=[{"region": "us"}])  # not this consumer's
    pub.publish(topic_name, encode(3))
    pub.publish(topic_name, b"not json")
    with Subscriber(client, identity("older-test", region="eu"), interval_s=0.02) as s:
        sub = s.subscribe(topic_name, decode, EMPTY, validate=lambda v: v["n"] != 3)
        assert sub.ready(60)
        # v4 fails decode, v3 fails validate, v2 is another scope's: v1.
        assert sub.version == 1 and sub.current["n"] == 1
        assert sub.stats.rejections["decode"] == 1 and sub.stats.rejections["validate"] == 1
        pub.publish(topic_name, encode(5))
        eventually(lambda: sub.version == 5)
    pub.publish(topic_name, b"not json either")
    with Subscriber(client, identity("older-test", region="eu"), interval_s=0.02, older_versions_to_try=0) as s:
        sub = s.subscribe(topic_name, decode, EMPTY)
        eventually(lambda: sub.stats.rejections["decode"] == 1)
        assert sub.version == 0 and sub.current is EMPTY  # told not to try older ones
