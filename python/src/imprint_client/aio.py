"""An asyncio API over the thread-based one: the Subscriber's poll thread does the work; these
wrappers hand its swaps to an event loop and run blocking calls (publish, close) in a worker
thread, so a coroutine never blocks the loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Generic, TypeVar

from .publisher import Published, PublishData, Publisher, Scope
from .subscriber import Held, Subscriber, Subscription

T = TypeVar("T")


class AsyncSubscription(Generic[T]):
    """A Subscription seen from an event loop: `.current` as ever (a reference read),
    `await ready(timeout)`, and `changes()`, each swap as (version, value) from now on."""

    def __init__(self, sub: Subscription[T], loop: asyncio.AbstractEventLoop) -> None:
        self._sub = sub
        self._loop = loop
        self._queues: list[asyncio.Queue[tuple[int, T]]] = []
        sub.on_swap(self._swapped)

    @property
    def topic(self) -> str:
        return self._sub.topic

    @property
    def current(self) -> T:
        return self._sub.current

    @property
    def held(self) -> Held[T]:
        return self._sub.held

    @property
    def version(self) -> int:
        return self._sub.version

    async def ready(self, timeout: float | None = None) -> bool:
        """True once a version is loaded; False when `timeout` seconds pass first."""
        return await asyncio.to_thread(self._sub.ready, timeout)

    async def changes(self) -> AsyncIterator[tuple[int, T]]:
        """Every swap from now on, in order, as (version, value); ends when the consumer stops iterating."""
        q: asyncio.Queue[tuple[int, T]] = asyncio.Queue()
        self._queues.append(q)
        try:
            while True:
                yield await q.get()
        finally:
            self._queues.remove(q)

    def _swapped(self, version: int, value: T) -> None:  # on the poll thread
        for q in list(self._queues):
            self._loop.call_soon_threadsafe(q.put_nowait, (version, value))


class AsyncSubscriber:
    """Wraps a Subscriber for asyncio; create it inside the loop that will use it."""

    def __init__(self, subscriber: Subscriber) -> None:
        self.subscriber = subscriber
        self._loop = asyncio.get_running_loop()

    def subscribe(self, topic: str, decode: Callable[[bytes], T], default: T, validate: Callable[[T], bool] | None = None) -> AsyncSubscription[T]:
        return AsyncSubscription(self.subscriber.subscribe(topic, decode, default, validate), self._loop)

    async def close(self) -> None:
        await asyncio.to_thread(self.subscriber.close)

    async def __aenter__(self) -> AsyncSubscriber:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def publish(
    publisher: Publisher,
    topic: str,
    data: PublishData,
    metadata: Mapping[str, str] | None = None,
    scopes: Sequence[Scope] = (),
    publish_id: str | None = None,
    no_rollout: bool = False,
) -> Published:
    """Publisher.publish in a worker thread (same rules, same errors)."""
    return await asyncio.to_thread(publisher.publish, topic, data, metadata, scopes, publish_id, no_rollout)
