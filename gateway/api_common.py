"""What every JSON API handler shares: bearer-token auth, error bodies, JSON bodies, role checks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from aiohttp import web

from core.records import Staff
from gateway.agentwork import Refused
from gateway.keys import RUNTIME

StaffHandler = Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]


def error(status: int, code: str, message: str) -> web.Response:
    """The API's error body: `{"error": code, "message": text}`."""
    return web.json_response({"error": code, "message": message}, status=status)


async def authenticate(request: web.Request) -> Staff | web.Response:
    """The staff member behind the bearer token, or the 401 answer."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error(401, "unauthorized", "send 'Authorization: Bearer <token>' (hotline staff token)")
    runtime = request.app[RUNTIME]
    staff = await runtime.db(runtime.store.staff_for_token, token.strip())
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
    """The request's JSON object (an empty body is `{}`), or `Refused(400)`."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        payload = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Refused(400, "bad_request", "the body must be JSON") from exc
    if not isinstance(payload, dict):
        raise Refused(400, "bad_request", "the body must be a JSON object")
    return payload


def text_field(payload: dict[str, Any], name: str, *, required: bool = True, limit: int = 4000) -> str:
    """A string field of a JSON body, stripped, or `Refused(400)`."""
    value = payload.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Refused(400, "bad_request", f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise Refused(400, f"{name}_required", f"{name} is required")
    if len(value) > limit:
        raise Refused(400, "too_long", f"{name} is at most {limit} characters")
    return value


def int_param(request: web.Request, name: str) -> int:
    """An integer path parameter, or `Refused(404)`."""
    try:
        return int(request.match_info[name])
    except (KeyError, ValueError) as exc:
        raise Refused(404, "not_found", f"{name} must be a number") from exc
