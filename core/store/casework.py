"""What staff do with cases beyond the lifecycle: find them (filters, free text), transfer them to
another administration, circulate them between its services, assign them, log in.

Case lists are always limited to what the viewer may see (`core.access.case_scope`); a transfer is a
`routed` status change to another administration with the reason as its note; a circulation (event
`circulated`) and an assignment (event `assigned`) name what they moved the case to in the event's
`target`. Free text is searched with the database's own index: PostgreSQL full text (`simple`
configuration: no stemming, which suits Arabic, Darija and French alike), SQLite FTS5; every word
given must start a word of the description or the place. A console sign-in
reads what it needs of the staff row (`sign_in_record`) in one short read; the password is checked
outside the store (`core.store.accounts.check_password`), and the attempts are counted by the gateway
(`gateway.staff.console.auth`), never in a transaction held across the check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core import access, lifecycle
from core.db import case_events, cases, staff
from core.records import CaseEvent, CaseRecord, Staff, StatusChange
from core.store.accounts import staff_from_row
from core.store.cases import CasesMixin, case_from_row, event_values
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
    service: str | None = None
    assignee: str | None = None
    """The username of who holds the cases."""
    unassigned: bool = False
    text: str | None = None
    """Words the description or the place must contain (each as the start of a word)."""
    escalated: bool | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class Workload:
    """What one member holds: open cases, and how many of them are past due."""

    staff: Staff
    open: int
    overdue: int


@dataclass(frozen=True)
class SignInRecord:
    """What a sign-in needs of a staff row: the member and the password hash (both None for an
    unknown username; the hash None for a member without a password)."""

    staff: Staff | None
    password_hash: str | None


def overdue_condition(now: datetime) -> Any:
    """SQL: an open case past its answer deadline, or still unrouted past the routing one
    (`lifecycle.is_overdue` over the table)."""
    open_ = cases.c.status.in_(sorted(lifecycle.OPEN_STATUSES))
    return sa.and_(open_, sa.or_(
        cases.c.answer_due_at < now,
        sa.and_(cases.c.status == lifecycle.RECEIVED, cases.c.routed_due_at < now),
    ))


COUNT_CAP = 1000
"""A list counts its matches up to this many: past it, "more than 1,000" (exact totals of a million
cases are the statistics' job; counting them for every page would cost more than the page)."""

SEARCH_WORDS = 8
"""At most this many words of a search are used (each up to 40 characters)."""
_WORD = re.compile(r"[^\W_]+")


def search_words(text: str) -> list[str]:
    """The words of a free-text search: letters and digits only (no query syntax gets through)."""
    return [word[:40] for word in _WORD.findall(text)][:SEARCH_WORDS]


def _searching(words: list[str], postgres: bool) -> Any:
    if postgres:
        return sa.text("to_tsvector('simple', coalesce(cases.description, '') || ' ' || "
                       "coalesce(cases.location_text, '')) @@ to_tsquery('simple', :words)").bindparams(
            words=" & ".join(f"{word}:*" for word in words))
    matching = sa.text("SELECT rowid FROM cases_search WHERE cases_search MATCH :words").bindparams(
        words=" ".join(f'"{word}"*' for word in words))
    return cases.c.id.in_(matching.columns(sa.column("rowid", sa.Integer)))


def _escalated() -> Any:
    return sa.and_(cases.c.escalated_at.is_not(None), cases.c.status.in_(sorted(lifecycle.OPEN_STATUSES)))


class CaseworkMixin(CasesMixin):
    """Case lists, transfers and console logins of the case store."""

    def find_cases(self, given: CaseFilter, now: datetime | None = None) -> tuple[int, list[CaseRecord]]:
        """(how many match, up to `COUNT_CAP` + 1: more means "more than the cap"; the page asked
        for), newest first."""
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
            conditions.append(overdue_condition(now))
        elif given.overdue is False:
            conditions.append(sa.not_(overdue_condition(now)))
        if given.created_from is not None:
            conditions.append(cases.c.created_at >= given.created_from)
        if given.created_to is not None:
            conditions.append(cases.c.created_at < given.created_to)
        if given.reference:
            conditions.append(cases.c.reference.startswith(given.reference, autoescape=True))
        if given.service:
            conditions.append(cases.c.service_code == given.service)
        if given.assignee is not None:
            conditions.append(cases.c.assignee_id.in_(sa.select(staff.c.id).where(staff.c.username == given.assignee)))
        if given.unassigned:
            conditions.append(cases.c.assignee_id.is_(None))
        if given.escalated is True:
            conditions.append(_escalated())
        elif given.escalated is False:
            conditions.append(sa.not_(_escalated()))
        words = search_words(given.text or "")
        if words:
            conditions.append(_searching(words, self._postgres))
        where = sa.and_(sa.true(), *conditions)
        newest = sa.select(cases.c.id).where(where).order_by(cases.c.created_at.desc(), cases.c.id.desc())
        with self.read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(
                newest.limit(COUNT_CAP + 1).subquery())).scalar_one()
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
            raise lifecycle.InvalidTransition("a transfer needs a reason", "reason_required")
        if not administration.strip():
            raise lifecycle.InvalidTransition("a transfer needs the administration it goes to",
                                              "administration_required")
        current = self.get_case(reference)
        if current is not None and current.administration_code == administration:
            raise lifecycle.InvalidTransition("the case is already with this administration", "same_administration")
        return self.change_status(reference, lifecycle.ROUTED, actor, reason, now, administration)

    def circulate_case(self, reference: str, service: str, actor: str, reason: str,
                       now: datetime | None = None) -> CaseEvent:
        """Pass the case to another service of its administration with the reason (event `circulated`,
        the service as its target); whoever held it lets it go. Raises on a bad move: no reason, a
        service the administration does not have, the one that has it already, a case that is answered."""
        if not reason.strip():
            raise lifecycle.InvalidTransition("a circulation needs a reason", "reason_required")
        now = now or utcnow()
        with self.write() as conn:
            case = self._locked(conn, reference)
            if case.status not in lifecycle.OPEN_STATUSES:
                raise lifecycle.InvalidTransition(f"a {case.status} case is not circulated any more", "not_open")
            administration = self.deployment.administration(case.administration_code)
            if administration is None:
                raise lifecycle.InvalidTransition("the case is not routed to an administration yet", "not_routed")
            if administration.service(service) is None:
                known = ", ".join(s.code for s in administration.services) or "none"
                raise lifecycle.InvalidTransition(f"{administration.code} has no service {service!r} (known: {known})",
                                                  "unknown_service")
            if service == case.service_code:
                raise lifecycle.InvalidTransition("the case is already with this service", "same_service")
            conn.execute(sa.update(cases).where(cases.c.id == case.id)
                         .values(service_code=service, assignee_id=None, updated_at=now))
            return self._event(conn, case, "circulated", actor, reason, now, service)

    def assign_case(self, reference: str, assignee: str, actor: str, note: str = "",
                    now: datetime | None = None) -> CaseEvent:
        """Give the case to an officer or supervisor of its administration (event `assigned`, their
        username as its target). Raises `InvalidTransition` for someone who may not hold it (another
        administration, an agent, a disabled member) or a case that is no longer open."""
        now = now or utcnow()
        with self.write() as conn:
            case = self._locked(conn, reference)
            row = conn.execute(sa.select(staff).where(staff.c.username == assignee)).first()
            member = staff_from_row(row) if row is not None else None
            if member is None or member.disabled_at is not None:
                raise lifecycle.InvalidTransition(f"no active staff member {assignee!r}", "unknown_member")
            if not access.can_hold_cases(member, case.administration_code):
                raise lifecycle.InvalidTransition(f"{assignee} cannot hold this administration's cases", "cannot_hold")
            if case.status not in lifecycle.OPEN_STATUSES:
                raise lifecycle.InvalidTransition(f"a {case.status} case is not assigned any more", "not_open")
            if case.assignee_id == member.id:
                raise lifecycle.InvalidTransition(f"{assignee} already holds the case", "already_holds")
            conn.execute(sa.update(cases).where(cases.c.id == case.id).values(assignee_id=member.id, updated_at=now))
            return self._event(conn, case, "assigned", actor, note, now, member.username)

    def _event(self, conn: Connection, case: CaseRecord, kind: str, actor: str, note: str, now: datetime,
               target: str | None) -> CaseEvent:
        values = event_values(case.id, kind, None, actor, note, now, case.administration_code, target)
        event_id = conn.execute(sa.insert(case_events).values(values).returning(case_events.c.id)).scalar_one()
        return CaseEvent(id=event_id, kind=kind, status=None, actor=actor, note=values["note"], at=now,
                         administration_code=case.administration_code, notified_at=now, target=target)

    def workload(self, administration: str | None, now: datetime | None = None) -> list[Workload]:
        """Open cases per member who may hold `administration`'s cases (None: every administration's
        members), with how many of them are overdue; members holding none are listed too."""
        now = now or utcnow()
        members = sa.select(staff).where(staff.c.role.in_(("officer", "supervisor")), staff.c.disabled_at.is_(None))
        if administration is not None:
            members = members.where(staff.c.administration_code == administration)
        open_ = cases.c.status.in_(sorted(lifecycle.OPEN_STATUSES))
        held = (sa.select(cases.c.assignee_id, sa.func.count().label("open"),
                          sa.func.sum(sa.case((overdue_condition(now), 1), else_=0)).label("overdue"))
                .where(open_, cases.c.assignee_id.is_not(None)).group_by(cases.c.assignee_id))
        with self.read() as conn:
            counts = {r.assignee_id: (r.open, int(r.overdue or 0)) for r in conn.execute(held)}
            rows = conn.execute(members.order_by(staff.c.username)).all()
        return [Workload(staff_from_row(r), *counts.get(r.id, (0, 0))) for r in rows]

    def sign_in_record(self, username: str) -> SignInRecord:
        """The staff member with this username and their password hash (a read, no lock)."""
        with self.read() as conn:
            row = conn.execute(sa.select(staff).where(staff.c.username == username)).first()
        if row is None or row.disabled_at is not None:
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
