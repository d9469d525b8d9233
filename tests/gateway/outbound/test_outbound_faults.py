"""Faults under load, with real processes: twenty citizens file complaints by SMS while Redis is
stopped and started again; staff change their cases' statuses while the `hotline worker` process is
killed (kill -9) in the middle of sends and a new one started, while Redis is killed (kill -9, its
append-only file synced on every write) and started again, and while the provider answers part of
the sends with 429 (`Retry-After`) and 503. Every citizen has exactly one case, every status message
arrives exactly once, and nothing is left queued.

The worker is killed at a moment the test chooses, not at random: every send it has in flight is held
at the provider's door (never accepted), so no send sits between the provider's acceptance and its
commit, the one window where a message can go twice (see `core.store.messages.claim_outbound`). A random
kill would land there now and then, and a test that fails one time in six is a defect.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import sqlalchemy as sa
import yaml
from aiohttp import web

from core.config import default_config_path
from core.db import case_events, cases, contact_addresses, messages
from core.references import display
from gateway.outbound.lanes import WorkLanes
from gateway.redis_clients import sync_client
from gateway.settings import Settings
from gateway.staff.case_actions import change_status
from tests.emulators.server import ThreadedServer
from tests.emulators.twilio import ScriptedFailure, TwilioEmulator
from tests.fixtures.gateway import Citizen, Gateway, gateway_settings, start_gateway
from tests.fixtures.redis_server import RedisServer
from tests.gateway.conftest import say_text
from tests.gateway.outbound.worker_kit import WorkerProcess, Workers, wait_until

CITIZENS = 20
DIALOGUE = ("Bonjour", "1", "1", "Poubelles pleines depuis trois jours", "Rue {n}, Hay Riad", "0", "1")
NOTE = "Le conteneur a été vidé ce matin."
RETRY_AFTER = 2
"""Seconds the provider's 429 asks to wait: more than the deployment's backoff (1 s), so honouring it shows."""


@dataclass
class Attempt:
    """One `Messages.json` request as the provider's door saw it."""

    to: str
    at: float
    status: int = 0
    """The answer: 201, a scripted failure, or 0 for a request held at the door and never let in."""


@dataclass
class ProviderDoor:
    """In front of the Twilio emulator: records every send with its time and answer, and can hold
    sends at the door (the provider has not taken them) while a worker is killed."""

    attempts: list[Attempt] = field(default_factory=list)
    holding: bool = False
    letting_in: bool = False
    held: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Pass a request on to the emulator, or hold it until `release` (then drop it unseen)."""
        if request.method != "POST" or not request.path.endswith("/Messages.json"):
            return await handler(request)
        form = await request.post()
        attempt = Attempt(str(form.get("To", "")), time.monotonic())
        with self.lock:
            self.attempts.append(attempt)
            hold = self.holding
            if hold:
                self.held += 1
        if hold:
            while self.holding:
                await asyncio.sleep(0.01)
            if not self.letting_in:
                return web.json_response({"code": None, "message": "dropped at the door", "status": 503},
                                         status=503)
        response = await handler(request)
        attempt.status = response.status
        return response

    def hold(self) -> None:
        """Hold every send that arrives from now on."""
        with self.lock:
            self.holding = True

    def release(self, let_in: bool = False) -> None:
        """Let sends through again; those held are dropped (their sender is dead), or let in."""
        with self.lock:
            self.letting_in = let_in
            self.holding = False

    def of(self, to: str) -> list[Attempt]:
        """The attempts to send to one recipient, in order."""
        with self.lock:
            return [a for a in self.attempts if a.to == to]


@dataclass
class Scene:
    """Everything the fault test plays with."""

    gateway: Gateway
    redis_server: RedisServer
    twilio: TwilioEmulator
    twilio_url: str
    door: ProviderDoor
    workers: Workers
    staff_redis: redis.Redis

    @property
    def env(self) -> dict[str, str]:
        """The environment a worker process is started with (the gateway's own settings)."""
        return dict(self.gateway.settings.env)

    def start_worker(self) -> WorkerProcess:
        """One more `hotline worker` process."""
        return self.workers.start(self.env)

    def rows(self, *where: Any) -> list[dict[str, Any]]:
        """Outbound messages (matching `where`), oldest first."""
        query = sa.select(messages).where(messages.c.direction == "out", *where).order_by(messages.c.id)
        with self.gateway.runtime.store.engine.connect() as connection:
            return [dict(r) for r in connection.execute(query).mappings()]

    def lanes(self) -> WorkLanes:
        """The worker's lanes, over a blocking client."""
        return WorkLanes(self.staff_redis, self.gateway.settings.queue_prefix)

    def diagnosis(self) -> str:
        """What is left, for a failure message."""
        statuses = Counter(r["status"] for r in self.rows())
        unnotified = self.gateway.runtime.store.unnotified_events(datetime.now(UTC) + timedelta(days=1), 500)
        try:
            items = sorted(k.decode() for k in self.staff_redis.hkeys(self.lanes().key("items")))
        except redis.RedisError as exc:
            items = [f"redis: {exc}"]
        pending = self.gateway.runtime.store.pending_inbound(datetime.now(UTC), 50)
        return (f"outbound statuses: {dict(statuses)}\nunnotified events: {len(unnotified)}\n"
                f"pending inbound: {[(p.message_id, p.sender, p.body) for p in pending]}\n"
                f"lane items: {items[:20]}\n{self.workers.logs()}")


def fast_config(directory: Path) -> Path:
    """The packaged deployment with a fast retry policy: what a worker process reads (HOTLINE_CONFIG)."""
    raw = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    raw["outbound"] = {**raw.get("outbound", {}), "max_attempts": 6, "backoff_seconds": [1, 1, 1]}
    path = directory / "hotline.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def scene(fresh_database_url: str, own_redis: RedisServer, tmp_path: Path) -> Iterator[Scene]:
    """A gateway with a database and a Redis of its own, the Twilio emulator behind a door the test
    controls, and room for worker processes."""
    twilio = TwilioEmulator()
    door = ProviderDoor()
    app = twilio.app()
    app.middlewares.append(door.middleware)
    server = ThreadedServer(app).start()
    twilio.url = server.url
    base = gateway_settings(fresh_database_url, own_redis.url, twilio)
    settings = Settings.from_env({**base.env, "HOTLINE_CONFIG": str(fast_config(tmp_path))})
    gateway = start_gateway(settings, twilio)
    workers = Workers(tmp_path)
    staff_redis = sync_client(own_redis.url)
    try:
        yield Scene(gateway, own_redis, twilio, server.url, door, workers, staff_redis)
    finally:
        workers.cleanup()
        gateway.stop()
        staff_redis.close()
        server.stop()


def busy_texts(gateway: Gateway) -> set[str]:
    """"Service busy, we will answer", in every language (a new contact has none yet)."""
    return {say_text(gateway, language, "service_busy") for language in ("ar", "fr", "en")}


class Traffic:
    """The citizens' webhooks in flight, and a pause between two of them.

    Redis is stopped between two webhooks, not in the middle of one: a turn whose session was saved
    just as Redis died, the answer lost on the way, is never answered (see
    `test_a_turn_saved_as_redis_dies_is_still_answered`), and that engine fault would make this test
    fail now and then instead of always."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._paused = False
        self._in_flight = 0

    @contextmanager
    def passing(self) -> Iterator[None]:
        """One webhook (waits while paused)."""
        with self._condition:
            self._condition.wait_for(lambda: not self._paused)
            self._in_flight += 1
        try:
            yield
        finally:
            with self._condition:
                self._in_flight -= 1
                self._condition.notify_all()

    def pause(self, timeout: float = 30.0) -> None:
        """Let no new webhook start, and wait for those in flight."""
        with self._condition:
            self._paused = True
            assert self._condition.wait_for(lambda: self._in_flight == 0, timeout), "webhooks still in flight"

    def resume(self) -> None:
        """Let webhooks start again."""
        with self._condition:
            self._paused = False
            self._condition.notify_all()


def file_complaint(scene: Scene, citizen: Citizen, n: int, deferred: list[str], traffic: Traffic) -> None:
    """The citizen's whole dialogue. Told the service is busy, they wait for the late answer (it comes
    by a send once the message is replayed) before writing again, as a person would."""
    busy = busy_texts(scene.gateway)
    for text in DIALOGUE:
        before = len(scene.twilio.sent_to(citizen.phone))
        with traffic.passing():
            replies = citizen.say(text.format(n=n))
        if set(replies) & busy:
            deferred.append(citizen.phone)
            wait_until(lambda seen=before: len(scene.twilio.sent_to(citizen.phone)) > seen, 60,
                       f"{citizen.phone}: the late answer to {text!r}", scene.diagnosis)


def reference_of(scene: Scene, phone: str) -> str:
    """The reference of the citizen's one case."""
    store = scene.gateway.runtime.store
    contact = store.find_contact(phone)
    assert contact is not None
    (case,) = store.cases_for_contact(contact.id)
    return case.reference


def set_status(scene: Scene, reference: str, status: str, note: str = "") -> None:
    """A status change made by staff (committed even when Redis is away: the sweeper queues its notice)."""
    change_status(scene.gateway.runtime.store, scene.staff_redis, scene.gateway.settings.queue_prefix, reference,
                  status, "officer", note)


def committed(scene: Scene) -> bool:
    """Every send the provider took is marked sent in the store: none is between the two."""
    taken = {m.sid for m in scene.twilio.messages}
    marked = {r["provider_message_id"] for r in scene.rows(messages.c.provider_message_id.is_not(None))}
    return taken <= marked


def untold_events(scene: Scene) -> int:
    """Status events whose notice is not recorded yet."""
    query = sa.select(sa.func.count()).select_from(case_events).where(case_events.c.notified_at.is_(None))
    with scene.gateway.runtime.store.engine.connect() as connection:
        return int(connection.execute(query).scalar() or 0)


def kill_redis(server: RedisServer) -> None:
    """kill -9 the Redis server: with `appendfsync always` every write it answered is on disk."""
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)


def probe(url: str) -> None:
    """One round trip to the emulator: whatever a dead worker had written to its sockets has been read."""
    requests.get(f"{url}/probe", timeout=5)


def test_citizens_file_while_the_worker_and_redis_are_killed_and_the_provider_throttles(scene: Scene) -> None:
    """Exactly one case per citizen, every status message exactly once, nothing left queued."""
    gateway, twilio, door = scene.gateway, scene.twilio, scene.door
    started = time.monotonic()
    worker = scene.start_worker()
    citizens = [gateway.citizen() for _ in range(CITIZENS)]
    phones = [c.phone for c in citizens]

    # 1. Filing, four citizens at a time. Redis is stopped between two webhooks (see `Traffic`) and
    #    kept down until some citizens were told "busy": their messages are kept, replayed when it is
    #    back, and answered by sends.
    deferred: list[str] = []
    filed: list[str] = []
    traffic = Traffic()

    def file(index: int) -> None:
        file_complaint(scene, citizens[index], index, deferred, traffic)
        filed.append(citizens[index].phone)

    with ThreadPoolExecutor(max_workers=4) as pool:
        running = [pool.submit(file, index) for index in range(CITIZENS)]
        wait_until(lambda: len(filed) >= 6, 30, "six citizens filed", scene.diagnosis)
        traffic.pause()
        scene.redis_server.stop()
        traffic.resume()
        wait_until(lambda: len(deferred) >= 2, 20, "citizens told the service is busy")
        scene.redis_server.start()
        for future in running:
            future.result(timeout=90)
    references = {phone: reference_of(scene, phone) for phone in phones}
    print(f"filed {CITIZENS} complaints in {time.monotonic() - started:.1f} s, {len(deferred)} messages deferred")

    # 2. Every case goes in progress; five recipients are throttled (429 with Retry-After, then 503).
    #    Once sends flow and a 429 was answered (its retry comes at least 2 s later), the door holds
    #    every new send; when every send the provider took is marked sent, the worker is killed with
    #    the held ones in hand, and a new worker starts.
    for phone in phones[:5]:
        twilio.fail_next(phone, ScriptedFailure(429, 20429, "Too Many Requests", retry_after=str(RETRY_AFTER)),
                         ScriptedFailure(503, None, "Service Unavailable"))
    before = len(twilio.messages)
    for phone in phones:
        set_status(scene, references[phone], "in_progress")
    wait_until(lambda: len(twilio.messages) >= before + 3 and any(a.status == 429 for a in door.attempts), 30,
               "the first notices sent, and a 429", scene.diagnosis)
    door.hold()
    wait_until(lambda: door.held >= 1 and committed(scene), 30, "a send held at the door, the others committed",
               scene.diagnosis)
    worker.kill()
    probe(scene.twilio_url)
    door.release()
    held = door.held
    worker = scene.start_worker()

    # 3. Half the cases are answered; five more recipients are throttled (ones whose in-progress notice
    #    went, so the failures meet the answer). Once every answer's notice is recorded and the first
    #    are sent, Redis is killed (sends in flight, none of the notices' dialogue turns: see
    #    `test_a_notice_whose_turn_was_saved_as_redis_died_still_asks_for_the_rating`), the other half
    #    is answered while it is down, and it starts again.
    went = {r["recipient"] for r in scene.rows(messages.c.priority == "bulk", messages.c.status == "accepted")}
    throttled_later = [phone for phone in phones[5:] if phone in went][:5]
    order = phones[:5] + throttled_later + [phone for phone in phones[5:] if phone not in throttled_later]
    for phone in throttled_later:
        twilio.fail_next(phone, ScriptedFailure(429, 20429, "Too Many Requests", retry_after=str(RETRY_AFTER)),
                         ScriptedFailure(503, None, "Service Unavailable"))
    for phone in order[:10]:
        set_status(scene, references[phone], "answered", NOTE)
    wait_until(lambda: sum(NOTE in m.body for m in twilio.messages) >= 3 and not untold_events(scene), 40,
               "the answers' notices recorded and the first ones sent", scene.diagnosis)
    kill_redis(scene.redis_server)
    for phone in order[10:]:
        set_status(scene, references[phone], "answered", NOTE)
    scene.redis_server.start()

    # 4. Everything is told, in a bounded time.
    expected = {phone: expected_notices(gateway, references[phone]) for phone in phones}

    def done() -> bool:
        return all(notices_arrived(twilio, phone, wanted) for phone, wanted in expected.items()) and not [
            r for r in scene.rows() if r["status"] not in ("sent", "accepted")]

    waited = wait_until(done, 100, "every notice sent", scene.diagnosis, every=0.2)
    print(f"{held} sends held when the worker was killed; all told {time.monotonic() - started:.1f} s after the "
          f"start ({waited:.1f} s of catching up)")

    store = gateway.runtime.store
    with store.engine.connect() as connection:
        per_citizen = dict(connection.execute(
            sa.select(contact_addresses.c.value, sa.func.count(cases.c.id))
            .select_from(contact_addresses.join(cases, cases.c.contact_id == contact_addresses.c.contact_id))
            .where(contact_addresses.c.kind == "phone", contact_addresses.c.value.in_(phones))
            .group_by(contact_addresses.c.value)).all())
    assert per_citizen == dict.fromkeys(phones, 1), "every citizen has exactly one case"
    assert untold_events(scene) == 0

    for phone in phones:
        bodies = [m.body for m in twilio.sent_to(phone)]
        repeated = [body for body, count in Counter(bodies).items() if count > 1]
        assert not repeated, f"{phone} was sent the same message twice: {repeated}"
        for wanted in expected[phone]:
            assert sum(wanted in body for body in bodies) == 1, f"{phone}: {wanted!r} not exactly once in {bodies}"
        notice_rows = [r for r in scene.rows(messages.c.recipient == phone, messages.c.priority == "bulk")]
        assert len(notice_rows) == 3, [r["body"] for r in notice_rows]
        sids = {m.sid for m in twilio.sent_to(phone)}
        stored = {r["provider_message_id"] for r in scene.rows(messages.c.recipient == phone,
                                                               messages.c.provider_message_id.is_not(None))}
        assert sids == stored, "every message the provider took is the one stored for it, and no other"

    statuses = Counter(r["status"] for r in scene.rows())
    assert set(statuses) <= {"sent", "accepted"}, statuses  # sent: answered in the webhook response (TwiML)
    assert throttled_later, "some answers meet a throttled provider"
    assert not any(twilio.failures.values()), "every scripted failure was met"
    for phone in phones:
        failures = 2 if phone in phones[:5] or phone in throttled_later else 0
        attempts = door.of(phone)
        made = [row["attempts"] for row in scene.rows(messages.c.recipient == phone, messages.c.priority == "bulk")]
        # A failure meets whichever of the citizen's messages goes next (the answer may overtake an
        # in-progress notice cut off by the kill: see the lane test below), so count them together.
        assert min(made) == 1 and sum(made) == len(made) + failures, (
            phone, made, [(round(a.at - started, 2), a.status) for a in attempts])
        for attempt, after in itertools.pairwise(attempts):
            if attempt.status == 429:
                assert after.at - attempt.at >= RETRY_AFTER - 0.05, "Retry-After is honoured"
            if attempt.status == 503:
                assert after.at - attempt.at >= 0.95, "the deployment's backoff is honoured"
    # An item re-queued by the sweeper while its message was going out is still worked off (and found
    # sent) after the last notice arrived; within one lease, nothing is left.
    lanes = scene.lanes()
    wait_until(lambda: scene.staff_redis.hlen(lanes.key("items")) == 0, 25, "nothing left in the lanes",
               scene.diagnosis)
    assert scene.staff_redis.hlen(lanes.key("quarantine")) == 0
    assert worker.stop() == 0, scene.workers.logs()


def expected_notices(gateway: Gateway, reference: str) -> list[str]:
    """What the citizen must be told of their case going in progress, then answered (with a rating
    question): a text each message must contain."""
    shown = display(reference)
    return [
        say_text(gateway, "fr", "status_changed", reference=shown,
                 status=say_text(gateway, "fr", "status_in_progress")),
        f"{shown} : {say_text(gateway, 'fr', 'status_answered')}.\n",
        say_text(gateway, "fr", "ask_rating", reference=shown),
    ]


def notices_arrived(twilio: TwilioEmulator, phone: str, wanted: list[str]) -> bool:
    """Each expected notice arrived at least once."""
    bodies = [m.body for m in twilio.sent_to(phone)]
    return all(any(text in body for body in bodies) for text in wanted)


def test_a_send_cut_off_by_a_killed_worker_keeps_its_place_in_its_lane(scene: Scene) -> None:
    """One citizen's messages arrive in the order given (`gateway.outbound.lanes`), even when the worker
    sending the first is killed before the provider took it and the next ones wait behind it."""
    gateway, twilio, door = scene.gateway, scene.twilio, scene.door
    citizen = gateway.citizen()
    for text in DIALOGUE:
        citizen.say(text.format(n=1))
    reference = reference_of(scene, citizen.phone)
    worker = scene.start_worker()
    door.hold()
    set_status(scene, reference, "in_progress")
    wait_until(lambda: door.held >= 1, 30, "the in-progress notice at the provider's door", scene.diagnosis)
    set_status(scene, reference, "answered", NOTE)
    wait_until(lambda: len(scene.rows(messages.c.recipient == citizen.phone, messages.c.priority == "bulk")) == 3,
               30, "the answer and the rating question queued behind it", scene.diagnosis)
    worker.kill()
    probe(scene.twilio_url)
    door.release()
    killed = time.monotonic()
    scene.start_worker()
    wanted = expected_notices(gateway, reference)
    wait_until(lambda: bool(twilio.sent_to(citizen.phone)), 90, "a notice after the restart", scene.diagnosis)
    first = twilio.sent_to(citizen.phone)[0]
    print(f"first notice {first.at - killed:.1f} s after the kill")
    assert wanted[0] in first.body, (
        f"{first.at - killed:.1f} s after the kill, the answer overtook the in-progress notice still "
        f"claimed by the dead worker: {first.body!r}")
    wait_until(lambda: notices_arrived(twilio, citizen.phone, wanted), 90, "every notice", scene.diagnosis)
    bodies = [m.body for m in twilio.sent_to(citizen.phone)]
    assert [next(i for i, text in enumerate(wanted) if text in body) for body in bodies] == [0, 1, 2], bodies


def test_a_send_finished_while_redis_is_away_is_settled_as_soon_as_it_is_back(scene: Scene) -> None:
    """The provider takes a send while Redis is down: the worker keeps its settlement until Redis
    answers again, so the citizen's next message follows at once instead of after the claim's lease."""
    gateway, twilio, door = scene.gateway, scene.twilio, scene.door
    citizen = gateway.citizen()
    for text in DIALOGUE:
        citizen.say(text.format(n=1))
    reference = reference_of(scene, citizen.phone)
    scene.start_worker()
    door.hold()
    set_status(scene, reference, "in_progress")
    wait_until(lambda: door.held >= 1, 30, "the in-progress notice at the provider's door", scene.diagnosis)
    set_status(scene, reference, "answered", NOTE)
    wait_until(lambda: len(scene.rows(messages.c.recipient == citizen.phone, messages.c.priority == "bulk")) == 3,
               30, "the answer and the rating question queued behind it", scene.diagnosis)
    scene.redis_server.stop()
    door.release(let_in=True)
    wait_until(lambda: scene.rows(messages.c.recipient == citizen.phone, messages.c.priority == "bulk")[0]["status"]
               == "accepted", 15, "the notice taken and marked sent without Redis", scene.diagnosis)
    time.sleep(9)  # longer than the Redis client's own reconnection attempts
    scene.redis_server.start()
    back = time.monotonic()
    wanted = expected_notices(gateway, reference)
    wait_until(lambda: notices_arrived(twilio, citizen.phone, wanted), 30, "every notice", scene.diagnosis)
    bodies = [m.body for m in twilio.sent_to(citizen.phone)]
    assert [next(i for i, text in enumerate(wanted) if text in body) for body in bodies] == [0, 1, 2], bodies
    after = twilio.sent_to(citizen.phone)[1].at - back
    print(f"the next message went {after:.1f} s after Redis was back")
    assert after < 8, "the next message waited for the lease to run out (20 s), not for Redis"


class RedisCutter:
    """A TCP proxy in front of Redis. Armed with markers, the next command carrying all of them is done
    by Redis but its answer never comes back: every connection is cut, and new ones refused until
    `mend()`, as when Redis dies right after doing what it was asked (`appendfsync always` writes the
    append-only file before answering, so the change survives; only the answer is lost)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.markers: tuple[bytes, ...] = ()
        self._armed: tuple[bytes, ...] = ()
        self.cut = False
        self.tripped = threading.Event()
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        """The proxy's Redis URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisCutter:
        """Listen on a free port."""
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop).result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def arm(self, *markers: bytes) -> None:
        """Swallow the answer to the next command carrying every one of `markers`, and cut."""
        self.markers = self._armed = markers

    def mend(self) -> None:
        """Accept connections again."""
        self.cut = False

    def stop(self) -> None:
        """Close everything and end the thread."""
        async def close() -> None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers |= {writer, up_writer}
        swallow = False

        async def upstream() -> None:
            nonlocal swallow
            while data := await reader.read(65536):
                if self.markers and all(marker in data for marker in self.markers):
                    self.markers, swallow = (), True
                up_writer.write(data)
                await up_writer.drain()

        async def downstream() -> None:
            nonlocal swallow
            while data := await up_reader.read(65536):
                if swallow and data.startswith(b"-NOSCRIPT"):  # not done: redis-py loads it and asks again
                    swallow = False
                    self.markers = self._armed
                elif swallow:
                    self.cut = True
                    for open_writer in list(self._writers):
                        open_writer.close()
                    self.tripped.set()
                    return
                writer.write(data)
                await writer.drain()

        try:
            await asyncio.gather(upstream(), downstream())
        except (ConnectionError, OSError):
            pass
        finally:
            for own in (writer, up_writer):
                own.close()
                self._writers.discard(own)


@dataclass
class CutScene:
    """A gateway reaching its Redis through a `RedisCutter`, and room for worker processes (which
    reach it the same way)."""

    gateway: Gateway
    cutter: RedisCutter
    workers: Workers


@pytest.fixture
def cut(fresh_database_url: str, own_redis: RedisServer, twilio: TwilioEmulator, tmp_path: Path
        ) -> Iterator[CutScene]:
    """A gateway (database of its own) that reaches its Redis through a `RedisCutter`."""
    cutter = RedisCutter(own_redis.port).start()
    gateway = start_gateway(gateway_settings(fresh_database_url, cutter.url, twilio), twilio)
    workers = Workers(tmp_path)
    try:
        yield CutScene(gateway, cutter, workers)
    finally:
        workers.cleanup()
        gateway.stop()
        cutter.stop()


def session_saved_for(gateway: Gateway, phone: str) -> tuple[bytes, ...]:
    """What marks the command that saves a citizen's session and releases their lock."""
    return b"EVALSHA", f"{gateway.settings.queue_prefix}:idle".encode(), f"sms|{phone}".encode()


def test_a_turn_saved_as_redis_dies_is_still_answered(cut: CutScene) -> None:
    """Redis saves the citizen's turn (the session names the message it took in) and dies before
    answering: the webhook tells the citizen "we received your message and will answer very soon",
    and when Redis is back the replayed message must still be answered."""
    gateway, cutter = cut.gateway, cut.cutter
    control = gateway.citizen()
    control.say("Bonjour")
    expected = control.say("1")
    citizen = gateway.citizen()
    citizen.say("Bonjour")
    cutter.arm(*session_saved_for(gateway, citizen.phone))
    told = citizen.say("1")
    assert cutter.tripped.is_set(), "the session was saved and the answer lost"
    assert len(told) == 1 and told[0] in busy_texts(gateway), told
    cutter.mend()
    store = gateway.runtime.store
    wait_until(lambda: not [p for p in store.pending_inbound(datetime.now(UTC), 100) if p.sender == citizen.phone],
               20, "the kept message replayed")
    gateway.run_jobs()
    assert citizen.inbox() == expected, "the citizen was promised an answer and must get it"


def test_a_notice_whose_turn_was_saved_as_redis_died_still_asks_for_the_rating(cut: CutScene) -> None:
    """The worker steps the citizen's dialogue with "answered" (it asks for a rating), Redis saves the
    session and dies before answering; the notice is worked on again when Redis is back, and the
    citizen must still be told the answer and asked for the rating, once each."""
    gateway, cutter = cut.gateway, cut.cutter
    citizen = gateway.citizen()
    for text in DIALOGUE:
        citizen.say(text.format(n=2))
    store = gateway.runtime.store
    contact = store.find_contact(citizen.phone)
    assert contact is not None
    (case,) = store.cases_for_contact(contact.id)
    cut.workers.start(gateway.settings.env)
    staff = sync_client(cutter.url)
    try:
        change_status(store, staff, gateway.settings.queue_prefix, case.reference, "in_progress", "officer", "")
        wait_until(lambda: len(citizen.inbox()) == 1, 30, "the in-progress notice", cut.workers.logs)
        cutter.arm(*session_saved_for(gateway, citizen.phone))
        change_status(store, staff, gateway.settings.queue_prefix, case.reference, "answered", "officer", NOTE)
    finally:
        staff.close()
    wait_until(cutter.tripped.is_set, 30, "the notice's turn saved and its answer lost", cut.workers.logs)
    cutter.mend()
    wanted = expected_notices(gateway, case.reference)
    untold = sa.select(sa.func.count()).select_from(case_events).where(case_events.c.notified_at.is_(None))

    def settled() -> bool:
        with store.engine.connect() as connection:
            if connection.execute(untold).scalar():
                return False
            pending = connection.execute(sa.select(sa.func.count()).select_from(messages).where(
                messages.c.direction == "out", messages.c.status.not_in(("sent", "accepted")))).scalar()
        return not pending and len(citizen.inbox()) >= 2

    wait_until(settled, 60, "the notice worked on again and its messages sent", cut.workers.logs)
    inbox = citizen.inbox()
    assert [sum(text in body for body in inbox) for text in wanted] == [1, 1, 1], inbox
