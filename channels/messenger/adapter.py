"""Facebook Messenger through Meta's Graph API: one Facebook Page, its webhook and its Send API.

Inbound: Meta first checks the webhook with a GET (`hub.mode=subscribe`, our verify token, a
`hub.challenge` to echo), then posts `{"object": "page", "entry": [{"messaging": [event...]}]}`
signed with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret). Entries are
batched, so one body may carry many citizens' events: each is read on its own, and one that is not
the shape we read is skipped without harming the others. Texts, quick-reply and postback payloads
(our choice keys), images, audio and pins become `InboundMessage`s; echoes of our own messages,
delivery and read receipts, reactions and whatever Meta adds later are acknowledged and dropped.
The citizen's address is their page-scoped id (PSID); ours is the Page id.

Outbound goes through `POST /{version}/me/messages?access_token=...`: choices as quick replies where
they fit (at most 13, titles of at most 20 characters), numbered lines otherwise; a message written
by a person after the 24 hour window carries the `HUMAN_AGENT` tag (7 days). Errors are classed for
the send job: throttling and Meta's temporary failures are retried, a person who cannot be reached
(blocked the Page) is final and unreachable, anything else is final.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import aiohttp

from channels.base import (
    MAX_PROVIDER_ID,
    Capabilities,
    ChannelAdapter,
    ChannelSettings,
    FetchedMedia,
    HttpRequest,
    InboundMessage,
    Location,
    MediaError,
    MediaRef,
    OutboundMessage,
    Reply,
    SendError,
    SendResult,
    checked,
    clean_text,
    load_json,
    numbered_text,
    read_capped,
)

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v27.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_CHALLENGE = re.compile(r"[!#-%(-;=?-~]{1,128}")
"""Visible ASCII without quotes, `&`, `<` and `>`: Meta sends an integer, and what we echo stays inert."""
_PSID = re.compile(r"[0-9]{1,20}")
"""A page-scoped user id, or a Page id: digits (Meta's are 15-17 of them)."""
MAX_TEXT = 2000
"""The Send API's limit on `message.text`."""
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
MAX_PAYLOAD = 1000
MAX_MEDIA = 10
CDN_DOMAINS = ("fbcdn.net", "fbsbx.com")
"""Where Meta serves Messenger attachments (`scontent*.xx.fbcdn.net`, `cdn.fbsbx.com`, `lookaside.fbsbx.com`)."""
MEDIA_TYPES = {"image": "image/jpeg", "audio": "audio/mp4"}
"""Attachment types kept, with the content type assumed until the download says otherwise."""
THROTTLED = frozenset({4, 17, 32, 341, 613})
"""Graph API rate limits: app, user, Page, app-wide and custom (the Send API's 613)."""
TRANSIENT = frozenset({1, 2, 368}) | THROTTLED
"""Meta's "possibly temporary" failures and its temporary policy block, besides the rate limits."""
UNREACHABLE_CODES = frozenset({551})
UNREACHABLE_SUBCODES = frozenset({1545041})
THROTTLE_WAIT = 60.0
"""Seconds to wait after a rate limit when Meta does not say how long."""
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class MessengerSettings:
    """The Page's token, the app's secret, our verify token, and where the Graph API is."""

    page_token: str
    app_secret: str
    verify_token: str
    api_base: str = DEFAULT_API_BASE
    api_version: str = DEFAULT_API_VERSION
    extra_media_hosts: tuple[str, ...] = ()
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MessengerSettings:
        """`MESSENGER_PAGE_TOKEN`, `MESSENGER_APP_SECRET`, `MESSENGER_VERIFY_TOKEN`, `MESSENGER_API_BASE`
        (an emulator's base URL), `MESSENGER_API_VERSION`, and `MESSENGER_MEDIA_HOSTS` (comma-separated
        hosts attachments may also come from)."""
        extra = tuple(h.strip().lower() for h in env.get("MESSENGER_MEDIA_HOSTS", "").split(",") if h.strip())
        return cls(
            page_token=env.get("MESSENGER_PAGE_TOKEN", ""),
            app_secret=env.get("MESSENGER_APP_SECRET", ""),
            verify_token=env.get("MESSENGER_VERIFY_TOKEN", ""),
            api_base=(env.get("MESSENGER_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
            api_version=(env.get("MESSENGER_API_VERSION") or DEFAULT_API_VERSION).strip("/"),
            extra_media_hosts=extra,
        )

    @property
    def messages_url(self) -> str:
        """The Send API's endpoint for the Page the token belongs to."""
        return f"{self.api_base}/{self.api_version}/me/messages"

    def media_allowed(self, url: str) -> bool:
        """Whether an attachment may be fetched from `url`: Meta's CDN over https, or the API base's
        host and `MESSENGER_MEDIA_HOSTS` (an emulator, a proxy)."""
        parts = urlsplit(url)
        host, netloc = (parts.hostname or "").lower(), parts.netloc.lower()
        if parts.scheme not in ("http", "https") or not host or "@" in netloc:
            return False
        base = urlsplit(self.api_base)
        if (parts.scheme, netloc) == (base.scheme, base.netloc.lower()) or {host, netloc} & set(self.extra_media_hosts):
            return True
        return parts.scheme == "https" and any(host == d or host.endswith("." + d) for d in CDN_DOMAINS)


def signature_ok(secret: str, body: bytes, header: str) -> bool:
    """`header` is `sha256=` and the HMAC-SHA256 of the raw `body` with the app secret (constant-time)."""
    found = _SIGNATURE.fullmatch(header.strip())
    if not secret or found is None:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(found.group(1).lower(), expected)


def _header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, whatever the case of its name."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at a line break, else a space, where one is
    near the end of a part."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _user_id(value: Any) -> str | None:
    """The id of an event's `sender` or `recipient` (a string, as Meta sends them; a number tolerated)."""
    raw = value.get("id") if isinstance(value, dict) else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    return raw if isinstance(raw, str) and _PSID.fullmatch(raw) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _received_at(value: Any) -> datetime | None:
    """An event's `timestamp`: milliseconds, or seconds as some senders give it."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**45:
        return None
    seconds = value / 1000 if value > 10**11 else value
    return datetime.fromtimestamp(seconds, UTC)


def _provider_id(mid: str) -> str:
    """Meta's message id, or a digest of it when it is longer than the store keeps."""
    if len(mid) <= MAX_PROVIDER_ID and mid.isprintable():
        return mid
    return "sha256:" + hashlib.sha256(mid.encode("utf-8", "surrogatepass")).hexdigest()


def _coordinate(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class MessengerChannel(ChannelAdapter):
    """One Facebook Page on Messenger."""

    name = "messenger"
    address_kind = "messenger"
    capabilities = Capabilities(
        buttons=True, media=True, location_pins=True, synchronous_reply=False, max_text_length=MAX_TEXT,
        reply_window=timedelta(hours=24), person_window=timedelta(days=7), fallback_channel="sms",
    )
    """Free-form messages within 24 hours of the citizen's last one; a person's reply (`HUMAN_AGENT`)
    within 7 days; nothing automated after that, so status updates go by SMS."""
    webhook_path = "/webhooks/messenger"
    display_names: ClassVar[Mapping[str, str]] = {"ar": "ماسنجر", "fr": "Messenger", "en": "Messenger"}

    def __init__(self, settings: MessengerSettings) -> None:
        self.settings = settings
        self._sessions: dict[int, aiohttp.ClientSession] = {}

    @classmethod
    def from_settings(cls, settings: ChannelSettings) -> MessengerChannel:
        """Build from the environment's `MESSENGER_*` variables."""
        return cls(MessengerSettings.from_env(settings.env))

    # -- inbound -----------------------------------------------------------------------------------

    def verify_subscription(self, query: Mapping[str, str]) -> Reply:
        """Meta's webhook check: our verify token (constant-time, never an empty one) and a challenge
        fit to echo give the challenge back; anything else is 403."""
        token = self.settings.verify_token
        given = query.get("hub.verify_token", "")
        challenge = query.get("hub.challenge", "")
        ours = bool(token) and hmac.compare_digest(given.encode("utf-8", "surrogatepass"), token.encode())
        if query.get("hub.mode") != "subscribe" or not ours or not _CHALLENGE.fullmatch(challenge):
            return Reply("text/plain", "forbidden\n", 403)
        return Reply("text/plain", challenge)

    def verify(self, request: HttpRequest, public_url: str | None) -> bool:
        """`X-Hub-Signature-256` over the raw body with `MESSENGER_APP_SECRET`; nothing passes without one."""
        return signature_ok(self.settings.app_secret, request.body or b"", _header(request.headers, SIGNATURE_HEADER))

    def parse(self, request: HttpRequest) -> list[InboundMessage]:
        """The citizen messages of every entry's events, in order; nothing for another object than a
        Page; `ValueError` for a body that is not a JSON object or whose entries are not a list."""
        try:
            data = load_json(request.body or b"")
        except ValueError as exc:
            raise ValueError("the body is not JSON") from exc
        if not isinstance(data, dict):
            raise ValueError("not a Messenger webhook")
        if data.get("object") != "page":
            return []
        entries = data.get("entry")
        if not isinstance(entries, list):
            raise ValueError("a Page webhook without entries")
        found: list[InboundMessage] = []
        for entry in entries:
            events = entry.get("messaging") if isinstance(entry, dict) else None
            if not isinstance(events, list):
                continue
            for event in events:
                try:
                    message = self._event(event)
                except ValueError as exc:
                    log.warning("messenger event skipped: %s", exc)
                    continue
                if message is not None:
                    found.append(message)
        return found

    def _event(self, event: Any) -> InboundMessage | None:
        """One citizen message, None for an event we do not handle; `ValueError` for one we cannot read."""
        if not isinstance(event, dict):
            raise ValueError("an event that is not an object")
        if isinstance(event.get("message"), dict):
            kind = "message"
        elif isinstance(event.get("postback"), dict):
            kind = "postback"
        else:
            return None
        body = event[kind]
        if kind == "message" and (body.get("is_echo") is True or body.get("is_deleted") is True):
            return None
        sender, page = _user_id(event.get("sender")), _user_id(event.get("recipient"))
        if sender is None or page is None:
            raise ValueError("an event without a numeric sender and recipient")
        received_at = _received_at(event.get("timestamp"))
        if kind == "postback":
            return self._postback(body, sender, page, received_at, event.get("timestamp"))
        mid = body.get("mid")
        if not isinstance(mid, str) or not mid.strip():
            raise ValueError("a message without an id")
        quick_reply = body.get("quick_reply")
        payload = quick_reply.get("payload") if isinstance(quick_reply, dict) else None
        reply_to = body.get("reply_to")
        replied = reply_to.get("mid") if isinstance(reply_to, dict) else None
        media, location = self._attachments(body.get("attachments"))
        return checked(InboundMessage(
            channel=self.name,
            sender=sender,
            recipient=page,
            provider_message_id=_provider_id(mid),
            text=clean_text(_text(body.get("text"))),
            media=media,
            location=location,
            button_payload=payload if isinstance(payload, str) and payload.strip() else None,
            received_at=received_at,
            reply_to=replied if isinstance(replied, str) else None,
        ))

    def _postback(self, body: dict[str, Any], sender: str, page: str, received_at: datetime | None,
                  timestamp: Any) -> InboundMessage:
        """A button press on a template or the menu: its payload; its `mid`, else an id made of what
        identifies it (sender, time, payload), so a repeated delivery is still recognized."""
        payload = body.get("payload")
        if not isinstance(payload, str) or not payload.strip():
            raise ValueError("a postback without a payload")
        mid = body.get("mid")
        if isinstance(mid, str) and mid.strip():
            provider_id = _provider_id(mid)
        else:
            seed = f"{sender}|{timestamp!r}|{payload}".encode("utf-8", "surrogatepass")
            provider_id = "postback:" + hashlib.sha256(seed).hexdigest()[:40]
        return checked(InboundMessage(
            channel=self.name, sender=sender, recipient=page, provider_message_id=provider_id,
            button_payload=payload, received_at=received_at,
        ))

    def _attachments(self, attachments: Any) -> tuple[tuple[MediaRef, ...], Location | None]:
        """Images and audio on Meta's hosts (stickers and anything elsewhere dropped), and the first pin."""
        if not isinstance(attachments, list):
            return (), None
        media: list[MediaRef] = []
        location = None
        for attachment in attachments:
            if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
                continue
            kind, payload = attachment.get("type"), attachment["payload"]
            if kind == "location" and location is None:
                coordinates = payload.get("coordinates")
                if isinstance(coordinates, dict):
                    lat, lon = _coordinate(coordinates.get("lat")), _coordinate(coordinates.get("long"))
                    location = Location(lat, lon) if lat is not None and lon is not None else None
                continue
            url = payload.get("url")
            if (kind not in MEDIA_TYPES or "sticker_id" in payload or not isinstance(url, str)
                    or not self.settings.media_allowed(url) or len(media) >= MAX_MEDIA):
                continue
            media.append(MediaRef(url, MEDIA_TYPES[str(kind)]))
        return tuple(media), location

    def render_reply(self, texts: Sequence[OutboundMessage]) -> Reply:
        """Meta wants a quick 200, whatever its body: replies go by the Send API from send jobs."""
        return Reply("text/plain", "EVENT_RECEIVED")

    # -- outbound ----------------------------------------------------------------------------------

    def session(self) -> aiohttp.ClientSession:
        """This event loop's HTTP client (a session belongs to the loop that opened it)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(id(loop))
        if session is None or session.closed:
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout * 3, sock_connect=self.settings.timeout)
            session = aiohttp.ClientSession(timeout=timeout)
            self._sessions = {id(loop): session}
        return session

    def quick_replies(self, message: OutboundMessage) -> tuple[list[dict[str, str]] | None, bool]:
        """The choices as quick replies (1 to 13) and whether the text must also number them: when a
        label is longer than a title's 20 characters, the text lists the choices in full and each
        button shows its number and the label's start ("1 Parler à un con…"), so every menu can still
        be tapped. (None, True) for choices Messenger cannot show as buttons."""
        choices = message.choices
        if not choices:
            return None, False
        if len(choices) > MAX_QUICK_REPLIES or not all(0 < len(c.key) <= MAX_PAYLOAD and c.label.strip()
                                                        for c in choices):
            return None, True
        if all(len(c.label.strip()) <= MAX_TITLE for c in choices):
            return [{"content_type": "text", "title": c.label.strip(), "payload": c.key} for c in choices], False
        return [{"content_type": "text", "title": _title(f"{c.key} {c.label.strip()}"), "payload": c.key}
                for c in choices], True

    def bodies(self, message: OutboundMessage) -> list[dict[str, Any]]:
        """The Send API requests for `message`: its text in parts of at most 2000 characters, the quick
        replies on the last; `HUMAN_AGENT` for a person's message."""
        if not _PSID.fullmatch(message.recipient):
            raise SendError(f"not a Messenger user id: {message.recipient!r}", retryable=False, code="recipient")
        quick, numbered = self.quick_replies(message)
        parts = split_text(numbered_text(message.text, message.choices) if numbered else message.text)
        if not parts:
            raise SendError("nothing to send", retryable=False, code="empty")
        kind = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"} if message.by_person \
            else {"messaging_type": "RESPONSE"}
        bodies: list[dict[str, Any]] = []
        for index, part in enumerate(parts):
            content: dict[str, Any] = {"text": part}
            if quick and index == len(parts) - 1:
                content["quick_replies"] = quick
            bodies.append({"recipient": {"id": message.recipient}, **kind, "message": content})
        return bodies

    async def send(self, message: OutboundMessage) -> SendResult:
        """Each part through the Send API in order; the last part's message id. Errors are classed as
        retryable, unreachable or final (`classify`)."""
        sent = ""
        for body in self.bodies(message):
            sent = await self._post(body)
        return SendResult(provider_message_id=sent, status="accepted")

    async def _post(self, body: dict[str, Any]) -> str:
        if not self.settings.page_token:
            raise SendError("MESSENGER_PAGE_TOKEN is not set", retryable=False, code="token")
        try:
            async with self.session().post(self.settings.messages_url, json=body,
                                           params={"access_token": self.settings.page_token},
                                           allow_redirects=False) as response:
                raw = await response.read()
                status, retry_after = response.status, _retry_after(response.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"cannot reach Messenger: {type(exc).__name__}", retryable=True, code="network") from exc
        try:
            answer = load_json(raw)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
            raise classify(status, answer["error"], retry_after)
        if 200 <= status < 300:
            message_id = answer.get("message_id") if isinstance(answer, dict) else None
            if isinstance(message_id, str) and message_id:
                return message_id
            raise SendError("Messenger accepted the message without an id", retryable=False, code="response")
        raise classify(status, {}, retry_after)

    async def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        """GET an attachment from Meta's CDN (or the configured hosts), every redirect's host checked
        before it is followed, refused as soon as it is too big; expired links (403/404/410) are final."""
        url = ref.url
        timeout = aiohttp.ClientTimeout(total=max(self.settings.timeout * 6, 30), sock_connect=self.settings.timeout)
        for _ in range(MAX_REDIRECTS + 1):
            if not self.settings.media_allowed(url):
                raise MediaError("foreign_host", f"{urlsplit(url).netloc[:80]!r} is not a Meta media host",
                                 retryable=False)
            try:
                async with self.session().get(url, allow_redirects=False, timeout=timeout) as response:
                    if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                        url = urljoin(url, response.headers["Location"])
                        continue
                    if response.status == 429 or response.status >= 500:
                        raise MediaError("unavailable", f"media answered {response.status}", retryable=True)
                    if response.status != 200:
                        raise MediaError("not_found", f"media answered {response.status}", retryable=False)
                    content = await read_capped(response, max_bytes)
                    served = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise MediaError("unavailable", f"cannot reach the media host: {type(exc).__name__}",
                                 retryable=True) from exc
            return FetchedMedia(content, ref.content_type if served in ("", "application/octet-stream") else served)
        raise MediaError("unavailable", "too many redirects", retryable=False)

    async def aclose(self) -> None:
        """Close this loop's HTTP client."""
        session = self._sessions.pop(id(asyncio.get_running_loop()), None)
        if session is not None:
            await session.close()


def classify(status: int, error: Mapping[str, Any], retry_after: float | None) -> SendError:
    """A Graph API error as a `SendError`: the person cannot be reached (551, or Meta's closed-window
    subcode 1545041: final, unreachable); rate limits, temporary failures, 429 and 5xx (retried,
    after `Retry-After` or a minute for a rate limit); anything else (permissions, bad parameters,
    an expired token, a window closed for the tag) is final."""
    code, subcode = error.get("code"), error.get("error_subcode")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    subcode = subcode if isinstance(subcode, int) and not isinstance(subcode, bool) else None
    detail = clean_text(_text(error.get("message")), 200)
    text = f"Messenger {status}" + (f" error {code}" if code is not None else "") \
        + (f"/{subcode}" if subcode is not None else "") + (f": {detail}" if detail else "")
    label = str(code if code is not None else status)
    if code in UNREACHABLE_CODES or subcode in UNREACHABLE_SUBCODES:
        return SendError(text, retryable=False, code=label, unreachable=True)
    if code in TRANSIENT or status == 429 or status >= 500:
        wait = retry_after if retry_after is not None else THROTTLE_WAIT if code in THROTTLED or status == 429 else None
        return SendError(text, retryable=True, code=label, retry_after=wait)
    return SendError(text, retryable=False, code=label)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` in seconds, when the answer gives it as a number."""
    value = headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86400 else None


def _title(text: str) -> str:
    """A quick reply's title: at most 20 characters, cut with an ellipsis."""
    return text if len(text) <= MAX_TITLE else text[:MAX_TITLE - 1].rstrip() + "…"
