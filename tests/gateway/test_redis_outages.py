"""Redis going away: a restart between two messages, a message that arrives while it is down, a status
change made while it is down. Nothing is lost and no case is filed twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.emulators.twilio import TwilioEmulator
from tests.fixtures.gateway import Gateway, gateway_settings, start_gateway
from tests.fixtures.redis_server import RedisServer
from tests.gateway.conftest import reference_in, say_text


@pytest.fixture
def outage(
    fresh_database_url: str, own_redis: RedisServer, twilio: TwilioEmulator
) -> Iterator[tuple[Gateway, RedisServer]]:
    """A gateway whose Redis the test may stop and start, with a database of its own (another gateway's
    sweeper would otherwise replay this one's pending messages against its own Redis)."""
    running = start_gateway(gateway_settings(fresh_database_url, own_redis.url, twilio), twilio)
    yield running, own_redis
    assert running.server is not None
    running.server.stop()
    running.runtime.close()


def cases_of(gateway: Gateway, phone: str) -> int:
    contact = gateway.runtime.store.find_contact(phone)
    assert contact is not None
    return len(gateway.runtime.store.cases_for_contact(contact.id))


def test_restart_between_two_messages_keeps_the_dialogue(outage: tuple[Gateway, RedisServer]) -> None:
    gateway, redis_server = outage
    citizen = gateway.citizen()
    for message in ["Bonjour", "1", "1"]:
        citizen.say(message)
    redis_server.stop()
    redis_server.start()
    assert citizen.say("Poubelles pleines") == [say_text(gateway, "fr", "ask_location")]
    for message in ["Rue 3", "0"]:
        citizen.say(message)
    reference_in(citizen.say("1"))
    assert cases_of(gateway, citizen.phone) == 1


def test_message_while_redis_is_down_is_kept_and_answered_later(outage: tuple[Gateway, RedisServer]) -> None:
    gateway, redis_server = outage
    citizen = gateway.citizen()
    for message in ["Bonjour", "1", "1"]:
        citizen.say(message)
    redis_server.stop()
    assert citizen.say("Poubelles pleines") == [say_text(gateway, "fr", "service_busy")]
    assert citizen.say("Bonjour", sid=None) == [say_text(gateway, "fr", "service_busy")]
    redis_server.start()
    gateway.run_jobs(until=lambda: len(citizen.inbox()) >= 2, timeout=20)
    assert citizen.inbox()[0] == say_text(gateway, "fr", "ask_location"), "replayed in order"
    contact = gateway.runtime.store.find_contact(citizen.phone)
    assert contact is not None
    for message in ["Rue 3", "0"]:
        citizen.say(message)
    replies = citizen.say("1")
    reference_in(replies)
    assert cases_of(gateway, citizen.phone) == 1
    assert gateway.runtime.store.pending_inbound(older_than=datetime.now(UTC), limit=10) == []


def test_status_change_while_redis_is_down_is_told_later(outage: tuple[Gateway, RedisServer]) -> None:
    gateway, redis_server = outage
    citizen = gateway.citizen()
    for message in ["Bonjour", "1", "1", "Poubelles pleines", "Rue 3", "0"]:
        citizen.say(message)
    reference = reference_in(citizen.say("1"))
    redis_server.stop()
    from gateway.staff.case_actions import change_status

    change_status(gateway.runtime.store, gateway.connection, gateway.settings.queue_prefix, reference,
                  "in_progress", "officer", "")
    redis_server.start()
    gateway.run_jobs(until=lambda: len(citizen.inbox()) == 1, timeout=20)
    assert reference[:3] in citizen.inbox()[0]
    gateway.run_jobs()
    assert len(citizen.inbox()) == 1, "told once, even though the sweeper may queue the notice again"


def test_a_call_turn_while_redis_is_down_is_replayed_without_texting_the_caller(
    outage: tuple[Gateway, RedisServer],
) -> None:
    """A keypress during an outage gets a spoken "received, we will answer"; when Redis is back the
    turn is replayed (its state kept), but its prompts are speech for a call that has moved on: no SMS."""
    from tests.gateway.voice_kit import Caller, spoken

    gateway, redis_server = outage
    caller = Caller(gateway)
    caller.call()
    redis_server.stop()
    busy = caller.press("1")
    assert say_text(gateway, "ar", "service_busy") in spoken(busy) or say_text(gateway, "fr", "service_busy") in \
        spoken(busy)
    redis_server.start()
    deadline = datetime.now(UTC) + timedelta(seconds=15)
    while gateway.runtime.store.pending_inbound(older_than=datetime.now(UTC), limit=10):
        assert datetime.now(UTC) < deadline, "the deferred keypress was never replayed"
        time.sleep(0.2)
    gateway.run_jobs()
    assert gateway.twilio.sent_to(caller.phone) == []
