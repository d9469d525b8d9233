"""Twilio WhatsApp: inbound webhooks (text, photos, voice notes, documents, pins, buttons, reply
context), TwiML replies, and REST sends, free-form or as an approved template (`ContentSid`).

The citizen is the same person as on SMS: `whatsapp:+212...` becomes `+212...`, the contact the SMS
channel uses for that number. Sends add the prefix back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from twilio.twiml.messaging_response import MessagingResponse

from channels.base import (
    Capabilities,
    FetchedMedia,
    HttpRequest,
    InboundMessage,
    Location,
    MediaRef,
    OutboundMessage,
    Reply,
    SendResult,
    checked,
    numbered_text,
)
from channels.twilio_common import (
    TwilioChannel,
    TwilioSettings,
    fetch_media,
    provider_sid,
)
from core.phones import normalize_phone, strip_channel_prefix

PREFIX = "whatsapp:"
MAX_BODY = 4096
"""WhatsApp caps a text at 4096 characters."""
MAX_MEDIA = 10
"""Twilio sends at most ten media items in one message."""
MAX_PLACE = 300


@dataclass(frozen=True)
class WhatsAppSettings:
    """The account and our WhatsApp sender number."""

    twilio: TwilioSettings
    sender: str
    default_region: str

    @classmethod
    def from_env(cls, env: Mapping[str, str], region: str) -> WhatsAppSettings:
        """`TWILIO_*` and `TWILIO_WHATSAPP_FROM` (with or without `whatsapp:`)."""
        return cls(
            twilio=TwilioSettings.from_env(env),
            sender=strip_channel_prefix(env.get("TWILIO_WHATSAPP_FROM", "")),
            default_region=region,
        )


def _address(raw: str, region: str) -> str:
    """`whatsapp:+2126...` as E.164 (kept bare, without the prefix, when it is not a valid number)."""
    bare = strip_channel_prefix(raw)
    return normalize_phone(bare, region) or bare


def _coordinate(value: str | None, limit: float) -> float | None:
    """A latitude or longitude, or None when missing, not a number or out of range."""
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    if number is None or not math.isfinite(number) or abs(number) > limit:
        return None
    return number


def parse_location(form: Mapping[str, str]) -> Location | None:
    """A shared pin (`Latitude`, `Longitude`) with its place name (`Label`, `Address`), if any."""
    lat = _coordinate(form.get("Latitude"), 90.0)
    lon = _coordinate(form.get("Longitude"), 180.0)
    if lat is None or lon is None:
        return None
    words = [part.strip() for part in (form.get("Label", ""), form.get("Address", "")) if part and part.strip()]
    return Location(lat, lon, ", ".join(dict.fromkeys(words))[:MAX_PLACE])


def parse_media(form: Mapping[str, str]) -> tuple[MediaRef, ...]:
    """Every `MediaUrlN` with its `MediaContentTypeN`, in order (at most ten)."""
    raw = (form.get("NumMedia") or "0").strip()
    count = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 2 else 0
    refs = []
    for index in range(min(max(count, 0), MAX_MEDIA)):
        url = (form.get(f"MediaUrl{index}") or "").strip()
        if url:
            refs.append(MediaRef(url, (form.get(f"MediaContentType{index}") or "").strip().lower()))
    return tuple(refs)


class WhatsAppChannel(TwilioChannel):
    """One Twilio account's WhatsApp senders."""

    name = "whatsapp"
    capabilities = Capabilities(
        media=True, location_pins=True, synchronous_reply=True, max_text_length=MAX_BODY,
        reply_window=timedelta(hours=24), templates=True, fallback_channel="sms",
        sender_rate=10.0, media_sender_rate=1.5,
    )
    """Free-form only within 24 h of the citizen's last message, approved templates after it (FACTS.md);
    Twilio's default WhatsApp throughput is 10 messages a second per sender, about 1.5 with media."""
    webhook_path = "/webhooks/twilio/whatsapp"
    display_names: ClassVar[Mapping[str, str]] = {"ar": "واتساب", "fr": "WhatsApp", "en": "WhatsApp"}
    status_path = "/webhooks/twilio/status"
    settings_type = WhatsAppSettings
    settings: WhatsAppSettings

    def parse(self, request: HttpRequest) -> list[InboundMessage]:
        """One inbound WhatsApp message: text or caption, media, pin, button, profile name, reply context.
        No sender: nothing to answer; `ValueError` for a SID, sender or recipient the store cannot keep."""
        form = request.form
        region = self.settings.default_region
        raw_sender = form.get("From", "").strip() or (f"+{form['WaId'].strip()}" if form.get("WaId") else "")
        if not strip_channel_prefix(raw_sender):
            return []
        button = (form.get("ButtonPayload") or "").strip() or None
        text = form.get("Body", "")
        if not text and form.get("ButtonText"):
            text = form["ButtonText"]
        return [
            checked(InboundMessage(
                channel=self.name,
                sender=_address(raw_sender, region),
                recipient=_address(form.get("To", ""), region),
                provider_message_id=provider_sid(form, "MessageSid", "SmsMessageSid", "SmsSid"),
                text=text[:MAX_BODY],
                media=parse_media(form),
                location=parse_location(form),
                button_payload=button,
                sender_name=(form.get("ProfileName") or "").strip()[:200],
                reply_to=(form.get("OriginalRepliedMessageSid") or "").strip() or None,
                forwarded=(form.get("Forwarded") or form.get("FrequentlyForwarded") or "").lower() == "true",
            ))
        ]

    def render_reply(self, texts: Sequence[OutboundMessage]) -> Reply:
        """TwiML with one `<Message>` per reply; choices as numbered lines (buttons need templates)."""
        response = MessagingResponse()
        for message in texts:
            response.message(numbered_text(message.text, message.choices))
        return Reply("application/xml", str(response))

    async def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        """Download from Twilio's media hosts only, with the account's basic auth."""
        return await fetch_media(self.settings.twilio, ref, max_bytes)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Create the message: a template (`ContentSid`, `ContentVariables`) when one is given, else text."""
        kwargs: dict[str, Any] = {
            "to": PREFIX + strip_channel_prefix(message.recipient),
            "from_": PREFIX + strip_channel_prefix(message.sender or self.settings.sender),
        }
        if message.template:
            kwargs["content_sid"] = message.template["content_sid"]
            variables = message.template.get("content_variables")
            if variables:
                kwargs["content_variables"] = json.dumps(variables, ensure_ascii=False)
        else:
            kwargs["body"] = numbered_text(message.text, message.choices)
        if message.media_urls:
            kwargs["media_url"] = list(message.media_urls)
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        created = await self.rest.call(lambda client: client.messages.create(**kwargs))
        return SendResult(provider_message_id=created.sid, status=created.status or "queued")
