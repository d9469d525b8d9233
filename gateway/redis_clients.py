"""Redis clients of the gateway and its jobs, all built one way: a short timeout, and a few quick
retries on a broken connection, so a Redis restart costs a retry rather than a citizen's reply.

With Sentinels configured (`Settings.redis_sentinels`) the clients ask them for the master and, when
it fails over, reconnect to the replica they promoted: sessions, locks and queues carry on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from redis.sentinel import Sentinel

from gateway.settings import Settings

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


def _through_sentinels(settings: Settings) -> dict[str, Any]:
    """What a master found through the Sentinels takes from `HOTLINE_REDIS_URL`: database, password."""
    parts = urlsplit(settings.redis_url)
    database = parts.path.lstrip("/")
    return {"db": int(database) if database.isdigit() else 0, "password": parts.password,
            "socket_timeout": 5, "socket_connect_timeout": 2}


def async_client_for(settings: Settings) -> aioredis.Redis:
    """The asyncio client of a deployment: at `HOTLINE_REDIS_URL`, or the master its Sentinels name."""
    if not settings.redis_sentinels:
        return async_client(settings.redis_url)
    sentinels = AsyncSentinel(list(settings.redis_sentinels), socket_timeout=2)
    return sentinels.master_for(settings.redis_sentinel_master, health_check_interval=30,
                                retry=AsyncRetry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
                                retry_on_error=_ERRORS, **_through_sentinels(settings))


def sync_client_for(settings: Settings, socket_timeout: float | None = 5) -> redis.Redis:
    """The blocking client of a deployment: at `HOTLINE_REDIS_URL`, or the master its Sentinels name."""
    if not settings.redis_sentinels:
        return sync_client(settings.redis_url, socket_timeout)
    sentinels = Sentinel(list(settings.redis_sentinels), socket_timeout=2)
    options = {**_through_sentinels(settings), "socket_timeout": socket_timeout}
    return sentinels.master_for(settings.redis_sentinel_master, health_check_interval=30,
                                retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
                                retry_on_error=_ERRORS, **options)
