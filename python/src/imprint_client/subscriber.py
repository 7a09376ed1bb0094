"""Subscribers (sync, on threads): keep an in-memory copy of each followed topic current.

All subscriptions of one Subscriber share one BatchPoll per tick, made by one thread. Each new
version goes through the swap cycle, and any failure keeps the current value:

  1. fetch: direct bytes from the answer (or GetVersion when the answer left them out), a blob
     from the first region that has it whole (boto3, `regions=`);
  2. verify: the record digest, size and sha256 (docs/CLIENTS.md);
  3. decode: the application's `decode(bytes)`;
  4. validate: the application's `validate(value)` (False or an exception refuses it);
  5. swap: one reference assignment, so a reader of `.current` on any thread sees the old
     value or the new one, whole, never anything between;
  6. notify: the subscription's callbacks, with the new version and value.

A version that fails a step is the topic's rejection (stage and reason) until the subscription
holds that version or a newer one; every BatchPoll carries it with the topic's cursor, which
is what the rollout gates count (docs/ROLLOUTS.md). A subscription never moves to an older
version unless the answer says it is pinned or rolled back. A poll that fails is retried with
capped, jittered, doubling backoff; the values stay as they are meanwhile.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from ._proto.imprint.v1 import consumer_pb2, types_pb2
from .client import Client
from .digest import record_problem
from .errors import DataIntegrityError, ImprintError, InvalidArgumentError
from .fetch import fetch_payload
from .metrics import SubscriberMetrics
from .publisher import S3Region
from .rules import identity_attributes, is_update, scope_matches
from .signing import parse_trusted_key, signature_problem
from .snapshot import SnapshotReader, decide_from_snapshot

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

T = TypeVar("T")
U = TypeVar("U")

MAX_REJECTION_REASON = 1024  # consumer.proto: Rejection.reason
_STAGE = {"fetch": types_pb2.REJECT_STAGE_FETCH, "verify": types_pb2.REJECT_STAGE_VERIFY, "decode": types_pb2.REJECT_STAGE_DECODE, "validate": types_pb2.REJECT_STAGE_VALIDATE}


class RejectedError(Exception):
    """A version refused at one stage of the swap cycle (fetch, verify, decode, validate)."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason


@dataclass(frozen=True)
class Held(Generic[T]):
    """What a subscription holds: the version (0: none yet, the default) and its value, swapped together."""

    version: int
    value: T
    pinned: bool = False


@dataclass
class Stats:
    """Counters of one subscription (read them from any thread; written by the poll thread)."""

    swaps: int = 0
    rejections: dict[str, int] = field(default_factory=lambda: {stage: 0 for stage in _STAGE})
    last_rejection: str = ""


class Subscription(Generic[T]):
    """One followed topic. `.current` is the value held (the default until a version loads)."""

    def __init__(self, topic: str, decode: Callable[[bytes], T], default: T, validate: Callable[[T], bool] | None, metrics: SubscriberMetrics | None = None) -> None:
        self.topic = topic
        self._metrics = metrics
        self._decode = decode
        self._validate = validate
        self._held: Held[T] = Held(0, default)
        self._rejected: types_pb2.Rejection | None = None
        self._loaded = threading.Event()
        self._callbacks: list[Callable[[int, T], None]] = []
        self.stats = Stats()

    @property
    def current(self) -> T:
        """The value held; a reference read, safe from any thread."""
        return self._held.value

    @property
    def held(self) -> Held[T]:
        """The version and value held, as one consistent pair."""
        return self._held

    @property
    def version(self) -> int:
        return self._held.version

    def ready(self, timeout: float | None = None) -> bool:
        """Waits until a version is loaded (True), or `timeout` seconds pass (False: still the default)."""
        return self._loaded.wait(timeout)

    def on_swap(self, callback: Callable[[int, T], None]) -> None:
        """Calls `callback(version, value)` on the poll thread after each swap."""
        self._callbacks.append(callback)

    # ---- the poll thread's side ----

    def cursor(self) -> consumer_pb2.TopicCursor:
        rejected = self._rejected if self._rejected is not None and self._rejected.version > self._held.version else None
        return consumer_pb2.TopicCursor(topic=self.topic, last_seen_version=self._held.version, rejected=rejected)

    def take(self, update: consumer_pb2.Update, fetch: Callable[[types_pb2.VersionRecord, bool], bytes]) -> bool:
        """The swap cycle for one answer; True when it swapped."""
        record = update.record
        if not is_update(record.version, self._held.version, update.pinned, update.rolled_back):
            return False
        if self._rejected is not None and self._rejected.version == record.version:
            return False  # refused already: wait for another version
        try:
            data = fetch(record, update.direct_omitted)  # 1. fetch and 2. verify
            value = self._run("decode", lambda: self._decode(data))  # 3.
            validate = self._validate
            if validate is not None and not self._run("validate", lambda: validate(value)):  # 4.
                raise RejectedError("validate", "the validate hook refused the value")
        except RejectedError as err:
            self._reject(record.version, err.stage, err.reason)
            return False
        self._held = Held(record.version, value, update.pinned)  # 5. swap: one reference
        self.stats.swaps += 1
        if self._metrics:
            self._metrics.swapped(self.topic, record.version)
        for cb in list(self._callbacks):  # 6. notify
            try:
                cb(record.version, value)
            except Exception:  # a callback's failure is its own; the swap stands
                pass
        self._loaded.set()
        return True

    @staticmethod
    def _run(stage: str, step: Callable[[], U]) -> U:
        try:
            return step()
        except Exception as err:
            raise RejectedError(stage, f"{type(err).__name__}: {err}") from err

    def _reject(self, version: int, stage: str, reason: str) -> None:
        self._rejected = types_pb2.Rejection(version=version, stage=_STAGE[stage], reason=reason[:MAX_REJECTION_REASON])
        self.stats.rejections[stage] += 1
        if self._metrics:
            self._metrics.rejected(self.topic, stage)
        self.stats.last_rejection = f"v{version} {stage}: {reason}"


class Subscriber:
    """Follows topics for one consumer identity through `client`.

    identity: the consumer (app is required; cluster, region, node_id and labels are matched
    against scopes and pins). regions: S3Region per region for blob payloads (default: none,
    direct payloads only). interval_s: between BatchPolls (default 30), each wait
    interval_s × (1 ± jitter) (default 0.1). backoff_min_s / backoff_max_s: a failed poll is
    retried after backoff_min_s, doubling with jitter up to backoff_max_s (defaults 0.2 and 5).
    fallback: a SnapshotReader; when a poll fails, the subscriptions are decided from the
    janitor's fallback snapshot instead (the same scope and pin rules, the same swap cycle and
    never-older rule), so a subscriber can start while the service is down. Default: none.
    older_versions_to_try: on start-up, when the latest cannot be loaded, how many older
    versions matching this consumer to try, newest first (default 3; 0: none).
    trusted_keys: Ed25519 public keys (PEM, or the raw 32 bytes in base64); when any, a version
    is swapped in only when its record is signed by one of them (checked before its payload is
    fetched; a failure is a VERIFY rejection). The subscriber's own keys, not the topic's as the
    service says. Default: none (needs the `signing` extra).
    registry: a prometheus_client CollectorRegistry to put the subscriber's metrics on
    (imprint_client_version, _rejections_total, _swaps_total, _failures_total,
    _last_poll_success_timestamp_seconds; the `metrics` extra). Default: none.
    """

    def __init__(
        self,
        client: Client,
        identity: types_pb2.ConsumerIdentity,
        regions: Sequence[S3Region] = (),
        interval_s: float = 30.0,
        jitter: float = 0.1,
        backoff_min_s: float = 0.2,
        backoff_max_s: float = 5.0,
        fallback: SnapshotReader | None = None,
        older_versions_to_try: int = 3,
        trusted_keys: Sequence[str] = (),
        registry: CollectorRegistry | None = None,
    ) -> None:
        if not identity.app:
            raise InvalidArgumentError("identity.app", "is required")
        if interval_s < 0.01:
            raise InvalidArgumentError("interval_s", "must be at least 0.01", interval_s)
        if not 0 <= jitter < 1:
            raise InvalidArgumentError("jitter", "must be in [0, 1)", jitter)
        if backoff_min_s <= 0 or backoff_max_s < backoff_min_s:
            raise InvalidArgumentError("backoff_max_s", "must be at least backoff_min_s, which must be more than 0", backoff_max_s)
        self.client = client
        self.identity = identity
        self.regions = list(regions)
        self.interval_s = interval_s
        self.jitter = jitter
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        if older_versions_to_try < 0:
            raise InvalidArgumentError("older_versions_to_try", "must be a whole number >= 0", older_versions_to_try)
        self.trusted_keys = [parse_trusted_key(k, f"trusted_keys[{i}]") for i, k in enumerate(trusted_keys)]
        self.metrics = SubscriberMetrics(registry) if registry is not None else None
        self.fallback = fallback
        self.older_versions_to_try = older_versions_to_try
        self.fallback_error: ImprintError | None = None
        self.poll_failures = 0
        self.last_poll_error: ImprintError | None = None
        self._subs: dict[str, Subscription[object]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imprint-subscriber", daemon=True)
        self._thread.start()

    def subscribe(self, topic: str, decode: Callable[[bytes], T], default: T, validate: Callable[[T], bool] | None = None) -> Subscription[T]:
        """Follows `topic`: the subscription holds `default` until a version loads. One per topic."""
        sub: Subscription[T] = Subscription(topic, decode, default, validate, self.metrics)
        with self._lock:
            if topic in self._subs:
                raise InvalidArgumentError("topic", "is subscribed already", topic)
            self._subs[topic] = sub  # type: ignore[assignment]  # each kept with its own T
        self._wake.set()
        return sub

    def close(self) -> None:
        """Stops polling; the subscriptions keep their values."""
        self._closed.set()
        self._wake.set()
        self._thread.join()

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the poll thread ----

    def _run(self) -> None:
        failures = 0
        while not self._closed.is_set():
            with self._lock:
                subs = list(self._subs.values())
            again = False
            try:
                again = self._tick(subs) if subs else False
                failures = 0
                wait = 0.0 if again else self.interval_s * random.uniform(1 - self.jitter, 1 + self.jitter)
            except ImprintError as err:
                self.poll_failures += 1
                self.last_poll_error = err
                if self.metrics:
                    self.metrics.poll_failed(err.code)
                self._from_snapshot(subs)
                wait = min(self.backoff_max_s, self.backoff_min_s * 2**failures) * random.uniform(0.5, 1.0)
                failures += 1
            self._wake.wait(wait)
            self._wake.clear()

    def _tick(self, subs: list[Subscription[object]]) -> bool:
        """One BatchPoll for every subscription, then each answer's swap cycle. True when a
        topic was left for another request (RESOURCE_EXHAUSTED: the response's size budget)."""
        req = consumer_pb2.BatchPollRequest(identity=self.identity, topics=[s.cursor() for s in subs])
        res = self.client.call(self.client.consumer.BatchPoll, req)
        if self.metrics:
            self.metrics.polled()
        by_topic = {s.topic: s for s in subs}
        again = False
        for r in res.results:
            sub = by_topic.get(r.topic)
            if sub is None:
                continue
            if r.error_code:
                again = again or r.error_code == "RESOURCE_EXHAUSTED"
                continue
            if r.HasField("update"):
                rejected_before = sum(sub.stats.rejections.values())
                if not sub.take(r.update, self._fetch) and sub.version == 0 and sum(sub.stats.rejections.values()) > rejected_before:
                    self._start_older(sub, r.update.record.version)
        return again

    def _start_older(self, sub: Subscription[object], below: int) -> None:
        """Start-up with a latest that will not load: the newest of up to older_versions_to_try
        older versions whose scopes match this consumer that passes the swap cycle."""
        if self.older_versions_to_try == 0:
            return
        try:
            page = self.client.call(self.client.consumer.ListVersions, consumer_pb2.ListVersionsRequest(topic=sub.topic, page_size=100, page_token=str(below)))
        except ImprintError:
            return  # the next tick tries the latest again
        attrs = identity_attributes(self.identity)
        candidates = [v for v in page.versions if any(scope_matches(s.match, attrs) for s in v.scopes)][: self.older_versions_to_try]
        for record in candidates:
            if sub.take(consumer_pb2.Update(record=record), self._fetch):
                return

    def _from_snapshot(self, subs: list[Subscription[object]]) -> None:
        """The poll that failed, answered from the fallback snapshot (when there is one)."""
        if self.fallback is None or not subs:
            return
        try:
            snap = self.fallback.read()
            self.fallback_error = None
        except ImprintError as err:
            self.fallback_error = err
            return
        for sub in subs:
            known, d = decide_from_snapshot(snap, sub.topic, self.identity, sub.version)
            if known and d.record is not None:
                sub.take(consumer_pb2.Update(record=d.record, pinned=d.pinned), self._fetch)

    def _fetch(self, record: types_pb2.VersionRecord, direct_omitted: bool) -> bytes:
        """Steps 1 and 2: the verified bytes of `record`; RejectedError at the stage that failed."""
        problem = record_problem(record, direct_omitted) or signature_problem(record, self.trusted_keys)
        if problem:
            raise RejectedError("verify", problem)
        if direct_omitted:
            try:
                full = self.client.call(self.client.consumer.GetVersion, consumer_pb2.GetVersionRequest(topic=record.topic, version=record.version)).record
            except ImprintError as err:
                raise RejectedError("fetch", err.message) from err
            if full.digest != record.digest:
                raise RejectedError("verify", f"GetVersion of {record.topic} v{record.version} gave another record than the one announced")
            record = full
            problem = record_problem(record)
            if problem:
                raise RejectedError("verify", problem)
        try:
            return fetch_payload(record, self.regions)
        except DataIntegrityError as err:
            raise RejectedError("verify", err.message) from err
        except ImprintError as err:
            raise RejectedError("fetch", err.message) from err


def identity(app: str, cluster: str = "", region: str = "", node_id: str = "", labels: Mapping[str, str] | None = None) -> types_pb2.ConsumerIdentity:
    """A consumer identity (app is required by the service)."""
    return types_pb2.ConsumerIdentity(app=app, cluster=cluster, region=region, node_id=node_id, labels=dict(labels or {}))
