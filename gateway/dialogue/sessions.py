"""Dialogue sessions in Redis, one per (channel, contact), behind a per-contact lock.

The lock is what makes one contact's messages go through the dialogue one at a time, in every
gateway and worker process. Taking the lock and reading the session is one Lua call; saving the
session and releasing the lock is another, which saves only while the lock is still ours; the same
call keeps the set of sessions left silent mid-submission (`idle_since`) up to date for the reminders.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis

from conversations.model import Session
from conversations.slots import DRAFTING

_ACQUIRE = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('get', KEYS[2])}
end
return {0, false}
"""
_SAVE_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
  redis.call('del', KEYS[1])
  if ARGV[5] == '' then redis.call('zrem', KEYS[3], ARGV[4]) else redis.call('zadd', KEYS[3], ARGV[5], ARGV[4]) end
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


WATCHED_STATES = DRAFTING
"""States where a silent citizen gets a reminder, then a person (see `conversations.events.on_idle`)."""


def _idle_score(session: Session) -> str:
    """The session's score in the idle set: its last citizen message time, or '' to leave the set."""
    if session.state in WATCHED_STATES and session.updated_at is not None:
        return repr(session.updated_at.timestamp())
    return ""


class ContactBusy(RuntimeError):
    """Another process held the contact's lock for longer than we could wait."""


@dataclass
class LockedSession:
    """A session loaded under the contact's lock; set `changed` to store it when the lock is released."""

    session: Session
    changed: bool = False


class SessionStore:
    """Sessions and per-contact locks in Redis."""

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str = "hotline",
        ttl_seconds: int = 30 * 24 * 3600,
        lock_ms: int = 15_000,
        wait_seconds: float = 10.0,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.lock_ms = lock_ms
        self.wait_seconds = wait_seconds
        self._acquire = client.register_script(_ACQUIRE)
        self._save_release = client.register_script(_SAVE_RELEASE)
        self._release = client.register_script(_RELEASE)

    def _keys(self, channel: str, contact: str) -> tuple[str, str]:
        return f"{self.prefix}:lock:{channel}:{contact}", f"{self.prefix}:session:{channel}:{contact}"

    @asynccontextmanager
    async def locked(self, channel: str, contact: str) -> AsyncIterator[LockedSession]:
        """Hold the contact's lock while the block runs; the session is stored when `changed` is set."""
        lock_key, session_key = self._keys(channel, contact)
        token = secrets.token_hex(8)
        raw = await self._take(lock_key, session_key, token)
        held = LockedSession(Session.from_json(json.loads(raw) if raw else None))
        held_token = token
        try:
            yield held
            if held.changed:
                stored = await self._save_release(
                    keys=[lock_key, session_key, self.idle_key],
                    args=[held_token, json.dumps(held.session.to_json(), ensure_ascii=False), self.ttl_seconds,
                          f"{channel}|{contact}", _idle_score(held.session)],
                )
                if not stored:
                    raise ContactBusy(f"lock on {channel}:{contact} expired before the session was saved")
                held_token = ""
        finally:
            if held_token:
                await self._release(keys=[lock_key], args=[held_token])

    async def _take(self, lock_key: str, session_key: str, token: str) -> bytes | str | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        delay = 0.002
        while True:
            acquired, raw = await self._acquire(keys=[lock_key, session_key], args=[token, self.lock_ms])
            if acquired:
                return raw
            if loop.time() >= deadline:
                raise ContactBusy(f"{lock_key} is held by another process")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    @property
    def idle_key(self) -> str:
        """The sorted set of sessions mid-submission, scored by the citizen's last message time."""
        return f"{self.prefix}:idle"

    async def idle_since(self, before: datetime, limit: int = 200) -> list[tuple[str, str]]:
        """(channel, contact) of sessions mid-submission whose citizen has been silent since before `before`."""
        members = await self.client.zrangebyscore(self.idle_key, "-inf", before.timestamp(), start=0, num=limit)
        found = []
        for member in members:
            channel, _, contact = (member.decode() if isinstance(member, bytes) else member).partition("|")
            found.append((channel, contact))
        return found

    async def forget_idle(self, channel: str, contact: str) -> None:
        """Stop watching a session for silence."""
        await self.client.zrem(self.idle_key, f"{channel}|{contact}")

    async def forget(self, channel: str, contact: str) -> None:
        """Drop a citizen's session (their data is being erased): the next message starts afresh."""
        await self.client.delete(self._keys(channel, contact)[1])
        await self.forget_idle(channel, contact)

    async def peek(self, channel: str, contact: str) -> Session:
        """The stored session without locking (for display only)."""
        raw = await self.client.get(self._keys(channel, contact)[1])
        return Session.from_json(json.loads(raw) if raw else None)
