"""The publish retry rules (client/publisher.ts's) against a server process that is killed and
started again on the same port and data."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import start_server
from imprint_client import Client, PublishOutcomeUnknownError
from imprint_client.pb import consumer
from imprint_client.publisher import Published, Publisher


def test_a_publish_without_an_answer_is_sent_again_and_lands_once() -> None:
    data = Path(tempfile.mkdtemp(prefix="imprint-py-retry-"))
    server = start_server(data)
    port = server.address.rsplit(":", 1)[1]
    try:
        with Client(server.address, timeout_s=2) as c:
            pub = Publisher(c, retry_budget_s=60, retry_min_s=0.05, retry_max_s=0.5)
            pub.create_topic("retried")
            server.kill()
            result: list[Published | BaseException] = []

            def publish() -> None:
                try:
                    result.append(pub.publish("retried", b"payload", publish_id="build-9"))
                except BaseException as err:  # handed to the test thread
                    result.append(err)

            t = threading.Thread(target=publish)
            t.start()
            server = start_server(data, port=int(port))  # the same port and data: the retries reach it
            t.join(timeout=90)
            assert len(result) == 1 and isinstance(result[0], Published), result
            assert result[0].record.version == 1
            latest = c.call(c.consumer.ListVersions, consumer.ListVersionsRequest(topic="retried"))
            assert [v.version for v in latest.versions] == [1]
    finally:
        server.kill()
        shutil.rmtree(data, ignore_errors=True)


def test_no_answer_within_the_budget_is_an_unknown_outcome() -> None:
    data = Path(tempfile.mkdtemp(prefix="imprint-py-retry-"))
    server = start_server(data)
    try:
        with Client(server.address, timeout_s=1) as c:
            pub = Publisher(c, retry_budget_s=0.5, retry_min_s=0.05, retry_max_s=0.1)
            pub.create_topic("unknown")
            server.kill()
            with pytest.raises(PublishOutcomeUnknownError) as e:
                pub.publish("unknown", b"payload", publish_id="build-10")
        assert e.value.publish_id == "build-10" and e.value.code == "UNAVAILABLE"
        assert "publish again with publish id 'build-10'" in e.value.message
    finally:
        server.kill()
        shutil.rmtree(data, ignore_errors=True)
