"""The shared poll scenarios (test/vectors/poll-scenarios.json, which test/poll-scenarios.ts runs
over the TypeScript client) through this client's calls: Poll, BatchPoll and a Watch stream's
first answers, against real servers of both polling roles (all, consume) serving a SQLite store
seeded by test/python-poll-scenarios-fixture.ts. Every answer must be the one the scenario
expects, and the same on every role and method."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from conftest import REPO, Server, start_server
from imprint_client import Client, ImprintError
from imprint_client.errors import from_rpc_error
from imprint_client.pb import consumer, types

VECTORS: dict[str, Any] = json.loads((REPO / "test" / "vectors" / "poll-scenarios.json").read_text())
ROLES = ("all", "consume")

# What a poll came to, comparable across roles and methods: ("error", code), ("none",), or
# (the record's wire bytes, pinned).
Outcome = tuple[object, ...]


def identity_of(partial: dict[str, Any]) -> types.ConsumerIdentity:
    i = {**VECTORS["identityDefaults"], **partial}
    return types.ConsumerIdentity(app=i["app"], cluster=i["cluster"], region=i["region"], node_id=i["nodeId"], labels=i["labels"])


def of_update(u: consumer.Update | None) -> Outcome:
    if u is None or not u.HasField("record"):
        return ("none",)  # the wire says pinned only with an update
    return (u.record.SerializeToString(deterministic=True), u.pinned)


def of_result(r: consumer.TopicPollResult | None) -> Outcome:
    if r is None:
        return ("error", "no answer")
    return ("error", r.error_code) if r.error_code else of_update(r.update if r.HasField("update") else None)


def describe(o: Outcome) -> str:
    """ "v3", "v1 pinned", "none", or the error code, as the vectors' expect says it."""
    if o[0] == "error":
        return str(o[1])
    if o[0] == "none":
        return "none"
    record = types.VersionRecord.FromString(o[0])  # type: ignore[arg-type]
    return f"v{record.version}{' pinned' if o[1] else ''}"


def cursors(s: dict[str, Any]) -> list[consumer.TopicCursor]:
    """The scenario's topic asked next to every other scenario topic (those holding v1), as the TS suite asks."""
    out = [consumer.TopicCursor(topic=t, last_seen_version=1) for t in VECTORS["batchTopics"] if t != s["topic"]]
    return [*out, consumer.TopicCursor(topic=s["topic"], last_seen_version=int(s["lastSeen"]))]


def ask_poll(c: Client, s: dict[str, Any]) -> Outcome:
    res = c.call(c.consumer.Poll, consumer.PollRequest(topic=s["topic"], identity=identity_of(s["identity"]), last_seen_version=int(s["lastSeen"])))
    return of_update(res.update if res.HasField("update") else None)


def ask_batch_poll(c: Client, s: dict[str, Any]) -> Outcome:
    res = c.call(c.consumer.BatchPoll, consumer.BatchPollRequest(identity=identity_of(s["identity"]), topics=cursors(s)))
    return of_result(next((r for r in res.results if r.topic == s["topic"]), None))


def ask_watch(c: Client, s: dict[str, Any]) -> Outcome:
    """The same request as BatchPoll's, as a Watch: the scenario topic's first answer on the stream."""
    asked = cursors(s)
    stream = c.stream(c.consumer.Watch, consumer.WatchRequest(identity=identity_of(s["identity"]), topics=asked))
    try:
        for n, msg in enumerate(m for m in stream if m.HasField("result")):
            assert n < len(asked), "a result past the first answers"
            if msg.result.topic == s["topic"]:
                return of_result(msg.result)
        raise AssertionError(f"the Watch stream ended without an answer for {s['topic']}")
    except grpc.RpcError as err:
        raise from_rpc_error(err) from err
    finally:
        stream.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leaves RpcContext.cancel untyped


METHODS: dict[str, Callable[[Client, dict[str, Any]], Outcome]] = {"Poll": ask_poll, "BatchPoll": ask_batch_poll, "Watch": ask_watch}


def outcome(ask: Callable[[], Outcome]) -> Outcome:
    try:
        return ask()
    except ImprintError as err:
        return ("error", err.code)


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Client]]:
    """A server of each polling role, each on its own copy of the seeded store."""
    d = Path(tempfile.mkdtemp(prefix="imprint-py-scenarios-"))
    servers: list[Server] = []
    opened: dict[str, Client] = {}
    try:
        made = subprocess.run([str(REPO / "node_modules" / ".bin" / "tsx"), "test/python-poll-scenarios-fixture.ts", str(d / "seed")], cwd=REPO, capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        for role in ROLES:
            shutil.copytree(d / "seed", d / role)
            servers.append(start_server(d / role, ["--role", role]))
            opened[role] = Client(servers[-1].address, app="pytest", timeout_s=30)
        yield opened
    finally:
        for c in opened.values():
            c.close()
        for s in servers:
            s.stop()
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("s", VECTORS["scenarios"], ids=[s["name"] for s in VECTORS["scenarios"]])
def test_every_role_and_method_gives_the_scenario_s_answer(clients: dict[str, Client], s: dict[str, Any]) -> None:
    answers = [(f"{role} {name}", outcome(lambda: ask(clients[role], s))) for role in ROLES for name, ask in METHODS.items()]
    (first_by, first), *others = answers
    assert describe(first) == s["expect"].replace("none (pinned)", "none"), first_by
    for by, o in others:
        assert o == first, f"{by}: {describe(o)}, {first_by}: {describe(first)}"


def test_a_batch_poll_of_every_scenario_topic_at_once_gets_the_same_answers_on_every_role(clients: dict[str, Client]) -> None:
    topics = [consumer.TopicCursor(topic=t, last_seen_version=0) for t in VECTORS["batchTopics"]]
    answers = [[of_result(r) for r in c.call(c.consumer.BatchPoll, consumer.BatchPollRequest(identity=identity_of({}), topics=topics)).results] for c in clients.values()]
    assert [describe(o) for o in answers[0]] == VECTORS["batchAll"]
    assert all(a == answers[0] for a in answers)
