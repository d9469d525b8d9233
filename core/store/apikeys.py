"""API keys of the systems that file cases over Open311 (only their SHA-256 is stored).

A key belongs to one named client (`hotline apikey add fixmystreet`), is shown once when made, and is
revoked rather than deleted, so audit entries that name it keep their meaning.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.db import api_keys
from core.store.accounts import StaffMixin, token_digest
from core.store.transactions import utcnow

KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""What a client's name may be: it is typed on a command line and written in the audit log."""
MAX_KEY_LENGTH = 128
"""Longer than any key we make: a longer one is refused without hashing it."""


class ApiKeysMixin(StaffMixin):
    """API key operations of the case store."""

    def add_api_key(self, name: str, now: datetime | None = None) -> str:
        """A new key for the client `name`, returned once; ValueError for a bad or taken name (a revoked
        key keeps its name: the audit log names it)."""
        if not KEY_NAME.fullmatch(name):
            raise ValueError("a key name is 1 to 64 letters, digits, dots, dashes or underscores")
        key = secrets.token_urlsafe(32)
        try:
            with self.write() as conn:
                conn.execute(sa.insert(api_keys).values(name=name, key_sha256=token_digest(key),
                                                        created_at=now or utcnow()))
        except IntegrityError as exc:
            raise ValueError(f"an API key named {name!r} already exists") from exc
        return key

    def revoke_api_key(self, name: str, now: datetime | None = None) -> bool:
        """Revoke the client's key; True when it was live."""
        with self.write() as conn:
            result = conn.execute(
                sa.update(api_keys)
                .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now or utcnow())
            )
        return result.rowcount > 0

    def api_key_name(self, key: str, now: datetime | None = None) -> str | None:
        """The name of the client a live key belongs to, or None. Its last use is kept to the minute, so
        a busy client's every request does not cost a write."""
        if not key or len(key) > MAX_KEY_LENGTH:
            return None
        now = now or utcnow()
        with self.read() as conn:
            found = conn.execute(
                sa.select(api_keys.c.id, api_keys.c.name, api_keys.c.last_used_at)
                .where(api_keys.c.key_sha256 == token_digest(key), api_keys.c.revoked_at.is_(None))
            ).first()
        if found is None:
            return None
        self.record_use(api_keys, found.id, found.last_used_at, now)
        return found.name
