"""Twilio Programmable Messaging (SMS): inbound webhooks, TwiML replies, REST sends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from twilio.twiml.messaging_response import MessagingResponse

from channels.base import (
    Capabilities,
    HttpRequest,
    InboundMessage,
    OutboundMessage,
    Reply,
    SendResult,
    checked,
    numbered_text,
)
from channels.twilio_common import TwilioChannel, TwilioSettings, provider_sid
from core.phones import normalize_phone

MAX_BODY = 4000
"""Twilio joins a long SMS into at most 1600 characters; anything beyond this is not a citizen's text."""


@dataclass(frozen=True)
class SmsSettings:
    """The account and the default sender number."""

    twilio: TwilioSettings
    sender: str
    default_region: str

    @classmethod
    def from_env(cls, env: Mapping[str, str], region: str) -> SmsSettings:
        """`TWILIO_*` and `TWILIO_SMS_FROM`; `region` for numbers written without a country code."""
        return cls(twilio=TwilioSettings.from_env(env), sender=env.get("TWILIO_SMS_FROM", ""), default_region=region)


class SmsChannel(TwilioChannel):
    """One Twilio account's SMS numbers."""

    name = "sms"
    capabilities = Capabilities(synchronous_reply=True, max_text_length=1600)
    webhook_path = "/webhooks/twilio/sms"
    display_names: ClassVar[Mapping[str, str]] = {"ar": "رسائل قصيرة", "fr": "SMS", "en": "SMS"}
    status_path = "/webhooks/twilio/status"
    settings_type = SmsSettings
    settings: SmsSettings

    def parse(self, request: HttpRequest) -> list[InboundMessage]:
        """One inbound SMS; a sender that is not a phone number (alphanumeric, short code) is kept raw.
        No sender: nothing to answer; `ValueError` for a SID, sender or recipient the store cannot keep."""
        form = request.form
        raw_sender = form.get("From", "").strip()
        if not raw_sender:
            return []
        sender = normalize_phone(raw_sender, self.settings.default_region) or raw_sender
        recipient = normalize_phone(form.get("To", ""), self.settings.default_region) or form.get("To", "")
        return [
            checked(InboundMessage(
                channel=self.name,
                sender=sender,
                recipient=recipient,
                provider_message_id=provider_sid(form, "MessageSid", "SmsSid"),
                text=form.get("Body", "")[:MAX_BODY],
            ))
        ]

    def render_reply(self, texts: Sequence[OutboundMessage]) -> Reply:
        """TwiML with one `<Message>` per reply (an empty `<Response/>` acknowledges without answering)."""
        response = MessagingResponse()
        for message in texts:
            response.message(numbered_text(message.text, message.choices))
        return Reply("application/xml", str(response))

    async def send(self, message: OutboundMessage) -> SendResult:
        """Create the message through the REST API (runs the blocking client in a thread)."""
        kwargs: dict[str, str] = {
            "to": message.recipient,
            "from_": message.sender or self.settings.sender,
            "body": numbered_text(message.text, message.choices),
        }
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        created = await self.rest.call(lambda client: client.messages.create(**kwargs))
        return SendResult(provider_message_id=created.sid, status=created.status or "queued")
