"""Live console views follow Redis pub/sub, not the database.

The store names what each write changed (`core.changes`) once it committed; every process (gateway
or worker) publishes those topics on one Redis channel, and every gateway process listens and wakes
its open views of those topics. A view asks the database only when woken, so a quiet queue costs no
query at all, whichever process made the change and whichever serves the view.

Pub/sub delivers at most once: while a process is cut off from Redis it hears nothing, so on every
(re)subscription all its views are woken to look again (Redis confirms each subscription, including
the ones the client makes again on its own after reconnecting).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Iterable, Iterator

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)
"""Waits before subscribing again after losing Redis, growing up to the last."""


class LiveFeed:
    """Publishes this process's store changes and wakes the views watching them."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.channel = f"{prefix}:live"
        self.origin = secrets.token_hex(8)
        """This feed's name in what it publishes: it hears its own messages and skips them, since
        it woke its views already."""
        self._loop = asyncio.get_running_loop()
        self._pending: set[str] = set()
        self._publisher: asyncio.Task[None] | None = None
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self.subscribed = asyncio.Event()
        """Set while the listener is subscribed (tests wait for it)."""
        self.subscriptions = 0
        """How many times Redis confirmed the subscription (once, plus once per reconnection)."""

    # -- publishing ------------------------------------------------------------------------------

    def announce(self, topics: Iterable[str]) -> None:
        """`StoreBase.announce`: called from any thread once a write committed; never blocks."""
        topics = set(topics)
        try:
            here = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            here = False
        if here:
            self._queue(topics)
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is watching any more
            self._loop.call_soon_threadsafe(self._queue, topics)

    def _queue(self, topics: set[str]) -> None:
        self._pending |= topics
        self._wake(topics)  # this process's views need not wait for the round trip through Redis
        if self._publisher is None or self._publisher.done():
            self._publisher = self._loop.create_task(self._publish())

    async def _publish(self) -> None:
        """One message for whatever was announced meanwhile (a burst of writes is one publish)."""
        await asyncio.sleep(0)
        while self._pending:
            topics, self._pending = self._pending, set()
            try:
                await self.client.publish(self.channel, json.dumps({"from": self.origin, "topics": sorted(topics)}))
            except (RedisError, OSError) as exc:
                # The other processes' listeners are cut off too, and wake every view when back.
                log.debug("live changes not published (%s)", exc)

    async def aclose(self) -> None:
        """Publish what is still pending, then stop."""
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher

    # -- listening -------------------------------------------------------------------------------

    async def listen(self) -> None:
        """Wake the views of every topic published by any process, until cancelled."""
        failures = 0
        while True:
            try:
                async with self.client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "subscribe":
                            self.subscribed.set()
                            self.subscriptions += 1
                            self._wake_all()
                            failures = 0
                        elif message.get("type") == "message":
                            self._heard(message.get("data"))
            except (RedisError, OSError) as exc:
                log.warning("live console updates paused until Redis answers again (%s)", exc)
            finally:
                self.subscribed.clear()
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
            failures += 1

    def _heard(self, data: object) -> None:
        try:
            message = json.loads(data) if isinstance(data, (bytes, str)) else None
        except ValueError:
            message = None
        topics = message.get("topics") if isinstance(message, dict) else None
        if not isinstance(topics, list):
            log.warning("ignored a live message that is not a list of topics")
            return
        if message.get("from") != self.origin:
            self._wake(str(topic) for topic in topics)

    # -- watching --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def watching(self, topics: Iterable[str]) -> Iterator[Watch]:
        """A watch of `topics`, whose event is set whenever one of them changes (clear it before
        looking again); it may `follow` other topics as what it shows moves."""
        watch = Watch(self)
        watch.follow(topics)
        try:
            yield watch
        finally:
            watch.follow(())

    def _register(self, event: asyncio.Event, topics: Iterable[str]) -> None:
        for topic in topics:
            self._watchers.setdefault(topic, set()).add(event)

    def _unregister(self, event: asyncio.Event, topics: Iterable[str]) -> None:
        for topic in topics:
            watchers = self._watchers.get(topic)
            if watchers is not None:
                watchers.discard(event)
                if not watchers:
                    del self._watchers[topic]

    def _wake(self, topics: Iterable[str]) -> None:
        for topic in topics:
            for event in self._watchers.get(topic, ()):
                event.set()

    def _wake_all(self) -> None:
        for watchers in self._watchers.values():
            for event in watchers:
                event.set()


class Watch:
    """What one open view waits on: an event, and the topics that set it."""

    def __init__(self, feed: LiveFeed) -> None:
        self.feed = feed
        self.changed = asyncio.Event()
        self.topics: frozenset[str] = frozenset()

    def follow(self, topics: Iterable[str]) -> None:
        """Watch `topics` from now on (a transcript whose citizen was merged into another contact)."""
        wanted = frozenset(topics)
        self.feed._unregister(self.changed, self.topics - wanted)
        self.feed._register(self.changed, wanted - self.topics)
        self.topics = wanted
