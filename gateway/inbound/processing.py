"""The inbound path: record durably, deduplicate, lock the contact, run the dialogue, answer.

The order is what makes it safe. The message is written to the SQL store before anything else, keyed
by the provider's id, so a retry is recognized and nothing is lost if Redis or the process fails
afterwards. The session (in Redis) is the commit point of a turn: it names the last message it took
in, so a message replayed after a crash is not stepped twice. Messages left unprocessed (Redis away,
a crash) are replayed by `replay_pending`, whose replies then go out through send jobs.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from channels.base import Choice, InboundMessage, Location, MediaRef, OutboundMessage, SharedContact, numbered_text
from conversations import model as m
from conversations.catalog import text as catalog_text
from core.consent import Consent, is_carrier_help, keyword_consent
from core.store.case_store import InboundDraft, InboundRecord, OutboundDraft
from gateway.batching import GroupCommit
from gateway.dialogue.effects import EffectScope
from gateway.dialogue.sessions import ContactBusy, SessionStore
from gateway.dialogue.turns import DialogueTurns, choices_payload
from gateway.http import metrics
from gateway.outbound.lanes import WorkLanes
from gateway.outbound.queues import queue_downloads, queue_sends
from gateway.outbound.worker import MAX_CRASHES, set_aside
from gateway.runtime import Runtime

log = logging.getLogger(__name__)

TEXT_DEDUP_SECONDS = 10
"""For providers that give no message id: the same text from the same sender within this is a repeat."""


@dataclass
class InboundResult:
    """What became of one inbound message, and what to answer in the webhook response."""

    outcome: str
    replies: list[OutboundMessage] = field(default_factory=list)
    session: m.Session | None = None
    """The dialogue session after the turn (for channels that render from it: voice)."""
    contact_id: int | None = None


class InboundProcessor:
    """Runs inbound messages through the dialogue, one contact at a time."""

    def __init__(self, runtime: Runtime, sessions: SessionStore, redis_client: aioredis.Redis,
                 lanes: WorkLanes) -> None:
        self.runtime = runtime
        self.sessions = sessions
        self.redis = redis_client
        self.lanes = lanes
        self.turns = DialogueTurns(runtime, sessions, lanes)
        store = runtime.store
        self._records: GroupCommit[InboundDraft, InboundRecord] = GroupCommit(store.record_inbound_many, runtime.db)
        self._finishes: GroupCommit[tuple[int, list[OutboundDraft]], list[int] | None] = GroupCommit(
            store.finish_inbound_many, runtime.db)

    async def process(self, message: InboundMessage, *, reply_inline: bool = True) -> InboundResult:
        """Record and answer one message. With `reply_inline`, replies come back for the webhook
        response (TwiML); otherwise they are recorded and sent by jobs."""
        now = message.received_at or datetime.now(UTC)
        if message.provider_message_id is None and await self._repeated_text(message):
            return InboundResult("duplicate")
        record = await self._records.submit(InboundDraft(
            channel=message.channel,
            sender=message.sender,
            recipient=message.recipient,
            provider_message_id=message.provider_message_id,
            body=message.text,
            received_at=now,
            sender_name=message.sender_name,
            address_kind=self.runtime.adapter(message.channel).address_kind,
            payload=extras_payload(message),
        ))
        metrics.INBOUND.labels(message.channel, "duplicate" if record.duplicate else "new").inc()
        if record.duplicate and record.processed:
            return InboundResult("duplicate")
        return await self._handle(message, record, now, reply_inline)

    async def _handle(
        self, message: InboundMessage, record: InboundRecord, now: datetime, reply_inline: bool
    ) -> InboundResult:
        store = self.runtime.store
        context = self.runtime.dialogue_for(message.recipient, message.channel)

        consent = keyword_consent(
            message.text, self.runtime.deployment.opt_out_keywords, self.runtime.deployment.opt_in_keywords
        )
        if consent is not None:
            return await self._consent(message, record, consent, context, reply_inline)
        if record.opted_out:
            reminder = [self._outbound(message, m.Say(catalog_text(record.language or context.default_language,
                                                                    "opted_out", context)))]
            answer = reminder if is_carrier_help(message.text) else []
            await self._finish(record.message_id, record.contact_id, answer, reply_inline)
            return InboundResult("opted_out", answer if reply_inline else [])
        media_ids = await self._record_media(message, record) if message.media else ()

        if record.duplicate and await self.runtime.db(store.is_processed, record.message_id):
            return InboundResult("duplicate")

        try:
            scope = EffectScope(message.channel, record.contact_id, message.recipient, record.message_id, now)
            given = user_message(message, now, media_ids)
            taken = await self.turns.take(message.channel, message.sender, given, context, scope,
                                          language=record.language, turn_id=f"i:{record.message_id}")
        except (RedisError, ContactBusy, OSError) as exc:
            log.warning("dialogue state unavailable, message %s kept for replay: %s", record.message_id, exc)
            metrics.INBOUND.labels(message.channel, "deferred").inc()
            language = record.language or context.default_language
            busy = [self._outbound(message, m.Say(catalog_text(language, "service_busy", context)))]
            return InboundResult("deferred", busy if reply_inline else [])

        replies = [self._outbound(message, say) for say in taken.says]
        # A turn given back (a copy of the message, or its replay after a crash) answers by jobs: the
        # webhook that took the turn may still answer in its response, and only one of them records
        # the replies (whichever finishes the message first).
        inline = reply_inline and not taken.replayed
        if not inline and not self.runtime.adapter(message.channel).capabilities.late_replies:
            replies = []
        if not await self._finish(record.message_id, record.contact_id, replies, inline):
            return InboundResult("duplicate")
        return InboundResult("processed", replies if inline else [], taken.session, record.contact_id)

    async def _record_media(self, message: InboundMessage, record: InboundRecord) -> tuple[int, ...]:
        """Record the message's media as pending attachments (once) and queue their downloads."""
        items = [(ref.kind, ref.content_type, ref.url) for ref in message.media]
        ids = await self.runtime.db(self.runtime.store.record_media, record.message_id, items)
        if ids:
            try:
                await queue_downloads(self.lanes, ids)
            except (RedisError, OSError) as exc:
                log.warning("media of message %s not queued (stays pending): %s", record.message_id, exc)
        return tuple(ids)

    async def _consent(
        self, message: InboundMessage, record: InboundRecord, consent: Consent, context: m.DialogueContext,
        reply_inline: bool,
    ) -> InboundResult:
        store = self.runtime.store
        language = record.language or context.default_language
        await self.runtime.db(store.set_opted_out, record.contact_id, consent is Consent.STOP)
        key = "opted_out" if consent is Consent.STOP else "opted_in"
        reply = self._outbound(message, m.Say(catalog_text(language, key, context)))
        await self._finish(record.message_id, record.contact_id, [reply], reply_inline)
        return InboundResult(consent.value, [reply] if reply_inline else [])

    async def _finish(
        self, message_id: int, contact_id: int, replies: list[OutboundMessage], reply_inline: bool
    ) -> bool:
        """Mark the message processed with its replies (recorded as sent when answered inline, else
        queued and sent by jobs); False when another process had finished it first."""
        drafts = [
            OutboundDraft(
                channel=r.channel, contact_id=contact_id, sender=r.sender, recipient=r.recipient,
                body=numbered_text(r.text, r.choices), priority="replies", status="sent" if reply_inline else "queued",
                payload=None if reply_inline else choices_payload(r.text, r.choices, r.request),
            )
            for r in replies
        ]
        ids = await self._finishes.submit((message_id, drafts))
        if ids is None:
            return False
        if not reply_inline and ids:
            try:
                await queue_sends(self.lanes, ids, drafts)
            except (RedisError, OSError) as exc:  # recorded: the sweeper queues them when Redis is back
                log.warning("replies to message %s not queued yet: %s", message_id, exc)
        return True

    def _outbound(self, message: InboundMessage, say: m.Say) -> OutboundMessage:
        return OutboundMessage(
            channel=message.channel,
            recipient=message.sender,
            sender=message.recipient,
            text=say.text,
            choices=tuple(Choice(o.key, o.label) for o in say.options),
            request=say.request,
            asks=say.asks,
            lead=say.lead,
        )

    async def _repeated_text(self, message: InboundMessage) -> bool:
        digest = hashlib.sha1(message.text.encode()).hexdigest()
        key = f"{self.sessions.prefix}:dedup:{message.channel}:{message.sender}:{digest}"
        try:
            return not await self.redis.set(key, "1", nx=True, ex=TEXT_DEDUP_SECONDS)
        except RedisError:
            return False

    async def replay_pending(self, older_than: timedelta = timedelta(seconds=10), limit: int = 100) -> int:
        """Process messages left unprocessed (Redis was away, a process died); replies go by jobs."""
        cutoff = datetime.now(UTC) - older_than
        pending = await self.runtime.db(self.runtime.store.pending_inbound, cutoff, limit)
        done = 0
        for item in pending:
            message = with_extras(InboundMessage(
                channel=item.channel, sender=item.sender, recipient=item.recipient,
                provider_message_id=item.provider_message_id, text=item.body, received_at=item.received_at,
            ), item.payload)
            record = InboundRecord(
                message_id=item.message_id, contact_id=item.contact_id, duplicate=True, processed=False,
                language=item.language, opted_out=item.opted_out,
            )
            try:
                result = await self._handle(message, record, item.received_at, reply_inline=False)
            except (RedisError, OSError):
                raise
            except Exception as exc:  # one message that always fails must not stop the others' replay
                await self._replay_failed(item.message_id, exc)
                continue
            if result.outcome == "deferred":
                break
            done += 1
        return done

    async def _replay_failed(self, message_id: int, exc: Exception) -> None:
        """Count a replay that failed unexpectedly; the third time, set the message aside, with its
        error, for supervisors (it is marked processed so it is not replayed for ever)."""
        error = f"{type(exc).__name__}: {exc}"[:500]
        crashes = await self.redis.hincrby(f"{self.sessions.prefix}:out:inbound_crashes", str(message_id), 1)
        log.warning("replay of inbound message %s failed (%s of %s): %s", message_id, crashes, MAX_CRASHES, error,
                    exc_info=exc)
        if crashes >= MAX_CRASHES:
            await self.runtime.db(self.runtime.store.quarantine_inbound, message_id, error)
            await self.redis.hdel(f"{self.sessions.prefix}:out:inbound_crashes", str(message_id))
            await set_aside(self.redis, self.sessions.prefix, f"i:{message_id}", "inbound", error)


def extras_payload(message: InboundMessage) -> dict[str, Any] | None:
    """What a message carries besides its text (media, pin, button, reply context), to replay it; None
    for a plain text."""
    extras: dict[str, Any] = {}
    if message.media:
        extras["media"] = [{"url": ref.url, "content_type": ref.content_type} for ref in message.media]
    if message.location is not None:
        extras["location"] = {"lat": message.location.lat, "lon": message.location.lon, "text": message.location.text}
    if message.button_payload:
        extras["button"] = message.button_payload
    if message.reply_to:
        extras["reply_to"] = message.reply_to
    if message.forwarded:
        extras["forwarded"] = True
    if message.shared_contact is not None:
        shared = message.shared_contact
        extras["contact"] = {"phone": shared.phone, "name": shared.name, "own": shared.own}
    if message.button_choices is not None:
        extras["button_choices"] = [list(pair) for pair in message.button_choices]
    if message.edited:
        extras["edited"] = True
    if message.language_hint:
        extras["language_hint"] = message.language_hint
    return extras or None


def with_extras(message: InboundMessage, payload: dict[str, Any] | None) -> InboundMessage:
    """The message rebuilt with what `extras_payload` kept."""
    if not payload:
        return message
    location = payload.get("location")
    return replace(
        message,
        media=tuple(MediaRef(str(i.get("url", "")), str(i.get("content_type", ""))) for i in payload.get("media", [])),
        location=Location(location.get("lat"), location.get("lon"), location.get("text", "")) if location else None,
        button_payload=payload.get("button"),
        reply_to=payload.get("reply_to"),
        forwarded=bool(payload.get("forwarded")),
        shared_contact=_shared(payload.get("contact")),
        button_choices=(tuple((str(k), str(v)) for k, v in payload["button_choices"])
                        if isinstance(payload.get("button_choices"), list) else None),
        edited=bool(payload.get("edited")),
        language_hint=str(payload.get("language_hint") or ""),
    )


def _shared(raw: Any) -> SharedContact | None:
    """A shared contact as `extras_payload` kept it."""
    if not isinstance(raw, dict):
        return None
    return SharedContact(str(raw.get("phone", "")), str(raw.get("name", "")), bool(raw.get("own")))


def user_message(message: InboundMessage, now: datetime, media_ids: tuple[int, ...] = ()) -> m.UserMessage:
    """The dialogue's view of an inbound message (`media_ids`: its attachments as recorded)."""
    location: Location | None = message.location
    return m.UserMessage(
        text=message.text,
        at=now,
        button=message.button_payload,
        media_count=len(message.media),
        lat=location.lat if location else None,
        lon=location.lon if location else None,
        location_text=location.text if location else "",
        sender_name=message.sender_name,
        media_ids=media_ids,
        reply_to=message.reply_to,
        media_kinds=tuple(ref.kind for ref in message.media),
        button_choices=message.button_choices,
        shared_phone=message.shared_contact.phone if message.shared_contact else None,
        shared_name=message.shared_contact.name if message.shared_contact else "",
        shared_own=message.shared_contact.own if message.shared_contact else False,
        edited=message.edited,
        language_hint=message.language_hint,
    )
