"""Small helpers for the store tests: unique numbers and ids, since a session's database is shared."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from core.phones import normalize_phone


def random_moroccan_mobile() -> str:
    """A valid Moroccan mobile in E.164, different every call (some +2126... ranges are unallocated,
    so draw until `phonenumbers` accepts one)."""
    while True:
        candidate = "+2126" + "".join(str(secrets.randbelow(10)) for _ in range(8))
        if normalize_phone(candidate, "MA") == candidate:
            return candidate


def sid(prefix: str = "SM") -> str:
    """A Twilio-like message SID."""
    return prefix + secrets.token_hex(16)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, tzinfo=UTC)
