"""The deadline sweep's reminders: a case is looked at once it is due, whatever waits before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.store.case_store import CaseStore
from tests.core.helpers import random_moroccan_mobile

HOTLINE = "+212522000111"
SWEEP = datetime(2090, 6, 1, 9, tzinfo=UTC)
"""Far from every other test's cases, which stay in the session's database."""


def filed(store: CaseStore, category: str, at: datetime) -> str:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    return store.create_case(kind="complaint", category=category, language="fr", origin_channel="sms",
                             channel_address=HOTLINE, contact_id=contact.id, description="x", now=at).reference


def test_a_due_reminder_is_not_kept_waiting_by_older_cases_not_yet_halfway(store: CaseStore) -> None:
    """Two cases due in 6 days: a 7-day one filed yesterday (not halfway: reminded in 2.5 days) and,
    filed after it, a 15-day one filed 9 days ago (reminded since yesterday). A sweep looking at
    one case at a time reminds the second; the first comes when it is halfway."""
    not_yet = filed(store, "waste", SWEEP - timedelta(days=1))
    due = filed(store, "lighting", SWEEP - timedelta(days=9))
    assert store.sweep_deadlines(SWEEP, limit=1).reminded == [due]
    assert store.sweep_deadlines(SWEEP + timedelta(days=2), limit=1).reminded == []
    assert store.sweep_deadlines(SWEEP + timedelta(days=2, hours=13), limit=1).reminded == [not_yet]
