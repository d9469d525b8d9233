"""The public statistics, without signing in: the open data withholds every small cell, carries no
personal data, and the page (ar/fr/en) draws its charts on the server. The cases are filed in 2024,
a year no other test files in, once for the module (public answers are kept a minute)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from gateway.staff.console.i18n import translate
from tests.gateway.staff.conftest import LIGHTING, ROADS, Console

FILED = datetime(2024, 3, 4, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def year_2024(console: Console) -> Iterator[Console]:
    """Seven lighting complaints (six answered in 3 days, five rated 5), two roads complaints, one
    observation, all filed in March 2024 by a named citizen."""
    store = console.gateway.runtime.store
    contact = store.get_or_create_contact("+212612345678").id
    for n in range(7):
        reference = store.create_case(category="lighting", description=f"Lampe {n} rue Secrète", language="fr",
                                      contact_id=contact, origin_channel="sms", name="Khadija Secret",
                                      now=FILED).reference
        if n < 6:
            store.change_status(reference, "in_progress", "officer", "", FILED + timedelta(days=1))
            store.change_status(reference, "answered", "officer", "Réparé.", FILED + timedelta(days=3))
            if n < 5:
                store.rate_case(reference, 5, FILED + timedelta(days=4))
    for _ in range(2):
        store.create_case(category="roads", description="Trou", language="fr", contact_id=contact,
                          origin_channel="sms", now=FILED)
    store.create_case(category="lighting", kind="observation", description="Vu", language="fr", contact_id=None,
                      origin_channel="sms", now=FILED)
    yield console


def public(console: Console, path: str) -> requests.Response:
    """A request without any credentials."""
    return requests.get(console.gateway.url + path, timeout=15)


def row(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(r for r in rows if r["key"] == key)


def test_open_data_withholds_small_cells(year_2024: Console) -> None:
    answer = public(year_2024, "/public/statistics.json?year=2024")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    document = answer.json()
    assert document["period"] == {"from": "2024-01-01", "to": "2024-12-31"} and document["smallest_cell"] == 5
    totals = document["totals"]
    assert (totals["received"], totals["processed"], totals["in_progress"]) == (9, 6, None), "3 in progress: withheld"
    assert totals["average_days_to_process"] == 3.0 and totals["satisfaction_share"] == 1.0
    assert totals["reopened"] == 0 and totals["dissatisfied"] == 0, "a zero tells nothing about anyone"
    lighting = row(document["by_administration"], LIGHTING)
    assert (lighting["received"], lighting["processed"], lighting["suppressed"]) == (7, 6, True)
    assert lighting["in_progress"] is None, "one case in progress is withheld"
    roads = row(document["by_administration"], ROADS)
    assert roads["received"] is None and roads["in_progress"] is None and roads["suppressed"] is True
    assert roads["processed_share"] is None and roads["average_days_to_process"] is None
    assert roads["names"]["fr"] == "Service de la voirie"
    assert row(document["by_category"], "roads")["received"] is None
    assert row(document["by_month"], "2024-03")["received"] == 9
    assert document["other_kinds"] == {"observation": {"received": None}, "suggestion": {"received": 0}}


def test_open_data_carries_no_personal_data(year_2024: Console) -> None:
    text = public(year_2024, "/public/statistics.json?year=2024").text
    for personal in ("Khadija", "Secret", "612345678", "Lampe", "Réparé"):
        assert personal not in text


@pytest.mark.parametrize("lang", ["ar", "fr", "en"])
def test_the_page_in_each_language(year_2024: Console, lang: str) -> None:
    answer = public(year_2024, f"/public/statistics?year=2024&lang={lang}")
    assert answer.status_code == 200 and answer.headers["Content-Language"] == lang
    html = answer.text
    assert f'dir="{"rtl" if lang == "ar" else "ltr"}"' in html
    assert translate(lang, "public_title") in html and html.count("<svg") == 3
    assert "Khadija" not in html and "<script" not in html
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("year", ["abcd", "1999", "20245", "%00", "٢٠٢٤", str(datetime.now(UTC).year + 1)])
def test_a_year_that_is_not_one_is_refused(console: Console, year: str) -> None:
    for path in ("/public/statistics.json", "/public/statistics"):
        assert public(console, f"{path}?year={year}").status_code == 400


def test_the_default_period_is_the_last_twelve_months(console: Console) -> None:
    period = public(console, "/public/statistics.json").json()["period"]
    today = datetime.now(UTC).date()
    assert period["to"] == today.isoformat() and period["from"].endswith("-01")
    start = datetime.fromisoformat(period["from"]).date()
    assert 11 * 28 <= (today - start).days <= 366
