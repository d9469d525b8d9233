"""The worker's sends and status notices (see `gateway.outbound.worker` for how items are claimed and run).

Both are safe to run twice. A send claims its message in SQL first (queued -> sending, or a claim
older than its lease), so a message worked on twice goes out once; a notice records its messages
in the same transaction that marks its event told. Provider errors are classed by the channel:
retryable ones come back later (honouring `Retry-After`) until the deployment's attempt limit, then
the message is marked failed where staff can see it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from channels.base import SendError
from conversations import model as m
from conversations.catalog import text as catalog_text
from core.records import OutboundDraft, OutboundRow, StatusNotice
from core.references import display
from gateway.dialogue.effects import EffectScope
from gateway.dialogue.turns import Addressed, DialogueTurns, drafts_for
from gateway.outbound.fallback import may_fall_back, notice_channel, notice_payload, prepare, send_on_fallback
from gateway.outbound.lanes import now_ms
from gateway.outbound.worker import Done, Later, Verdict, Wait, WorkItem
from gateway.runtime import Runtime

PACE_HORIZON_MS = 1000
"""How far ahead a send may book its sender's pace; further, it waits at the sender's gate, where
replies go first."""
PACE_MARGIN = 0.95
"""Senders are paced a little under the provider's limit: it counts arrivals, which network and
scheduling jitter bunch together."""
PACE_LATE_MS = 50
"""A booked slot missed by more than this (the worker was busy) is booked again, so sends that fell
behind do not arrive at the provider in a bunch."""
CLAIM_LEASE_SECONDS = 20.0
"""A message claimed for sending longer ago than this is taken to have lost its worker (the lanes'
lease, `Dispatcher.lease`, is as long and renewed while the worker lives)."""


async def send_message(item: WorkItem) -> Verdict:
    """Send one recorded outbound message through its channel."""
    message_id = int(item.ident)
    row = await item.batches.claims.submit((message_id, CLAIM_LEASE_SECONDS))
    if row is None:
        state = await item.runtime.db(item.runtime.store.message_status, message_id)
        if state is not None and state["status"] == "sending":
            # Claimed by a worker that died (its lane's lease ran out first): keep the message at
            # the head of its lane until its claim's lease runs out too, so nothing overtakes it.
            return Later(CLAIM_LEASE_SECONDS / 4)
        return Done()
    try:
        return await _send_claimed(item, row)
    except BaseException:
        # A bug or a cancellation: give the claim back, so the item's next try (or the quarantine's
        # count) finds the message claimable rather than held by nobody until the lease runs out.
        await item.runtime.db(item.runtime.store.release_outbound, message_id)
        raise


async def _send_claimed(item: WorkItem, row: OutboundRow) -> Verdict:
    runtime = item.runtime
    store = runtime.store
    message_id = row.message_id
    count = item.counters
    if row.opted_out:
        await runtime.db(store.mark_failed, message_id, "opted_out", "the citizen opted out (STOP)", False)
        await count.incr("outbound", channel=row.channel, outcome="opted_out")
        return Done()
    adapter = runtime.adapter(row.channel)
    prepared = await runtime.db(prepare, runtime, row)
    if prepared.message is None:
        await runtime.db(store.mark_failed, message_id, "window_closed", prepared.fallback, False)
        if may_fall_back(runtime, row.channel, row.payload):
            await send_on_fallback(item, message_id, row.contact_id, row.case_id, row.channel, row.body,
                                   prepared.fallback or "window closed")
            await count.incr("outbound", channel=row.channel, outcome="fell_back")
        else:
            await count.incr("outbound", channel=row.channel, outcome="failed")
        return Done()
    outbound = prepared.message
    media = bool(outbound.media_urls)
    nominal = runtime.deployment.outbound.rate(row.channel, media=media) or (
        (media and adapter.capabilities.media_sender_rate) or adapter.capabilities.sender_rate)
    rate = nominal * PACE_MARGIN if nominal else None
    booked = item.booked_ms is not None and -5 <= now_ms() - item.booked_ms <= PACE_LATE_MS
    if rate and not booked:
        wait_ms = int(await item.lanes.reserve(f"{row.channel}:{row.sender}", rate, PACE_HORIZON_MS))
        if wait_ms < 0 or wait_ms > 5:
            await runtime.db(store.release_outbound, message_id)
            if wait_ms < 0:
                return Wait(f"{row.channel}:{row.sender}", rate)
            return Later(wait_ms / 1000, retry=False)
    try:
        result = await adapter.send(outbound)
    except SendError as error:
        return await _after_failure(item, row, error)
    await item.batches.sent.submit((message_id, result.provider_message_id, result.status))
    await count.incr("outbound", channel=row.channel, outcome="sent")
    per_recipient = adapter.capabilities.recipient_rate
    return Done(pause=1 / per_recipient if per_recipient else 0.0)


async def _after_failure(item: WorkItem, row: OutboundRow, error: SendError) -> Verdict:
    runtime = item.runtime
    store = runtime.store
    message_id, channel, contact_id = row.message_id, row.channel, row.contact_id
    policy = runtime.deployment.outbound
    count = item.counters
    if error.opted_out and contact_id is not None:
        await runtime.db(store.set_opted_out, contact_id, True)
    if error.unreachable and contact_id is not None:
        await runtime.db(store.set_unreachable, contact_id, True)
    if error.retryable and row.attempts + 1 < policy.max_attempts:
        backoff = policy.backoff_seconds[min(row.attempts, len(policy.backoff_seconds) - 1)]
        delay = max(float(backoff), error.retry_after or 0.0)
        await runtime.db(store.mark_retrying, message_id, error.code, str(error))
        await count.incr("retries", channel=channel)
        await count.incr("outbound", channel=channel, outcome="retrying")
        return Later(delay)
    await runtime.db(store.mark_failed, message_id, error.code, str(error))
    await count.incr("outbound", channel=channel, outcome="opted_out" if error.opted_out else "failed")
    if not error.opted_out and may_fall_back(runtime, channel, row.payload):
        await send_on_fallback(item, message_id, contact_id, row.case_id, channel, row.body, str(error))
    return Done()


async def quarantine_message(item: WorkItem, error: str) -> None:
    """A send that keeps failing unexpectedly: failed, with its error, where staff see it."""
    await item.runtime.db(item.runtime.store.mark_failed, int(item.ident), "quarantined", error, False)


async def notify_status_change(item: WorkItem) -> Verdict:
    """Tell the citizen, on the channel the case came from and in their language, that its status changed.

    The messages are recorded in the transaction that marks the event told, so a notice worked on
    twice (its worker died, the sweeper queued it again) is told once."""
    event_text, _, reference = item.ident.partition(":")
    event_id = int(event_text)
    drafts = await notice_drafts(item.runtime, item.turns, reference, event_id)
    if drafts is None:
        return Done()
    ids = await item.batches.notices.submit((event_id, drafts))
    if ids:
        await item.turns.queue_sends(ids, drafts)
    return Done()


async def notice_drafts(runtime: Runtime, turns: DialogueTurns, reference: str, event_id: int
                        ) -> list[OutboundDraft] | None:
    """The messages that tell of one status event: to the case's reporter and to each citizen who
    follows it (their report was its duplicate), each after stepping their own dialogue with it (an
    answer asks the reporter for a rating); [] when nobody can be told, None when they were told already."""
    notice = await runtime.db(runtime.store.status_notice, reference, event_id)
    if notice is None or notice.notified:
        return None
    drafts = await _told(runtime, turns, notice, followed=False)
    for follower in await runtime.db(runtime.store.follower_notices, reference, event_id):
        drafts += await _told(runtime, turns, follower, followed=True)
    return drafts


async def _told(runtime: Runtime, turns: DialogueTurns, notice: StatusNotice, followed: bool) -> list[OutboundDraft]:
    """The messages that tell one citizen of a status event, on their channel, in their language."""
    reference, event_id = notice.reference, notice.event_id
    channel = notice_channel(runtime, notice.channel)
    if notice.opted_out or not notice.recipient or channel is None:
        return []
    event = m.StatusChanged(
        reference=reference, status=notice.status, note=notice.note,
        administration=dict(runtime.deployment.administration_names(notice.administration_code)),
        at=datetime.now(UTC), followed=followed,
    )
    context = runtime.dialogue_for(notice.channel_address)
    scope = EffectScope(channel, notice.contact_id, notice.channel_address, None, event.at)
    taken = await turns.take(channel, notice.recipient, event, context, scope, language=notice.language,
                             turn_id=f"n:{event_id}:{notice.case_id}" if followed else f"n:{event_id}")
    session, says = taken.session, taken.says
    language = session.language or notice.language
    values = notice_values(runtime, notice.reference, notice.status, notice.note, event.administration, language,
                           context)
    rating_last = session.state == m.State.RATE and len(says) > 1

    def payload(index: int, say: m.Say) -> dict[str, object]:
        kind = "rating" if rating_last and index == len(says) - 1 else "status"
        return notice_payload(kind, notice.status, language, values)

    to = Addressed(channel, notice.contact_id, notice.channel_address, notice.recipient, notice.case_id)
    return drafts_for(says, to, "bulk", payload)


def notice_values(runtime: Runtime, reference: str, status: str, note: str, administration: dict[str, str],
                  language: str, context: m.DialogueContext) -> dict[str, str]:
    """What a template's variables may be filled with, in the citizen's language."""
    try:
        status_name = catalog_text(language, f"status_{status}", context)
    except KeyError:
        status_name = status.replace("_", " ")
    return {
        "reference": display(reference),
        "status": status_name,
        "note": note,
        "administration": administration.get(language) or next(iter(administration.values()), ""),
    }
