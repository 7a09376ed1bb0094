"""Publishing against the session's real server."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from imprint_client import Client, ImprintError, InvalidArgumentError, record_problem
from imprint_client.pb import consumer
from imprint_client.publisher import Publisher


def get_version(client: Client, topic: str, version: int) -> consumer.GetVersionResponse:
    return client.call(client.consumer.GetVersion, consumer.GetVersionRequest(topic=topic, version=version))


def test_publishes_bytes_and_reads_them_back(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name, owner="ml-team", keep_versions=5)
    data = b"model weights v1"
    published = pub.publish(topic_name, data, metadata={"build": "42"})
    assert published.record.version == 1
    assert not published.replayed
    got = get_version(client, topic_name, 1).record
    assert got.pointer.direct == data
    assert got.pointer.sha256 == hashlib.sha256(data).hexdigest()
    assert dict(got.metadata) == {"build": "42"}
    assert record_problem(got) is None


def test_publishes_a_file_and_a_stream_with_progress(client: Client, topic_name: str, tmp_path: Path) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    f = tmp_path / "data.bin"
    f.write_bytes(b"x" * 1000)
    seen: list[tuple[int, int | None]] = []
    v1 = pub.publish(topic_name, f, on_progress=lambda n, total: seen.append((n, total)))
    assert v1.record.pointer.size == 1000
    assert seen[-1] == (1000, 1000)
    v2 = pub.publish(topic_name, io.BytesIO(b"streamed"))
    assert get_version(client, topic_name, v2.record.version).record.pointer.direct == b"streamed"


def test_the_same_publish_id_makes_one_version(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    first = pub.publish(topic_name, b"a", publish_id="run-7")
    again = pub.publish(topic_name, b"a", publish_id="run-7")
    assert again.replayed and again.record.version == first.record.version
    # The same id with other bytes is refused for certain, on the first attempt.
    with pytest.raises(ImprintError) as e:
        pub.publish(topic_name, b"b", publish_id="run-7")
    assert e.value.code == "ALREADY_EXISTS"


def test_bad_input_names_the_field(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    with pytest.raises(InvalidArgumentError) as e:
        pub.publish(topic_name, b"a", publish_id="not ok")
    assert e.value.field == "publish_id"
    with pytest.raises(InvalidArgumentError) as e2:
        pub.publish(topic_name, b"")
    assert e2.value.field == "data"
    # The service's own refusal: an unknown topic.
    with pytest.raises(ImprintError) as e4:
        pub.publish(topic_name, b"a")
    assert e4.value.code == "FAILED_PRECONDITION"


def test_scopes_and_pins(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, b"one")
    v2 = pub.publish(topic_name, b"two", scopes=[{"region": "eu"}])
    rec = pub.add_scopes(topic_name, v2.record.version, [{"region": "us"}])
    assert sorted(dict(s.match)["region"] for s in rec.scopes) == ["eu", "us"]
    pin = pub.pin(topic_name, 1, reason="bad v2")
    assert pin.version == 1 and pin.reason == "bad v2"
    removed = pub.unpin(topic_name)
    assert removed.version == 1
    with pytest.raises(ImprintError) as e:
        pub.unpin(topic_name)
    assert e.value.code == "NOT_FOUND"
