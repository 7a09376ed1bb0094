"""Subscribers (sync, on threads): keep an in-memory copy of each followed topic current.

All subscriptions of one Subscriber share one Watch stream (each change arrives as it happens)
or, in poll mode and while Watch is unavailable, one BatchPoll per tick; one thread does
either. Watch, step by step (as the TypeScript client, client/subscriber.ts):

  1. open a stream with the version each subscription holds as its cursor (a subscription
     added meanwhile cancels it, and the next one carries the new topic too);
  2. each answer runs its swap cycle, as a polled one would, and a Report (once for all the
     topics) tells the service what is held and rejected, since a watcher sends no polls;
  3. when the stream fails, goes silent for watch_idle_s (the server sends a heartbeat every
     15 s by default) or ends, open another after a capped, jittered, doubling backoff;
  4. poll instead, every interval_s, for watch_poll_for_s, when the server does not serve
     Watch (UNIMPLEMENTED), after watch_failures stream failures within watch_within_s, or
     when a stream fails while a subscription holds nothing yet (polling has the older
     versions and the fallback snapshot); then back to 1.

Each new version goes through the swap cycle, and any failure keeps the current value:

  1. fetch: direct bytes from the answer (or GetVersion when the answer left them out), a blob
     from the first region that has it whole (boto3, `regions=`; without a region that holds
     it, the URLs GetDownload lends, the consumer's region first);
  2. verify: the record digest, size and sha256 (docs/CLIENTS.md);
  3. decode: the application's `decode(bytes)`;
  4. validate: the application's `validate(value)` (False or an exception refuses it);
  5. swap: one reference assignment, so a reader of `.current` on any thread sees the old
     value or the new one, whole, never anything between;
  6. notify: the subscription's callbacks, with the new version and value.

A version that fails a step is the topic's rejection (stage and reason) until the subscription
holds that version or a newer one; every BatchPoll carries it with the topic's cursor, which
is what the rollout gates count (docs/ROLLOUTS.md). A subscription never moves to an older
version unless the answer says it is pinned or rolled back (its rollout was cancelled: the
answer names the older version to go back to). A poll that fails is retried with capped,
jittered, doubling backoff; the values stay as they are meanwhile.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

import grpc

from ._proto.imprint.v1 import consumer_pb2, types_pb2
from .client import Client
from .digest import record_problem
from .errors import DataIntegrityError, ImprintError, InvalidArgumentError, from_rpc_error
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
    rolled_back: bool = False  # moved back to this older version: the rollout of the newer one was cancelled


@dataclass
class Stats:
    """Counters of one subscription (read them from any thread; written by the poll thread)."""

    swaps: int = 0
    rolled_back: int = 0  # swaps back to an older version whose newer one's rollout was cancelled
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
        self._held = Held(record.version, value, update.pinned, update.rolled_back)  # 5. swap: one reference
        self.stats.swaps += 1
        self.stats.rolled_back += update.rolled_back
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
    against scopes and pins). regions: S3Region per region for blob payloads, read with boto3
    (default: none: blob payloads are read from the URLs the service lends, GetDownload). mode: "watch", one Watch stream for all subscriptions with BatchPoll
    as its fallback (the module comment), or "poll", a BatchPoll every interval_s always
    (default "watch", as the TypeScript client). watch_failures, watch_within_s,
    watch_poll_for_s: after watch_failures stream failures within watch_within_s, poll for
    watch_poll_for_s before watching again (defaults 3, 60 and 300). watch_idle_s: a stream
    with no message, heartbeats included, for this long counts as failed (default 45).
    watch_report_spread_s: a watcher's Report waits a random 0 to this many seconds after what
    it holds or rejected changed, with what changes meanwhile in the same Report, so a topic's
    watchers, all swapped by one publish, do not all call the service at once (0 to 60;
    default 1; 0: at once).
    interval_s: between BatchPolls (poll mode, and while Watch is unavailable; default 30),
    each wait interval_s × (1 ± jitter) (default 0.1). backoff_min_s / backoff_max_s: a failed
    poll, or a failed stream, is tried again after backoff_min_s, doubling with jitter up to
    backoff_max_s (defaults 0.2 and 5).
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

    `following` says which keeps the subscriptions current now ("watch" or "poll");
    poll_failures / last_poll_error and watch_failures / last_watch_error count what failed.
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
        mode: Literal["watch", "poll"] = "watch",
        watch_failures: int = 3,
        watch_within_s: float = 60.0,
        watch_poll_for_s: float = 300.0,
        watch_idle_s: float = 45.0,
        watch_report_spread_s: float = 1.0,
    ) -> None:
        if not identity.app:
            raise InvalidArgumentError("identity.app", "is required")
        if mode not in ("watch", "poll"):
            raise InvalidArgumentError("mode", 'must be "watch" or "poll"', mode)
        if watch_failures < 1:
            raise InvalidArgumentError("watch_failures", "must be a whole number >= 1", watch_failures)
        for name, value in (("watch_within_s", watch_within_s), ("watch_poll_for_s", watch_poll_for_s), ("watch_idle_s", watch_idle_s)):
            if not value >= 0.01:
                raise InvalidArgumentError(name, "must be at least 0.01", value)
        if not 0 <= watch_report_spread_s <= 60:
            raise InvalidArgumentError("watch_report_spread_s", "must be from 0 to 60", watch_report_spread_s)
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
        self.mode = mode
        self.watch_failures = watch_failures
        self.watch_within_s = watch_within_s
        self.watch_poll_for_s = watch_poll_for_s
        self.watch_idle_s = watch_idle_s
        self.watch_report_spread_s = watch_report_spread_s
        self.watch_failures_total = 0
        self.last_watch_error: ImprintError | None = None
        self._polling_until = 0.0  # time.monotonic(): poll instead of watching until then
        self._stream_failed_at: list[float] = []  # time.monotonic() of recent stream failures
        self._stream: grpc.CallIterator[consumer_pb2.WatchResponse] | None = None  # the Watch stream open now
        self._stream_ended_by = ""  # why this side cancelled it: "restart", "idle" or "close"
        self._report_due = False
        self._reporter: threading.Thread | None = None
        self._subs: dict[str, Subscription[object]] = {}
        self._lock = threading.Lock()
        self._ticking = threading.RLock()
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
            self._end_stream("restart")  # the next stream carries the new topic too
        self._wake.set()
        return sub

    def poll_now(self) -> None:
        """One BatchPoll of every subscription now, on the caller's thread, with its swap cycles
        (tests, benchmarks, and operators who want an immediate refresh); ImprintError when it fails."""
        with self._lock:
            subs = list(self._subs.values())
        with self._ticking:
            while subs and self._tick(subs):
                pass  # a topic left for another request (the response's size budget): ask again

    @property
    def following(self) -> Literal["watch", "poll"]:
        """ "watch" while a Watch stream keeps the subscriptions current (or is being opened), "poll" while BatchPolls do."""
        return "poll" if self._polls() else "watch"

    def close(self) -> None:
        """Stops watching and polling; the subscriptions keep their values."""
        self._closed.set()
        with self._lock:
            self._end_stream("close")
        self._wake.set()
        self._thread.join()

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the subscriber's thread ----

    def _polls(self) -> bool:
        """Whether BatchPolls keep the subscriptions current now: poll mode, or Watch failed a while ago."""
        return self.mode == "poll" or time.monotonic() < self._polling_until

    def _backoff(self, failures: int) -> float:
        """The wait after `failures` failures in a row (0: the first): doubling, capped, jittered."""
        return min(self.backoff_max_s, self.backoff_min_s * 2.0**failures) * random.uniform(0.5, 1.0)

    def _run(self) -> None:
        poll_failures = 0
        watch_attempt = 0
        while not self._closed.is_set():
            with self._lock:
                subs = list(self._subs.values())
            if subs and not self._polls():
                wait, watch_attempt = self._watch(subs, watch_attempt)
            else:
                wait, poll_failures = self._poll(subs, poll_failures)
                if self.mode == "watch":  # back to watching when the polling time is up
                    wait = min(wait, max(0.0, self._polling_until - time.monotonic()))
            self._wake.wait(wait)
            self._wake.clear()

    def _poll(self, subs: list[Subscription[object]], failures: int) -> tuple[float, int]:
        """One tick of polling: the wait before the next, and the failures in a row since."""
        try:
            again = self._tick(subs) if subs else False
            return (0.0 if again else self.interval_s * random.uniform(1 - self.jitter, 1 + self.jitter)), 0
        except ImprintError as err:
            self.poll_failures += 1
            self.last_poll_error = err
            if self.metrics:
                self.metrics.failed("poll", err.code)
            with self._ticking:
                self._from_snapshot(subs)
            return self._backoff(failures), failures + 1

    def _tick(self, subs: list[Subscription[object]]) -> bool:
        """One BatchPoll for every subscription, then each answer's swap cycle. True when a
        topic was left for another request (RESOURCE_EXHAUSTED: the response's size budget)."""
        with self._ticking:  # one swap cycle at a time per subscription (poll_now is another thread's)
            return self._tick_once(subs)

    def _tick_once(self, subs: list[Subscription[object]]) -> bool:
        req = consumer_pb2.BatchPollRequest(identity=self.identity, topics=[s.cursor() for s in subs])
        res = self.client.call(self.client.consumer.BatchPoll, req)
        if self.metrics:
            self.metrics.polled()
        by_topic = {s.topic: s for s in subs}
        again = False
        for r in res.results:
            again = self._answered(by_topic.get(r.topic), r) or again
        return again

    def _answered(self, sub: Subscription[object] | None, r: consumer_pb2.TopicPollResult) -> bool:
        """One topic's answer (a BatchPoll's or a Watch stream's): its swap cycle, when it
        brings a version. True when the topic was left for another request (RESOURCE_EXHAUSTED)."""
        if sub is None:
            return False
        if r.error_code:
            return r.error_code == "RESOURCE_EXHAUSTED"
        if r.HasField("update"):
            rejected_before = sum(sub.stats.rejections.values())
            if not sub.take(r.update, self._fetch) and sub.version == 0 and sum(sub.stats.rejections.values()) > rejected_before:
                self._start_older(sub, r.update.record.version)
        return False

    def _watch(self, subs: list[Subscription[object]], attempt: int) -> tuple[float, int]:
        """Steps 1 to 4 of the Watch cycle (the module comment) for one stream: the wait before
        the next step, and the stream failures in a row since the last healthy stream."""
        # 1. A stream, with what each subscription holds as its cursor.
        req = consumer_pb2.WatchRequest(identity=self.identity, topics=[s.cursor() for s in subs])
        with self._lock:
            if self._closed.is_set() or len(self._subs) != len(subs):
                return 0.0, attempt  # closed, or a topic came in meanwhile: a stream with it
            stream = self.client.stream(self.client.consumer.Watch, req)
            self._stream, self._stream_ended_by = stream, ""
        messages = iter(stream)
        # 2. Each answer to its swap cycle; the idle timer runs only while the stream is awaited.
        by_topic = {s.topic: s for s in subs}
        unanswered = len(subs)
        idle: threading.Timer | None = None
        error: ImprintError | None = None
        try:
            while True:
                idle = threading.Timer(self.watch_idle_s, self._stream_idle, (stream,))
                idle.daemon = True
                idle.start()
                try:
                    msg = next(messages)
                except StopIteration:
                    break
                finally:
                    idle.cancel()
                if self.metrics:
                    self.metrics.polled()  # any message, a heartbeat too, says the service answers
                if msg.HasField("result"):
                    if unanswered > 0:
                        unanswered -= 1
                        attempt = 0 if unanswered == 0 else attempt  # each topic answered: a healthy stream
                    with self._ticking:
                        self._answered(by_topic.get(msg.result.topic), msg.result)
                    if msg.result.HasField("update"):
                        self._report_soon()
        except grpc.RpcError as err:
            error = from_rpc_error(err)
        finally:
            with self._lock:
                self._stream = None
                ended_by = self._stream_ended_by
        if self._closed.is_set() or ended_by == "restart":
            return 0.0, attempt
        # 3. It failed, went silent, or ended.
        if ended_by == "idle":
            error = ImprintError("UNAVAILABLE", f"the Watch stream sent nothing for {self.watch_idle_s} s")
        elif error is None:
            error = ImprintError("UNAVAILABLE", "the Watch stream ended")
        now = time.monotonic()
        self._stream_failed_at = [t for t in self._stream_failed_at if now - t < self.watch_within_s] + [now]
        self.watch_failures_total += 1
        self.last_watch_error = error
        if self.metrics:
            self.metrics.failed("watch", error.code)
        # 4. Polling for a while instead.
        if error.code == "UNIMPLEMENTED" or len(self._stream_failed_at) >= self.watch_failures or any(s.version == 0 for s in subs):
            self._polling_until = now + self.watch_poll_for_s
            self._stream_failed_at = []
            return 0.0, 0
        return self._backoff(attempt), attempt + 1

    def _stream_idle(self, stream: grpc.CallIterator[consumer_pb2.WatchResponse]) -> None:  # on the idle timer's thread
        with self._lock:
            if self._stream is stream:
                self._end_stream("idle")

    def _end_stream(self, why: str) -> None:
        """Cancels the open stream, if any, saying why (hold the lock)."""
        if self._stream is not None and not self._stream_ended_by:
            self._stream_ended_by = why
            self._stream.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leaves RpcContext.cancel untyped

    def _report_soon(self) -> None:
        """A watching subscriber's word on what it holds and rejected (polls carry it otherwise):
        one Report for all topics, sent off this thread; what changes meanwhile goes in the next."""
        with self._lock:
            self._report_due = True
            if self._reporter is None:
                self._reporter = threading.Thread(target=self._report_loop, name="imprint-report", daemon=True)
                self._reporter.start()

    def _report_loop(self) -> None:
        while True:
            with self._lock:
                if not self._report_due or self._closed.is_set():
                    self._reporter = None
                    return
            # Spread over watch_report_spread_s; what changes meanwhile goes in this Report.
            if self._closed.wait(random.uniform(0.0, self.watch_report_spread_s)):
                with self._lock:
                    self._reporter = None
                return
            with self._lock:
                self._report_due = False
                cursors = [s.cursor() for s in self._subs.values()]
            try:
                self.client.call(self.client.consumer.Report, consumer_pb2.ReportRequest(identity=self.identity, topics=cursors))
            except ImprintError as err:  # the next swap or rejection reports again; polls carry it too
                if self.metrics:
                    self.metrics.failed("report", err.code)

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
        def download() -> consumer_pb2.GetDownloadResponse:  # the lent URLs, when no region of `regions` holds the blob
            req = consumer_pb2.GetDownloadRequest(topic=record.topic, version=record.version, region=self.identity.region)
            return self.client.call(self.client.consumer.GetDownload, req)

        try:
            return fetch_payload(record, self.regions, download, ssl_context=self.client.http_ssl)
        except DataIntegrityError as err:
            raise RejectedError("verify", err.message) from err
        except ImprintError as err:
            raise RejectedError("fetch", err.message) from err


def identity(app: str, cluster: str = "", region: str = "", node_id: str = "", labels: Mapping[str, str] | None = None) -> types_pb2.ConsumerIdentity:
    """A consumer identity (app is required by the service)."""
    return types_pb2.ConsumerIdentity(app=app, cluster=cluster, region=region, node_id=node_id, labels=dict(labels or {}))
