"""The live feed on a real Redis: a change announced by one process wakes the views of another, from
any thread; a process's own changes wake its views at once and once; an unreadable message harms
nothing; a listener cut off from Redis subscribes again and wakes every view to look again."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator

import pytest

from core.changes import QUEUE, conversation_topic
from gateway.live import LiveFeed, Watch
from gateway.redis_clients import async_client


@pytest.fixture
async def feeds(redis_url: str) -> AsyncIterator[tuple[LiveFeed, LiveFeed]]:
    """Two processes' feeds on one Redis and prefix, both listening, on the gateway's own clients
    (which reconnect, and subscribe again, on their own)."""
    prefix = "live-" + secrets.token_hex(3)
    clients = [async_client(redis_url) for _ in range(2)]
    pair = (LiveFeed(clients[0], prefix), LiveFeed(clients[1], prefix))
    listeners = [asyncio.create_task(feed.listen()) for feed in pair]
    await asyncio.wait_for(asyncio.gather(*(feed.subscribed.wait() for feed in pair)), 10)
    yield pair
    for listener in listeners:
        listener.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    for client in clients:
        await client.aclose()


async def woken(watch: Watch, within: float = 5.0) -> bool:
    try:
        await asyncio.wait_for(watch.changed.wait(), within)
    except TimeoutError:
        return False
    return True


async def test_a_change_announced_by_one_process_wakes_the_matching_views_of_another(
        feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({QUEUE}) as queue, here.watching({conversation_topic(7)}) as other:
        there.announce({QUEUE, conversation_topic(8)})
        assert await woken(queue)
        assert not other.changed.is_set(), "a view of another topic sleeps on"


async def test_a_change_announced_from_another_thread_is_published(feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({QUEUE}) as queue:
        thread = threading.Thread(target=there.announce, args=({QUEUE},))
        thread.start()
        thread.join()
        assert await woken(queue)


async def test_a_process_wakes_its_own_views_at_once_and_skips_its_own_message(
        feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({QUEUE}) as mine, there.watching({QUEUE}) as theirs:
        here.announce({QUEUE})
        assert mine.changed.is_set(), "woken before any round trip through Redis"
        mine.changed.clear()
        assert await woken(theirs)
        await asyncio.sleep(0.3)
        assert not mine.changed.is_set(), "its own message, heard back, wakes nobody again"


async def test_an_unreadable_message_is_ignored_and_the_feed_goes_on(feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({QUEUE}) as queue:
        for junk in (b"\xff\xfe", b"[1, 2]", b'{"topics": "queue"}', b"null", b'{"from": 1}'):
            await there.client.publish(here.channel, junk)
        await asyncio.sleep(0.3)
        assert not queue.changed.is_set()
        there.announce({QUEUE})
        assert await woken(queue)


async def test_a_listener_cut_off_from_redis_subscribes_again_and_wakes_every_view(
        feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({conversation_topic(1)}) as view:
        before = here.subscriptions
        await there.client.client_kill_filter(_type="pubsub")
        assert await woken(view, within=10), "woken to look again: what was said meanwhile was lost"
        assert here.subscriptions > before
        await asyncio.wait_for(here.subscribed.wait(), 10)
        view.changed.clear()
        there.announce({conversation_topic(1)})
        assert await woken(view)


async def test_a_watch_follows_the_topics_it_is_moved_to(feeds: tuple[LiveFeed, LiveFeed]) -> None:
    here, there = feeds
    with here.watching({conversation_topic(1)}) as watch:
        watch.follow({conversation_topic(2)})
        there.announce({conversation_topic(1)})
        await asyncio.sleep(0.3)
        assert not watch.changed.is_set(), "no longer followed"
        there.announce({conversation_topic(2)})
        assert await woken(watch)
    assert not here._watchers, "a watch that ends leaves nothing behind"
