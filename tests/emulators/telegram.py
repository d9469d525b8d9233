"""A local Telegram Bot API: `/bot{token}/{method}` and `/file/bot{token}/{path}` as api.telegram.org
serves them, recording every call with the time it came.

Answers `getMe`, `sendMessage`, `answerCallbackQuery`, `getFile`, `setWebhook`, `deleteWebhook` and
`getWebhookInfo`; serves files added with `add_file`. Failures can be scripted per chat (a 429 with
`retry_after`, a 403 "bot was blocked by the user"); a wrong token gets 401 as the real API gives.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000000001
TOKEN = f"{BOT_ID}:AAE-emulator-token_0123456789abcdefghij"


@dataclass
class Call:
    """One Bot API call the emulator answered."""

    method: str
    params: dict[str, Any]
    at: float
    """`time.monotonic()` when it arrived."""

    @property
    def chat_id(self) -> str:
        """The chat the call was for, as text."""
        return str(self.params.get("chat_id", ""))

    @property
    def keyboard(self) -> dict[str, Any] | None:
        """The `reply_markup` sent, decoded."""
        markup = self.params.get("reply_markup")
        return json.loads(markup) if isinstance(markup, str) else markup


@dataclass
class Failure:
    """An error answered instead of doing the call."""

    status: int
    description: str
    retry_after: int | None = None


@dataclass
class StoredFile:
    """A file the emulator serves through `getFile`."""

    content: bytes
    path: str
    declared_size: int | None = None


@dataclass
class TelegramEmulator:
    """State of the fake Bot API."""

    token: str = TOKEN
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_message: int = 1000

    def add_file(self, content: bytes, suffix: str = "jpg", declared_size: int | None = None) -> str:
        """Serve `content` as a Telegram file; its `file_id`."""
        file_id = "AgAC" + secrets.token_urlsafe(24)
        with self.lock:
            self.files[file_id] = StoredFile(content, f"photos/file_{len(self.files)}.{suffix}", declared_size)
        return file_id

    def fail_next(self, chat_id: str | int, *failures: Failure) -> None:
        """Answer the next sends to `chat_id` with these failures, in order."""
        with self.lock:
            self.failures.setdefault(str(chat_id), []).extend(failures)

    def sent(self, chat_id: str | int | None = None, method: str = "sendMessage") -> list[Call]:
        """Calls of `method` that succeeded (for one chat, or all), in order."""
        with self.lock:
            return [c for c in self.calls if c.method == method and c.params.get("_ok")
                    and (chat_id is None or c.chat_id == str(chat_id))]

    def texts(self, chat_id: str | int) -> list[str]:
        """The texts sent to a chat, in order."""
        return [str(c.params.get("text", "")) for c in self.sent(chat_id)]

    def app(self) -> web.Application:
        """The aiohttp application speaking the Bot API's wire format."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        return app

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        if request.method == "POST":
            return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        return dict(request.query)

    async def _method(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        method = request.match_info["method"]
        call = Call(method, params, time.monotonic())
        with self.lock:
            self.calls.append(call)
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        if method == "sendMessage":
            with self.lock:
                queued = self.failures.get(str(params.get("chat_id", "")))
                failure = queued.pop(0) if queued else None
            if failure is not None:
                return _error(failure.status, failure.description, failure.retry_after)
        result = handler(params)
        if isinstance(result, web.Response):
            return result
        call.params["_ok"] = True
        return web.json_response({"ok": True, "result": result})

    def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Hotline", "username": "hotline_emulator_bot",
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        text = str(params.get("text", ""))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        try:
            chat_id = int(params.get("chat_id", ""))
        except ValueError:
            return _error(400, "Bad Request: chat not found")
        with self.lock:
            self._next_message += 1
            message_id = self._next_message
        return {"message_id": message_id, "date": int(time.time()), "text": text,
                "chat": {"id": chat_id, "type": "private", "first_name": "Citizen"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Hotline"}}

    def _answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    def _getFile(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        with self.lock:
            stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            return _error(400, "Bad Request: invalid file_id")
        size = stored.declared_size if stored.declared_size is not None else len(stored.content)
        return {"file_id": params["file_id"], "file_unique_id": "u" + str(params["file_id"])[-8:],
                "file_size": size, "file_path": stored.path}

    def _setWebhook(self, params: dict[str, Any]) -> bool:
        with self.lock:
            self.webhook = dict(params)
        return True

    def _deleteWebhook(self, params: dict[str, Any]) -> bool:
        with self.lock:
            self.webhook = {}
        return True

    def _getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        with self.lock:
            stored = next((f for f in self.files.values() if f.path == request.match_info["path"]), None)
        if stored is None:
            return web.Response(status=404)
        return web.Response(body=stored.content, content_type="application/octet-stream")


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
        body["description"] = f"Too Many Requests: retry after {retry_after}"
    return web.json_response(body, status=status)
