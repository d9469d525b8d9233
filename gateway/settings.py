"""The gateway's settings, read once from the environment (all optional for a local run)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    """Where the state lives and how providers reach us. Channel credentials stay in `env`."""

    database_url: str = "sqlite:///var/hotline.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    media_dir: str = "var/media"
    public_url: str | None = None
    config_path: str | None = None
    queue_prefix: str = "hotline"
    region: str | None = None
    """`HOTLINE_DEFAULT_REGION`: the phone region, over the configuration's `default_region`."""
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    """`HOTLINE_REDIS_SENTINELS` (`host:port,host:port`): Redis is found through these Sentinels, which
    name the master (`HOTLINE_REDIS_SENTINEL_MASTER`) and fail over to a replica; the database number
    and password still come from `HOTLINE_REDIS_URL`."""
    redis_sentinel_master: str = "hotline"
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """`HOTLINE_*` variables, with the embedded defaults of DESIGN.md §5."""
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("HOTLINE_DATABASE_URL") or cls.database_url,
            redis_url=env.get("HOTLINE_REDIS_URL") or cls.redis_url,
            media_dir=env.get("HOTLINE_MEDIA_DIR") or cls.media_dir,
            public_url=(env.get("HOTLINE_PUBLIC_URL") or "").rstrip("/") or None,
            config_path=env.get("HOTLINE_CONFIG") or None,
            queue_prefix=env.get("HOTLINE_QUEUE_PREFIX") or cls.queue_prefix,
            region=(env.get("HOTLINE_DEFAULT_REGION") or "").strip().upper() or None,
            redis_sentinels=sentinel_addresses(env.get("HOTLINE_REDIS_SENTINELS") or ""),
            redis_sentinel_master=env.get("HOTLINE_REDIS_SENTINEL_MASTER") or cls.redis_sentinel_master,
            env=env,
        )


def sentinel_addresses(raw: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port` as (host, port) pairs; ValueError naming the entry that is not one."""
    found = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"HOTLINE_REDIS_SENTINELS: {entry!r} is not host:port")
        found.append((host.strip("[]"), int(port)))
    return tuple(found)
