"""The Subscriber's Prometheus metrics on a real registry, against the session's server."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from helpers import eventually
from imprint_client import Client
from imprint_client.publisher import Publisher
from imprint_client.subscriber import Subscriber, identity


def test_swaps_and_rejections_are_counted_per_topic(client: Client, topic_name: str) -> None:
    registry = CollectorRegistry()
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, b"1")
    with Subscriber(client, identity("metrics-test"), interval_s=0.02, registry=registry) as s:
        sub = s.subscribe(topic_name, lambda b: int(b), 0)
        assert sub.ready(60)
        pub.publish(topic_name, b"not a number")
        eventually(lambda: sub.stats.rejections["decode"] == 1)
        eventually(lambda: registry.get_sample_value("imprint_client_last_poll_success_timestamp_seconds") is not None)
    value = registry.get_sample_value
    assert value("imprint_client_version", {"topic": topic_name}) == 1
    assert value("imprint_client_swaps_total", {"topic": topic_name}) == 1
    assert value("imprint_client_rejections_total", {"topic": topic_name, "stage": "decode"}) == 1
