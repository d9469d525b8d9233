"""Work lanes in Redis: what the worker has to do, fair per contact, replies first, leased, never twice.

An *item* is one piece of work, named by kind and id: `m:42` sends outbound message 42, `n:7:REF` tells
the citizen of case REF's status event 7, `d:9` downloads attachment 9, `f:SM…` looks at a failed
delivery. Each item lives in one *lane*, a FIFO list whose items are done one at a time and in order:
every message to one citizen on one channel shares a lane, so one citizen's burst waits behind itself
and never in front of anybody else (courier's fairness), and their messages arrive in the order given.

Keys, under `{prefix}:out`:
- `items` hash, item -> `priority|enqueued_ms|lane`: an item is queued at most once (`HSETNX`), so
  queueing it again (the sweeper, a retry, a second request) changes nothing: one job per item, ever;
- `lane:{lane}` list: the lane's items, its head is the one being worked on;
- `ready:{priority}` sorted sets, lane -> when it may be worked on next (ms): a lane is in at most one
  of them, by the priority of its head; the worker takes `replies`, then `media`, then `bulk`;
- `busy` sorted set, lane -> lease expiry, and `held` hash, lane -> the claim's token: a claim is a
  lease. A worker that dies loses its lanes when the lease expires (`reap`) and the head is worked on
  again; a late answer from the dead worker's claim is refused (its token no longer matches);
- `gate:{key}` sorted sets and `gates`: lanes waiting for a sender's pace (WhatsApp's 10 a second per
  number), replies first then by age, let through one at a time at the sender's rate (`pump`), so a
  backlog for one sender costs one Redis step per message and never delays the others;
- `pause:{lane}` keys: when an emptied lane may send again (a citizen's pace outlives their lane);
- `age` sorted set, item -> enqueued ms (queue depth and age of the oldest item, for `/metrics`);
- `retries`, `crashes`, `booked` hashes: per item, the retries asked for, the unexpected failures
  (three and the item is quarantined), and a sender slot already booked;
- `wake` list: a nudge to a worker blocked waiting for work.
Redis' own clock is not used here: times are the callers' (ms), so tests and workers agree.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

PRIORITIES = ("replies", "media", "bulk")
"""In the order a worker serves them."""
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}

_ENQUEUE = """
local p = ARGV[1]
local now = tonumber(ARGV[2])
local added = 0
for i = 3, #ARGV, 4 do
  local item, pri, lane, due = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  if redis.call('hsetnx', p .. ':items', item, pri .. '|' .. now .. '|' .. lane) == 1 then
    added = added + 1
    local lk = p .. ':lane:' .. lane
    redis.call('rpush', lk, item)
    redis.call('zadd', p .. ':age', now, item)
    if redis.call('llen', lk) == 1 and not redis.call('zscore', p .. ':busy', lane) then
      local paused = tonumber(redis.call('get', p .. ':pause:' .. lane) or '0')
      redis.call('zadd', p .. ':ready:' .. pri, math.max(due, paused), lane)
    end
  end
end
if added > 0 then
  redis.call('lpush', p .. ':wake', '1')
  redis.call('ltrim', p .. ':wake', 0, 0)
end
return added
"""

_HEAD_PRIORITY = """
local function head_priority(p, lane)
  local head = redis.call('lindex', p .. ':lane:' .. lane, 0)
  if not head then return nil end
  local v = redis.call('hget', p .. ':items', head)
  if not v then return 'bulk' end
  return string.match(v, '^([^|]*)|')
end
local function release(p, lane, due, now)
  redis.call('zrem', p .. ':busy', lane)
  redis.call('hdel', p .. ':held', lane)
  local pri = head_priority(p, lane)
  if pri then
    redis.call('zadd', p .. ':ready:' .. pri, due, lane)
    redis.call('lpush', p .. ':wake', '1')
    redis.call('ltrim', p .. ':wake', 0, 0)
  elseif now and due > now then
    redis.call('set', p .. ':pause:' .. lane, tostring(due), 'PX', due - now)
  end
end
"""

_CLAIM = """
local p = ARGV[1]
local now = tonumber(ARGV[2])
local room = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local token = ARGV[5]
local out = {}
for j = 6, #ARGV do
  if room <= 0 then break end
  local ready = p .. ':ready:' .. ARGV[j]
  local lanes = redis.call('zrangebyscore', ready, '-inf', now, 'LIMIT', 0, room)
  for _, lane in ipairs(lanes) do
    redis.call('zrem', ready, lane)
    local head = redis.call('lindex', p .. ':lane:' .. lane, 0)
    if head then
      redis.call('zadd', p .. ':busy', now + lease, lane)
      redis.call('hset', p .. ':held', lane, token)
      out[#out + 1] = lane
      out[#out + 1] = head
      room = room - 1
    end
  end
end
local next_due = -1
for j = 6, #ARGV do
  local first = redis.call('zrange', p .. ':ready:' .. ARGV[j], 0, 0, 'WITHSCORES')
  if first[2] and (next_due < 0 or tonumber(first[2]) < next_due) then next_due = tonumber(first[2]) end
end
local gate = redis.call('zrange', p .. ':gates', 0, 0, 'WITHSCORES')
if gate[2] and (next_due < 0 or tonumber(gate[2]) < next_due) then next_due = tonumber(gate[2]) end
table.insert(out, 1, tostring(next_due))
return out
"""

_ACK = _HEAD_PRIORITY + """
local p, lane, token, item, due, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
if redis.call('hget', p .. ':held', lane) ~= token then return 0 end
local lk = p .. ':lane:' .. lane
if redis.call('lindex', lk, 0) == item then redis.call('lpop', lk) else redis.call('lrem', lk, 1, item) end
redis.call('hdel', p .. ':items', item)
redis.call('zrem', p .. ':age', item)
redis.call('hdel', p .. ':retries', item)
redis.call('hdel', p .. ':crashes', item)
redis.call('hdel', p .. ':booked', item)
release(p, lane, due, now)
return 1
"""

_DEFER = _HEAD_PRIORITY + """
local p, lane, token, due = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if redis.call('hget', p .. ':held', lane) ~= token then return 0 end
release(p, lane, due)
return 1
"""

_PARK = """
local p, lane, token, gate, score, interval, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if redis.call('hget', p .. ':held', lane) ~= token then return 0 end
redis.call('zrem', p .. ':busy', lane)
redis.call('hdel', p .. ':held', lane)
redis.call('zadd', p .. ':gate:' .. gate, score, lane)
redis.call('hset', p .. ':gate_interval', gate, interval)
redis.call('zadd', p .. ':gates', 'NX', tonumber(now) + tonumber(interval), gate)
return 1
"""

_PUMP = _HEAD_PRIORITY + """
local p, now = ARGV[1], tonumber(ARGV[2])
local moved = 0
for _, gate in ipairs(redis.call('zrangebyscore', p .. ':gates', '-inf', now, 'LIMIT', 0, 100)) do
  local popped = redis.call('zpopmin', p .. ':gate:' .. gate)
  if popped[1] then
    local pri = head_priority(p, popped[1])
    if pri then
      redis.call('zadd', p .. ':ready:' .. pri, now, popped[1])
      moved = moved + 1
    end
  end
  if redis.call('zcard', p .. ':gate:' .. gate) > 0 then
    local interval = tonumber(redis.call('hget', p .. ':gate_interval', gate) or '100')
    redis.call('zadd', p .. ':gates', now + interval, gate)
  else
    redis.call('zrem', p .. ':gates', gate)
  end
end
return moved
"""

_REAP = _HEAD_PRIORITY + """
local p, now = ARGV[1], tonumber(ARGV[2])
local lanes = redis.call('zrangebyscore', p .. ':busy', '-inf', now, 'LIMIT', 0, 1000)
for _, lane in ipairs(lanes) do release(p, lane, now) end
return #lanes
"""

_RESERVE = """
local key, interval, horizon, now = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('get', key) or '0')
local start = math.max(tat, now)
if start - now > horizon then return -1 end
redis.call('set', key, tostring(start + interval), 'PX', math.floor(start + interval - now) + 1000)
return start - now
"""


def now_ms() -> int:
    """Wall-clock milliseconds: the lanes' time (workers on several machines agree through NTP)."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Work:
    """One item to queue: what, in which lane, at which priority, not before `due_ms`."""

    item: str
    lane: str
    priority: str
    due_ms: int = 0


@dataclass(frozen=True)
class Claim:
    """A lane taken by a worker for the lease: its head item, and the token that proves the claim."""

    lane: str
    item: str
    token: str


def send_work(message_id: int, channel: str, sender: str, recipient: str, priority: str) -> Work:
    """Sending one outbound message: its lane is the (channel, our number, citizen) conversation."""
    return Work(f"m:{message_id}", f"s|{channel}|{sender}|{recipient}", priority)


def notice_work(reference: str, event_id: int) -> Work:
    """Telling a citizen of a status event: one lane per case, so its notices go in order."""
    return Work(f"n:{event_id}:{reference}", f"n|{reference}", "bulk")


def download_work(attachment_id: int) -> Work:
    """Downloading one attachment."""
    return Work(f"d:{attachment_id}", f"d|{attachment_id}", "media")


def fallback_work(provider_message_id: str) -> Work:
    """Looking at a failed delivery report (a status update may go again by SMS)."""
    return Work(f"f:{provider_message_id}", f"f|{provider_message_id}", "bulk")


class WorkLanes:
    """The lanes over one Redis client, blocking or asyncio: with `redis.asyncio` every method returns
    an awaitable, with `redis.Redis` its value (the CLI and the tests' helpers queue work blocking)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = f"{prefix}:out"
        self._enqueue = client.register_script(_ENQUEUE)
        self._claim = client.register_script(_CLAIM)
        self._ack = client.register_script(_ACK)
        self._defer = client.register_script(_DEFER)
        self._park = client.register_script(_PARK)
        self._pump = client.register_script(_PUMP)
        self._reap = client.register_script(_REAP)
        self._reserve = client.register_script(_RESERVE)

    def enqueue(self, works: list[Work], at_ms: int | None = None) -> Any:
        """Queue items (those already queued are left as they are); how many were new."""
        now = at_ms if at_ms is not None else now_ms()
        args: list[Any] = [self.prefix, now]
        for work in works:
            if work.priority not in PRIORITY_RANK:
                raise ValueError(f"unknown priority {work.priority!r}")
            args += [work.item, work.priority, work.lane, max(work.due_ms, 0)]
        return self._enqueue(args=args)

    def claim(self, room: int, lease_ms: int, at_ms: int | None = None) -> Any:
        """Take up to `room` due lanes, replies first; `(claims, next_due_ms or None)`."""
        token = secrets.token_hex(8)
        raw = self._claim(args=[self.prefix, at_ms if at_ms is not None else now_ms(), room, lease_ms, token,
                                *PRIORITIES])
        if hasattr(raw, "__await__"):
            return _awaited_claims(raw, token)
        return _claims(raw, token)

    def ack(self, claim: Claim, due_ms: int | None = None) -> Any:
        """The head item is done; the lane's next item may go at `due_ms` (now by default). 0 when
        the lease was lost (another worker took the lane over)."""
        now = now_ms()
        return self._ack(args=[self.prefix, claim.lane, claim.token, claim.item,
                               due_ms if due_ms is not None else now, now])

    def defer(self, claim: Claim, due_ms: int, client: Any = None) -> Any:
        """Give the lane back, its head to be worked on again at `due_ms` (a retry, a paced send);
        `client` a pipeline to make it part of a transaction."""
        return self._defer(args=[self.prefix, claim.lane, claim.token, due_ms], client=client)

    def park(self, claim: Claim, gate: str, interval_ms: int, priority: str, enqueued_ms: int = 0,
             at_ms: int | None = None) -> Any:
        """Give the lane back to wait at a sender's gate, let through at one lane per `interval_ms`."""
        score = PRIORITY_RANK.get(priority, len(PRIORITIES)) * 10**13 + enqueued_ms
        return self._park(args=[self.prefix, claim.lane, claim.token, gate, score, max(1, interval_ms),
                                at_ms if at_ms is not None else now_ms()])

    def pump(self, at_ms: int | None = None) -> Any:
        """Let one waiting lane through each gate whose turn has come; how many."""
        return self._pump(args=[self.prefix, at_ms if at_ms is not None else now_ms()])

    def reap(self, at_ms: int | None = None) -> Any:
        """Give back the lanes whose lease expired (their worker died); how many."""
        return self._reap(args=[self.prefix, at_ms if at_ms is not None else now_ms()])

    def reserve(self, key: str, per_second: float, horizon_ms: int, at_ms: int | None = None) -> Any:
        """Book the next slot of `key`'s pace: ms to wait for it, or -1 when it is further than
        `horizon_ms` ahead (the caller then waits at the gate instead of booking far ahead)."""
        interval = max(1, round(1000 / per_second))
        return self._reserve(keys=[f"{self.prefix}:pace:{key}"],
                             args=[interval, horizon_ms, at_ms if at_ms is not None else now_ms()])

    def key(self, name: str) -> str:
        """One of the lanes' keys: `items`, `age`, `wake`, or a per-item hash (`retries`, `crashes`,
        `booked`)."""
        return f"{self.prefix}:{name}"


def _claims(raw: list[Any], token: str) -> tuple[list[Claim], int | None]:
    values = [v.decode() if isinstance(v, bytes) else str(v) for v in raw]
    next_due = int(float(values[0]))
    claims = [Claim(values[i], values[i + 1], token) for i in range(1, len(values) - 1, 2)]
    return claims, (next_due if next_due >= 0 else None)


async def _awaited_claims(raw: Any, token: str) -> tuple[list[Claim], int | None]:
    return _claims(await raw, token)
