"""Watch in the Subscriber against real servers: changes arrive on the stream with no poll tick
to explain them (interval_s of an hour), a killed server, a subscription added to an open
stream, pins, a cancelled rollout moving the watcher back (rolled_back), and a watcher's Report
spread after its swap (watch_report_spread_s)."""

from __future__ import annotations

import signal
import time

import pytest

from conftest import OwnServer
from helpers import eventually
from imprint_client import Client, InvalidArgumentError
from imprint_client.pb import operator, publisher, types
from imprint_client.publisher import Publisher
from imprint_client.subscriber import Subscriber, identity

HOUR = 3600.0  # a poll interval no test waits out: what arrives came on the stream


def test_a_publish_reaches_a_watching_subscriber_without_a_poll(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, b"v1")
    with Subscriber(client, identity("watch-test"), interval_s=HOUR) as s:
        sub = s.subscribe(topic_name, bytes, b"")
        assert sub.ready(60) and sub.current == b"v1"
        assert s.following == "watch"
        for n in range(2, 5):
            pub.publish(topic_name, f"v{n}".encode())
            eventually(lambda: sub.version == n, what=f"v{n} on the stream")
        assert sub.current == b"v4" and s.poll_failures == 0 and s.watch_failures_total == 0


def test_a_subscription_added_while_the_stream_is_open_is_followed(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    first, second = f"{topic_name}-a", f"{topic_name}-b"
    for t in (first, second):
        pub.create_topic(t)
        pub.publish(t, b"1")
    with Subscriber(client, identity("watch-test"), interval_s=HOUR) as s:
        a = s.subscribe(first, bytes, b"")
        assert a.ready(60)
        b = s.subscribe(second, bytes, b"")
        assert b.ready(60)
        pub.publish(second, b"2")
        pub.publish(first, b"2")
        eventually(lambda: a.version == 2 and b.version == 2, what="both topics' v2 on the stream")
        assert s.watch_failures_total == 0  # the stream was re-opened for the new topic, not failed


def test_a_killed_server_keeps_the_value_and_the_watch_comes_back(own_server: OwnServer) -> None:
    with Client(own_server.address, timeout_s=2) as c:
        pub = Publisher(c)
        pub.create_topic("killed")
        pub.publish("killed", b"v1")
        with Subscriber(c, identity("watch-kill"), interval_s=HOUR, backoff_min_s=0.02, backoff_max_s=0.2, watch_poll_for_s=0.5) as s:
            sub = s.subscribe("killed", bytes, b"")
            assert sub.ready(60)
            own_server.kill()
            # The stream fails; after watch_failures of them the subscriber polls, which fails too.
            eventually(lambda: s.watch_failures_total >= 3 and s.poll_failures >= 1, what="failed streams, then failed polls")
            assert s.last_watch_error is not None and s.last_watch_error.code == "UNAVAILABLE"
            assert sub.version == 1 and sub.current == b"v1"
            own_server.restart()
            pub.publish("killed", b"v2")
            eventually(lambda: sub.version == 2, what="v2 after the restart")
            # Watching again (the polling time was half a second): v3 comes on the stream.
            eventually(lambda: s.following == "watch", what="watching again")
            pub.publish("killed", b"v3")
            eventually(lambda: sub.version == 3, what="v3 on the stream")
            assert sub.current == b"v3"


def test_a_pin_moves_a_watching_subscriber_back_and_an_unpin_forward(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, b"1")
    pub.publish(topic_name, b"2")
    with Subscriber(client, identity("watch-pin", region="eu"), interval_s=HOUR) as s:
        sub = s.subscribe(topic_name, bytes, b"")
        eventually(lambda: sub.version == 2)
        pub.pin(topic_name, 1, scope={"region": "eu"}, reason="v2 is bad")
        eventually(lambda: sub.version == 1, what="the pin back to v1")
        assert sub.held.pinned and sub.current == b"1"
        pub.unpin(topic_name, scope={"region": "eu"})
        eventually(lambda: sub.version == 2, what="v2 after the unpin")
        assert not sub.held.pinned


CANARY = identity("watch-rollout", cluster="canary", region="us-west-2", node_id="c1")
POLICY = types.RolloutPolicy(
    steps=[
        types.RolloutStep(scopes=[types.Scope(match={"cluster": "canary"})], bake_ms=3_600_000),
        types.RolloutStep(scopes=[], bake_ms=3_600_000),
    ]
)


def test_a_cancelled_rollout_moves_the_watcher_back_and_its_reports_are_counted(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, b"1")
    client.call(client.publisher.UpdateTopic, publisher.UpdateTopicRequest(name=topic_name, rollout_policy=POLICY))
    assert pub.publish(topic_name, b"2").rollout is not None
    with Subscriber(client, CANARY, interval_s=HOUR) as s:
        sub = s.subscribe(topic_name, bytes, b"")
        eventually(lambda: sub.version == 2, what="the canary gets v2")
        # A watcher sends no polls: its Report is what the rollout counts as holding v2.

        def holding() -> int:
            return client.call(client.operator.GetRollout, operator.GetRolloutRequest(topic=topic_name)).progress.holding

        eventually(lambda: holding() == 1, what="the canary's report of v2")
        client.call(client.operator.CancelRollout, operator.CancelRolloutRequest(topic=topic_name, reason="bad scores"))
        eventually(lambda: sub.version == 1, what="the move back to v1")
        assert sub.held.rolled_back and not sub.held.pinned and sub.current == b"1"
        assert sub.stats.rolled_back == 1 and sub.stats.swaps == 2


def test_a_watcher_s_report_is_spread_over_watch_report_spread_s(client: Client, topic_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, b"1")
    client.call(client.publisher.UpdateTopic, publisher.UpdateTopicRequest(name=topic_name, rollout_policy=POLICY))
    assert pub.publish(topic_name, b"2").rollout is not None

    def holding() -> int:
        return client.call(client.operator.GetRollout, operator.GetRolloutRequest(topic=topic_name)).progress.holding

    # The spread's draw, fixed at its whole: the Report comes 3 s after the swap, not at once.
    monkeypatch.setattr("imprint_client.subscriber.random.uniform", lambda low, high: high)
    with Subscriber(client, CANARY, interval_s=HOUR, watch_report_spread_s=3) as s:
        sub = s.subscribe(topic_name, bytes, b"")
        eventually(lambda: sub.version == 2, what="the canary gets v2")
        swapped = time.monotonic()
        time.sleep(1)
        assert holding() == 0
        eventually(lambda: holding() == 1, what="the canary's report of v2")
        assert time.monotonic() - swapped >= 2.9
    for bad in (-1, 60.5, float("nan")):
        with pytest.raises(InvalidArgumentError) as e:
            Subscriber(client, CANARY, watch_report_spread_s=bad)
        assert "watch_report_spread_s" in str(e.value) and "from 0 to 60" in str(e.value)


def test_poll_now_polls_on_the_caller_s_thread(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)
    pub.publish(topic_name, b"1")
    with Subscriber(client, identity("poll-now"), mode="poll", interval_s=HOUR) as s:
        sub = s.subscribe(topic_name, bytes, b"")
        assert sub.ready(60) and s.following == "poll"
        pub.publish(topic_name, b"2")
        s.poll_now()
        assert sub.version == 2 and sub.current == b"2"


def test_a_silent_stream_counts_as_failed_and_the_subscriber_follows_once_the_server_answers(own_server: OwnServer) -> None:
    """A server stopped with SIGSTOP keeps its connections open and sends nothing, heartbeats
    included: after watch_idle_s the stream counts as failed, the value stays, and once the
    server runs again the subscriber watches again and follows."""
    with Client(own_server.address, timeout_s=2) as c:
        pub = Publisher(c)
        pub.create_topic("silent")
        pub.publish("silent", b"v1")
        with Subscriber(c, identity("watch-idle"), interval_s=HOUR, watch_idle_s=1, watch_poll_for_s=0.5, backoff_min_s=0.02, backoff_max_s=0.2) as s:
            sub = s.subscribe("silent", bytes, b"")
            assert sub.ready(60)
            own_server.proc.send_signal(signal.SIGSTOP)
            try:
                eventually(lambda: s.watch_failures_total >= 1, what="the silent stream counted as failed")
                assert s.last_watch_error is not None and "sent nothing for 1 s" in s.last_watch_error.message
                assert sub.version == 1 and sub.current == b"v1"
            finally:
                own_server.proc.send_signal(signal.SIGCONT)
            pub.publish("silent", b"v2")
            eventually(lambda: sub.version == 2, what="v2 once the server runs again")
