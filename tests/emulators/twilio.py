"""A local Twilio REST API: creates messages as api.twilio.com does and records what it was sent,
and serves inbound media files behind basic auth as Twilio's media URLs do.

Responses can be scripted per recipient (an error status with a Twilio error code, or a 429 with
`Retry-After`), so tests can make the provider fail and then recover; a media file can be scripted to
answer some statuses first (404 then 200: media not ready yet). Template sends (`ContentSid`,
`ContentVariables`) are accepted like text ones.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web


@dataclass
class ScriptedFailure:
    """One failure the emulator answers with instead of creating the message."""

    status: int
    code: int | None = None
    message: str = "scripted failure"
    retry_after: str | None = None


@dataclass
class CreatedMessage:
    """A message the emulator accepted."""

    sid: str
    to: str
    sender: str
    body: str
    status_callback: str | None
    form: dict[str, str]
    at: float

    @property
    def content_sid(self) -> str | None:
        """The template sent, if any."""
        return self.form.get("ContentSid")

    @property
    def content_variables(self) -> dict[str, str]:
        """The template's variables, decoded."""
        raw = self.form.get("ContentVariables")
        return json.loads(raw) if raw else {}


@dataclass
class MediaFile:
    """A media file the emulator serves, and the statuses it answers first."""

    content: bytes
    content_type: str
    fail_with: list[int] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)
    """One entry per request: whether it carried the account's basic auth."""


@dataclass
class TwilioEmulator:
    """State of the fake account: credentials, accepted messages, scripted failures."""

    account_sid: str = "AC" + "0" * 30 + "01"
    auth_token: str = "emulator-auth-token"
    url: str = ""
    messages: list[CreatedMessage] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    failures: dict[str, list[ScriptedFailure]] = field(default_factory=dict)
    media: dict[str, MediaFile] = field(default_factory=dict)
    calls: list[dict[str, str]] = field(default_factory=list)
    """Outbound calls placed (the form posted to Calls.json: To, From, Twiml...)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_media(self, content: bytes, content_type: str = "image/jpeg", fail_with: tuple[int, ...] = ()) -> str:
        """Serve `content` at a fresh media URL (answering `fail_with` statuses first); the URL."""
        message, media = "MM" + secrets.token_hex(16), "ME" + secrets.token_hex(16)
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message}/Media/{media}"
        with self.lock:
            self.media[path] = MediaFile(content, content_type, list(fail_with))
        return self.url + path

    def add_recording(self, content: bytes, fail_with: tuple[int, ...] = ()) -> str:
        """Serve a call recording; the `RecordingUrl` Twilio would post (the MP3 is at that URL + `.mp3`)."""
        path = f"/2010-04-01/Accounts/{self.account_sid}/Recordings/RE{secrets.token_hex(16)}"
        with self.lock:
            self.media[path + ".mp3"] = MediaFile(content, "audio/mpeg", list(fail_with))
        return self.url + path

    def media_file(self, url: str) -> MediaFile:
        """The served file behind a media URL."""
        with self.lock:
            return self.media[url[len(self.url):]]

    def fail_next(self, to: str, *failures: ScriptedFailure) -> None:
        """Answer the next sends to `to` with these failures, in order."""
        with self.lock:
            self.failures.setdefault(to, []).extend(failures)

    def sent_to(self, to: str) -> list[CreatedMessage]:
        """Messages accepted for one recipient, in order."""
        with self.lock:
            return [m for m in self.messages if m.to == to]

    def app(self) -> web.Application:
        """The aiohttp application speaking Twilio's wire format."""
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create_message)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", self._create_call)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}", self._media)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Recordings/{recording}", self._media)
        return app

    async def _create_call(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.match_info["sid"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if not form.get("To") or not form.get("From") or not (form.get("Twiml") or form.get("Url")):
            return _error(400, 21205, "Url or Twiml is required, with To and From.")
        sid = "CA" + secrets.token_hex(16)
        with self.lock:
            self.calls.append({**form, "Sid": sid})
        body = {"sid": sid, "account_sid": self.account_sid, "to": form["To"], "from": form["From"],
                "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json"}
        return web.json_response(body, status=201)

    async def _media(self, request: web.Request) -> web.StreamResponse:
        authorized = self._authorized(request)
        with self.lock:
            item = self.media.get(request.path)
            if item is not None:
                item.hits.append(authorized)
                status = item.fail_with.pop(0) if item.fail_with else 200
        if item is None:
            return _error(404, 20404, "The requested resource was not found")
        if not authorized:
            return _error(401, 20003, "Authenticate")
        if status != 200:
            return _error(status, 20404 if status == 404 else None, "scripted media failure")
        return web.Response(body=item.content, headers={"Content-Type": item.content_type})

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.account_sid and password == self.auth_token

    async def _create_message(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.match_info["sid"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        to = form.get("To", "")
        with self.lock:
            self.requests.append(form)
            queued = self.failures.get(to)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            response = _error(failure.status, failure.code, failure.message)
            if failure.retry_after is not None:
                response.headers["Retry-After"] = failure.retry_after
            return response
        if not to or not (form.get("Body") or form.get("ContentSid") or form.get("MediaUrl")):
            return _error(400, 21602, "Message body is required.")
        sid = "SM" + secrets.token_hex(16)
        with self.lock:
            self.messages.append(
                CreatedMessage(sid, to, form.get("From", ""), form.get("Body", ""),
                               form.get("StatusCallback"), form, time.monotonic())
            )
        now = format_datetime(datetime.now(UTC), usegmt=True)
        body = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        return web.json_response(body, status=201)


def _error(status: int, code: int | None, message: str) -> web.Response:
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
    return web.json_response(body, status=status)
