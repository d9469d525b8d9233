"""Outbound pacing shared by every worker: a per-key rate limit in Redis (GCRA, one Lua call).

`RateLimiter.reserve(key, per_second)` books the next free slot for `key` (a channel's sender) and
says how long to wait for it; every process booking the same key shares one schedule, so N workers
together never exceed the provider's per-sender rate. Redis' own clock is used, not the workers'.
Any channel can use it: WhatsApp books `whatsapp:{number}`, Telegram will book its bot.
"""

from __future__ import annotations

import asyncio

import redis

_RESERVE = """
redis.replicate_commands()
local now = redis.call('time')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('get', KEYS[1]) or '0')
local start = math.max(tat, now_us)
local next_tat = start + interval
redis.call('set', KEYS[1], tostring(next_tat), 'PX', math.floor((next_tat - now_us) / 1000) + 1000)
return tostring(start - now_us)
"""


class RateLimiter:
    """Per-key pacing in Redis, shared by all processes using the same prefix."""

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self.connection = connection
        self.prefix = prefix
        self._reserve = connection.register_script(_RESERVE)

    def reserve(self, key: str, per_second: float) -> float:
        """Book the next slot for `key` at `per_second`; the seconds to wait before using it."""
        interval_us = max(1, round(1_000_000 / per_second))
        waited = self._reserve(keys=[f"{self.prefix}:rate:{key}"], args=[interval_us])
        return int(waited) / 1_000_000

    async def wait(self, key: str, per_second: float | None) -> float:
        """Book a slot and sleep until it comes (nothing when `per_second` is None); the seconds waited."""
        if not per_second:
            return 0.0
        delay = await asyncio.to_thread(self.reserve, key, per_second)
        if delay > 0:
            await asyncio.sleep(delay)
        return delay
