"""The Subscriber's Prometheus metrics (prometheus_client, the `metrics` extra), named as the
TypeScript client's (client/metrics.ts) so one dashboard reads both."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


class SubscriberMetrics:
    """imprint_client_version{topic}, imprint_client_rejections_total{topic,stage},
    imprint_client_failures_total{topic,step,reason} (step "poll", "watch" or "report"), imprint_client_swaps_total{topic}
    and imprint_client_last_poll_success_timestamp_seconds, on `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        from prometheus_client import Counter, Gauge

        self.version = Gauge("imprint_client_version", "The version held, per topic", ["topic"], registry=registry)
        self.rejections = Counter(
            "imprint_client_rejections_total", "Versions the subscriber could not load, by stage (fetch, verify, decode, validate)", ["topic", "stage"], registry=registry
        )
        self.failures = Counter("imprint_client_failures_total", "Failures by step and reason", ["topic", "step", "reason"], registry=registry)
        self.swaps = Counter("imprint_client_swaps_total", "Versions swapped in, per topic", ["topic"], registry=registry)
        self.last_poll_success = Gauge("imprint_client_last_poll_success_timestamp_seconds", "When a poll last succeeded", registry=registry)

    def swapped(self, topic: str, version: int) -> None:
        self.version.labels(topic).set(version)
        self.swaps.labels(topic).inc()

    def rejected(self, topic: str, stage: str) -> None:
        self.rejections.labels(topic, stage).inc()

    def failed(self, step: str, code: str) -> None:
        """A failed poll, Watch stream or Report (step "poll", "watch" or "report")."""
        self.failures.labels("", step, code).inc()

    def polled(self) -> None:
        self.last_poll_success.set(time.time())
