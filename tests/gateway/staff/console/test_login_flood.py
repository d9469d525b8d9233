"""Console sign-in under attack, against a running gateway: an unknown username answers as a wrong
password does, an address past its limit is refused before any hashing (429, Retry-After), a stranger
locks only their own (username, address) pair, a trusted proxy's `X-Forwarded-For` names the client
(and nobody else's does), an outdated hash is renewed at sign-in, argon2 leaves the event loop free,
and citizens' SMS are answered while six clients flood the sign-in form (their latency then is
measured by `bench/login_flood.py`). Whether an attempt was hashed is read from the process's
`hotline_console_password_checks_total`, not guessed from timings.

Attempts come from real sockets bound to other loopback addresses (127.0.0.x), or through the one
trusted proxy of the test gateway (127.0.0.1) with `X-Forwarded-For`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import re
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from argon2 import PasswordHasher
from requests.adapters import HTTPAdapter

from core.db import staff
from core.store.accounts import check_password, dummy_hash
from gateway.http import metrics
from gateway.staff.console import auth
from gateway.staff.console.i18n import translate
from tests.emulators.twilio import TwilioEmulator
from tests.fixtures.database import DatabaseFactory
from tests.fixtures.gateway import Gateway, gateway_settings, start_gateway

PASSWORD = "correct horse battery staple"
ATTEMPTS = 6
"""The test gateway's attempts per address per window."""
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FLOOD_CLIENTS = 6


class _FromAddress(HTTPAdapter):
    """Connections from a chosen local address (any 127.0.0.x reaches the gateway on 127.0.0.1)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        """Bind every connection to the chosen address."""
        super().init_poolmanager(connections, maxsize, block, source_address=(self.address, 0), **pool_kwargs)


def browser(address: str = "127.0.0.1") -> requests.Session:
    """A cookie-keeping HTTP session whose connections come from `address`."""
    http = requests.Session()
    http.mount("http://", _FromAddress(address))
    return http


_addresses = iter(range(10, 250))


def fresh_address() -> str:
    """A loopback address no other test of the session signs in from."""
    return f"127.0.0.{next(_addresses)}"


def attempt(gateway: Gateway, http: requests.Session, username: str, password: str,
            **headers: str) -> requests.Response:
    """Open the sign-in form and post it."""
    form = http.get(gateway.url + "/console/login", timeout=10)
    token = CSRF.search(form.text)
    assert token is not None
    return http.post(gateway.url + "/console/login", data={"csrf": token.group(1), "username": username,
                                                           "password": password},
                     headers=headers, allow_redirects=False, timeout=30)


def password_checks() -> float:
    """How many console password checks (argon2) this process has run, whatever their outcome."""
    return sum(metrics.PASSWORD_CHECKS.labels(outcome)._value.get() for outcome in ("matched", "wrong"))


def problem_of(response: requests.Response) -> str:
    """The page without what differs on every answer (the form's CSRF token)."""
    return CSRF.sub("", response.text)


def audited(gateway: Gateway, action: str, address: str) -> list[dict[str, Any]]:
    """The audit details of `action` for attempts from `address`."""
    entries = gateway.runtime.store.audit_entries(None, 500)
    details = [json.loads(e["detail"]) for e in entries if e["action"] == action]
    return [d for d in details if d.get("address") == address]


@pytest.fixture(scope="module")
def guarded(database_factory: DatabaseFactory, redis_url: str, twilio: TwilioEmulator) -> Iterator[Gateway]:
    """A gateway allowing `ATTEMPTS` attempts per address, behind one trusted proxy (127.0.0.1)."""
    settings = gateway_settings(database_factory.new(), redis_url, twilio)
    settings = dataclasses.replace(settings, env={**settings.env, "HOTLINE_LOGIN_ATTEMPTS": str(ATTEMPTS),
                                                  "HOTLINE_TRUSTED_PROXIES": "127.0.0.1"})
    running = start_gateway(settings, twilio)
    yield running
    assert running.server is not None
    running.server.stop()
    running.runtime.close()
    running.connection.close()


def add_member(gateway: Gateway, role: str = "admin") -> str:
    """A staff member with `PASSWORD`; their username."""
    name = f"{role}-{secrets.token_hex(3)}"
    gateway.runtime.store.add_staff(name, role, password=PASSWORD)
    return name


def test_an_unknown_username_answers_as_a_wrong_password(guarded: Gateway) -> None:
    member = add_member(guarded)
    known, unknown = browser(fresh_address()), browser(fresh_address())
    known_answers = [attempt(guarded, known, member, "wrong") for _ in range(ATTEMPTS)]
    nobody = "nobody-" + secrets.token_hex(3)
    unknown_answers = [attempt(guarded, unknown, nobody, "wrong") for _ in range(ATTEMPTS)]
    assert [a.status_code for a in known_answers] == [401, 401, 401, 401, 429, 429]
    assert [a.status_code for a in unknown_answers] == [401, 401, 401, 401, 429, 429], "locked alike: no oracle"
    assert [problem_of(a) for a in known_answers] == [problem_of(a) for a in unknown_answers]
    assert [a.headers.get("Retry-After") for a in known_answers][:4] == [None] * 4
    assert translate("ar", "bad_credentials") in known_answers[0].text, "in the deployment's language"
    assert translate("ar", "too_many_attempts") in known_answers[-1].text


def test_an_unknown_username_costs_what_a_known_one_costs(guarded: Gateway) -> None:
    member = add_member(guarded)
    record = guarded.runtime.store.sign_in_record(member)
    assert record.staff is not None and record.password_hash is not None
    assert guarded.runtime.store.sign_in_record("nobody-" + secrets.token_hex(3)).staff is None
    assert dummy_hash().split("$")[:4] == record.password_hash.split("$")[:4], "the same argon2 parameters"
    costs: dict[str | None, list[float]] = {record.password_hash: [], None: []}
    for _ in range(3):
        for hashed, spent in costs.items():
            started = time.thread_time()
            assert check_password(hashed, "wrong") == (False, None)
            spent.append(time.thread_time() - started)
    known, unknown = min(costs[record.password_hash]), min(costs[None])
    print(f"argon2 CPU per check: known {known * 1000:.0f} ms, unknown {unknown * 1000:.0f} ms")
    assert 0.5 < unknown / known < 2
    assert check_password(record.password_hash, PASSWORD) == (True, None)
    assert check_password(None, "") == (False, None)


def test_an_outdated_hash_is_renewed_at_sign_in(guarded: Gateway) -> None:
    member = add_member(guarded, "agent")
    store = guarded.runtime.store
    outdated = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with store.write() as conn:
        conn.execute(sa.update(staff).where(staff.c.username == member).values(password_hash=outdated))
    assert attempt(guarded, browser(fresh_address()), member, PASSWORD).status_code == 303
    renewed = store.sign_in_record(member).password_hash
    assert renewed is not None and renewed != outdated
    assert renewed.split("$")[:4] == dummy_hash().split("$")[:4], "today's parameters"
    assert attempt(guarded, browser(fresh_address()), member, PASSWORD).status_code == 303


def test_an_address_past_its_limit_is_refused_before_any_hashing(guarded: Gateway) -> None:
    address = fresh_address()
    http = browser(address)
    member = add_member(guarded)
    checks_before = password_checks()
    for _ in range(ATTEMPTS):
        assert attempt(guarded, http, "nobody-" + secrets.token_hex(3), "wrong").status_code == 401
    assert password_checks() == checks_before + ATTEMPTS, "each attempt within the limit is checked"
    checks_before = password_checks()
    for password in ("wrong", "wrong", PASSWORD):
        answer = attempt(guarded, http, member, password, **{"Accept-Language": "fr"})
        assert answer.status_code == 429, "even the right password: the address waits"
        assert 0 < int(answer.headers["Retry-After"]) <= 600
        assert translate("fr", "too_many_attempts") in answer.text
    assert password_checks() == checks_before, "no argon2 for a throttled attempt"
    assert len(audited(guarded, "console.login_failed", address)) == ATTEMPTS, "throttled attempts are not checked"
    assert audited(guarded, "console.login_throttled", address) == [{"address": address}], "audited once per window"
    assert attempt(guarded, browser(fresh_address()), member, PASSWORD).status_code == 303


def test_a_strangers_flood_does_not_lock_the_admin_out(guarded: Gateway) -> None:
    admin = add_member(guarded)
    stranger = browser(fresh_address())
    answers = [attempt(guarded, stranger, admin, "guess-" + secrets.token_hex(3)).status_code for _ in range(ATTEMPTS)]
    assert answers == [401, 401, 401, 401, 429, 429]
    assert attempt(guarded, stranger, admin, PASSWORD).status_code == 429, "the stranger's pair is locked"
    office = browser(fresh_address())
    assert attempt(guarded, office, admin, "typo").status_code == 401
    signed_in = attempt(guarded, office, admin, PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/console/"
    assert office.get(guarded.url + "/console/cases", allow_redirects=False, timeout=10).status_code == 200


def test_a_trusted_proxy_names_the_client_and_nobody_else_does(guarded: Gateway) -> None:
    member = add_member(guarded)
    proxy = browser("127.0.0.1")
    for _ in range(ATTEMPTS):
        answer = attempt(guarded, proxy, "nobody-" + secrets.token_hex(3), "x", **{"X-Forwarded-For": "203.0.113.7"})
        assert answer.status_code == 401
    spoofed = attempt(guarded, proxy, member, PASSWORD, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    assert spoofed.status_code == 429, "the proxy's own entry counts, not what the client put before it"
    assert attempt(guarded, proxy, member, PASSWORD, **{"X-Forwarded-For": "203.0.113.8"}).status_code == 303
    direct = browser(fresh_address())
    statuses = [attempt(guarded, direct, "nobody-" + secrets.token_hex(3), "x",
                        **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code for n in range(ATTEMPTS + 1)]
    assert statuses == [401] * ATTEMPTS + [429], "an untrusted peer is counted by its socket, whatever it forwards"


async def test_password_checks_leave_the_event_loop_free() -> None:
    hashed = await asyncio.to_thread(dummy_hash)
    loop = asyncio.get_running_loop()
    gaps: list[float] = []
    stop = asyncio.Event()

    async def tick() -> None:
        last = loop.time()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            gaps.append(loop.time() - last)
            last = loop.time()

    ticker = asyncio.create_task(tick())
    started = loop.time()
    results = await asyncio.gather(*(auth.PASSWORDS.check(hashed, "wrong") for _ in range(auth.CHECKS_AT_ONCE + 1)))
    spent = loop.time() - started
    stop.set()
    await ticker
    print(f"{auth.CHECKS_AT_ONCE} checks in {spent * 1000:.0f} ms; the loop's longest pause {max(gaps) * 1000:.1f} ms")
    assert results.count(None) == 1, "one check too many is refused at once"
    assert results.count((False, None)) == auth.CHECKS_AT_ONCE
    assert max(gaps) < 0.1
    checkers = [t for t in threading.enumerate() if t.name.startswith("argon2")]
    assert 0 < len(checkers) <= auth.CHECK_THREADS
    if sys.platform == "linux":
        below_the_loop = min(19, os.getpriority(os.PRIO_PROCESS, 0) + auth.CHECK_NICENESS)
        assert {os.getpriority(os.PRIO_PROCESS, t.native_id or 0) for t in checkers} == {below_the_loop}


def flood(gateway: Gateway, username: str, stop: threading.Event, answers: list[int]) -> None:
    """Post wrong passwords for `username` until `stop`, each from a new address behind the proxy
    (a distributed flood: no address is ever throttled, every attempt costs an argon2 check)."""
    http = browser("127.0.0.1")
    token = CSRF.search(http.get(gateway.url + "/console/login", timeout=10).text)
    while not stop.is_set() and token is not None:
        forwarded = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        answer = http.post(gateway.url + "/console/login",
                           data={"csrf": token.group(1), "username": username, "password": secrets.token_hex(8)},
                           headers={"X-Forwarded-For": forwarded}, allow_redirects=False, timeout=30)
        answers.append(answer.status_code)
        token = CSRF.search(answer.text)


def test_citizens_are_answered_during_a_login_flood(guarded: Gateway) -> None:
    """Every SMS webhook gets its dialogue's answer while six clients flood the sign-in form, which
    is checked (not refused wholesale) and lets the admin in afterwards. How fast the webhooks stay
    under the flood is a figure of `bench/login_flood.py`, not a test."""
    admin = add_member(guarded)
    greeting = guarded.citizen().say("Bonjour")
    assert greeting, "the dialogue answers a first message"
    stop, answers = threading.Event(), []
    clients = [threading.Thread(target=flood, args=(guarded, admin, stop, answers), daemon=True)
               for _ in range(FLOOD_CLIENTS)]
    checks_before = password_checks()
    for client in clients:
        client.start()
    replies: list[list[str]] = []
    try:
        deadline = time.monotonic() + 60
        while (len(replies) < 20 or password_checks() - checks_before < 3 * FLOOD_CLIENTS) \
                and time.monotonic() < deadline:
            replies.append(guarded.citizen().say("Bonjour"))
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
    assert password_checks() - checks_before >= 3 * FLOOD_CLIENTS, "the flood was being checked meanwhile"
    assert replies == [greeting] * len(replies), "every citizen got the whole greeting"
    assert set(answers) <= {401, 429}
    assert answers.count(401) > 0.9 * len(answers), "nearly every attempt was checked, not refused"
    assert attempt(guarded, browser(fresh_address()), admin, PASSWORD).status_code == 303, "the admin still gets in"
