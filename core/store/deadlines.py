"""Deadlines that act: the sweep that reminds officers, escalates overdue cases to supervisors and
closes answered cases the citizen did not reopen; and the staff notifications it leaves (with the one
an agent gets when a supervisor steps into their conversation).

The rules are `core.lifecycle`'s (`needs_reminder`, `needs_escalation`, `needs_closing`); this module
finds the candidates with indexed queries and applies each one in its own short transaction, checked
again under the row lock, so two sweeps running at once act once; who is told is read once a sweep.
Every act is a case event by the actor `system`; a notification is one row per recipient, written in
the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core import lifecycle
from core.access import can_hold_cases
from core.db import UTCDateTime, case_events, cases, staff, staff_notifications
from core.notifications import SYSTEM_ACTOR
from core.records import CaseRecord, Staff
from core.store.accounts import staff_from_row
from core.store.cases import CasesMixin, event_values
from core.store.casework import overdue_condition

REMINDER = "reminder"
OVERDUE = "overdue"
STEP_IN = "step_in"


@dataclass
class DeadlineSweep:
    """The references each step acted on."""

    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StaffNotification:
    """What a staff member is told: about a case (a reminder, an overdue alert) or a conversation
    (a supervisor stepped in)."""

    id: int
    kind: str
    at: datetime
    read_at: datetime | None
    reference: str | None
    status: str | None
    administration_code: str | None
    answer_due_at: datetime | None
    conversation_id: int | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """The API's shape."""
        return {"id": self.id, "kind": self.kind, "at": self.at.isoformat(),
                "read": self.read_at is not None, "case": self.reference, "status": self.status,
                "administration": self.administration_code,
                "answer_due_at": self.answer_due_at.isoformat() if self.answer_due_at else None,
                "conversation": self.conversation_id, "detail": self.detail}


def _active_members(conn: Connection) -> list[Staff]:
    rows = conn.execute(sa.select(staff).where(staff.c.disabled_at.is_(None)).order_by(staff.c.id)).all()
    return [staff_from_row(r) for r in rows]


def reminder_recipients(case: CaseRecord, members: list[Staff]) -> list[Staff]:
    """Who is reminded of a case: its assignee; unassigned, the officers of its administration; with
    none, its supervisors."""
    holder = [m for m in members if m.id == case.assignee_id]
    if holder:
        return holder
    officers = [m for m in members if m.role == "officer" and m.administration_code == case.administration_code]
    return officers or escalation_recipients(case, members)


def escalation_recipients(case: CaseRecord, members: list[Staff]) -> list[Staff]:
    """Who hears that a case is overdue: the supervisors who cover its administration (theirs, and
    the deployment-wide ones); with none, the admins."""
    supervisors = [m for m in members if m.role == "supervisor" and can_hold_cases(m, case.administration_code)]
    return supervisors or [m for m in members if m.role == "admin"]


class DeadlinesMixin(CasesMixin):
    """The deadline sweep and staff notifications of the case store."""

    def sweep_deadlines(self, now: datetime, limit: int = 200) -> DeadlineSweep:
        """Remind, escalate and close what is due at `now` (at most `limit` cases of each)."""
        done = DeadlineSweep()
        with self.read() as conn:
            members = _active_members(conn)
        open_ = cases.c.status.in_(sorted(lifecycle.OPEN_STATUSES))
        days = self.deployment.reminder_days
        steps = (
            (sa.and_(open_, cases.c.reminded_at.is_(None), cases.c.answer_due_at.is_not(None),
                     cases.c.answer_due_at <= now + timedelta(days=days), cases.c.answer_due_at >= now,
                     self._halfway_passed(now)),
             lambda case: lifecycle.needs_reminder(case, now, days), self._remind, done.reminded),
            (sa.and_(cases.c.escalated_at.is_(None), overdue_condition(now)),
             lambda case: lifecycle.needs_escalation(case, now), self._escalate, done.escalated),
            (sa.and_(cases.c.status == lifecycle.ANSWERED,
                     cases.c.answered_at < now - timedelta(days=self.deployment.reopen_window_days)),
             lambda case: lifecycle.needs_closing(case, now, self.deployment.reopen_window_days),
             self._close_unreopened, done.closed),
        )
        for condition, due, act, acted in steps:
            with self.read() as conn:
                references = conn.execute(sa.select(cases.c.reference).where(condition)
                                          .order_by(cases.c.id).limit(limit)).scalars().all()
            for reference in references:
                with self.write() as conn:
                    case = self._case_where(conn, cases.c.reference == reference, lock=True)
                    if case is not None and due(case):
                        act(conn, case, now, members)
                        acted.append(reference)
        return done

    def _halfway_passed(self, now: datetime) -> Any:
        """SQL: the case is at least halfway from filing to its answer deadline (`lifecycle.reminder_time`
        never reminds earlier), as `answer_due_at + created_at <= 2 * now`. Without it the sweep's
        `limit` oldest candidates could all be cases not yet halfway, locked and looked at again every
        minute while younger ones that are due waited behind them."""
        at = sa.literal(now, UTCDateTime())
        if self._postgres:
            return cases.c.answer_due_at - at <= at - cases.c.created_at
        day = sa.func.julianday
        return day(cases.c.answer_due_at) + day(cases.c.created_at) <= 2 * day(at)

    def _remind(self, conn: Connection, case: CaseRecord, now: datetime, members: list[Staff]) -> None:
        recipients = reminder_recipients(case, members)
        conn.execute(sa.update(cases).where(cases.c.id == case.id).values(reminded_at=now))
        holder = next((m.username for m in recipients if m.id == case.assignee_id), None)
        self._record(conn, case, "reminded", now, holder, REMINDER, recipients)

    def _escalate(self, conn: Connection, case: CaseRecord, now: datetime, members: list[Staff]) -> None:
        recipients = escalation_recipients(case, members)
        conn.execute(sa.update(cases).where(cases.c.id == case.id).values(escalated_at=now))
        self._record(conn, case, "escalated", now, None, OVERDUE, recipients)

    def _close_unreopened(self, conn: Connection, case: CaseRecord, now: datetime, _members: list[Staff]) -> None:
        self._transition(conn, case, lifecycle.CLOSED, SYSTEM_ACTOR, "", now)

    def _record(self, conn: Connection, case: CaseRecord, event: str, now: datetime, target: str | None,
                kind: str, recipients: list[Staff]) -> None:
        conn.execute(sa.insert(case_events).values(
            event_values(case.id, event, None, SYSTEM_ACTOR, "", now, case.administration_code, target)))
        if recipients:
            conn.execute(sa.insert(staff_notifications),
                         [{"staff_id": m.id, "case_id": case.id, "kind": kind, "at": now} for m in recipients])

    def notifications_for(self, staff_id: int, unread_only: bool = False, limit: int = 100) -> list[StaffNotification]:
        """A member's notifications, newest first."""
        query = (sa.select(staff_notifications, cases.c.reference, cases.c.status, cases.c.administration_code,
                           cases.c.answer_due_at)
                 .outerjoin(cases, cases.c.id == staff_notifications.c.case_id)
                 .where(staff_notifications.c.staff_id == staff_id)
                 .order_by(staff_notifications.c.at.desc(), staff_notifications.c.id.desc()).limit(limit))
        if unread_only:
            query = query.where(staff_notifications.c.read_at.is_(None))
        with self.read() as conn:
            return [StaffNotification(r.id, r.kind, r.at, r.read_at, r.reference, r.status, r.administration_code,
                                      r.answer_due_at, r.conversation_id, r.detail) for r in conn.execute(query)]

    def notify_step_in(self, agent_id: int, conversation_id: int, supervisor: str, now: datetime) -> None:
        """Tell an agent that `supervisor` took over a conversation they held."""
        with self.write() as conn:
            conn.execute(sa.insert(staff_notifications).values(
                staff_id=agent_id, conversation_id=conversation_id, kind=STEP_IN, detail=supervisor[:64], at=now))

    def unread_notifications(self, staff_id: int) -> int:
        """How many of a member's notifications are unread (the console's badge)."""
        with self.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(staff_notifications).where(
                staff_notifications.c.staff_id == staff_id, staff_notifications.c.read_at.is_(None))).scalar_one()

    def mark_notifications_read(self, staff_id: int, now: datetime) -> int:
        """Mark every unread notification of the member read; how many were."""
        with self.write() as conn:
            return conn.execute(sa.update(staff_notifications).where(
                staff_notifications.c.staff_id == staff_id, staff_notifications.c.read_at.is_(None))
                .values(read_at=now)).rowcount

