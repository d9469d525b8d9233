"""The channel contract: what every channel adapter takes in and gives out.

A channel knows its provider and nothing else. It turns a provider's HTTP request into
`InboundMessage`s (pure), renders a synchronous reply where the provider wants one (TwiML), and sends
an `OutboundMessage` (in a job). The gateway wires channels to the dialogue and the case store.

What differs between channels is declared here, never tested by name elsewhere: `Capabilities` (what
a channel shows, its windows, its pace, where a message goes when it cannot go here), and optional
parts as protocols an adapter implements (`SubscriptionCheck` for a GET verification of the webhook,
`WebhookRegistration`, `CallChannel`), checked once at start-up by `check_adapter`.
"""

from __future__ import annotations

import abc
import importlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol, runtime_checkable


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
    language_hint: str = ""
    """The language the citizen's app is set to, when the channel tells (Telegram's `language_code`,
    as its primary subtag: `fr`): a hint for a first message whose words do not tell."""


MAX_ADDRESS = 32
"""The longest address the store keeps for a citizen or one of our numbers (`contacts.phone`,
`contacts.telegram_user_id`): E.164 is at most 16 characters, a Telegram id 20."""
MAX_PROVIDER_ID = 128
"""`messages.provider_message_id`."""
MAX_NAME = 200
"""`contacts.name`."""
MAX_TEXT = 4096
"""The longest citizen text any channel carries (WhatsApp's and Telegram's cap)."""
MAX_URL = 2048
MAX_CONTENT_TYPE = 100
"""`attachments.content_type`."""
MAX_JSON_DEPTH = 32
"""Deeper than any provider's payload (a Telegram button press is 8 levels) or any API body."""

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""C0 controls but tab and newline, DEL, lone surrogates and the two non-characters XML refuses."""


def clean_text(value: str, limit: int | None = None) -> str:
    """Text safe to store and to echo into XML: line breaks as `\\n`, other control characters, DEL
    and lone surrogates removed, at most `limit` characters."""
    text = _UNSAFE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return text if limit is None else text[:limit]


def _address(value: str, what: str, *, required: bool = True) -> str:
    """An address cleaned, or `ValueError` when it is empty (and `required`) or longer than the store keeps."""
    address = clean_text(value).strip()
    if required and not address:
        raise ValueError(f"empty {what}")
    if len(address) > MAX_ADDRESS:
        raise ValueError(f"{what} longer than {MAX_ADDRESS} characters")
    return address


def _optional(value: str | None, limit: int) -> str | None:
    """An optional short field cleaned and cut, None when nothing is left."""
    if value is None:
        return None
    return clean_text(value, limit).strip() or None


def _coordinate(value: float | None, bound: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and abs(number) <= bound else None


def _checked_location(location: Location | None) -> Location | None:
    """The pin with coordinates out of range dropped (its words kept), None when nothing is left."""
    if location is None:
        return None
    lat, lon = _coordinate(location.lat, 90.0), _coordinate(location.lon, 180.0)
    if lat is None or lon is None:
        lat = lon = None
    words = clean_text(location.text, MAX_TEXT)
    return Location(lat, lon, words) if lat is not None or words.strip() else None


def checked(message: InboundMessage) -> InboundMessage:
    """What every adapter hands on: the message with its citizen text cleaned (`clean_text`) and cut to
    what the store keeps, or `ValueError` (answered 400) for an empty or oversized sender or recipient
    or an oversized provider id, which the store could not record."""
    provider_id = message.provider_message_id
    if provider_id is not None and (not provider_id.strip() or len(provider_id) > MAX_PROVIDER_ID
                                    or _UNSAFE.search(provider_id)):
        raise ValueError("unusable provider message id")
    shared = message.shared_contact
    return replace(
        message,
        sender=_address(message.sender, "sender"),
        recipient=_address(message.recipient, "recipient"),
        text=clean_text(message.text, MAX_TEXT),
        media=tuple(MediaRef(clean_text(ref.url, MAX_URL), clean_text(ref.content_type, MAX_CONTENT_TYPE))
                    for ref in message.media),
        location=_checked_location(message.location),
        button_payload=_optional(message.button_payload, MAX_PROVIDER_ID),
        sender_name=clean_text(message.sender_name, MAX_NAME).strip(),
        reply_to=_optional(message.reply_to, MAX_PROVIDER_ID),
        shared_contact=None if shared is None else SharedContact(
            _address(shared.phone, "shared phone", required=False), clean_text(shared.name, MAX_NAME).strip(),
            shared.own),
        button_choices=None if message.button_choices is None else tuple(
            (clean_text(key, MAX_PROVIDER_ID), clean_text(label, MAX_NAME)) for key, label in message.button_choices),
        language_hint=language_subtag(message.language_hint),
    )


def language_subtag(tag: str | None) -> str:
    """The primary subtag of an IETF language tag, lower case (`fr-FR` -> `fr`); "" for anything else."""
    primary = (tag or "").split("-")[0].split("_")[0].strip().lower()
    return primary if 2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha() else ""


def load_json(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON document read strictly: UTF-8 (RFC 8259), finite numbers (no `NaN`, `Infinity` or `1e400`),
    integers of at most 4300 digits (Python's limit), at most `max_depth` levels; `ValueError` for
    anything else."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
    if _depth(value) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} is out of range")
    return number


def _depth(value: Any) -> int:
    """How many arrays and objects are nested in `value` (0 for a scalar), without recursing."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


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
    by_person: bool = False
    """Written by a person (an agent), sent after the reply window within the channel's
    `person_window`: the channel marks it so (Messenger's `HUMAN_AGENT` tag)."""


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
    templates: bool = False
    """Approved templates may be sent outside `reply_window` (WhatsApp): a status notice goes as one."""
    person_window: timedelta | None = None
    """How long after the citizen's last message a person (not the bot) may still write, once
    `reply_window` has closed (Messenger's human-agent tag: 7 days). None: no longer than it."""
    fallback_channel: str | None = None
    """The channel a message that cannot go here is sent on instead (WhatsApp -> SMS), to the
    citizen's phone when they have one; None: it fails here."""
    sender_rate: float | None = None
    """Messages per second one of our senders (number, bot, page) may send; None: not paced."""
    media_sender_rate: float | None = None
    """The same for messages with media, where the provider is slower for them."""
    spoken: bool = False
    """Its prompts are heard, not read (a phone call): the dialogue's summary is not cut to SMS length."""


@dataclass(frozen=True)
class ChannelSettings:
    """What every adapter is built from: the environment (its credentials, base URLs, sender ids),
    the deployment's phone region (for numbers written without a country code) and our public URL."""

    env: Mapping[str, str]
    region: str
    public_url: str | None = None


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
    """The kind of address the citizen has here (the store keys contacts by it): `phone` (E.164), or
    the channel's own, such as `telegram` for a Telegram user id."""
    display_names: ClassVar[Mapping[str, str]] = {}
    """Language -> the channel's name as staff read it (the console's filters and labels)."""

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: ChannelSettings) -> ChannelAdapter:
        """Build the adapter (credentials, base URLs and sender ids from `settings.env`)."""

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


@runtime_checkable
class SubscriptionCheck(Protocol):
    """A provider that verifies our webhook with a GET on it before posting (Meta's `hub.challenge`)."""

    def verify_subscription(self, query: Mapping[str, str]) -> Reply:
        """The answer to the provider's verification request (403 when it is not ours)."""
        ...


@runtime_checkable
class WebhookRegistration(Protocol):
    """A provider our webhook URL is registered with by an API call (`hotline webhooks set`)."""

    async def set_webhook(self, url: str) -> str:
        """Register `url` (the provider's answer, for the operator)."""
        ...

    async def delete_webhook(self) -> str:
        """Remove the registration (the provider's answer)."""
        ...


@runtime_checkable
class CallChannel(Protocol):
    """A channel that is a phone call: the gateway's call routes (`gateway.inbound.call_routes`)
    drive the dialogue through it, one provider request per step of the call."""

    call_steps: tuple[str, ...]
    """The sub-paths of `webhook_path` the provider calls back at, one per step."""
    recording_suffix: str
    """What is added to a recording's URL to fetch its audio (the attachment's source)."""

    def parse_call(self, request: HttpRequest) -> Any:
        """The call request (caller, called, step, answer...), or None when it is not one."""
        ...

    def renderer(self, base: str) -> Any:
        """What renders each answer of the call, its action URLs under `base`."""
        ...

    def message(self, call: Any, answer: str) -> InboundMessage:
        """The caller's answer `answer` as a dialogue message."""
        ...

    def answer(self, call: Any, languages: list[str], base: str) -> InboundMessage | str:
        """The call's input as a dialogue message, or a rendered answer the channel gives itself."""
        ...

    async def call_back(self, caller: str, ours: str, language: str) -> str:
        """Phone `caller` from our number `ours` and put them through to a person; the call's id."""
        ...


OPTIONAL_PARTS = (SubscriptionCheck, WebhookRegistration, CallChannel)


def check_adapter(adapter_class: type[ChannelAdapter], registry: ChannelRegistry) -> None:
    """Refuse, at start-up, an adapter whose declarations do not hold together: a webhook path, a
    well-formed address kind, a fallback channel that is registered, rates that are positive, and
    every optional part it implements complete (a protocol's methods all there)."""
    name = adapter_class.__name__
    if not str(getattr(adapter_class, "webhook_path", "")).startswith("/"):
        raise TypeError(f"{name}: webhook_path must be a route such as /webhooks/{{channel}}")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", adapter_class.address_kind):
        raise TypeError(f"{name}: address_kind {adapter_class.address_kind!r} is not a short lowercase name")
    capabilities = adapter_class.capabilities
    if capabilities.fallback_channel is not None and capabilities.fallback_channel not in registry.paths:
        raise TypeError(f"{name}: fallback channel {capabilities.fallback_channel!r} is not registered")
    for rate in (capabilities.sender_rate, capabilities.media_sender_rate, capabilities.recipient_rate):
        if rate is not None and not rate > 0:
            raise TypeError(f"{name}: a rate must be positive")
    for part in OPTIONAL_PARTS:
        wanted = [member for member in _members(part) if hasattr(adapter_class, member)]
        if wanted and len(wanted) != len(_members(part)):
            missing = sorted(set(_members(part)) - set(wanted))
            raise TypeError(f"{name}: implements part of {part.__name__} but not {missing}")


def implements(adapter: type[ChannelAdapter] | ChannelAdapter, part: type) -> bool:
    """Whether an adapter (class or instance) has every member of an optional part (`OPTIONAL_PARTS`)."""
    return all(hasattr(adapter, member) for member in _members(part))


def _members(protocol: type) -> tuple[str, ...]:
    """The attributes and methods a protocol declares."""
    names = {*vars(protocol).get("__annotations__", {}), *vars(protocol)}
    return tuple(sorted(n for n in names if not n.startswith("_")))


def numbered_text(text: str, choices: Sequence[Choice]) -> str:
    """The choices as numbered lines under the text, for channels without buttons (SMS, voice)."""
    if not choices:
        return text
    lines = [text] if text else []
    lines.extend(f"{choice.key} {choice.label}" for choice in choices)
    return "\n".join(lines)


@dataclass
class ChannelRegistry:
    """Channel name -> adapter class path; the registered channels are `channels.registry.REGISTRY`."""

    paths: dict[str, str] = field(default_factory=dict)

    def adapter_class(self, name: str) -> type[ChannelAdapter]:
        """Import the adapter class registered under `name`."""
        module_name, _, class_name = self.paths[name].partition(":")
        return getattr(importlib.import_module(module_name), class_name)

    def names(self) -> list[str]:
        """Registered channel names."""
        return list(self.paths)

    def check(self) -> None:
        """Import every registered adapter and check its declarations (`check_adapter`)."""
        for name in self.paths:
            check_adapter(self.adapter_class(name), self)

    def address_kinds(self) -> dict[str, str]:
        """Channel name -> the kind of address its citizens have (for the store)."""
        return {name: self.adapter_class(name).address_kind for name in self.paths}
