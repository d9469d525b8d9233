"""The channel contract: what every channel adapter takes in and gives out.

A channel knows its provider and nothing else. It turns a provider's HTTP request into
`InboundMessage`s (pure), renders a synchronous reply where the provider wants one (TwiML), and sends
an `OutboundMessage` (in a job). The gateway wires channels to the dialogue and the case store.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class HttpRequest:
    """A provider's webhook request, reduced to plain data so adapters stay testable without a server."""

    url: str
    method: str
    headers: Mapping[str, str]
    form: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class MediaRef:
    """A piece of media the provider holds; downloaded later by a job."""

    url: str
    content_type: str = ""

    @property
    def kind(self) -> str:
        """`photo`, `audio` or `document`, from the content type the provider announced."""
        return media_kind(self.content_type)


def media_kind(content_type: str) -> str:
    """The attachment kind of a content type: images are photos, audio is audio, anything else a document."""
    major = content_type.split("/", 1)[0].strip().lower()
    return {"image": "photo", "audio": "audio"}.get(major, "document")


@dataclass(frozen=True)
class FetchedMedia:
    """A media file downloaded from its provider, not yet checked."""

    content: bytes
    content_type: str = ""


class MediaError(Exception):
    """A media file could not be fetched; `reason` is `foreign_host`, `too_large`, `not_found`,
    `unavailable` or `unsupported`, and `retryable` says whether trying again can help."""

    def __init__(self, reason: str, message: str = "", *, retryable: bool) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.retryable = retryable


MEDIA_CHUNK = 64 * 1024


async def read_capped(response: Any, max_bytes: int) -> bytes:
    """A media download's body, refused as `too_large` past `max_bytes`: by its announced length
    before reading, else while reading (a provider may not announce one)."""
    if response.content_length is not None and response.content_length > max_bytes:
        raise MediaError("too_large", f"{response.content_length} bytes", retryable=False)
    body = bytearray()
    async for chunk in response.content.iter_chunked(MEDIA_CHUNK):
        body.extend(chunk)
        if len(body) > max_bytes:
            raise MediaError("too_large", f"more than {max_bytes} bytes", retryable=False)
    return bytes(body)


@dataclass(frozen=True)
class Location:
    """A point (a pin) or a place described in words."""

    lat: float | None = None
    lon: float | None = None
    text: str = ""


@dataclass(frozen=True)
class SharedContact:
    """A phone contact the citizen shared (Telegram): `own` when it is their own number."""

    phone: str
    """E.164, or empty when the number is not valid."""
    name: str = ""
    own: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """One message from a citizen, the same shape whatever the channel."""

    channel: str
    sender: str
    """The citizen's address on the channel: E.164 phone for Twilio channels, user id for Telegram."""
    recipient: str
    """Our address the citizen wrote to (the `To` number): selects the deployment profile."""
    provider_message_id: str | None
    text: str = ""
    media: tuple[MediaRef, ...] = ()
    location: Location | None = None
    button_payload: str | None = None
    sender_name: str = ""
    received_at: datetime | None = None
    reply_to: str | None = None
    """The provider id of our message the citizen replied to (WhatsApp's reply context), if any."""
    forwarded: bool = False
    shared_contact: SharedContact | None = None
    button_choices: tuple[tuple[str, str], ...] | None = None
    """The (key, label) choices of the keyboard a button press came from, as far as they are ours (an
    empty tuple: none of them, a forged press); None when the channel does not say."""
    edited: bool = False
    """The citizen edited an earlier message (Telegram): acknowledged, not taken as an answer."""


@dataclass(frozen=True)
class Choice:
    """An option offered to the citizen: a button where the channel has them, a numbered line otherwise."""

    key: str
    label: str


@dataclass(frozen=True)
class OutboundMessage:
    """One message to a citizen."""

    channel: str
    recipient: str
    sender: str
    text: str
    choices: tuple[Choice, ...] = ()
    media_urls: tuple[str, ...] = ()
    status_callback: str | None = None
    template: Mapping[str, Any] | None = None
    asks: str = ""
    """The dialogue state whose question the text asks (empty for a statement): voice plays its prompt."""
    lead: str = ""
    """The lines before the question in `text`."""
    request: tuple[str, str] | None = None
    """Ask for the citizen's `location` or `contact` (phone) with a button labelled as given, where the
    channel has such buttons (Telegram); others ignore it."""


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted a message."""

    provider_message_id: str
    status: str


class SendError(Exception):
    """A provider refused or failed a send; `retryable` says whether trying again can help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: str | None = None,
        retry_after: float | None = None,
        opted_out: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.retry_after = retry_after
        self.opted_out = opted_out
        self.unreachable = unreachable
        """The citizen cannot be reached here (blocked the bot): mark the contact, do not retry."""


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's delivery report for a message we sent."""

    provider_message_id: str
    status: str
    error_code: str | None = None
    opted_out: bool = False
    """The recipient opted out at the carrier (Twilio 21610): stop sending to them at once."""


@dataclass(frozen=True)
class Capabilities:
    """What a channel can show, so replies degrade gracefully (buttons become numbered lines)."""

    buttons: bool = False
    media: bool = False
    location_pins: bool = False
    synchronous_reply: bool = False
    max_text_length: int = 1600
    reply_window: timedelta | None = None
    """How long after the citizen's last message free-form messages may be sent (WhatsApp: 24 h);
    after it only approved templates go. None: no window."""
    recipient_rate: float | None = None
    """Messages per second one recipient may be sent (Telegram: 1 per chat); None: not paced."""
    late_replies: bool = True
    """Whether a turn's replies still make sense sent later, when the turn is replayed after an
    outage. Not on a phone call: the caller has moved on, and its prompts are speech, not texts."""


@dataclass(frozen=True)
class Reply:
    """A rendered synchronous answer to a webhook."""

    content_type: str
    body: str
    status: int = 200


class ChannelAdapter(abc.ABC):
    """One provider. Built once per process from environment settings by the registry."""

    name: str
    capabilities: Capabilities
    webhook_path: str
    """The route the provider posts inbound messages to."""
    status_path: str | None = None
    """The route the provider posts delivery reports to, if it does (channels of one provider share it)."""
    address_kind: str = "phone"
    """How the store keys the citizen's contact: `phone` (E.164) or `telegram` (user id)."""

    @classmethod
    @abc.abstractmethod
    def from_env(cls, env: Mapping[str, str]) -> ChannelAdapter:
        """Build the adapter from environment settings (credentials, base URLs, sender numbers)."""

    @abc.abstractmethod
    def verify(self, request: HttpRequest, public_url: str | None) -> bool:
        """True only for a request the provider really sent (signature or secret token)."""

    @abc.abstractmethod
    def parse(self, request: HttpRequest) -> list[InboundMessage]:
        """The citizen messages a verified request carries (empty for updates we do not handle); raise
        `ValueError` for a body that is not the provider's format at all (answered 400)."""

    @abc.abstractmethod
    def render_reply(self, texts: Sequence[OutboundMessage]) -> Reply:
        """The synchronous answer to the webhook, carrying `texts` where the provider allows it."""

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message through the provider's API; raise `SendError` on failure."""

    def acknowledge(self, request: HttpRequest, replies: Sequence[OutboundMessage]) -> Reply:
        """The webhook response: by default the synchronous reply carrying `replies`."""
        return self.render_reply(replies)

    def parse_status(self, request: HttpRequest) -> StatusUpdate | None:
        """A delivery report, for channels whose provider calls back."""
        return None

    async def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        """Download one media file the provider holds (at most `max_bytes`); raise `MediaError` on failure."""
        raise MediaError("unsupported", f"{self.name} cannot fetch media", retryable=False)

    def dialogue_texts(self) -> Mapping[str, Mapping[str, str]]:
        """Language -> catalog key -> text: the dialogue's wording for this channel (voice says "press 1"
        where a message says "reply 1"). Deployment texts still win over these."""
        return {}

    async def aclose(self) -> None:  # noqa: B027 - optional hook: most adapters hold nothing to close
        """Release network resources."""


def numbered_text(text: str, choices: Sequence[Choice]) -> str:
    """The choices as numbered lines under the text, for channels without buttons (SMS, voice)."""
    if not choices:
        return text
    lines = [text] if text else []
    lines.extend(f"{choice.key} {choice.label}" for choice in choices)
    return "\n".join(lines)


@dataclass
class ChannelRegistry:
    """Channel name -> adapter class path. Adding a channel is one line in `REGISTRY`."""

    paths: dict[str, str] = field(default_factory=dict)

    def adapter_class(self, name: str) -> type[ChannelAdapter]:
        """Import the adapter class registered under `name`."""
        module_name, _, class_name = self.paths[name].partition(":")
        return getattr(importlib.import_module(module_name), class_name)

    def names(self) -> list[str]:
        """Registered channel names."""
        return list(self.paths)


REGISTRY = ChannelRegistry(
    {
        "sms": "channels.sms.adapter:SmsChannel",
        "whatsapp": "channels.whatsapp.adapter:WhatsAppChannel",
        "telegram": "channels.telegram.adapter:TelegramChannel",
        "ivr": "channels.ivr.adapter:VoiceChannel",
    }
)
