"""The case lifecycle: every transition allowed and forbidden, notes, the reopen window, deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from core.config import Deployment
from core.lifecycle import (
    STATUSES,
    InvalidTransition,
    check_transition,
    due_dates,
    is_overdue,
    reopen_refusal,
)

ALLOWED = {
    ("received", "routed"), ("received", "rejected"),
    ("routed", "routed"), ("routed", "in_progress"), ("routed", "rejected"),
    ("in_progress", "routed"), ("in_progress", "answered"), ("in_progress", "rejected"),
    ("answered", "closed"), ("answered", "reopened"),
    ("closed", "reopened"),
    ("reopened", "routed"), ("reopened", "in_progress"), ("reopened", "answered"), ("reopened", "rejected"),
    ("rejected", "closed"),
}  # fmt: skip
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_transition_table(current: str, new: str) -> None:
    if (current, new) in ALLOWED:
        check_transition(current, new, "the reasoned answer")
    else:
        with pytest.raises(InvalidTransition, match="allowed"):
            check_transition(current, new, "note")


def test_forbidden_message_lists_targets() -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition("received", "answered", "x")
    assert "routed" in str(caught.value) and "rejected" in str(caught.value)
    with pytest.raises(InvalidTransition, match="unknown status"):
        check_transition("received", "lost")


@pytest.mark.parametrize(("current", "new"), [("in_progress", "answered"), ("received", "rejected")])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_answer_and_rejection_need_a_note(current: str, new: str, note: str | None) -> None:
    with pytest.raises(InvalidTransition, match="needs a note"):
        check_transition(current, new, note)


def test_reopen_window() -> None:
    answered = NOW - timedelta(days=10)
    assert reopen_refusal("answered", answered, NOW, 30) is None
    assert reopen_refusal("closed", answered, NOW, 30) is None
    assert reopen_refusal("closed", NOW - timedelta(days=31), NOW, 30) == "window_closed"
    assert reopen_refusal("closed", None, NOW, 30) == "not_answered"
    assert reopen_refusal("in_progress", None, NOW, 30) == "not_answered"


@dataclass
class _Case:
    status: str
    routed_due_at: datetime | None
    answer_due_at: datetime | None


def test_due_dates(deployment: Deployment) -> None:
    routed, answer = due_dates(NOW, deployment.category("waste"), deployment)
    assert routed == NOW + timedelta(days=15) and answer == NOW + timedelta(days=7)
    _, answer = due_dates(NOW, deployment.category("lighting"), deployment)
    assert answer == NOW + timedelta(days=15)
    _, answer = due_dates(NOW, deployment.category("roads"), deployment)
    assert answer == NOW + timedelta(days=60)
    _, answer = due_dates(NOW, None, deployment)
    assert answer == NOW + timedelta(days=60)


def test_is_overdue() -> None:
    past, future = NOW - timedelta(days=1), NOW + timedelta(days=1)
    assert is_overdue(_Case("in_progress", past, past), NOW)
    assert not is_overdue(_Case("in_progress", past, future), NOW)
    assert is_overdue(_Case("received", past, future), NOW)  # never routed in time
    assert not is_overdue(_Case("routed", past, future), NOW)
    assert is_overdue(_Case("reopened", None, past), NOW)
    for done in ("answered", "rejected", "closed"):
        assert not is_overdue(_Case(done, past, past), NOW)
