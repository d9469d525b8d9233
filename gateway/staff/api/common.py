"""What every JSON API handler shares: bearer-token auth, error bodies, JSON bodies, role checks."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from aiohttp import web

from channels.base import clean_text, load_json
from core.records import Staff
from gateway.keys import RUNTIME
from gateway.staff.desk import Refused

StaffHandler = Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]

MAX_ID = 2**31 - 1
"""The store's ids are SQL `INTEGER`s (32 bits on PostgreSQL): a larger one names nothing."""
MAX_OFFSET = 10**9
_NUMBER = re.compile(r"-?[0-9]{1,12}")


def error(status: int, code: str, message: str) -> web.Response:
    """The API's error body: `{"error": code, "message": text}`."""
    return web.json_response({"error": code, "message": message}, status=status)


async def authenticate(request: web.Request) -> Staff | web.Response:
    """The staff member behind the bearer token, or the 401 answer."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error(401, "unauthorized", "send 'Authorization: Bearer <token>' (hotline staff token)")
    token = token.strip()
    if not (token.isascii() and token.isprintable()) or len(token) > 256:
        return error(401, "unauthorized", "unknown or revoked token")
    runtime = request.app[RUNTIME]
    staff = await runtime.db(runtime.store.staff_for_token, token)
    if staff is None:
        return error(401, "unauthorized", "unknown or revoked token")
    return staff


def with_staff(
    allowed: Callable[[Staff], bool] | None = None, refusal: str = "your role cannot do this"
) -> Callable[[StaffHandler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Authenticate, check the role (403 when `allowed` says no), and turn `Refused` into its answer."""

    def decorate(handler: StaffHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            staff = await authenticate(request)
            if isinstance(staff, web.Response):
                return staff
            if allowed is not None and not allowed(staff):
                return error(403, "forbidden", refusal)
            try:
                return await handler(request, staff)
            except Refused as refused:
                return error(refused.status, refused.code, refused.message)

        return wrapped

    return decorate


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is `{}`), or `Refused(400)` for anything `load_json`
    refuses (not UTF-8, not finite, nested too deeply)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        payload = load_json(raw)
    except ValueError as exc:
        raise Refused(400, "bad_request", "the body must be JSON (UTF-8, at most 32 levels deep)") from exc
    if not isinstance(payload, dict):
        raise Refused(400, "bad_request", "the body must be a JSON object")
    return payload


def text_field(payload: dict[str, Any], name: str, *, required: bool = True, limit: int = 4000) -> str:
    """A string field of a JSON body, cleaned (`clean_text`: no control characters or lone surrogates)
    and stripped, or `Refused(400)`."""
    value = payload.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Refused(400, "bad_request", f"{name} must be a string")
    value = clean_text(value).strip()
    if required and not value:
        raise Refused(400, f"{name}_required", f"{name} is required")
    if len(value) > limit:
        raise Refused(400, "too_long", f"{name} is at most {limit} characters")
    return value


def int_param(request: web.Request, name: str) -> int:
    """An id path parameter (ASCII digits, at most `MAX_ID`), or `Refused(404)`."""
    raw = request.match_info.get(name, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) <= MAX_ID):
        raise Refused(404, "not_found", f"{name} must be a number")
    return int(raw)


def bounded_int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    """A number from the query string (ASCII digits) between `low` and `high`, `default` when not
    given, or `Refused(400)`."""
    text = (raw or "").strip()
    if not text:
        return default
    if not _NUMBER.fullmatch(text) or not low <= int(text) <= high:
        raise Refused(400, "bad_request", f"{name} is a number from {low} to {high}")
    return int(text)
