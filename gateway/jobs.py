"""RQ jobs: sending one outbound message, and telling a citizen of a status change.

Jobs take ids, read the rest from the SQL store, and are safe to run twice: a send first claims its
message (queued -> sending) in one UPDATE, so a message queued twice goes out once. Provider errors
are classed by the channel: retryable ones are tried again later (honouring `Retry-After`) until the
deployment's attempt limit, then the message is marked failed where staff can see it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from rq import Queue, get_current_job

from channels.base import Choice, OutboundMessage, SendError, numbered_text
from conversations import model as m
from conversations.catalog import text as catalog_text
from core.references import display
from core.store import OutboundDraft
from gateway import metrics
from gateway.delivery import may_fall_back, notice_payload, prepare, send_by_sms
from gateway.dialogue import run_turn
from gateway.effects import EffectScope
from gateway.inbound import keyboard_payload
from gateway.queues import BULK, enqueue_sends, queue_name
from gateway.ratelimit import RateLimiter
from gateway.redis_clients import async_client, sync_client
from gateway.runtime import Runtime, build_runtime
from gateway.sessions import SessionStore
from gateway.settings import Settings

log = logging.getLogger(__name__)

_runtime: Runtime | None = None


def worker_runtime() -> Runtime:
    """This process's runtime, built from the environment on first use."""
    global _runtime
    if _runtime is None:
        _runtime = build_runtime(Settings.from_env(), prepare_database=False)
    return _runtime


def use_runtime(runtime: Runtime | None) -> None:
    """Make jobs in this process use `runtime` (the demo, tests running a worker in-process)."""
    global _runtime
    _runtime = runtime


async def send_message(message_id: int) -> str:
    """Send one recorded outbound message through its channel."""
    runtime = worker_runtime()
    store = runtime.store
    row = store.claim_outbound(message_id)
    if row is None:
        return "skipped"
    if row.opted_out:
        store.mark_failed(message_id, "opted_out", "the citizen opted out (STOP)")
        metrics.OUTBOUND.labels(row.channel, "opted_out").inc()
        return "failed"
    adapter = runtime.adapter(row.channel)
    prepared = prepare(runtime, row, runtime.settings.status_callback_url())
    if prepared.message is None:
        store.mark_failed(message_id, "window_closed", prepared.fallback, attempted=False)
        metrics.OUTBOUND.labels(row.channel, "failed").inc()
        if may_fall_back(row.channel, row.payload):
            send_by_sms(runtime, message_id, row.contact_id, row.case_id, row.recipient, row.body,
                        prepared.fallback or "window closed")
            return "fell back"
        return "failed"
    outbound = prepared.message
    rate = runtime.deployment.outbound.rate(row.channel, media=bool(outbound.media_urls))
    per_recipient = adapter.capabilities.recipient_rate
    if rate or per_recipient:
        job = get_current_job()
        connection = job.connection if job is not None else sync_client(runtime.settings.redis_url)
        limiter = RateLimiter(connection, runtime.settings.queue_prefix)
        await limiter.wait(f"{row.channel}:to:{row.recipient}", per_recipient)
        await limiter.wait(f"{row.channel}:{row.sender}", rate)
    try:
        result = await adapter.send(outbound)
    except SendError as error:
        outcome = _after_failure(runtime, message_id, row.channel, row.contact_id, row.attempts, error)
        if outcome == "failed" and not error.opted_out and may_fall_back(row.channel, row.payload):
            send_by_sms(runtime, message_id, row.contact_id, row.case_id, row.recipient, row.body, str(error))
        return outcome
    store.mark_sent(message_id, result.provider_message_id, result.status)
    metrics.OUTBOUND.labels(row.channel, "sent").inc()
    return "sent"


def _after_failure(
    runtime: Runtime, message_id: int, channel: str, contact_id: int, attempts: int, error: SendError
) -> str:
    store = runtime.store
    policy = runtime.deployment.outbound
    if error.opted_out:
        store.set_opted_out(contact_id, True)
    if error.unreachable and contact_id is not None:
        store.set_unreachable(contact_id, True)
    if error.retryable and attempts + 1 < policy.max_attempts:
        backoff = policy.backoff_seconds[min(attempts, len(policy.backoff_seconds) - 1)]
        delay = max(float(backoff), error.retry_after or 0.0)
        store.mark_retrying(message_id, error.code, str(error))
        job = get_current_job()
        connection = job.connection if job is not None else sync_client(runtime.settings.redis_url)
        origin = job.origin if job is not None else queue_name(runtime.settings.queue_prefix, BULK)
        Queue(origin, connection=connection).enqueue_in(
            timedelta(seconds=delay), send_message, message_id, job_id=f"send-{message_id}-retry{attempts + 1}"
        )
        metrics.OUTBOUND.labels(channel, "retrying").inc()
        log.info("message %s: %s; retrying in %.1f s", message_id, error, delay)
        return "retrying"
    store.mark_failed(message_id, error.code, str(error))
    metrics.OUTBOUND.labels(channel, "failed").inc()
    log.warning("message %s failed for good: %s", message_id, error)
    return "failed"


async def notify_status_change(reference: str, event_id: int) -> str:
    """Tell the citizen, on the channel the case came from and in their language, that its status changed.

    The event is claimed first (marked notified in one UPDATE), so a notice queued twice (the sweeper
    re-queues notices whose job seems lost) is told once; if building the messages fails, the claim
    is released for the retry. Once the messages are recorded, their sending is the send jobs' work.
    """
    runtime = worker_runtime()
    store = runtime.store
    if not store.mark_notified(event_id):
        return "already told"
    client = async_client(runtime.settings.redis_url)
    try:
        drafts = await status_notice(runtime, SessionStore(client, runtime.settings.queue_prefix), reference,
                                     event_id)
    except BaseException:
        store.release_notice(event_id)
        raise
    finally:
        await client.aclose()
    if not drafts:
        return "nothing to tell"
    ids = store.record_outbound(drafts)
    enqueue_sends(sync_client(runtime.settings.redis_url), runtime.settings.queue_prefix, ids, BULK)
    return f"queued {len(ids)}"


async def status_notice(
    runtime: Runtime, sessions: SessionStore, reference: str, event_id: int
) -> list[OutboundDraft] | None:
    """The messages that tell of one status event, after stepping the citizen's dialogue with it."""
    store = runtime.store
    notice = store.status_notice(reference, event_id)
    if notice is None or notice.opted_out or not notice.recipient:
        return None
    event = m.StatusChanged(
        reference=reference,
        status=notice.status,
        note=notice.note,
        administration=dict(runtime.deployment.administration_names(notice.administration_code)),
        at=datetime.now(UTC),
    )
    context = runtime.dialogue_for(notice.channel_address)
    scope = EffectScope(notice.channel, notice.contact_id, notice.channel_address, None, event.at)
    async with sessions.locked(notice.channel, notice.recipient) as held:
        if held.session.language is None:
            held.session.language = notice.language
        session, says = await run_turn(runtime, held.session, event, context, scope)
        held.session, held.changed = session, True
    language = session.language or notice.language
    values = _notice_values(runtime, notice.reference, notice.status, notice.note, event.administration, language,
                            context)
    rating_last = session.state == m.State.RATE and len(says) > 1
    return [
        OutboundDraft(
            channel=notice.channel, contact_id=notice.contact_id, sender=notice.channel_address,
            recipient=notice.recipient, body=_rendered(say), priority=BULK, case_id=notice.case_id,
            payload={**notice_payload("rating" if rating_last and n == len(says) - 1 else "status", notice.status,
                                      language, values), **(keyboard_payload(_outbound_say(say)) or {})},
        )
        for n, say in enumerate(says)
    ]


def _notice_values(runtime: Runtime, reference: str, status: str, note: str, administration: dict[str, str],
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


def _outbound_say(say: m.Say) -> OutboundMessage:
    return OutboundMessage("", "", "", say.text, tuple(Choice(o.key, o.label) for o in say.options),
                           request=say.request)


def _rendered(say: m.Say) -> str:
    return numbered_text(say.text, [Choice(o.key, o.label) for o in say.options])
