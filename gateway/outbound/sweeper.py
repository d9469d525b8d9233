"""Background catch-up in the gateway: nothing waits forever because Redis or a process went away.

Every few seconds one gateway process (a Redis lock elects it) replays inbound messages left
unprocessed, queues again outbound messages whose work item was lost (Redis lost its data) or whose
worker died mid-send, status notices committed while Redis was unreachable, and downloads still
pending; once a minute it also acts on deadlines (`CaseStore.sweep_deadlines`: reminders, overdue
alerts to supervisors, closing answers nobody reopened) and erases the personal data of cases past
their retention. Queueing an item that is already queued
changes nothing, so a sweep never grows the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from gateway.erasure import erase_expired
from gateway.inbound.processing import InboundProcessor
from gateway.outbound.lanes import download_work, notice_work, send_work
from gateway.outbound.sending import CLAIM_LEASE_SECONDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepPolicy:
    """How often to sweep, and how old a piece of work must be before it counts as left behind
    (younger work may still be in the hands of a request or a job)."""

    interval: timedelta = timedelta(seconds=5)
    inbound_after: timedelta = timedelta(seconds=10)
    outbound_after: timedelta = timedelta(minutes=2)
    notice_after: timedelta = timedelta(seconds=30)
    deadlines_every: timedelta = timedelta(minutes=1)
    """How often deadlines are acted on (reminders, overdue alerts, closing unreopened answers)."""


async def sweep_once(processor: InboundProcessor, policy: SweepPolicy) -> None:
    """One round of catch-up, if no other process is doing it.

    The election is a short lease (two intervals): a process that dies mid-sweep, or a Redis restart
    that keeps the key, delays catch-up by seconds only. Two sweeps overlapping is harmless: every step
    is idempotent (an item already queued is not queued again, messages and notices are claimed,
    contacts locked)."""
    runtime = processor.runtime
    client = processor.redis
    lanes = processor.lanes
    prefix = runtime.settings.queue_prefix
    lease_ms = max(1000, int(policy.interval.total_seconds() * 2000))
    if not await client.set(f"{prefix}:sweeper", "1", nx=True, px=lease_ms):
        return
    try:
        await processor.replay_pending(older_than=policy.inbound_after)
        now = datetime.now(UTC)
        stale = await runtime.db(runtime.store.stale_outbound, now - policy.outbound_after, CLAIM_LEASE_SECONDS)
        if stale:
            added = await lanes.enqueue([send_work(s.message_id, s.channel, s.sender, s.recipient, s.priority)
                                         for s in stale])
            if added:
                log.info("queued %s outbound messages again (of %s found waiting)", added, len(stale))
        unnotified = await runtime.db(runtime.store.unnotified_events, now - policy.notice_after, 200)
        if unnotified:
            await lanes.enqueue([notice_work(reference, event_id) for reference, event_id in unnotified])
        pending = await runtime.db(runtime.store.pending_attachments, now - policy.outbound_after, 200)
        if pending:
            await lanes.enqueue([download_work(attachment_id) for attachment_id in pending])
        every_ms = max(1000, int(policy.deadlines_every.total_seconds() * 1000))
        if await client.set(f"{prefix}:deadlines", "1", nx=True, px=every_ms):
            done = await runtime.db(runtime.store.sweep_deadlines, now)
            if done.reminded or done.escalated or done.closed:
                log.info("deadlines: %s reminded, %s escalated, %s closed unreopened",
                         len(done.reminded), len(done.escalated), len(done.closed))
            await erase_expired(runtime, client, now)
    finally:
        await release_lease(client, f"{prefix}:sweeper")


async def release_lease(client: aioredis.Redis, key: str) -> None:
    """Give up a lease key; when Redis is away it simply expires (and an error here must not mask
    the exception, a cancellation above all, that ended the round)."""
    with contextlib.suppress(RedisError, OSError):
        await client.delete(key)


def raise_if_cancelled() -> None:
    """Re-raise a cancellation that a caught error replaced, so a stopping app is not kept waiting."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def stop_task(task: asyncio.Task[None], timeout: float = 5.0) -> None:
    """Cancel a background task and wait for it, a bounded time: shutdown must not hang on it.
    (`asyncio.wait_for` would not do: past its timeout it cancels again and waits for the task to
    end, for ever if the task lost the cancellation, as a library's own timeout can make it.)"""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        log.warning("background task %s still running %.0f s after it was stopped; left behind",
                    task.get_name(), timeout)
    elif not task.cancelled():
        task.exception()  # read: it ended on its own, and was logged there if it failed


async def sweep_forever(processor: InboundProcessor, policy: SweepPolicy) -> None:
    """Run `sweep_once` every `policy.interval` until cancelled. Nothing ends it but cancellation:
    Redis and store outages are expected (a warning), anything else is a bug (logged with its
    traceback) and the next rounds back off, up to a minute, instead of hammering."""
    failures = 0
    while True:
        await asyncio.sleep(policy.interval.total_seconds() * min(2 ** failures, 12))
        try:
            await sweep_once(processor, policy)
            failures = 0
        except Exception as exc:
            raise_if_cancelled()
            failures += 1
            expected = isinstance(exc, RedisError | SQLAlchemyError | OSError)
            log.warning("sweep failed (%s): %s", type(exc).__name__, exc, exc_info=not expected)
