"""Statistics through the JSON API and its CSV: every filter and grouping, and the refusals (roles
and administrations that must not see a scope). Each test's cases come from a channel name of its
own, so the shared database's other cases never count."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.statistics import FIELDS
from tests.gateway.staff.conftest import LIGHTING, ROADS, Console

DAY = datetime(2025, 5, 12, 10, tzinfo=UTC)


def filed(console: Console, channel: str, category: str = "lighting", kind: str = "complaint",
          created: datetime = DAY, answered_after: float | None = None, rating: int | None = None) -> str:
    """A case from `channel`, answered `answered_after` days after filing when given, then rated."""
    store = console.gateway.runtime.store
    reference = store.create_case(category=category, kind=kind, description="x", language="fr", contact_id=None,
                                  origin_channel=channel, now=created).reference
    if answered_after is not None:
        store.change_status(reference, "in_progress", "officer", "", created + timedelta(hours=1))
        store.change_status(reference, "answered", "officer", "Réparé.", created + timedelta(days=answered_after))
        if rating is not None:
            store.rate_case(reference, rating, created + timedelta(days=answered_after + 1))
    return reference


@pytest.fixture
def channel(console: Console) -> str:
    """A channel name of the test's own, with six cases: four lighting (two answered), two roads."""
    name = "stats-" + secrets.token_hex(4)
    filed(console, name, answered_after=2, rating=5)
    filed(console, name, answered_after=4, rating=1)
    filed(console, name)
    filed(console, name, created=DAY + timedelta(days=31))
    filed(console, name, category="roads", answered_after=10)
    filed(console, name, category="roads", kind="suggestion")
    return name


def stats(console: Console, who: str, query: str) -> dict[str, Any]:
    answer = console.api("GET", "/api/v1/statistics?" + query, who)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_totals_for_everyone_who_may_see_every_administration(console: Console, channel: str) -> None:
    for who in ("admin", "supervisor"):
        totals = stats(console, who, f"channel={channel}")["totals"]
        assert set(totals) == set(FIELDS)
        assert (totals["received"], totals["processed"], totals["in_progress"]) == (5, 3, 2)
        assert totals["processed_share"] == 0.6 and totals["average_days_to_process"] == round(16 / 3, 1)
        assert (totals["satisfied"], totals["dissatisfied"], totals["rated"], totals["satisfaction_share"]) == \
            (1, 1, 2, 0.5)


FILTERS = [
    ("category=roads", 1),
    ("category=lighting", 4),
    (f"administration={LIGHTING}", 4),
    ("kind=suggestion", 1),
    ("kind=observation", 0),
    ("from=2025-06-01", 1),
    ("to=2025-05-12", 4),
    ("from=2025-05-13&to=2025-06-30", 1),
    ("service=maintenance", 4),
]


@pytest.mark.parametrize(("query", "received"), FILTERS, ids=[q for q, _ in FILTERS])
def test_every_filter(console: Console, channel: str, query: str, received: int) -> None:
    assert stats(console, "admin", f"channel={channel}&{query}")["totals"]["received"] == received


GROUPINGS = [
    ("administration", {LIGHTING: 4, ROADS: 1}),
    ("category", {"lighting": 4, "roads": 1}),
    ("month", {"2025-05": 4, "2025-06": 1}),
    ("service", {"maintenance": 4, "studies": 1}),
]


@pytest.mark.parametrize(("group_by", "expected"), GROUPINGS, ids=[g for g, _ in GROUPINGS])
def test_every_grouping(console: Console, channel: str, group_by: str, expected: dict[str, int]) -> None:
    document = stats(console, "admin", f"channel={channel}&group_by={group_by}")
    assert {row["key"]: row["received"] for row in document["groups"]} == expected
    assert all(set(FIELDS) <= set(row) for row in document["groups"])


def test_channel_grouping(console: Console, channel: str) -> None:
    document = stats(console, "admin", f"channel={channel}&group_by=channel")
    assert {row["key"]: row["received"] for row in document["groups"]} == {channel: 5}


def test_an_officer_sees_their_administration_only(console: Console, channel: str) -> None:
    mine = stats(console, "officer", f"channel={channel}")
    assert mine["administration"] == LIGHTING and mine["totals"]["received"] == 4
    grouped = stats(console, "officer", f"channel={channel}&group_by=administration")
    assert [row["key"] for row in grouped["groups"]] == [LIGHTING]
    assert stats(console, "officer", f"channel={channel}&administration={LIGHTING}")["totals"]["received"] == 4


REFUSALS = [
    ("agent", "", 403),
    ("officer", f"administration={ROADS}", 403),
    ("officer_other", f"administration={LIGHTING}", 403),
    ("admin", "group_by=colour", 400),
    ("admin", "kind=rumour", 400),
    ("admin", "from=yesterday", 400),
    ("admin", "to=9999-12-31", 400),
    ("admin", "administration=%00", 400),
    ("admin", "category=" + "x" * 65, 400),
    (None, "", 401),
]


@pytest.mark.parametrize(("who", "query", "status"), REFUSALS, ids=[f"{w}-{q or 'plain'}" for w, q, _ in REFUSALS])
def test_refusals(console: Console, who: str | None, query: str, status: int) -> None:
    for path in ("/api/v1/statistics", "/api/v1/statistics.csv"):
        answer = console.api("GET", f"{path}?{query}", who)
        assert answer.status_code == status, (path, answer.text)


def test_a_bound_supervisor_is_held_to_their_administration(console: Console, channel: str) -> None:
    boss = console.add_staff("supervisor", ROADS)
    assert stats(console, boss.username, f"channel={channel}")["totals"]["received"] == 1
    assert console.api("GET", f"/api/v1/statistics?administration={LIGHTING}", boss.username).status_code == 403


def test_the_csv_has_a_total_row_and_one_row_per_group(console: Console, channel: str) -> None:
    answer = console.api("GET", f"/api/v1/statistics.csv?channel={channel}&group_by=service", "admin")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(r["key"], r["administration"], r["received"]) for r in rows] == [
        ("total", "", "5"), ("maintenance", LIGHTING, "4"), ("studies", ROADS, "1")]
    assert rows[0]["processed_share"] == "0.6" and set(FIELDS) <= set(rows[0])
