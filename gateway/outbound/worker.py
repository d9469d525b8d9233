"""The worker: one asyncio loop that works the lanes with bounded concurrency (`hotline worker`).

Nothing forks and nothing sleeps in a job: a worker claims due lanes (replies first), runs up to
`concurrency` items at once on one event loop with one provider client per channel for the whole
process, and gives each lane back with when its next item may go: a send paced for its citizen
(Telegram's one a second per chat) or its sender (WhatsApp's ten a second per number) is deferred
to its slot while the worker serves everybody else. Claims are leases, renewed while an item runs;
the lanes of a worker that died come back when their lease runs out, and their head item is done
again (every handler is idempotent: a send claims its message in SQL first). An item that keeps
failing unexpectedly is quarantined after `MAX_CRASHES` tries, with its error, for supervisors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.records import OutboundDraft, OutboundRow
from gateway.batching import GroupCommit
from gateway.dialogue.sessions import SessionStore
from gateway.dialogue.turns import DialogueTurns
from gateway.live import LiveFeed
from gateway.outbound.counters import SharedCounters
from gateway.outbound.lanes import Claim, WorkLanes, now_ms
from gateway.redis_clients import async_client_for
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings

log = logging.getLogger(__name__)

MAX_CRASHES = 3
"""Unexpected failures of one item before it is quarantined (a provider's refusals are not crashes:
they are classed and retried by the handler itself)."""
CRASH_BACKOFF_SECONDS = (2, 10, 60)
PROVIDER_THREADS = 8
"""Threads for blocking provider clients (Twilio's): enough to overlap their network waits, few
enough not to fight the loop for the interpreter."""
BATCH_LINGER = 0.003
"""How long the worker gathers store writes into one transaction."""


@dataclass(frozen=True)
class Done:
    """The item is finished; the lane's next item may go after `pause` seconds (per-recipient pace)."""

    pause: float = 0.0


@dataclass(frozen=True)
class Later:
    """Do the same item again in `after` seconds (a retry, or a slot booked at the sender's pace)."""

    after: float
    retry: bool = True
    """Counted in `WorkItem.retries` (a booked slot is not a retry)."""


@dataclass(frozen=True)
class Wait:
    """Wait at the sender's gate (its pace is booked further ahead than is fair to book)."""

    gate: str
    per_second: float


Verdict = Done | Later | Wait


@dataclass
class WorkItem:
    """What a handler gets: the claimed item, and the process's shared resources."""

    claim: Claim
    ident: str
    runtime: Runtime
    lanes: WorkLanes
    turns: DialogueTurns
    redis: aioredis.Redis
    batches: StoreBatches
    counters: SharedCounters
    retries: int = 0
    booked_ms: int | None = None
    priority: str = "bulk"
    enqueued_ms: int = 0


class StoreBatches:
    """The worker's hottest store writes, batched across the items in flight (one transaction for
    the claims, one for the sent marks, one for the notices, instead of one each): what costs is
    BEGIN and COMMIT."""

    def __init__(self, runtime: Runtime) -> None:
        store = runtime.store
        self.claims: GroupCommit[tuple[int, float], OutboundRow | None] = GroupCommit(
            store.claim_outbound_many, runtime.db, linger=BATCH_LINGER)
        self.sent: GroupCommit[tuple[int, str | None, str], None] = GroupCommit(
            store.mark_sent_many, runtime.db, linger=BATCH_LINGER)
        self.notices: GroupCommit[tuple[int, Sequence[OutboundDraft]], list[int] | None] = GroupCommit(
            store.record_notices, runtime.db, linger=BATCH_LINGER)


Handler = Callable[[WorkItem], Awaitable[Verdict]]
Quarantine = Callable[[WorkItem, str], Awaitable[None]]


@dataclass(frozen=True)
class Kind:
    """How one kind of item is done, and what quarantining it records in the store."""

    handle: Handler
    quarantine: Quarantine | None = None


def kinds() -> dict[str, Kind]:
    """The item kinds this worker knows (`m` send, `n` status notice, `d` download, `f` fallback)."""
    from gateway.outbound.downloads import download_media, quarantine_download
    from gateway.outbound.fallback import fall_back
    from gateway.outbound.sending import notify_status_change, quarantine_message, send_message

    return {
        "m": Kind(send_message, quarantine_message),
        "n": Kind(notify_status_change),
        "d": Kind(download_media, quarantine_download),
        "f": Kind(fall_back),
    }


@dataclass
class Dispatcher:
    """Claims due lanes and runs their head items, at most `concurrency` at once."""

    runtime: Runtime
    redis: aioredis.Redis
    concurrency: int = 32
    lease: timedelta = timedelta(seconds=20)
    handler_timeout: timedelta = timedelta(minutes=3)
    kinds: dict[str, Kind] = field(default_factory=kinds)
    _inflight: dict[asyncio.Task[None], Claim] = field(default_factory=dict)

    def __post_init__(self) -> None:
        prefix = self.runtime.settings.queue_prefix
        self.lanes = WorkLanes(self.redis, prefix)
        self.turns = DialogueTurns(self.runtime, SessionStore(self.redis, prefix), self.lanes)
        self.counters = SharedCounters(self.redis, prefix)
        self.batches = StoreBatches(self.runtime)
        self._last_reap = 0.0

    @property
    def lease_ms(self) -> int:
        """The lease of a claim, in ms."""
        return int(self.lease.total_seconds() * 1000)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, surviving Redis and store outages (and anything else: logged)."""
        renewer = asyncio.create_task(self._renew_forever())
        failures = 0
        try:
            while not stop.is_set():
                try:
                    next_due = await self.round()
                    failures = 0
                except Exception as exc:  # a loop that dies silently would leave every citizen waiting
                    failures += 1
                    log.warning("worker round failed (%s): %s", type(exc).__name__, exc,
                                exc_info=not isinstance(exc, RedisError | OSError))
                    await _sleep_or_stop(stop, min(0.2 * 2 ** failures, 5.0))
                    continue
                await self._idle(stop, next_due)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if self._inflight:
                await asyncio.wait(list(self._inflight), timeout=self.lease.total_seconds())

    async def drain(self, timeout: float = 15.0, settle: float = 1.5) -> None:
        """Work until nothing runs and nothing is due within `settle` seconds, a lane paced for its
        citizen (one message a second on Telegram, and the sender's own pace on top) included
        (tests, `hotline worker --burst`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            next_due = await self.round()
            if self._inflight:
                await asyncio.wait(list(self._inflight), return_when=asyncio.FIRST_COMPLETED, timeout=0.5)
                continue
            if next_due is None or next_due > now_ms() + settle * 1000:
                return
            await asyncio.sleep(min(0.05, max(0.0, (next_due - now_ms()) / 1000)))
        raise TimeoutError("the lanes were not drained in time")

    async def round(self) -> int | None:
        """Let gates through, reap dead leases, claim what is due and start it; the next due time."""
        await self.lanes.pump()
        if time.monotonic() - self._last_reap > 1.0:
            self._last_reap = time.monotonic()
            reaped = await self.lanes.reap()
            if reaped:
                log.warning("%s lanes whose worker stopped answering are worked on again", reaped)
        room = self.concurrency - len(self._inflight)
        if room <= 0:
            return now_ms()
        claims, next_due = await self.lanes.claim(room, self.lease_ms)
        for claim in claims:
            task = asyncio.create_task(self._work(claim))
            self._inflight[task] = claim
            task.add_done_callback(self._inflight.pop)
        return now_ms() if claims else next_due

    async def _idle(self, stop: asyncio.Event, next_due: int | None) -> None:
        """Wait for a nudge, a free slot or the next due time (at most a second)."""
        if len(self._inflight) >= self.concurrency:
            await asyncio.wait(list(self._inflight), return_when=asyncio.FIRST_COMPLETED, timeout=1.0)
            return
        if next_due is not None and next_due <= now_ms():
            await asyncio.sleep(0)
            return
        wait = 1.0 if next_due is None else min(1.0, max(0.001, (next_due - now_ms()) / 1000))
        with contextlib.suppress(RedisError, OSError):
            await self.redis.blpop([self.lanes.key("wake")], timeout=wait)

    async def _renew_forever(self) -> None:
        """Extend the lease of every lane being worked on, so only a dead worker's lanes expire."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            claims = list(self._inflight.values())
            if not claims:
                continue
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for claim in claims:
                        pipe.zadd(self.lanes.key("busy"), {claim.lane: now_ms() + self.lease_ms}, xx=True)
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                log.warning("leases not renewed: %s", exc)

    async def _work(self, claim: Claim) -> None:
        kind_name, _, ident = claim.item.partition(":")
        kind = self.kinds.get(kind_name)
        try:
            item = await self._item(claim, ident)
            if kind is None:
                raise LookupError(f"unknown work item kind {kind_name!r}")
            verdict = await asyncio.wait_for(kind.handle(item), self.handler_timeout.total_seconds())
            await self._settle_through_outage(item, verdict)
        except Exception as exc:
            await self._crashed(claim, ident, kind, exc)

    async def _item(self, claim: Claim, ident: str) -> WorkItem:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(self.lanes.key("retries"), claim.item)
            pipe.hget(self.lanes.key("booked"), claim.item)
            pipe.hget(self.lanes.key("items"), claim.item)
            retries, booked, meta = await pipe.execute()
        priority, enqueued = "bulk", 0
        if meta:
            text = meta.decode() if isinstance(meta, bytes) else str(meta)
            priority, enqueued_text, _ = text.split("|", 2)
            enqueued = int(float(enqueued_text))
        return WorkItem(claim, ident, self.runtime, self.lanes, self.turns, self.redis, self.batches,
                        self.counters, retries=int(retries or 0), booked_ms=int(booked) if booked else None,
                        priority=priority, enqueued_ms=enqueued)

    async def _settle_through_outage(self, item: WorkItem, verdict: Verdict) -> None:
        """Settle the item, retrying while Redis is away for up to a lease: what was done is in the
        store already, so the lane goes on as soon as Redis is back instead of when the lease runs
        out (the claim's token keeps a late settlement from touching a lane taken over meanwhile)."""
        deadline = time.monotonic() + self.lease.total_seconds()
        pause = 0.1
        while True:
            try:
                await self._settle(item, verdict)
                return
            except (RedisError, OSError):
                if time.monotonic() + pause > deadline:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def _settle(self, item: WorkItem, verdict: Verdict) -> None:
        """One transaction, so a settlement retried after a lost connection counts a retry once."""
        claim = item.claim
        if isinstance(verdict, Done):
            await self.lanes.ack(claim, now_ms() + int(verdict.pause * 1000))
        elif isinstance(verdict, Later):
            due = now_ms() + int(verdict.after * 1000)
            async with self.redis.pipeline(transaction=True) as pipe:
                if verdict.retry:
                    pipe.hincrby(self.lanes.key("retries"), claim.item, 1)
                    pipe.hdel(self.lanes.key("booked"), claim.item)
                else:
                    pipe.hset(self.lanes.key("booked"), claim.item, due)
                await self.lanes.defer(claim, due, client=pipe)
                await pipe.execute()
        else:
            await self.lanes.park(claim, verdict.gate, round(1000 / verdict.per_second), item.priority,
                                  item.enqueued_ms)

    async def _crashed(self, claim: Claim, ident: str, kind: Kind | None, exc: BaseException) -> None:
        """Count an unexpected failure: try again later, or quarantine the item for good."""
        error = f"{type(exc).__name__}: {exc}"[:500]
        try:
            crashes = await self.redis.hincrby(self.lanes.key("crashes"), claim.item, 1)
            if crashes < MAX_CRASHES:
                log.warning("work item %s failed (%s of %s): %s", claim.item, crashes, MAX_CRASHES, error,
                            exc_info=exc)
                backoff = CRASH_BACKOFF_SECONDS[min(crashes - 1, len(CRASH_BACKOFF_SECONDS) - 1)]
                await self.lanes.defer(claim, now_ms() + backoff * 1000)
                return
            log.error("work item %s quarantined after %s failures: %s", claim.item, crashes, error)
            if kind is not None and kind.quarantine is not None:
                item = WorkItem(claim, ident, self.runtime, self.lanes, self.turns, self.redis, self.batches,
                                self.counters)
                with contextlib.suppress(Exception):
                    await kind.quarantine(item, error)
            await set_aside(self.redis, self.runtime.settings.queue_prefix, claim.item, claim.lane, error)
            await self.lanes.ack(claim)
        except (RedisError, OSError) as redis_error:  # the lease runs out and the item comes back
            log.warning("work item %s failed and Redis is away (%s): %s", claim.item, redis_error, error)


async def set_aside(client: aioredis.Redis, prefix: str, item: str, lane: str, error: str) -> None:
    """Put a work item in the quarantine supervisors read (`GET /api/v1/quarantine`), and count it."""
    await client.hset(f"{prefix}:out:quarantine", item, json.dumps({"lane": lane, "error": error, "at": now_ms()}))
    await SharedCounters(client, prefix).incr("quarantined", kind=item.partition(":")[0])


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def serve_worker(settings: Settings, *, burst: bool = False, concurrency: int = 32) -> None:
    """`hotline worker`: the process's runtime and one Redis client, worked until SIGTERM/SIGINT
    (letting the items in hand finish), or until the lanes are drained with `burst`."""
    # Blocking provider clients (Twilio's) run on the loop's default pool, sized for them.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=min(concurrency, PROVIDER_THREADS), thread_name_prefix="provider"))
    runtime = await asyncio.to_thread(build_runtime, settings, prepare_database=False)
    runtime.bind_loop()
    client = async_client_for(settings)
    feed = LiveFeed(client, settings.queue_prefix)
    runtime.store.announce = feed.announce  # sends and failures show in the console's open transcripts
    dispatcher = Dispatcher(runtime, client, concurrency=concurrency)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        if burst:
            await dispatcher.drain(timeout=3600)
        else:
            await dispatcher.run(stop)
    finally:
        for adapter in runtime.adapters.values():
            with contextlib.suppress(Exception):
                await adapter.aclose()
        runtime.store.announce = None
        await feed.aclose()
        await client.aclose()
        await runtime.release_loop()
        runtime.close()
