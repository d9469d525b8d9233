"""Redis clients of the gateway and its jobs, all built one way: a short timeout, and a few quick
retries on a broken connection, so a Redis restart costs a retry rather than a citizen's reply."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

RETRIES = 3
_ERRORS = [RedisConnectionError, RedisTimeoutError, ConnectionResetError]


def async_client(url: str) -> aioredis.Redis:
    """An asyncio client (bound to the loop that first uses it)."""
    return aioredis.Redis.from_url(
        url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30,
        retry=AsyncRetry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES), retry_on_error=_ERRORS,
    )


def sync_client(url: str, socket_timeout: float | None = 5) -> redis.Redis:
    """A blocking client, for the CLI and store calls that queue work (`socket_timeout=None` waits for ever)."""
    return redis.Redis.from_url(
        url, socket_timeout=socket_timeout, socket_connect_timeout=2, health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES), retry_on_error=_ERRORS,
    )
