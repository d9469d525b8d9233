"""The case lifecycle: statuses, allowed transitions, the reopen window and deadlines. Pure functions.

received -> routed -> in_progress -> answered -> closed; answered/closed -> reopened -> in_progress;
rejected (with the reason) -> closed. Before the answer, a case may be routed again (a transfer to
another administration, as cases circulate in the communes). `answered` and `rejected` need a
written note: the reasoned answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from core.config import Category, Deployment

RECEIVED = "received"
ROUTED = "routed"
IN_PROGRESS = "in_progress"
ANSWERED = "answered"
REJECTED = "rejected"
CLOSED = "closed"
REOPENED = "reopened"

KINDS = ("complaint", "observation", "suggestion")
"""What a citizen may report; statistics count each kind apart."""

STATUSES: tuple[str, ...] = (RECEIVED, ROUTED, IN_PROGRESS, ANSWERED, REJECTED, CLOSED, REOPENED)

TRANSITIONS: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({ROUTED, REJECTED}),
    ROUTED: frozenset({ROUTED, IN_PROGRESS, REJECTED}),
    IN_PROGRESS: frozenset({ROUTED, ANSWERED, REJECTED}),
    ANSWERED: frozenset({CLOSED, REOPENED}),
    CLOSED: frozenset({REOPENED}),
    REOPENED: frozenset({ROUTED, IN_PROGRESS, ANSWERED, REJECTED}),
    REJECTED: frozenset({CLOSED}),
}

FIRST_ANSWERS = frozenset({ANSWERED, REJECTED})
"""A reasoned answer: the first one makes a case processed (statistics)."""

NOTE_REQUIRED = FIRST_ANSWERS
"""Statuses that need a written note (the reasoned answer, or why the case is out of scope)."""

OPEN_STATUSES = frozenset({RECEIVED, ROUTED, IN_PROGRESS, REOPENED})
"""Statuses in which the administration still owes the citizen an answer."""

RATEABLE_STATUSES = frozenset({ANSWERED, CLOSED})
TRACKED_STATUSES = OPEN_STATUSES | {ANSWERED}
"""A citizen's cases listed when they ask where their complaint is: open, or answered and waiting for
their rating or reopening."""


class InvalidTransition(ValueError):
    """A change the case rules do not allow; `key` names the refusal for the console's catalog
    (`refused_<key>`), the message explains it in English for the API and logs."""

    def __init__(self, message: str, key: str = "not_allowed") -> None:
        super().__init__(message)
        self.key = key


class _Dated(Protocol):
    """What `is_overdue` needs of a case."""

    status: str
    routed_due_at: datetime | None
    answer_due_at: datetime | None


def allowed_targets(current: str) -> frozenset[str]:
    """The statuses a case in `current` may move to."""
    return TRANSITIONS.get(current, frozenset())


def check_transition(current: str, new: str, note: str | None = None) -> None:
    """Raise `InvalidTransition` unless `current -> new` is allowed (with a note where one is needed)."""
    if new not in STATUSES:
        raise InvalidTransition(f"unknown status {new!r} (statuses: {', '.join(STATUSES)})", "unknown_status")
    allowed = allowed_targets(current)
    if new not in allowed:
        targets = ", ".join(s for s in STATUSES if s in allowed) or "none"
        raise InvalidTransition(f"a {current} case cannot become {new} (allowed: {targets})", "not_allowed")
    if new in NOTE_REQUIRED and not (note or "").strip():
        raise InvalidTransition(f"{new} needs a note: the reasoned answer the citizen will read", "note_required")


def reopen_refusal(status: str, answered_at: datetime | None, now: datetime, window_days: int) -> str | None:
    """Why the citizen may not reopen: `not_answered`, `window_closed`; None when they may."""
    if status not in (ANSWERED, CLOSED) or answered_at is None:
        return "not_answered"
    if now > answered_at + timedelta(days=window_days):
        return "window_closed"
    return None


def answer_days(category: Category | None, deployment: Deployment) -> int:
    """Days the administration has to answer a case of this category."""
    if category is not None and category.deadline_days:
        return category.deadline_days
    return deployment.answer_deadline_days


def due_dates(created_at: datetime, category: Category | None, deployment: Deployment) -> tuple[datetime, datetime]:
    """(routing due, answer due) for a case created at `created_at`."""
    routed_due = created_at + timedelta(days=deployment.routing_deadline_days)
    answer_due = created_at + timedelta(days=answer_days(category, deployment))
    return routed_due, answer_due


def is_overdue(case: _Dated, now: datetime) -> bool:
    """True when an open case has passed its answer deadline, or is still unrouted past the routing one."""
    if case.status not in OPEN_STATUSES:
        return False
    if case.answer_due_at is not None and now > case.answer_due_at:
        return True
    return case.status == RECEIVED and case.routed_due_at is not None and now > case.routed_due_at


class _Followed(_Dated, Protocol):
    """What the deadline sweep reads of a case."""

    created_at: datetime
    answered_at: datetime | None
    reminded_at: datetime | None
    escalated_at: datetime | None


def reminder_time(created_at: datetime, answer_due_at: datetime, reminder_days: int) -> datetime:
    """When the officer is reminded: `reminder_days` before the answer is due, but never earlier
    than halfway there (a 7-day category is not reminded on the day it is filed)."""
    lead = min(timedelta(days=reminder_days), (answer_due_at - created_at) / 2)
    return answer_due_at - lead


def needs_reminder(case: _Followed, now: datetime, reminder_days: int) -> bool:
    """An open case coming up to its answer deadline, not reminded yet (nor already past due: that
    is escalated instead)."""
    if case.status not in OPEN_STATUSES or case.answer_due_at is None or case.reminded_at is not None:
        return False
    return reminder_time(case.created_at, case.answer_due_at, reminder_days) <= now <= case.answer_due_at


def needs_escalation(case: _Followed, now: datetime) -> bool:
    """An overdue case its supervisors have not been alerted of; once alerted it stays marked until
    it is answered (`is_escalated`)."""
    return case.escalated_at is None and is_overdue(case, now)


def is_escalated(case: _Followed) -> bool:
    """Alerted to its supervisors and still owing an answer."""
    return case.escalated_at is not None and case.status in OPEN_STATUSES


def needs_closing(case: _Followed, now: datetime, window_days: int) -> bool:
    """An answered case the citizen did not reopen within the window: the system closes it."""
    return (case.status == ANSWERED and case.answered_at is not None
            and now > case.answered_at + timedelta(days=window_days))
