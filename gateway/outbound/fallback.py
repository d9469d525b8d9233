"""How an outbound message goes out on channels with a reply window, and what happens when it fails.

A channel may allow free-form messages only within a while of the citizen's last message
(`Capabilities.reply_window`: WhatsApp's and Messenger's 24 hours). `prepare` decides, at send time:
the recorded text; past the window, a message a person wrote while the channel still lets people
write (`person_window`: Messenger's human-agent tag, 7 days), or an approved template chosen by the
notice's language and status on channels with templates; otherwise it does not go there, and a
status update goes on the channel's `fallback_channel` instead (SMS, to the citizen's phone). A status
update that fails for good (a final error when sending, or a `failed`/`undelivered` report) goes on
the fallback channel too, once (`fall_back`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError

from channels.base import Choice, OutboundMessage
from channels.registry import REGISTRY
from core.records import OutboundDraft, OutboundRow
from gateway.outbound.worker import Done, WorkItem
from gateway.runtime import Runtime

log = logging.getLogger(__name__)

NOTICE_KINDS = ("status", "rating")


@dataclass(frozen=True)
class Prepared:
    """What to send, or why not: `fallback` says why it must go on the fallback channel instead."""

    message: OutboundMessage | None
    fallback: str | None = None


def notice_payload(kind: str, status: str, language: str, values: dict[str, str]) -> dict[str, Any]:
    """The payload a status notice is recorded with, so the sender can pick a template for it later."""
    return {"notice": kind, "status": status, "language": language, "values": values}


def status_callback(runtime: Runtime, channel: str) -> str | None:
    """Where the channel's provider should report delivery: our public URL and its status route."""
    path = runtime.adapter(channel).status_path
    public_url = runtime.settings.public_url
    return f"{public_url}{path}" if public_url and path else None


def prepare(runtime: Runtime, row: OutboundRow) -> Prepared:
    """The message to send for `row`: as recorded, or as a template outside the channel's reply window."""
    adapter = runtime.adapter(row.channel)
    callback = status_callback(runtime, row.channel)
    plain = with_keyboard(OutboundMessage(channel=row.channel, recipient=row.recipient, sender=row.sender,
                                          text=row.body, status_callback=callback), row.payload)
    capabilities = adapter.capabilities
    window = capabilities.reply_window
    if window is None or row.contact_id is None:
        return Prepared(plain)
    last = runtime.store.last_inbound_at(row.contact_id, row.channel)
    since = datetime.now(UTC) - last if last is not None else None
    if since is not None and since < window:
        return Prepared(plain)
    payload = row.payload or {}
    person = capabilities.person_window
    if payload.get("agent") and person is not None and since is not None and since < person:
        return Prepared(replace(plain, by_person=True))
    if not capabilities.templates:
        return Prepared(None, "outside the reply window")
    templates = runtime.deployment.templates_for(row.channel)
    if payload.get("template"):
        template = templates.templates.get(str(payload.get("language", "")), {}).get(str(payload["template"]))
        if template is None:
            return Prepared(None, f"template {payload['template']} is no longer configured")
    elif payload.get("notice") in NOTICE_KINDS:
        key = "rating" if payload["notice"] == "rating" else str(payload.get("status", ""))
        template = templates.template(str(payload.get("language", "")), key)
        if template is None:
            return Prepared(None, f"outside the reply window, no template for {key} in {payload.get('language')}")
    else:
        return Prepared(None, "outside the reply window, and not a status update")
    values = {**{k: str(v) for k, v in (payload.get("values") or {}).items()}, "text": row.body}
    spec = {"content_sid": template.content_sid, "content_variables": template.content_variables(values)}
    return Prepared(OutboundMessage(channel=row.channel, recipient=row.recipient, sender=row.sender, text=row.body,
                                    status_callback=callback, template=spec))


def with_keyboard(message: OutboundMessage, payload: dict[str, Any] | None) -> OutboundMessage:
    """The message with the text, choices and request a reply was recorded with (`keyboard_payload`),
    so a channel with buttons shows them; the numbered text otherwise."""
    if not payload or not isinstance(payload.get("choices"), list):
        return message
    choices = tuple(Choice(str(key), str(label)) for key, label in payload["choices"])
    request = payload.get("request")
    return replace(message, text=str(payload.get("text", message.text)), choices=choices,
                   request=(str(request[0]), str(request[1])) if isinstance(request, list) and len(request) == 2
                   else None)


def notice_channel(runtime: Runtime, channel: str) -> str | None:
    """The channel a status notice of a case filed on `channel` goes on: that one when it is registered;
    for a case filed from outside every channel (an Open311 request), the one channel the registered
    ones fall back to (SMS), to the citizen's address there; None when there is no such channel."""
    if channel in runtime.channels():
        return channel
    fallbacks = {REGISTRY.adapter_class(name).capabilities.fallback_channel for name in runtime.channels()} - {None}
    if len(fallbacks) != 1:
        return None
    fallback = str(fallbacks.pop())
    store = runtime.store
    return fallback if store.address_kind_of(fallback) == store.address_kind_of(channel) else None


def may_fall_back(runtime: Runtime, channel: str, payload: dict[str, Any] | None) -> bool:
    """True for a status update on a channel that declares a fallback channel."""
    return (runtime.adapter(channel).capabilities.fallback_channel is not None
            and (payload or {}).get("notice") in NOTICE_KINDS)


async def send_on_fallback(item: WorkItem, message_id: int, contact_id: int | None, case_id: int | None,
                           channel: str, body: str, reason: str) -> int | None:
    """Record the same text on `channel`'s fallback channel, to the citizen's address there (their
    phone), and queue it: once per original message; None when there is nowhere to send it."""
    runtime = item.runtime
    fallback = runtime.adapter(channel).capabilities.fallback_channel
    if fallback is None or contact_id is None:
        return None
    contact = await runtime.db(runtime.store.contact, contact_id)
    recipient = contact.addresses.get(runtime.store.address_kind_of(fallback)) if contact else None
    if not recipient:
        log.info("message %s cannot go on %s: the citizen has no address there", message_id, fallback)
        return None
    prefix = runtime.settings.queue_prefix
    try:
        if not await item.redis.set(f"{prefix}:fallback:{message_id}", "1", nx=True, ex=30 * 24 * 3600):
            return None
    except RedisError:
        log.warning("message %s: cannot record its fallback in Redis; sending it anyway", message_id)
    draft = OutboundDraft(fallback, contact_id, "", recipient, body, priority="bulk", case_id=case_id,
                          payload={"fallback_of": message_id, "reason": reason[:200]})
    ids = await item.turns.record([draft])
    await item.counters.incr("fallbacks", channel=fallback)
    log.info("message %s goes again on %s as %s: %s", message_id, fallback, ids[0], reason)
    return ids[0]


async def fall_back(item: WorkItem) -> Done:
    """After a `failed`/`undelivered` report: send a status update again on the fallback channel."""
    runtime = item.runtime
    provider_message_id = item.ident
    for channel in runtime.channels():
        if runtime.adapter(channel).capabilities.fallback_channel is None:
            continue
        sent = await runtime.db(runtime.store.sent_message, channel, provider_message_id)
        if sent is not None and may_fall_back(runtime, sent.channel, sent.payload):
            await send_on_fallback(item, sent.message_id, sent.contact_id, sent.case_id, sent.channel, sent.body,
                                   f"{sent.channel} delivery {sent.status}")
            break
    return Done()
