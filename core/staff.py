"""Staff accounts, API tokens (only their SHA-256 is stored) and the audit log."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from core.db import api_tokens, audit_log, staff
from core.records import Staff
from core.storebase import StoreBase, utcnow

ROLES = ("agent", "officer", "supervisor", "admin")
_hasher = PasswordHasher()


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def staff_from_row(row: Any) -> Staff:
    """A `Staff` from a `staff` row."""
    return Staff(
        id=row.id,
        username=row.username,
        role=row.role,
        administration_code=row.administration_code,
        created_at=row.created_at,
    )


class StaffMixin(StoreBase):
    """Staff, token and audit operations of the case store."""

    def add_staff(
        self,
        username: str,
        role: str,
        administration_code: str | None = None,
        password: str | None = None,
        now: datetime | None = None,
    ) -> Staff:
        """Create a staff member; officers belong to an administration. Raises ValueError on bad input."""
        username = username.strip()
        if not username or len(username) > 64:
            raise ValueError("a username is 1 to 64 characters")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
        if role == "officer" and not administration_code:
            raise ValueError("an officer needs an administration (--administration CODE)")
        if administration_code and self.deployment.administration(administration_code) is None:
            known = ", ".join(a.code for a in self.deployment.administrations)
            raise ValueError(f"unknown administration {administration_code!r} (known: {known})")
        password_hash = _hasher.hash(password) if password else None
        try:
            with self.write() as conn:
                row = conn.execute(
                    sa.insert(staff)
                    .values(
                        username=username,
                        role=role,
                        administration_code=administration_code or None,
                        password_hash=password_hash,
                        failed_logins=0,
                        created_at=now or utcnow(),
                    )
                    .returning(*staff.c)
                ).first()
        except IntegrityError as exc:
            raise ValueError(f"a staff member named {username!r} already exists") from exc
        return staff_from_row(row)

    def get_staff(self, username: str) -> Staff | None:
        """The staff member with this username, or None."""
        with self.read() as conn:
            row = conn.execute(sa.select(staff).where(staff.c.username == username)).first()
        return staff_from_row(row) if row is not None else None

    def verify_password(self, username: str, password: str) -> Staff | None:
        """The staff member when the password matches (failed attempts are counted), else None."""
        with self.write() as conn:
            row = conn.execute(self.for_update(sa.select(staff).where(staff.c.username == username))).first()
            if row is None or not row.password_hash:
                return None
            try:
                _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                conn.execute(
                    sa.update(staff).where(staff.c.id == row.id).values(failed_logins=staff.c.failed_logins + 1)
                )
                return None
            values: dict[str, Any] = {"failed_logins": 0}
            if _hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = _hasher.hash(password)
            conn.execute(sa.update(staff).where(staff.c.id == row.id).values(values))
        return staff_from_row(row)

    def issue_token(self, username: str, now: datetime | None = None) -> str:
        """A new bearer token for the JSON API, returned once (only its SHA-256 is kept)."""
        token = secrets.token_urlsafe(32)
        with self.write() as conn:
            staff_id = conn.execute(sa.select(staff.c.id).where(staff.c.username == username)).scalar()
            if staff_id is None:
                raise LookupError(f"no staff member named {username!r}")
            conn.execute(
                sa.insert(api_tokens).values(
                    staff_id=staff_id, token_sha256=token_digest(token), created_at=now or utcnow()
                )
            )
        return token

    def staff_for_token(self, token: str, now: datetime | None = None) -> Staff | None:
        """The staff member a live token belongs to (its last use is recorded), or None."""
        if not token:
            return None
        now = now or utcnow()
        with self.write() as conn:
            token_id = conn.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.token_sha256 == token_digest(token), api_tokens.c.revoked_at.is_(None))
                .values(last_used_at=now)
                .returning(api_tokens.c.staff_id)
            ).scalar()
            if token_id is None:
                return None
            row = conn.execute(sa.select(staff).where(staff.c.id == token_id)).first()
        return staff_from_row(row) if row is not None else None

    def revoke_token(self, token: str, now: datetime | None = None) -> bool:
        """Revoke one token; True when it was live."""
        with self.write() as conn:
            result = conn.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.token_sha256 == token_digest(token), api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now or utcnow())
            )
        return result.rowcount > 0

    def revoke_tokens(self, username: str, now: datetime | None = None) -> int:
        """Revoke every live token of a staff member; how many."""
        with self.write() as conn:
            staff_id = sa.select(staff.c.id).where(staff.c.username == username).scalar_subquery()
            result = conn.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.staff_id == staff_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now or utcnow())
            )
        return result.rowcount

    def audit(
        self,
        staff_id: int | None,
        action: str,
        case_id: int | None = None,
        detail: str | dict[str, Any] = "",
        now: datetime | None = None,
    ) -> int:
        """Record who did or viewed what (a dict detail is stored as JSON); the entry id."""
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, sort_keys=True)
        with self.write() as conn:
            return conn.execute(
                sa.insert(audit_log)
                .values(staff_id=staff_id, action=action[:64], case_id=case_id, detail=text, at=now or utcnow())
                .returning(audit_log.c.id)
            ).scalar_one()

    def audit_entries(self, case_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Recent audit entries (of one case when given), newest first."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if case_id is not None:
            query = query.where(audit_log.c.case_id == case_id)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
