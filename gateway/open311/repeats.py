"""A client sending the same request again (its answer was lost, it retried) gets the same case.

The spec has no idempotency key, so a request is known by what it says: the API key's name and every
field but the key, hashed. The first one claims that hash in Redis and files the case; a repeat within a
day is answered with the reference filed, and one arriving while the first is still being filed waits
for it a few seconds. When Redis is away the request is filed anyway: nothing lost comes before nothing
twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

import redis.asyncio as aioredis
from multidict import MultiMapping
from redis.exceptions import RedisError

from gateway.open311.queries import Refusal

log = logging.getLogger(__name__)

REMEMBERED_SECONDS = 24 * 3600
"""How long a filed request's answer is given again to a repeat."""
CLAIM_SECONDS = 60
"""How long a request being filed holds its claim (a gateway that died while filing lets go after it)."""
WAIT_SECONDS = 5.0
"""How long a repeat waits for the first to be filed before it is asked to try again."""


def fingerprint(client: str, form: MultiMapping[str]) -> str:
    """The hash a request is known by: the client, and its fields but the key, in order."""
    fields = sorted((key, value) for key, value in form.items() if key != "api_key")
    return hashlib.sha256(json.dumps([client, fields], ensure_ascii=False).encode("utf-8")).hexdigest()


class Repeats:
    """The requests filed lately, in Redis, by fingerprint."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, fingerprint: str) -> str:
        return f"{self.prefix}:open311:filed:{fingerprint}"

    async def claim(self, fingerprint: str) -> str | None:
        """The reference already filed for this request, or None when this one is to file it (claimed)."""
        key = self._key(fingerprint)
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        try:
            while True:
                if await self.client.set(key, "", nx=True, ex=CLAIM_SECONDS):
                    return None
                reference = await self.client.get(key)
                if reference:
                    return reference.decode() if isinstance(reference, bytes) else str(reference)
                if asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.1)
        except (RedisError, OSError) as exc:
            log.warning("open311: repeats not checked (%s); filing anyway", exc)
            return None
        raise Refusal(400, "the same request is being filed; send it again in a minute")

    async def filed(self, fingerprint: str, reference: str) -> None:
        """Remember the reference this request filed, for its repeats."""
        try:
            await self.client.set(self._key(fingerprint), reference, ex=REMEMBERED_SECONDS)
        except (RedisError, OSError) as exc:
            log.warning("open311: the reference %s is not remembered for repeats (%s)", reference, exc)

    async def release(self, fingerprint: str) -> None:
        """Let go of a claim whose filing failed, so the client's retry files it."""
        try:
            await self.client.delete(self._key(fingerprint))
        except (RedisError, OSError) as exc:
            log.warning("open311: a failed filing's claim stays until it runs out (%s)", exc)
