"""The live feed on a real Redis: a change announced by one process wakes the views of another, from
any thread; a process's own changes wake its views at once and once; an unreadable message harms
nothing; a listener cut off from Redis subscribes again and wakes every view to look again."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from core.changes import QUEUE, conversation_topic
from gateway.live import LiveFeed


@pytest.fixture
async def feeds(redis_url: str) -> AsyncIterator[tuple[LiveFeed, LiveFeed]]:
    """Two processes' feeds on one Redis and prefix, both listening."""
    prefix = "live-" + secrets.token_hex(3)
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    pair = (LiveFeed(clients[0], prefix), LiveFeed(clients[1], prefix))
    listeners = [asyncio.create_task(feed.listen()) for feed in pair]
    await asyncio.wait_for(asyncio.gather(*(feed.subscribed.wait() for feed in pair)), 10)
    yield pair
    for listener in listeners:
        listener.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    for client in clients:
        await client.aclose()


async def woken(event: asyncio.Event, within: float = 5.0) -> bool:
    try:
        await asyncio.wait_for(event.wait(), within)
    except TimeoutError:
        return False
    return True


async def test_a_change_announced_by_one_process_wakes_the_matching_views_of_another(
        feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({QUEUE}) as queue, here.watching({conversation_topic(7)}) as other:
        queue.clear()
        other.clear()
        there.announce({QUEUE, conversation_topic(8)})
        assert await woken(queue)
        assert not other.is_set(), "a view of another topic sleeps on"


async def test_a_change_announced_from_another_thread_is_published(feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({QUEUE}) as queue:
        queue.clear()
        thread = threading.Thread(target=there.announce, args=({QUEUE},))
        thread.start()
        thread.join()
        assert await woken(queue)


async def test_a_process_wakes_its_own_views_at_once_and_skips_its_own_message(
        feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({QUEUE}) as mine, there.watching({QUEUE}) as theirs:
        mine.clear()
        theirs.clear()
        here.announce({QUEUE})
        assert mine.is_set(), "woken before any round trip through Redis"
        mine.clear()
        assert await woken(theirs)
        await asyncio.sleep(0.3)
        assert not mine.is_set(), "its own message, heard back, wakes nobody again"


async def test_an_unreadable_message_is_ignored_and_the_feed_goes_on(feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({QUEUE}) as queue:
        queue.clear()
        for junk in (b"\xff\xfe", b"[1, 2]", b'{"topics": "queue"}', b"null", b'{"from": 1}'):
            await there.client.publish(here.channel, junk)
        await asyncio.sleep(0.3)
        assert not queue.is_set()
        there.announce({QUEUE})
        assert await woken(queue)


async def test_a_listener_cut_off_from_redis_subscribes_again_and_wakes_every_view(
        feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({conversation_topic(1)}) as view:
        view.clear()
        await there.client.client_kill_filter(_type="pubsub")
        assert await woken(view, within=10), "woken to look again: what was said meanwhile was lost"
        await asyncio.wait_for(here.subscribed.wait(), 10)
        view.clear()
        there.announce({conversation_topic(1)})
        assert await woken(view)
