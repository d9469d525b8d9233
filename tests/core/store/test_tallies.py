"""The statistics' definitions as a table: case histories -> the figures the store counts for them
(on SQLite and PostgreSQL), and the groupings. Cases are about roads (60 days to answer) unless a test
says otherwise, so that only the overdue test has overdue cases. Each row's cases come from a channel name of its own,
so the shared database's other cases never count."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.statistics import FIELDS
from core.store.case_store import CaseStore
from core.store.tallies import StatisticsQuery

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
NOW = START + timedelta(days=40)

Step = Callable[[CaseStore, str], None]


def status(name: str, day: float, note: str = "") -> Step:
    """The case moves to `name` `day` days after it was filed."""
    return lambda store, ref: store.change_status(ref, name, "officer", note or f"{name} note",
                                                  START + timedelta(days=day))


def rated(stars: int) -> Step:
    """The citizen rates the answer."""
    return lambda store, ref: store.rate_case(ref, stars, START + timedelta(days=20))


def reopened(day: float) -> Step:
    """The citizen reopens `day` days after filing."""
    return lambda store, ref: store.reopen_case(ref, "still broken", START + timedelta(days=day))


ANSWERED_3 = [status("in_progress", 1), status("answered", 3)]
FIGURES = {name: 0 for name in FIELDS} | {"processed_share": None, "average_days_to_process": None,
                                         "satisfaction_share": None}

ROWS: list[tuple[str, list[list[Step]], dict[str, Any]]] = [
    ("filed, nothing since", [[]], {"received": 1, "in_progress": 1, "processed_share": 0.0}),
    ("answered on day 3", [ANSWERED_3],
     {"received": 1, "processed": 1, "processed_share": 1.0, "average_days_to_process": 3.0}),
    ("rejected on day 2 counts as processed", [[status("rejected", 2, "outside the commune")]],
     {"received": 1, "processed": 1, "processed_share": 1.0, "average_days_to_process": 2.0}),
    ("reopened: processed, reopened and in progress again", [[*ANSWERED_3, reopened(5)]],
     {"received": 1, "processed": 1, "processed_share": 1.0, "in_progress": 1, "reopened": 1,
      "average_days_to_process": 3.0}),
    ("answered again later: time runs to the first answer", [[*ANSWERED_3, reopened(5), status("in_progress", 6),
                                                             status("answered", 15)]],
     {"received": 1, "processed": 1, "processed_share": 1.0, "reopened": 1, "average_days_to_process": 3.0}),
    ("closed after the answer", [[*ANSWERED_3, status("closed", 34)]],
     {"received": 1, "processed": 1, "processed_share": 1.0, "average_days_to_process": 3.0}),
    ("ratings 5 4 3 2 1", [[*ANSWERED_3, rated(stars)] for stars in (5, 4, 3, 2, 1)],
     {"received": 5, "processed": 5, "processed_share": 1.0, "average_days_to_process": 3.0, "satisfied": 2,
      "dissatisfied": 2, "rated": 5, "satisfaction_share": 0.4}),
    ("a mix: answered, routed, rejected", [ANSWERED_3, [], [status("rejected", 1, "duplicate of another")]],
     {"received": 3, "processed": 2, "processed_share": 0.6667, "in_progress": 1, "average_days_to_process": 2.0}),
]


def file(store: CaseStore, channel: str, steps: list[Step], kind: str = "complaint", category: str = "roads",
         created: datetime = START) -> str:
    """A case filed from `channel` at `created`, then taken through `steps`; its reference."""
    reference = store.create_case(category=category, kind=kind, description="x", language="fr", contact_id=None,
                                  origin_channel=channel, now=created).reference
    for step in steps:
        step(store, reference)
    return reference


def figures(store: CaseStore, channel: str, **asked: Any) -> dict[str, Any]:
    """The totals of the cases filed from `channel`."""
    totals, _ = store.statistics(StatisticsQuery(channel=channel, **asked), NOW)
    return totals.figures()


@pytest.mark.parametrize(("histories", "expected"), [(h, e) for _, h, e in ROWS], ids=[label for label, _, _ in ROWS])
def test_the_definitions(store: CaseStore, histories: list[list[Step]], expected: dict[str, Any]) -> None:
    channel = "stats-" + secrets.token_hex(4)
    for steps in histories:
        file(store, channel, steps)
    assert figures(store, channel) == FIGURES | expected


def test_overdue_is_open_past_its_due_date(store: CaseStore) -> None:
    channel = "stats-" + secrets.token_hex(4)
    file(store, channel, [], created=NOW - timedelta(days=90))
    file(store, channel, ANSWERED_3, created=NOW - timedelta(days=90))
    file(store, channel, [], created=NOW - timedelta(days=1))
    found = figures(store, channel)
    assert (found["received"], found["overdue"], found["in_progress"]) == (3, 1, 2)


def test_observations_and_suggestions_are_counted_apart(store: CaseStore) -> None:
    channel = "stats-" + secrets.token_hex(4)
    file(store, channel, ANSWERED_3)
    file(store, channel, [], kind="observation")
    file(store, channel, [], kind="suggestion")
    file(store, channel, [], kind="suggestion")
    assert figures(store, channel)["received"] == 1, "complaints by default"
    assert figures(store, channel, kind="observation")["received"] == 1
    assert figures(store, channel, kind="suggestion")["received"] == 2


def test_the_period_is_by_creation_date(store: CaseStore) -> None:
    channel = "stats-" + secrets.token_hex(4)
    file(store, channel, [], created=datetime(2026, 1, 31, 23, 59, tzinfo=UTC))
    file(store, channel, [], created=datetime(2026, 2, 1, 0, 0, tzinfo=UTC))
    file(store, channel, [], created=datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    file(store, channel, [], created=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    february = figures(store, channel, created_from=datetime(2026, 2, 1, tzinfo=UTC),
                       created_to=datetime(2026, 3, 1, tzinfo=UTC))
    assert february["received"] == 2


GROUPINGS = [
    ("administration", {"commune-temara-roads": 2, "commune-temara-lighting": 1}),
    ("category", {"roads": 2, "lighting": 1}),
    ("month", {"2026-03": 2, "2026-04": 1}),
]


@pytest.mark.parametrize(("group_by", "expected"), GROUPINGS, ids=[g for g, _ in GROUPINGS])
def test_groups(store: CaseStore, group_by: str, expected: dict[str, int]) -> None:
    channel = "stats-" + secrets.token_hex(4)
    file(store, channel, ANSWERED_3)
    file(store, channel, [], created=START + timedelta(days=31))
    file(store, channel, [], category="lighting")
    totals, groups = store.statistics(StatisticsQuery(channel=channel, group_by=group_by), NOW)
    assert totals.received == 3
    assert {key["key"]: tally.received for key, tally in groups} == expected


def test_groups_by_service_name_their_administration(store: CaseStore) -> None:
    channel = "stats-" + secrets.token_hex(4)
    moved = file(store, channel, [], category="lighting")
    store.circulate_case(moved, "works", "officer", "for the works team", START + timedelta(days=1))
    file(store, channel, [], category="lighting")
    _, groups = store.statistics(StatisticsQuery(channel=channel, group_by="service"), NOW)
    assert {(key["administration"], key["key"]): tally.received for key, tally in groups} == {
        ("commune-temara-lighting", "maintenance"): 1, ("commune-temara-lighting", "works"): 1}


def test_an_unknown_grouping_is_refused(store: CaseStore) -> None:
    with pytest.raises(ValueError):
        store.statistics(StatisticsQuery(group_by="colour"), NOW)
