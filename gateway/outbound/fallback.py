"""How an outbound message goes out on channels with a reply window, and what happens when it fails.

WhatsApp allows free-form messages only within 24 hours of the citizen's last message
(`Capabilities.reply_window`). `prepare` decides, at send time, between the recorded text and an
approved template (`ContentSid`, `ContentVariables`) chosen by the notice's language and status;
when the window is closed and no template fits, a status update goes by SMS instead. A status update
that fails on WhatsApp (a final error when sending, or a `failed`/`undelivered` report) is sent again
by SMS to the same number, once (`fall_back`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError

from channels.base import REGISTRY, Choice, OutboundMessage
from core.records import OutboundDraft, OutboundRow
from gateway.outbound.worker import Done, WorkItem
from gateway.runtime import Runtime

log = logging.getLogger(__name__)

FALLBACK_CHANNEL = "sms"
FALLBACK_FROM = {"whatsapp"}
"""Channels whose failed status updates are sent again by SMS (same phone number)."""
NOTICE_KINDS = ("status", "rating")


@dataclass(frozen=True)
class Prepared:
    """What to send, or why not: `fallback` says the message must go by SMS instead."""

    message: OutboundMessage | None
    fallback: str | None = None


def notice_payload(kind: str, status: str, language: str, values: dict[str, str]) -> dict[str, Any]:
    """The payload a status notice is recorded with, so the sender can pick a template for it later."""
    return {"notice": kind, "status": status, "language": language, "values": values}


def prepare(runtime: Runtime, row: OutboundRow, status_callback: str | None) -> Prepared:
    """The message to send for `row`: as recorded, or as a template outside the channel's reply window."""
    adapter = runtime.adapter(row.channel)
    plain = with_keyboard(OutboundMessage(channel=row.channel, recipient=row.recipient, sender=row.sender,
                                          text=row.body, status_callback=status_callback), row.payload)
    window = adapter.capabilities.reply_window
    if window is None or row.contact_id is None:
        return Prepared(plain)
    last = runtime.store.last_inbound_at(row.contact_id, row.channel)
    if last is not None and datetime.now(UTC) - last < window:
        return Prepared(plain)
    payload = row.payload or {}
    if payload.get("template"):
        return _agent_template(runtime, row, payload, status_callback)
    if payload.get("notice") not in NOTICE_KINDS:
        return Prepared(None, "outside the reply window, and not a status update")
    key = "rating" if payload["notice"] == "rating" else str(payload.get("status", ""))
    template = runtime.deployment.whatsapp.template(str(payload.get("language", "")), key)
    if template is None:
        return Prepared(None, f"outside the reply window, no template for {key} in {payload.get('language')}")
    values = {**{k: str(v) for k, v in (payload.get("values") or {}).items()}, "text": row.body}
    template_spec = {"content_sid": template.content_sid, "content_variables": template.content_variables(values)}
    return Prepared(OutboundMessage(channel=row.channel, recipient=row.recipient, sender=row.sender, text=row.body,
                                    status_callback=status_callback, template=template_spec))


def _agent_template(runtime: Runtime, row: OutboundRow, payload: dict[str, Any], status_callback: str | None
                    ) -> Prepared:
    """An approved template an agent chose (offered once the window has closed), sent as chosen."""
    table = runtime.deployment.whatsapp.templates.get(str(payload.get("language", "")), {})
    template = table.get(str(payload["template"]))
    if template is None:
        return Prepared(None, f"template {payload['template']} is no longer configured")
    values = {**{k: str(v) for k, v in (payload.get("values") or {}).items()}, "text": row.body}
    spec = {"content_sid": template.content_sid, "content_variables": template.content_variables(values)}
    return Prepared(OutboundMessage(channel=row.channel, recipient=row.recipient, sender=row.sender, text=row.body,
                                    status_callback=status_callback, template=spec))


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


def may_fall_back(channel: str, payload: dict[str, Any] | None) -> bool:
    """True for a status update on a channel whose failures go again by SMS."""
    return channel in FALLBACK_FROM and (payload or {}).get("notice") in NOTICE_KINDS


async def send_by_sms(item: WorkItem, message_id: int, contact_id: int | None, case_id: int | None,
                      recipient: str, body: str, reason: str) -> int | None:
    """Record the same text as an SMS to the same number and queue it (once per original message)."""
    if FALLBACK_CHANNEL not in REGISTRY.names():
        return None
    runtime = item.runtime
    prefix = runtime.settings.queue_prefix
    try:
        if not await item.redis.set(f"{prefix}:fallback:{message_id}", "1", nx=True, ex=30 * 24 * 3600):
            return None
    except RedisError:
        log.warning("message %s: cannot record its SMS fallback in Redis; sending it anyway", message_id)
    draft = OutboundDraft(FALLBACK_CHANNEL, contact_id, "", recipient, body, priority="bulk", case_id=case_id,
                          payload={"fallback_of": message_id, "reason": reason[:200]})
    ids = await item.turns.record([draft])
    await item.counters.incr("fallbacks", channel=FALLBACK_CHANNEL)
    log.info("message %s goes again by SMS as %s: %s", message_id, ids[0], reason)
    return ids[0]


async def fall_back(item: WorkItem) -> Done:
    """After a `failed`/`undelivered` report: send a status update again by SMS."""
    runtime = item.runtime
    provider_message_id = item.ident
    for channel in sorted(FALLBACK_FROM):
        sent = await runtime.db(runtime.store.sent_message, channel, provider_message_id)
        if sent is not None and may_fall_back(sent.channel, sent.payload):
            await send_by_sms(item, sent.message_id, sent.contact_id, sent.case_id, sent.recipient, sent.body,
                              f"{sent.channel} delivery {sent.status}")
            break
    return Done()
