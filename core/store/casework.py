"""What staff do with cases beyond the lifecycle: find them (filters), transfer them, log in.

Case lists are always limited to what the viewer may see (`core.access.case_scope`); a transfer is a
`routed` status change to another administration with the reason as its note. A console sign-in
reads what it needs of the staff row (`sign_in_record`) in one short read; the password is checked
outside the store (`core.store.accounts.check_password`), and the attempts are counted by the gateway
(`gateway.staff.console.auth`), never in a transaction held across the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core import lifecycle
from core.db import cases, staff
from core.records import CaseRecord, Staff, StatusChange
from core.store.accounts import staff_from_row
from core.store.cases import CasesMixin, case_from_row
from core.store.transactions import utcnow


@dataclass(frozen=True)
class CaseFilter:
    """What a case list is narrowed to. `administration` None: every administration (admins only)."""

    administration: str | None = None
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    overdue: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    reference: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class SignInRecord:
    """What a sign-in needs of a staff row: the member and the password hash (both None for an
    unknown username; the hash None for a member without a password)."""

    staff: Staff | None
    password_hash: str | None


def _overdue(now: datetime) -> Any:
    open_ = cases.c.status.in_(sorted(lifecycle.OPEN_STATUSES))
    return sa.and_(open_, sa.or_(
        cases.c.answer_due_at < now,
        sa.and_(cases.c.status == lifecycle.RECEIVED, cases.c.routed_due_at < now),
    ))


class CaseworkMixin(CasesMixin):
    """Case lists, transfers and console logins of the case store."""

    def find_cases(self, given: CaseFilter, now: datetime | None = None) -> tuple[int, list[CaseRecord]]:
        """(how many match, the page asked for), newest first."""
        now = now or utcnow()
        conditions: list[Any] = []
        if given.administration is not None:
            conditions.append(cases.c.administration_code == given.administration)
        if given.status:
            conditions.append(cases.c.status == given.status)
        if given.category:
            conditions.append(cases.c.category_code == given.category)
        if given.channel:
            conditions.append(cases.c.origin_channel == given.channel)
        if given.overdue is True:
            conditions.append(_overdue(now))
        elif given.overdue is False:
            conditions.append(sa.not_(_overdue(now)))
        if given.created_from is not None:
            conditions.append(cases.c.created_at >= given.created_from)
        if given.created_to is not None:
            conditions.append(cases.c.created_at < given.created_to)
        if given.reference:
            conditions.append(cases.c.reference.startswith(given.reference, autoescape=True))
        where = sa.and_(sa.true(), *conditions)
        with self.read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(cases).where(where)).scalar_one()
            rows = conn.execute(
                sa.select(cases).where(where).order_by(cases.c.created_at.desc(), cases.c.id.desc())
                .limit(max(1, min(given.limit, 500))).offset(max(0, given.offset))
            ).all()
        return total, [case_from_row(r) for r in rows]

    def transfer_case(
        self, reference: str, administration: str, actor: str, reason: str, now: datetime | None = None
    ) -> StatusChange:
        """Pass the case to another administration with the reason (a `routed` event); raises on a bad
        move: no reason, no administration named, or the one that has it already."""
        if not reason.strip():
            raise lifecycle.InvalidTransition("a transfer needs a reason")
        if not administration.strip():
            raise lifecycle.InvalidTransition("a transfer needs the administration it goes to")
        current = self.get_case(reference)
        if current is not None and current.administration_code == administration:
            raise lifecycle.InvalidTransition("the case is already with this administration")
        return self.change_status(reference, lifecycle.ROUTED, actor, reason, now, administration)

    def sign_in_record(self, username: str) -> SignInRecord:
        """The staff member with this username and their password hash (a read, no lock)."""
        with self.read() as conn:
            row = conn.execute(sa.select(staff).where(staff.c.username == username)).first()
        if row is None:
            return SignInRecord(None, None)
        return SignInRecord(staff_from_row(row), row.password_hash)

    def replace_password_hash(self, staff_id: int, old_hash: str, new_hash: str) -> None:
        """Store a fresh hash of the same password (newer argon2 parameters), unless it changed meanwhile."""
        with self.write() as conn:
            conn.execute(sa.update(staff).where(staff.c.id == staff_id, staff.c.password_hash == old_hash)
                         .values(password_hash=new_hash))

    def staff_by_id(self, staff_id: int) -> Staff | None:
        """The staff member with this id, or None."""
        with self.read() as conn:
            row = conn.execute(sa.select(staff).where(staff.c.id == staff_id)).first()
        return staff_from_row(row) if row is not None else None
