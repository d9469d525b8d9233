"""Console sign-in: server-side sessions in Redis behind an HttpOnly, SameSite=Strict cookie, and a
CSRF token per session that every form posts back (the sign-in form uses a double-submit cookie).

Passwords are argon2 hashes in the store; an account locks after repeated failures
(`core.casework.login`). Nothing about a session lives in the gateway process.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis
from aiohttp import web

from core.records import Staff

SESSION_COOKIE = "hotline_session"
LOGIN_COOKIE = "hotline_login_csrf"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in staff member's session."""

    token: str
    staff_id: int
    csrf: str


def _key(prefix: str, token: str) -> str:
    return f"{prefix}:console:session:{token}"


def secure_request(request: web.Request) -> bool:
    """True when the browser reached us over HTTPS (directly or through a proxy that says so)."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int) -> None:
    """An HttpOnly, SameSite=Strict cookie for the console (Secure over HTTPS)."""
    response.set_cookie(name, value, max_age=max_age, path="/console", httponly=True, samesite="Strict",
                        secure=secure_request(request))


async def open_session(client: aioredis.Redis, prefix: str, staff: Staff) -> ConsoleSession:
    """A new session for `staff`."""
    session = ConsoleSession(secrets.token_urlsafe(32), staff.id, secrets.token_urlsafe(32))
    await client.set(_key(prefix, session.token), json.dumps({"staff_id": staff.id, "csrf": session.csrf}),
                     ex=SESSION_SECONDS)
    return session


async def load_session(client: aioredis.Redis, prefix: str, request: web.Request) -> ConsoleSession | None:
    """The session the request's cookie names (its lifetime renewed), or None."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or len(token) > 100:
        return None
    raw = await client.get(_key(prefix, token))
    if raw is None:
        return None
    data = json.loads(raw)
    await client.expire(_key(prefix, token), SESSION_SECONDS)
    return ConsoleSession(token, int(data["staff_id"]), str(data["csrf"]))


async def close_session(client: aioredis.Redis, prefix: str, token: str) -> None:
    """Forget the session (sign-out)."""
    await client.delete(_key(prefix, token))


def same_token(expected: str, given: str | None) -> bool:
    """A constant-time comparison of CSRF tokens (an empty token never matches)."""
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
