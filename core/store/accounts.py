"""Staff accounts, API tokens (only their SHA-256 is stored) and the audit log.

Passwords are argon2 hashes. `check_password` is the costly part of a sign-in (tens of milliseconds
of CPU): it is pure, so callers run it on a thread of their own, outside any transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from core.db import api_tokens, audit_log, cases, staff
from core.records import Staff
from core.store.transactions import StoreBase, utcnow

ROLES = ("agent", "officer", "supervisor", "admin")
_hasher = PasswordHasher()


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@cache
def dummy_hash() -> str:
    """A hash of a random password, made once: what an unknown username is checked against, so that it
    costs what a known one costs."""
    return _hasher.hash(secrets.token_urlsafe(24))


def check_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(whether `password` matches, a new hash when the stored one's parameters are out of date).
    Without a hash (unknown username, no password set) the dummy hash is checked instead: same cost."""
    try:
        _hasher.verify(password_hash or dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False, None
    if not password_hash:
        return False, None
    return True, _hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None


def staff_from_row(row: Any) -> Staff:
    """A `Staff` from a `staff` row."""
    return Staff(
        id=row.id,
        username=row.username,
        role=row.role,
        administration_code=row.administration_code,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
    )


TOKEN_USE_RESOLUTION = timedelta(minutes=1)
"""How precisely a token's last use is kept."""


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

    def update_staff(self, username: str, *, role: str, administration_code: str | None, disabled: bool,
                     now: datetime | None = None) -> Staff:
        """Change a member's role, administration and whether they are disabled (the same rules as
        `add_staff`); disabling revokes their tokens. Raises ValueError on bad input or no such member."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
        if role == "officer" and not administration_code:
            raise ValueError("an officer needs an administration")
        if administration_code and self.deployment.administration(administration_code) is None:
            raise ValueError(f"unknown administration {administration_code!r}")
        now = now or utcnow()
        with self.write() as conn:
            row = conn.execute(sa.select(staff).where(staff.c.username == username)).first()
            if row is None:
                raise ValueError(f"no staff member named {username!r}")
            disabled_at = (row.disabled_at or now) if disabled else None
            row = conn.execute(sa.update(staff).where(staff.c.id == row.id).values(
                role=role, administration_code=administration_code or None, disabled_at=disabled_at,
            ).returning(*staff.c)).first()
            if disabled:
                conn.execute(sa.update(api_tokens).where(api_tokens.c.staff_id == row.id,
                                                         api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
        return staff_from_row(row)

    def set_password(self, username: str, password: str) -> None:
        """A new password for the member (an admin's reset); ValueError for a short one or no such member."""
        if len(password) < 10:
            raise ValueError("a password is at least 10 characters")
        password_hash = _hasher.hash(password)
        with self.write() as conn:
            changed = conn.execute(sa.update(staff).where(staff.c.username == username)
                                   .values(password_hash=password_hash, failed_logins=0)).rowcount
        if not changed:
            raise ValueError(f"no staff member named {username!r}")

    def all_staff(self) -> list[Staff]:
        """Every staff member, by username (the admin page)."""
        with self.read() as conn:
            return [staff_from_row(r) for r in conn.execute(sa.select(staff).order_by(staff.c.username))]

    def usernames(self, staff_ids: set[int]) -> dict[int, str]:
        """Id -> username of these members (what case lists show as the assignee)."""
        if not staff_ids:
            return {}
        with self.read() as conn:
            found = conn.execute(sa.select(staff.c.id, staff.c.username).where(staff.c.id.in_(sorted(staff_ids))))
            return {row.id: row.username for row in found}

    def get_staff(self, username: str) -> Staff | None:
        """The staff member with this username, or None."""
        with self.read() as conn:
            row = conn.execute(sa.select(staff).where(staff.c.username == username)).first()
        return staff_from_row(row) if row is not None else None

    def verify_password(self, username: str, password: str) -> Staff | None:
        """The staff member when the password matches (failed attempts are counted), else None. The hash
        is checked between two short transactions, never inside one."""
        with self.read() as conn:
            row = conn.execute(sa.select(staff).where(staff.c.username == username)).first()
        matched, fresh_hash = check_password(row.password_hash if row is not None else None, password)
        if row is None or not row.password_hash:
            return None
        values: dict[str, Any] = {"failed_logins": 0 if matched else staff.c.failed_logins + 1}
        if fresh_hash is not None:
            values["password_hash"] = fresh_hash
        with self.write() as conn:
            conn.execute(sa.update(staff).where(staff.c.id == row.id).values(values))
        return staff_from_row(row) if matched else None

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
        """The staff member a live token belongs to, or None. Its last use is recorded to the minute:
        a busy integration's every request must not cost a write."""
        if not token:
            return None
        now = now or utcnow()
        digest = token_digest(token)
        with self.read() as conn:
            found = conn.execute(
                sa.select(api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at, staff)
                .select_from(api_tokens.join(staff, staff.c.id == api_tokens.c.staff_id))
                .where(api_tokens.c.token_sha256 == digest, api_tokens.c.revoked_at.is_(None),
                       staff.c.disabled_at.is_(None))
            ).first()
        if found is None:
            return None
        self.record_use(api_tokens, found.token_id, found.last_used_at, now)
        return staff_from_row(found)

    def record_use(self, table: sa.Table, row_id: int, last_used: datetime | None, now: datetime) -> None:
        """Note that a credential (a staff token, an Open311 key) was used, to the minute: a busy
        client's every request must not cost a write."""
        if last_used is not None and last_used.tzinfo is None:
            last_used = last_used.replace(tzinfo=UTC)
        if last_used is None or now - last_used >= TOKEN_USE_RESOLUTION:
            with self.write() as conn:
                conn.execute(sa.update(table).where(table.c.id == row_id).values(last_used_at=now))

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

    def audit_entries(self, case_id: int | None = None, limit: int = 100,
                      administration: str | None = None) -> list[dict[str, Any]]:
        """Recent audit entries (of one case when given), newest first. Limited to `administration`
        when given: entries about its cases, and its own members' entries about no case."""
        query = (sa.select(audit_log, cases.c.reference).outerjoin(cases, cases.c.id == audit_log.c.case_id)
                 .order_by(audit_log.c.id.desc()).limit(limit))
        if case_id is not None:
            query = query.where(audit_log.c.case_id == case_id)
        if administration is not None:
            of_case = sa.select(cases.c.id).where(cases.c.administration_code == administration)
            of_member = sa.select(staff.c.id).where(staff.c.administration_code == administration)
            query = query.where(sa.or_(audit_log.c.case_id.in_(of_case),
                                       sa.and_(audit_log.c.case_id.is_(None), audit_log.c.staff_id.in_(of_member))))
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
