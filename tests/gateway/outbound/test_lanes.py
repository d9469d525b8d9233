"""The work lanes through a real Redis: fair per lane, replies first, leased, once per item, paced."""

from __future__ import annotations

import itertools
import secrets

import pytest
import redis

from channels.sms.adapter import SmsChannel
from channels.telegram.adapter import TelegramChannel
from channels.whatsapp.adapter import WhatsAppChannel
from core.config import OutboundPolicy, parse_config
from gateway.outbound.lanes import Work, WorkLanes, now_ms, send_work


@pytest.fixture
def lanes(redis_url: str):
    connection = redis.Redis.from_url(redis_url)
    yield WorkLanes(connection, "ln" + secrets.token_hex(4))
    connection.close()


def test_an_item_is_queued_once(lanes: WorkLanes) -> None:
    work = send_work(1, "sms", "+212522000111", "+212600000001", "replies")
    assert lanes.enqueue([work, work], at_ms=1000) == 1
    assert lanes.enqueue([work], at_ms=1000) == 0
    claims, _ = lanes.claim(10, 5000, at_ms=1000)
    assert [c.item for c in claims] == ["m:1"]
    assert lanes.enqueue([work], at_ms=1001) == 0, "still queued while being worked on"
    assert lanes.ack(claims[0], 1002) == 1
    assert lanes.enqueue([work], at_ms=1003) == 1, "done: it may be queued again (the SQL claim decides)"


def test_one_lane_in_flight_at_a_time_and_in_order(lanes: WorkLanes) -> None:
    lanes.enqueue([Work(f"m:{n}", "s|sms|us|them", "bulk") for n in range(3)], at_ms=1000)
    first, _ = lanes.claim(10, 5000, at_ms=1000)
    assert [c.item for c in first] == ["m:0"]
    assert lanes.claim(10, 5000, at_ms=1000)[0] == [], "the lane is busy"
    lanes.ack(first[0], 1500)
    assert lanes.claim(10, 5000, at_ms=1400)[0] == [], "its next item waits for the pause"
    second, _ = lanes.claim(10, 5000, at_ms=1500)
    assert [c.item for c in second] == ["m:1"]


def test_replies_are_claimed_before_bulk_and_others_are_not_held_up(lanes: WorkLanes) -> None:
    lanes.enqueue([Work(f"m:{n}", "s|telegram|bot|burst", "replies") for n in range(40)], at_ms=1000)
    lanes.enqueue([Work("m:100", "s|telegram|bot|other", "bulk"), Work("m:101", "s|telegram|bot|new", "replies")],
                  at_ms=1001)
    claims, _ = lanes.claim(10, 5000, at_ms=1002)
    assert [c.item for c in claims] == ["m:0", "m:101", "m:100"]


def test_a_dead_workers_lease_expires_and_its_late_answer_is_refused(lanes: WorkLanes) -> None:
    lanes.enqueue([Work("m:1", "s|sms|us|them", "replies")], at_ms=1000)
    (dead,), _ = lanes.claim(1, 500, at_ms=1000)
    assert lanes.reap(at_ms=1400) == 0
    assert lanes.reap(at_ms=1600) == 1
    (again,), _ = lanes.claim(1, 500, at_ms=1600)
    assert again.item == "m:1" and again.token != dead.token
    assert lanes.ack(dead, 1700) == 0, "the dead worker's claim no longer counts"
    assert lanes.ack(again, 1700) == 1


def test_deferred_lane_comes_back_when_due(lanes: WorkLanes) -> None:
    lanes.enqueue([Work("m:1", "s|sms|us|them", "replies")], at_ms=1000)
    (claim,), _ = lanes.claim(1, 5000, at_ms=1000)
    lanes.defer(claim, 3000)
    claims, next_due = lanes.claim(1, 5000, at_ms=2000)
    assert claims == [] and next_due == 3000
    assert [c.item for c in lanes.claim(1, 5000, at_ms=3000)[0]] == ["m:1"]


def test_pace_slots_are_spaced_shared_and_bounded(lanes: WorkLanes) -> None:
    waits = [lanes.reserve("whatsapp:+212522000111", 10, 10_000, at_ms=1000) for _ in range(10)]
    assert waits[0] == 0
    for earlier, later in itertools.pairwise(waits):
        assert later - earlier == 100, waits
    assert lanes.reserve("whatsapp:+212522000999", 10, 10_000, at_ms=1000) == 0, "per sender"
    assert lanes.reserve("whatsapp:x", 10, 250, at_ms=1000) == 0
    assert [lanes.reserve("whatsapp:x", 10, 250, at_ms=1000) for _ in range(3)] == [100, 200, -1], \
        "past the horizon nothing is booked: the lane waits at the gate"


def test_gate_lets_one_lane_through_per_interval_replies_first(lanes: WorkLanes) -> None:
    lanes.enqueue([Work("m:1", "s|whatsapp|us|a", "bulk"), Work("m:2", "s|whatsapp|us|b", "replies")], at_ms=1000)
    claims, _ = lanes.claim(2, 5000, at_ms=1000)
    by_item = {c.item: c for c in claims}
    lanes.park(by_item["m:1"], "whatsapp:us", 100, "bulk", 1000, at_ms=1000)
    lanes.park(by_item["m:2"], "whatsapp:us", 100, "replies", 1000, at_ms=1000)
    assert lanes.pump(at_ms=1050) == 0
    assert lanes.claim(2, 5000, at_ms=1050)[0] == []
    assert lanes.pump(at_ms=1100) == 1
    assert [c.item for c in lanes.claim(2, 5000, at_ms=1100)[0]] == ["m:2"]
    assert lanes.pump(at_ms=1150) == 0, "one lane per interval"
    assert lanes.pump(at_ms=1200) == 1
    assert [c.item for c in lanes.claim(2, 5000, at_ms=1200)[0]] == ["m:1"]


def test_rates_from_configuration() -> None:
    assert OutboundPolicy().rate("whatsapp") is None, "the channel's own pace applies"
    assert (WhatsAppChannel.capabilities.sender_rate, WhatsAppChannel.capabilities.media_sender_rate) == (10.0, 1.5)
    assert TelegramChannel.capabilities.sender_rate == 30.0 and SmsChannel.capabilities.sender_rate is None
    raw = {"name": "x", "administrations": [{"code": "a", "names": {"ar": "أ", "fr": "a", "en": "a"}}],
           "categories": [{"code": "c", "administration": "a", "names": {"ar": "ج", "fr": "c", "en": "c"}}],
           "outbound": {"rate_per_second": {"whatsapp": 25, "telegram": 30}},
           "media": {"max_mb": 2, "allowed_types": ["image/jpeg"]},
           "templates": {"whatsapp": {"fr": {"status": {"content_sid": "HX" + "0" * 32,
                                                        "variables": ["reference", "status"]}}}}}
    deployment = parse_config(raw)
    assert deployment.outbound.rate("whatsapp") == 25 and deployment.outbound.rate("telegram") == 30
    assert deployment.media.max_bytes == 2 * 1024 * 1024 and deployment.media.allowed_types == ("image/jpeg",)
    template = deployment.templates_for("whatsapp").template("fr", "answered")
    assert template is not None and template.content_variables({"reference": "1", "status": "s"}) == {
        "1": "1", "2": "s"}
    assert deployment.templates_for("whatsapp").template("fr", "rating") is None
    assert deployment.templates_for("whatsapp").template("ar", "answered") is None


@pytest.mark.parametrize(
    ("section", "message"),
    [({"templates": {"whatsapp": {"fr": {"status": {"content_sid": "nope"}}}}}, "Content SID"),
     ({"templates": {"whatsapp": {"fr": {"status": {"content_sid": "HX1", "variables": ["phone"]}}}}},
      "unknown variable"),
     ({"media": {"max_mb": 0}}, "media.max_mb"),
     ({"media": {"allowed_types": ["jpeg"]}}, "content type"),
     ({"outbound": {"rate_per_second": {"whatsapp": -1}}}, "outbound.rate_per_second.whatsapp")],
)
def test_bad_media_and_template_settings_are_named(section: dict, message: str) -> None:
    from core.config import ConfigError

    raw = {"name": "x", "administrations": [{"code": "a", "names": {"ar": "أ", "fr": "a", "en": "a"}}],
           "categories": [{"code": "c", "administration": "a", "names": {"ar": "ج", "fr": "c", "en": "c"}}],
           **section}
    with pytest.raises(ConfigError, match=message):
        parse_config(raw)


def test_a_citizens_pause_outlives_their_emptied_lane(lanes: WorkLanes) -> None:
    lanes.enqueue([Work("m:1", "s|telegram|bot|chat", "replies")])
    (claim,), _ = lanes.claim(1, 5000)
    paused_until = now_ms() + 800
    lanes.ack(claim, paused_until)  # sent; the lane is empty, its next message must wait a second
    lanes.enqueue([Work("m:2", "s|telegram|bot|chat", "replies")])
    claims, next_due = lanes.claim(1, 5000)
    assert claims == [] and next_due == paused_until
    assert [c.item for c in lanes.claim(1, 5000, at_ms=paused_until)[0]] == ["m:2"]
