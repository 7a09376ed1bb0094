"""Scopes, pins and the poll decision a client takes on its own (docs/CLIENTS.md, "Scopes and
pins"): from a fallback snapshot when the service is down, and to tell whether an answer may
replace what a subscriber holds. The service's decision is core/poll.ts; this is its rules
without rollouts (a snapshot has none)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ._proto.imprint.v1 import types_pb2
from .digest import record_problem

Attributes = Mapping[str, str]


@dataclass(frozen=True)
class Head:
    scope: Mapping[str, str]
    version: int


@dataclass(frozen=True)
class PinRule:
    scope: Mapping[str, str]
    version: int
    created_at_ms: int


def identity_attributes(identity: types_pb2.ConsumerIdentity) -> dict[str, str]:
    """What scopes are matched against: the labels, then app, cluster, region and node (node_id) when set."""
    attrs = dict(identity.labels)
    for key, value in (("app", identity.app), ("cluster", identity.cluster), ("region", identity.region), ("node", identity.node_id)):
        if value:
            attrs[key] = value
    return attrs


def scope_matches(scope: Mapping[str, str], attrs: Attributes) -> bool:
    """Every pair of the scope equals the consumer's attribute; the empty scope matches all."""
    return all(attrs.get(k) == v for k, v in scope.items())


def applicable_pin(pins: Iterable[PinRule], attrs: Attributes) -> PinRule | None:
    """The most specific matching pin (most pairs); a tie goes to the newest pin."""
    best: PinRule | None = None
    for p in pins:
        if scope_matches(p.scope, attrs) and (best is None or (len(p.scope), p.created_at_ms) > (len(best.scope), best.created_at_ms)):
            best = p
    return best


def latest_for(heads: Iterable[Head], attrs: Attributes) -> int | None:
    """The highest version among the heads whose scope matches."""
    matching = [h.version for h in heads if scope_matches(h.scope, attrs)]
    return max(matching) if matching else None


def is_update(version: int, last_seen: int, pinned: bool, rolled_back: bool = False) -> bool:
    """Whether a consumer holding `last_seen` (0: nothing) moves to `version`: never older
    unless pinned or rolled back, never the one it holds."""
    if version == last_seen:
        return False
    return pinned or rolled_back or version > last_seen


@dataclass(frozen=True)
class Decision:
    record: types_pb2.VersionRecord | None  # None: no update
    pinned: bool


def decide(
    heads: Sequence[Head], pins: Sequence[PinRule], records: Callable[[int], types_pb2.VersionRecord | None], older: Callable[[int], Iterable[types_pb2.VersionRecord]], attrs: Attributes, last_seen: int
) -> Decision:
    """The poll decision (core/poll.ts) over heads, pins and records at hand:
    1. the target: the best pin, else the latest for the consumer's scopes;
    2. no update when it is not an update (is_update);
    3. its record, when it passes its check;
    4. when it fails: a consumer with data stays; one with none gets the newest older record
       whose scopes match and that passes (`older(below)`: records below, newest first)."""
    pin = applicable_pin(pins, attrs)
    target, pinned = (pin.version, True) if pin else (latest_for(heads, attrs), False)
    if target is None or not is_update(target, last_seen, pinned):
        return Decision(None, pinned)
    record = records(target)
    if record is not None and record_problem(record) is None:
        return Decision(record, pinned)
    if last_seen > 0:
        return Decision(None, False)
    for r in older(target):
        if any(scope_matches(s.match, attrs) for s in r.scopes) and record_problem(r) is None:
            return Decision(r, False)
    return Decision(None, False)
