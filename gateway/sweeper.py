"""Background catch-up in the gateway: nothing waits forever because Redis or a process went away.

Every few seconds one gateway process (a Redis lock elects it) replays inbound messages left
unprocessed, re-queues outbound messages whose job was lost, and queues status notices that were
committed while Redis was unreachable.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from gateway.inbound import InboundProcessor
from gateway.queues import REPLIES, enqueue_sends, enqueue_status_notice

log = logging.getLogger(__name__)


async def sweep_once(processor: InboundProcessor, connection: redis.Redis, client: aioredis.Redis) -> None:
    """One round of catch-up, if no other process is doing it."""
    runtime = processor.runtime
    prefix = runtime.settings.queue_prefix
    if not await client.set(f"{prefix}:sweeper", "1", nx=True, ex=30):
        return
    try:
        await processor.replay_pending()
        now = datetime.now(UTC)
        stale = await runtime.db(runtime.store.stale_outbound, now - timedelta(minutes=2), 200)
        if stale:
            await runtime.db(enqueue_sends, connection, prefix, stale, REPLIES)
        unnotified = await runtime.db(runtime.store.unnotified_events, now - timedelta(seconds=30), 200)
        for reference, event_id in unnotified:
            await runtime.db(enqueue_status_notice, connection, prefix, reference, event_id)
    finally:
        await client.delete(f"{prefix}:sweeper")


async def sweep_forever(
    processor: InboundProcessor, connection: redis.Redis, client: aioredis.Redis, interval: float = 5.0
) -> None:
    """Run `sweep_once` every `interval` seconds until cancelled, surviving Redis and store outages."""
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep_once(processor, connection, client)
        except (RedisError, SQLAlchemyError, OSError) as exc:
            log.warning("sweep skipped: %s", exc)
