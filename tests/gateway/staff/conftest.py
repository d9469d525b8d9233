"""A gateway for console tests: its own database (per backend), a fast clock for reminders and
stalls, staff of every role with API tokens, and helpers to call the API and read the queue."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import redis
import requests

from core.store.agent_queue import ConsolePolicy
from gateway.http.app import create_app
from gateway.keys import DESK
from gateway.runtime import build_runtime
from tests.emulators.server import ThreadedServer
from tests.emulators.twilio import TwilioEmulator
from tests.fixtures.database import DatabaseFactory
from tests.fixtures.gateway import FAST_RETRIES, FAST_SWEEP, Citizen, Gateway, gateway_settings

FAST_CONSOLE = ConsolePolicy(
    capacity=2,
    remind_after=timedelta(seconds=1.5),
    stall_after=timedelta(seconds=1.5),
    waiting_close_after=timedelta(hours=8),
    abandoned_close_after=timedelta(hours=2),
    sweep_interval=timedelta(seconds=0.3),
)
PASSWORD = "correct horse battery staple"
LIGHTING = "commune-temara-lighting"
ROADS = "commune-temara-roads"


@dataclass
class Member:
    """A staff member of the test deployment, with an API token."""

    username: str
    role: str
    administration: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The bearer header."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Console:
    """The console gateway and its staff."""

    gateway: Gateway
    staff: dict[str, Member]

    def api(self, method: str, path: str, who: str | None, body: Any = None) -> requests.Response:
        """Call the JSON API as `who` (None: without a token)."""
        headers = self.staff[who].headers if who else {}
        return requests.request(method, self.gateway.url + path, json=body, headers=headers, timeout=15)

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the gateway's own event loop (where its desk lives)."""
        assert self.gateway.server is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.gateway.server.loop).result(timeout=30)

    @property
    def desk(self) -> Any:
        """The gateway's agent desk."""
        assert self.gateway.server is not None
        return self.gateway.server.app[DESK]

    def conversation_of(self, citizen: Citizen) -> int:
        """The id of the citizen's open conversation."""
        store = self.gateway.runtime.store
        contact_id = store.contact_id_for("sms", citizen.phone)
        assert contact_id is not None
        found = store.open_conversation("sms", contact_id)
        assert found is not None, "no open conversation"
        return found[0]

    def add_staff(self, role: str, administration: str | None = None) -> Member:
        """Another staff member with a password and a token."""
        store = self.gateway.runtime.store
        name = f"{role}-{secrets.token_hex(3)}"
        store.add_staff(name, role, administration, password=PASSWORD)
        member = Member(name, role, administration, store.issue_token(name))
        self.staff[name] = member
        return member


def start_console(database_url: str, redis_url: str, twilio: TwilioEmulator) -> Gateway:
    """A gateway with the fast console clock."""
    settings = gateway_settings(database_url, redis_url, twilio)
    runtime = build_runtime(settings)
    runtime.deployment = dataclasses.replace(runtime.deployment, outbound=FAST_RETRIES)
    app = create_app(settings, runtime, sweep=FAST_SWEEP, console=FAST_CONSOLE)
    server = ThreadedServer(app).start()
    return Gateway(server.url, settings, runtime, twilio, redis.Redis.from_url(settings.redis_url), server=server)


@pytest.fixture(scope="session")
def console(database_factory: DatabaseFactory, redis_url: str, twilio: TwilioEmulator) -> Iterator[Console]:
    """One console gateway per SQL backend, with one staff member of each role (and two officers)."""
    running = start_console(database_factory.new(), redis_url, twilio)
    handle = Console(running, {})
    roles = {"agent": ("agent", None), "agent2": ("agent", None), "officer": ("officer", LIGHTING),
             "officer_other": ("officer", ROADS), "supervisor": ("supervisor", None), "admin": ("admin", None)}
    store = running.runtime.store
    for key, (role, administration) in roles.items():
        name = f"{key}-{secrets.token_hex(3)}"
        store.add_staff(name, role, administration, password=PASSWORD)
        handle.staff[key] = Member(name, role, administration, store.issue_token(name))
    yield handle
    assert running.server is not None
    running.server.stop()
    running.runtime.close()
    running.connection.close()
