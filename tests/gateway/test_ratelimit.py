"""Outbound pacing through a real Redis: the slots of one sender are shared by every worker."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time

import pytest
import redis

from core.config import OutboundPolicy, parse_config
from gateway.ratelimit import RateLimiter


def test_slots_are_spaced_and_shared(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    prefix = "rl" + secrets.token_hex(4)
    workers = [RateLimiter(connection, prefix), RateLimiter(connection, prefix)]
    waits = [workers[n % 2].reserve("whatsapp:+212522000111", 10) for n in range(10)]
    assert waits[0] == pytest.approx(0, abs=0.01)
    for earlier, later in itertools.pairwise(waits):
        assert later - earlier == pytest.approx(0.1, abs=0.02), waits
    assert workers[0].reserve("whatsapp:+212522000999", 10) == pytest.approx(0, abs=0.01), "per sender"
    connection.close()


def test_wait_sleeps_until_the_slot(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    limiter = RateLimiter(connection, "rl" + secrets.token_hex(4))

    async def burst() -> float:
        started = time.monotonic()
        for _ in range(4):
            await limiter.wait("whatsapp:x", 20)
        return time.monotonic() - started

    assert asyncio.run(burst()) == pytest.approx(0.15, abs=0.08)
    assert asyncio.run(limiter.wait("sms:x", None)) == 0.0
    connection.close()


def test_rates_from_configuration() -> None:
    assert OutboundPolicy().rate("whatsapp") == 10.0
    assert OutboundPolicy().rate("whatsapp", media=True) == 1.5
    assert OutboundPolicy().rate("sms") is None
    raw = {"name": "x", "administrations": [{"code": "a", "names": {"ar": "أ", "fr": "a", "en": "a"}}],
           "categories": [{"code": "c", "administration": "a", "names": {"ar": "ج", "fr": "c", "en": "c"}}],
           "outbound": {"rate_per_second": {"whatsapp": 25, "telegram": 30}},
           "media": {"max_mb": 2, "allowed_types": ["image/jpeg"]},
           "whatsapp": {"templates": {"fr": {"status": {"content_sid": "HX" + "0" * 32,
                                                        "variables": ["reference", "status"]}}}}}
    deployment = parse_config(raw)
    assert deployment.outbound.rate("whatsapp") == 25 and deployment.outbound.rate("telegram") == 30
    assert deployment.media.max_bytes == 2 * 1024 * 1024 and deployment.media.allowed_types == ("image/jpeg",)
    template = deployment.whatsapp.template("fr", "answered")
    assert template is not None and template.content_variables({"reference": "1", "status": "s"}) == {
        "1": "1", "2": "s"}
    assert deployment.whatsapp.template("fr", "rating") is None
    assert deployment.whatsapp.template("ar", "answered") is None


@pytest.mark.parametrize(
    ("section", "message"),
    [({"whatsapp": {"templates": {"fr": {"status": {"content_sid": "nope"}}}}}, "Content SID"),
     ({"whatsapp": {"templates": {"fr": {"status": {"content_sid": "HX1", "variables": ["phone"]}}}}},
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
