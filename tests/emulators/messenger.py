"""A local Graph API for Messenger: `POST /{version}/me/messages?access_token=...` as graph.facebook.com
answers it, recording every call with its JSON and the time it came, and attachment files served
at `/media/{id}` as Meta's CDN serves them; and the webhook deliveries Meta posts, shaped as Meta's
reference and courier's recorded payloads show them, signed as Meta signs them.

Checks what the Send API checks (the token, the version, a recipient, `messaging_type` and its tag,
text of at most 2000 characters, at most 13 quick replies with titles of at most 20 characters) and
answers Meta's error shape. Failures can be scripted per recipient (`fail_next`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

VERSION = "v27.0"
PAGE_ID = "104857600123456"
TOKEN = "EAAG-emulator-page-token-0123456789"


@dataclass
class Call:
    """One Send API call the emulator answered."""

    json: dict[str, Any]
    at: float
    """`time.monotonic()` when it arrived."""
    ok: bool = False

    @property
    def recipient(self) -> str:
        """The PSID the message was for."""
        recipient = self.json.get("recipient")
        return str(recipient.get("id", "")) if isinstance(recipient, dict) else ""

    @property
    def message(self) -> dict[str, Any]:
        """The `message` object sent."""
        message = self.json.get("message")
        return message if isinstance(message, dict) else {}

    @property
    def text(self) -> str:
        return str(self.message.get("text", ""))

    @property
    def quick_replies(self) -> list[dict[str, Any]]:
        return list(self.message.get("quick_replies") or [])


@dataclass
class Failure:
    """A Graph API error answered instead of sending."""

    status: int
    code: int
    message: str = "An error occurred"
    subcode: int | None = None
    kind: str = "OAuthException"
    retry_after: int | None = None


@dataclass
class StoredMedia:
    """An attachment the emulator serves."""

    content: bytes
    content_type: str


@dataclass
class MessengerEmulator:
    """State of the fake Graph API."""

    token: str = TOKEN
    version: str = VERSION
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    media: dict[str, StoredMedia] = field(default_factory=dict)
    media_gets: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_media(self, content: bytes, content_type: str = "image/jpeg") -> str:
        """Serve `content`; the URL an attachment's `payload.url` gives for it."""
        name = secrets.token_urlsafe(12)
        with self.lock:
            self.media[name] = StoredMedia(content, content_type)
        return f"{self.url}/media/{name}?_nc_cat=1&oh=00_sig"

    def redirect(self, location: str) -> str:
        """A URL on the emulator answering 302 to `location`."""
        return f"{self.url}/redirect?to={location}"

    def fail_next(self, recipient: str | int, *failures: Failure) -> None:
        """Answer the next sends to `recipient` with these failures, in order."""
        with self.lock:
            self.failures.setdefault(str(recipient), []).extend(failures)

    def sent(self, recipient: str | int | None = None) -> list[Call]:
        """The sends that succeeded (to one recipient, or all), in order."""
        with self.lock:
            return [c for c in self.calls if c.ok and (recipient is None or c.recipient == str(recipient))]

    def texts(self, recipient: str | int) -> list[str]:
        """The texts sent to a recipient, in order."""
        return [c.text for c in self.sent(recipient)]

    def app(self) -> web.Application:
        """The aiohttp application speaking the Graph API's wire format."""
        app = web.Application()
        app.router.add_post("/{version}/me/messages", self._messages)
        app.router.add_get("/media/{name}", self._media)
        app.router.add_get("/redirect", self._redirect)
        return app

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        call = Call(body if isinstance(body, dict) else {}, time.monotonic())
        with self.lock:
            self.calls.append(call)
        if request.query.get("access_token") != self.token:
            return _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.match_info["version"] != self.version:
            return _error(400, 2635, f"You are calling a deprecated version of the Graph API: "
                                     f"{request.match_info['version']}")
        if not isinstance(body, dict):
            return _error(400, 100, "(#100) The parameter recipient is required")
        problem = _problem(body)
        if problem:
            return _error(400, 100, f"(#100) {problem}")
        with self.lock:
            queued = self.failures.get(call.recipient)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            return _error(failure.status, failure.code, failure.message, failure.subcode, failure.kind,
                          failure.retry_after)
        call.ok = True
        return web.json_response({"recipient_id": call.recipient, "message_id": "m_" + secrets.token_urlsafe(40)})

    async def _media(self, request: web.Request) -> web.Response:
        with self.lock:
            stored = self.media.get(request.match_info["name"])
            self.media_gets += 1
        if stored is None:
            return web.Response(status=404, text="URL signature expired")
        return web.Response(body=stored.content, content_type=stored.content_type)

    async def _redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query.get("to", "/"))


def _problem(body: dict[str, Any]) -> str:
    """What the Send API would refuse in `body`, or an empty string."""
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not str(recipient.get("id", "")).isdigit():
        return "The parameter recipient is required"
    kind = body.get("messaging_type")
    if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
        return "Invalid messaging_type"
    if (kind == "MESSAGE_TAG") != ("tag" in body) or body.get("tag", "HUMAN_AGENT") != "HUMAN_AGENT":
        return "Invalid tag"
    message = body.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("text"), str) or not message["text"].strip():
        return "The parameter message[text] is required"
    if len(message["text"]) > 2000:
        return "Length of param message[text] must be less than or equal to 2000"
    quick = message.get("quick_replies", [])
    if not isinstance(quick, list) or len(quick) > 13:
        return "param message[quick_replies] has too many elements"
    for reply in quick:
        if not isinstance(reply, dict) or reply.get("content_type") != "text":
            return "Invalid quick reply content_type"
        title, payload = reply.get("title"), reply.get("payload")
        if not isinstance(title, str) or not 0 < len(title) <= 20:
            return "Quick reply title must be 1 to 20 characters"
        if not isinstance(payload, str) or not 0 < len(payload) <= 1000:
            return "Quick reply payload must be 1 to 1000 characters"
    return ""


def _error(status: int, code: int, message: str, subcode: int | None = None, kind: str = "OAuthException",
           retry_after: int | None = None) -> web.Response:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "A" + secrets.token_hex(5)}
    if subcode is not None:
        error["error_subcode"] = subcode
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return web.json_response({"error": error}, status=status, headers=headers)


_MIDS = itertools.count(1)


def now_ms() -> int:
    """Meta's timestamps: milliseconds since the epoch."""
    return int(time.time() * 1000)


def mid() -> str:
    """A fresh message id, as Meta's look."""
    return f"m_{next(_MIDS)}{secrets.token_urlsafe(30)}"


def event(sender: str, kind: str, body: dict[str, Any], page: str = PAGE_ID, timestamp: int | None = None,
          ) -> dict[str, Any]:
    """One `messaging` event: `kind` is `message`, `postback`, `delivery`, `read`, `reaction`..."""
    return {"sender": {"id": sender}, "recipient": {"id": page}, "timestamp": timestamp or now_ms(), kind: body}


def text(sender: str, words: str, message_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A citizen's text (`extra`: `quick_reply`, `reply_to`, `is_echo`...)."""
    return event(sender, "message", {"mid": message_id or mid(), "text": words, **extra})


def quick_reply(sender: str, title: str, payload: str) -> dict[str, Any]:
    """A tap on a quick reply: its title as the text, our payload with it."""
    return text(sender, title, quick_reply={"payload": payload})


def postback(sender: str, payload: str, title: str = "Start", with_mid: bool = True) -> dict[str, Any]:
    """A tap on a postback button (the Get Started button, a template's button)."""
    body: dict[str, Any] = {"title": title, "payload": payload}
    if with_mid:
        body["mid"] = mid()
    return event(sender, "postback", body)


def attachments(sender: str, *items: dict[str, Any], words: str | None = None) -> dict[str, Any]:
    """A message with attachments (`attachment(...)`, `pin(...)`), and text when given."""
    body: dict[str, Any] = {"mid": mid(), "attachments": list(items)}
    if words is not None:
        body["text"] = words
    return event(sender, "message", body)


def attachment(kind: str, url: str, **extra: Any) -> dict[str, Any]:
    """An `image`, `audio`, `video`, `file`... attachment at `url`."""
    return {"type": kind, "payload": {"url": url, **extra}}


def pin(lat: float, lon: float) -> dict[str, Any]:
    """A shared location, as courier's recorded payload has it."""
    return {"type": "location", "payload": {"coordinates": {"lat": lat, "long": lon}}}


def entry(*events: dict[str, Any], page: str = PAGE_ID) -> dict[str, Any]:
    """One `entry` of a delivery, carrying `events`."""
    return {"id": page, "time": now_ms(), "messaging": list(events)}


def webhook(*events: dict[str, Any], entries: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """A delivery: each event in an entry of its own, then `entries` as given."""
    return {"object": "page", "entry": [entry(e) for e in events] + list(entries)}


def signature(secret: str, body: bytes) -> str:
    """`X-Hub-Signature-256` as Meta computes it over the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(delivery: Any) -> bytes:
    """A delivery's body as Meta sends it (non-ASCII escaped)."""
    return json.dumps(delivery).encode()
