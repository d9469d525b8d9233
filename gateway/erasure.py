"""Erasing personal data, the imperative half: the store erases the rows (`core.store.retention`);
this deletes the photo and recording files it names from the media folder and forgets the erased
citizen's dialogue sessions in Redis. Run once a minute by the gateway's sweeper for cases past their
retention (`erase_expired`), and by `hotline contact erase PHONE` for a citizen's request
(`erase_citizen`).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

import redis.asyncio as aioredis

from core.media_files import located
from core.store.retention import Erased
from gateway.dialogue.sessions import SessionStore
from gateway.runtime import Runtime

log = logging.getLogger(__name__)


def delete_files(runtime: Runtime, paths: list[str]) -> int:
    """Delete the stored files (paths relative to the media folder, or absolute); how many were there."""
    deleted = 0
    for raw in paths:
        with contextlib.suppress(FileNotFoundError):
            located(runtime.settings.media_dir, raw).unlink()
            deleted += 1
    return deleted


async def forget_sessions(runtime: Runtime, client: aioredis.Redis, erased: Erased) -> None:
    """Forget the sessions of every channel the erased addresses reach."""
    sessions = SessionStore(client, runtime.settings.queue_prefix)
    for kind, value in erased.addresses:
        for channel in runtime.channels():
            if runtime.store.address_kind_of(channel) == kind:
                await sessions.forget(channel, value)


async def erase_expired(runtime: Runtime, client: aioredis.Redis, now: datetime) -> Erased:
    """Erase the personal data of every case past its retention, its files, and the sessions of the
    reporters left with nothing else."""
    references = await runtime.db(runtime.store.expired_cases, now)
    if not references:
        return Erased()
    erased = await runtime.db(runtime.store.erase_cases, references, now)
    delete_files(runtime, erased.files)
    await forget_sessions(runtime, client, erased)
    log.info("retention: erased the personal data of %s cases", len(erased.cases))
    return erased


async def erase_citizen(runtime: Runtime, client: aioredis.Redis, phone: str, now: datetime) -> Erased | None:
    """A citizen's request to be forgotten: every case and message of theirs, their contact, files
    and sessions; audited (how many cases, never the number). None when nobody has the number."""
    erased = await runtime.db(runtime.store.erase_contact, phone, "phone", now)
    if erased is None:
        return None
    delete_files(runtime, erased.files)
    await forget_sessions(runtime, client, erased)
    await runtime.db(runtime.store.audit, None, "contact.erase", None,
                     {"cases": len(erased.cases), "files": len(erased.files), "addresses": len(erased.addresses)})
    return erased
