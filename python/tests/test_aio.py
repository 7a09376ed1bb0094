"""The asyncio API against the session's real server."""

from __future__ import annotations

import asyncio

from imprint_client import Client
from imprint_client.aio import AsyncSubscriber, publish
from imprint_client.publisher import Publisher
from imprint_client.subscriber import Subscriber, identity


def test_swaps_reach_the_event_loop_in_order(client: Client, topic_name: str) -> None:
    pub = Publisher(client)
    pub.create_topic(topic_name)

    async def main() -> list[tuple[int, bytes]]:
        async with AsyncSubscriber(Subscriber(client, identity("aio-test"), interval_s=0.02)) as s:
            sub = s.subscribe(topic_name, bytes, b"")
            assert not await sub.ready(0.05)  # nothing published yet
            seen: list[tuple[int, bytes]] = []

            async def follow() -> None:
                async for change in sub.changes():
                    seen.append(change)
                    if change[0] == 3:
                        return

            follower = asyncio.create_task(follow())
            await asyncio.sleep(0)  # the follower is listening before the first publish
            for n in (1, 2, 3):
                v = await publish(pub, topic_name, f"v{n}".encode())
                assert v.record.version == n
                while sub.version != n:  # each swap seen before the next publish
                    await asyncio.sleep(0.005)
            await asyncio.wait_for(follower, 60)
            assert await sub.ready(0) and sub.current == b"v3"
            return seen

    assert asyncio.run(main()) == [(1, b"v1"), (2, b"v2"), (3, b"v3")]
