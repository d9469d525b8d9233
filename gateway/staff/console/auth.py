"""Console sign-in: server-side sessions in Redis behind an HttpOnly, SameSite=Strict cookie, and a
CSRF token per session that every form posts back (the sign-in form uses a double-submit cookie).

A sign-in attempt (`sign_in`) never holds the event loop or a transaction while argon2 runs (tens of
milliseconds of CPU): the staff row is read in one short read, the password is checked on a small pool
of low-priority threads (`PasswordChecks`), and the outcome is written afterwards. Attempts are counted
in Redis (`LoginThrottle`): per client address in a fixed window (past it an attempt is refused before
any hashing), and per (username, address) pair (a few wrong passwords in a row lock that pair only, so a
stranger cannot lock a member out from elsewhere). An unknown username costs what a known one costs
and gets the same answers. Nothing about a session lives in the gateway process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import math
import os
import secrets
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio as aioredis
from aiohttp import web

from core.records import Staff
from core.store.accounts import check_password, dummy_hash
from gateway.http import metrics
from gateway.runtime import Runtime

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
    if not token or len(token) > 100 or not token.isascii():
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


BAD_CREDENTIALS = "bad_credentials"
TOO_MANY_ATTEMPTS = "too_many_attempts"
BUSY = "login_busy"
"""The refusals of a sign-in, keys of the console's catalogs."""

CHECK_THREADS = 2
"""Threads that run argon2 (each check also starts argon2's own threads, one per lane)."""
CHECKS_AT_ONCE = 8
"""Checks running or waiting for a thread in the process; more are refused at once (`BUSY`)."""
CHECK_NICENESS = 10
"""How far below the event loop the checking threads run (Linux): webhooks first, sign-ins after."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class LoginPolicy:
    """How many sign-in attempts get through, and whose `X-Forwarded-For` is believed."""

    address_attempts: int = 20
    """Attempts one client address may make per window, its successful sign-ins not counted."""
    address_window: timedelta = timedelta(minutes=10)
    pair_failures: int = 5
    """Wrong passwords in a row for one username from one address before that pair is locked."""
    pair_lock: timedelta = timedelta(minutes=15)
    """How long a locked pair stays locked (counted from its last failure)."""
    trusted_proxies: tuple[Network, ...] = ()
    """Proxies whose `X-Forwarded-For` names the client; without any, the socket's peer is the client."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LoginPolicy:
        """`HOTLINE_LOGIN_ATTEMPTS` (per address per window), `HOTLINE_LOGIN_WINDOW_MINUTES` and
        `HOTLINE_TRUSTED_PROXIES` (addresses or networks, comma-separated), all optional."""
        base = cls()
        window = env.get("HOTLINE_LOGIN_WINDOW_MINUTES")
        proxies = [part.strip() for part in (env.get("HOTLINE_TRUSTED_PROXIES") or "").split(",") if part.strip()]
        return cls(
            address_attempts=int(env.get("HOTLINE_LOGIN_ATTEMPTS") or base.address_attempts),
            address_window=timedelta(minutes=float(window)) if window else base.address_window,
            trusted_proxies=tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies),
        )

    def trusts(self, address: str) -> bool:
        """Whether `address` is one of the trusted proxies."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)


def client_address(request: web.Request, policy: LoginPolicy) -> str:
    """The address the attempt comes from: the socket's peer, or behind a trusted proxy the nearest
    address in `X-Forwarded-For` that is not a trusted proxy (the ones before it are the client's say)."""
    remote = request.remote or "unknown"
    if not policy.trusts(remote):
        return remote
    hops = [hop.strip()[:64] for header in request.headers.getall("X-Forwarded-For", ())
            for hop in header.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not policy.trusts(hop):
            return hop
    return hops[0] if hops else remote


_ADMIT = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
return {n, redis.call('pttl', KEYS[1]), tonumber(redis.call('get', KEYS[2]) or '0'), redis.call('pttl', KEYS[2])}
"""
_FAILED = """
local n = redis.call('incr', KEYS[1])
redis.call('pexpire', KEYS[1], ARGV[1])
return n
"""
_SUCCEEDED = """
redis.call('del', KEYS[2])
if redis.call('exists', KEYS[1]) == 1 then redis.call('decr', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Admission:
    """An attempt's counters: the address's attempts in its window and the pair's failures in a row,
    each with the milliseconds until it resets."""

    address_attempts: int
    address_reset_ms: int
    pair_failures: int
    pair_reset_ms: int


class LoginThrottle:
    """Sign-in attempts counted in Redis, per client address and per (username, address) pair."""

    def __init__(self, client: aioredis.Redis, prefix: str, policy: LoginPolicy) -> None:
        self.prefix = prefix
        self.policy = policy
        self._admit = client.register_script(_ADMIT)
        self._failed = client.register_script(_FAILED)
        self._succeeded = client.register_script(_SUCCEEDED)

    def _keys(self, username: str, address: str) -> list[str]:
        pair = hashlib.sha256(f"{username}\n{address}".encode()).hexdigest()[:32]
        return [f"{self.prefix}:console:login:address:{address}", f"{self.prefix}:console:login:pair:{pair}"]

    async def admit(self, username: str, address: str) -> Admission:
        """Count the attempt against its address; the counters as they now stand."""
        window_ms = int(self.policy.address_window.total_seconds() * 1000)
        attempts, address_ttl, failures, pair_ttl = await self._admit(keys=self._keys(username, address),
                                                                      args=[window_ms])
        return Admission(int(attempts), int(address_ttl), int(failures), int(pair_ttl))

    async def failed(self, username: str, address: str) -> int:
        """Count a wrong password for the pair (its lock runs from now); its failures in a row."""
        lock_ms = int(self.policy.pair_lock.total_seconds() * 1000)
        return int(await self._failed(keys=self._keys(username, address)[1:], args=[lock_ms]))

    async def succeeded(self, username: str, address: str) -> None:
        """A signed-in pair starts afresh, and the attempt is given back to its address."""
        await self._succeeded(keys=self._keys(username, address))


def _run_below_the_loop() -> None:
    """Lower the calling thread's CPU priority (the threads argon2 starts inherit it), then make the
    dummy hash, so that the first unknown username costs no more than any other."""
    if sys.platform == "linux":
        thread = threading.get_native_id()
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + CHECK_NICENESS))
    dummy_hash()


class PasswordChecks:
    """`check_password` on threads of its own (never the event loop), at most `at_once` in the process."""

    def __init__(self, threads: int, at_once: int) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="argon2", initializer=_run_below_the_loop)
        self._slots = threading.BoundedSemaphore(at_once)

    async def check(self, password_hash: str | None, password: str) -> tuple[bool, str | None] | None:
        """What `check_password` answers, or None at once when too many checks are under way."""
        if not self._slots.acquire(blocking=False):
            metrics.PASSWORD_CHECKS.labels("busy").inc()
            return None
        future = self._executor.submit(check_password, password_hash, password)
        future.add_done_callback(lambda _: self._slots.release())
        matched, fresh_hash = await asyncio.wrap_future(future)
        metrics.PASSWORD_CHECKS.labels("matched" if matched else "wrong").inc()
        return matched, fresh_hash


PASSWORDS = PasswordChecks(CHECK_THREADS, CHECKS_AT_ONCE)
"""The process's password checks (loop-independent: every app and event loop in the process shares them)."""


@dataclass(frozen=True)
class SignIn:
    """An attempt's outcome: the staff member, or the refusal (a catalog key) and seconds to wait."""

    staff: Staff | None
    refusal: str | None = None
    retry_after: int | None = None


def _seconds(milliseconds: int) -> int:
    return max(1, math.ceil(milliseconds / 1000))


async def sign_in(client: aioredis.Redis, runtime: Runtime, policy: LoginPolicy, username: str, password: str,
                  address: str) -> SignIn:
    """Check a console password from `address`, throttled and counted; failures audited."""
    throttle = LoginThrottle(client, runtime.settings.queue_prefix, policy)
    store = runtime.store
    admission = await throttle.admit(username, address)
    if admission.address_attempts > policy.address_attempts:
        if admission.address_attempts == policy.address_attempts + 1:
            await runtime.db(store.audit, None, "console.login_throttled", None, {"address": address})
        return SignIn(None, TOO_MANY_ATTEMPTS, _seconds(admission.address_reset_ms))
    if admission.pair_failures >= policy.pair_failures:
        await runtime.db(store.audit, None, "console.login_failed", None,
                         {"username": username, "address": address, "refusal": TOO_MANY_ATTEMPTS})
        return SignIn(None, TOO_MANY_ATTEMPTS, _seconds(admission.pair_reset_ms))
    record = await runtime.db(store.sign_in_record, username)
    checked = await PASSWORDS.check(record.password_hash, password)
    if checked is None:
        return SignIn(None, BUSY, 1)
    matched, fresh_hash = checked
    if not matched or record.staff is None or record.password_hash is None:
        failures = await throttle.failed(username, address)
        refusal = TOO_MANY_ATTEMPTS if failures >= policy.pair_failures else BAD_CREDENTIALS
        await runtime.db(store.audit, None, "console.login_failed", None,
                         {"username": username, "address": address, "refusal": refusal})
        return SignIn(None, refusal, int(policy.pair_lock.total_seconds()) if refusal == TOO_MANY_ATTEMPTS else None)
    await throttle.succeeded(username, address)
    if fresh_hash is not None:
        await runtime.db(store.replace_password_hash, record.staff.id, record.password_hash, fresh_hash)
    return SignIn(record.staff)
