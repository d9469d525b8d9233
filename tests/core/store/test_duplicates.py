"""Duplicates in the store: which open case a pinned report duplicates (distance, category, window,
status), filing as a duplicate and taking it out, the followers told of the original, suggestions
from places written alike, and duplicates left out of the statistics."""

from __future__ import annotations

import math
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.lifecycle import InvalidTransition
from core.store.case_store import CaseStore
from core.store.duplicates import distance_m
from core.store.tallies import StatisticsQuery
from tests.core.helpers import random_moroccan_mobile

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def spot() -> tuple[float, float]:
    """A place of the test's own (the shared database holds other tests' pins)."""
    return 30.0 + secrets.randbelow(10**6) / 10**5, -9.0 + secrets.randbelow(10**6) / 10**5


def north(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """The point `metres` north of (`lat`, `lon`)."""
    return lat + metres / 111_195.0, lon


def filed(store: CaseStore, lat: float | None, lon: float | None, category: str = "waste", days_ago: float = 1,
          **extra: Any) -> str:
    contact = store.get_or_create_contact(random_moroccan_mobile()).id
    return store.create_case(category=category, description=extra.pop("description", "Poubelles pleines"),
                             language="fr", contact_id=contact, origin_channel="whatsapp", lat=lat, lon=lon,
                             now=NOW - timedelta(days=days_ago), **extra).reference


def test_distance_is_haversine() -> None:
    assert distance_m(0, 0, 0, 1) == pytest.approx(2 * math.pi * 6_371_000 / 360, rel=1e-6)
    assert distance_m(33.97, -6.85, *north(33.97, -6.85, 80)) == pytest.approx(80, abs=0.5)


NEARBY = [
    ("80 m away, same category", 80, "waste", 1, None, True),
    ("249 m away", 249, "waste", 1, None, True),
    ("400 m away", 400, "waste", 1, None, False),
    ("another category", 80, "roads", 1, None, False),
    ("filed 31 days ago", 80, "waste", 31, None, False),
    ("answered already", 80, "waste", 1, "answered", False),
]


@pytest.mark.parametrize(("metres", "category", "days_ago", "status", "found"), [r[1:] for r in NEARBY],
                         ids=[r[0] for r in NEARBY])
def test_which_case_a_pin_duplicates(store: CaseStore, metres: float, category: str, days_ago: float,
                                     status: str | None, found: bool) -> None:
    lat, lon = spot()
    original = filed(store, *north(lat, lon, metres), category=category, days_ago=days_ago)
    if status == "answered":
        store.change_status(original, "in_progress", "officer", "", NOW - timedelta(hours=2))
        store.change_status(original, "answered", "officer", "Vidé.", NOW - timedelta(hours=1))
    nearby = store.nearby_case("waste", lat, lon, NOW)
    assert (nearby is not None and nearby.reference == original) is found


def test_the_nearest_is_offered(store: CaseStore) -> None:
    lat, lon = spot()
    filed(store, *north(lat, lon, 200))
    nearest = filed(store, *north(lat, lon, 50))
    found = store.nearby_case("waste", lat, lon, NOW)
    assert found is not None and found.reference == nearest


def test_filing_as_a_duplicate_and_taking_it_out(store: CaseStore) -> None:
    lat, lon = spot()
    original = filed(store, lat, lon)
    copy = filed(store, *north(lat, lon, 80), description="Encore les poubelles, ça déborde")
    photo = store.add_attachment("photo", "image/jpeg")
    store.attach_to_case(store.get_case(copy).id, [photo], "citizen", NOW)
    marked = store.mark_duplicate(copy, original, "citizen", NOW)
    assert marked.status == "closed" and marked.duplicate_of_id == store.get_case(original).id
    assert store.mark_duplicate(copy, original, "citizen", NOW) == marked, "marking again changes nothing"
    document = store.case_document(original)
    assert document["duplicates"] == [copy] and store.case_document(copy)["duplicate_of"] == original
    assert ("duplicate_added", copy, "Encore les poubelles, ça déborde") in [
        (e["kind"], e["target"], e["note"]) for e in document["events"]], "its words added for staff"
    assert [f.id for f in store.case_attachments(store.get_case(original).id)] == [photo], "its photo moved"
    assert store.nearby_case("waste", *north(lat, lon, 80), NOW).reference == original, "a duplicate is no original"
    third = filed(store, *north(lat, lon, 30))
    store.mark_duplicate(third, copy, "officer", NOW)
    assert store.case_document(third)["duplicate_of"] == original, "a duplicate of a duplicate joins the original"
    back = store.unmark_duplicate(copy, "officer", NOW)
    assert (back.status, back.duplicate_of_id) == ("routed", None)
    with pytest.raises(InvalidTransition):
        store.unmark_duplicate(copy, "officer", NOW)
    with pytest.raises(InvalidTransition):
        store.mark_duplicate(original, original, "officer", NOW)


def test_followers_are_told_of_the_original(store: CaseStore) -> None:
    lat, lon = spot()
    original = filed(store, lat, lon)
    copy = filed(store, *north(lat, lon, 80))
    store.mark_duplicate(copy, original, "citizen", NOW)
    change = store.change_status(original, "in_progress", "officer", "Camion envoyé", NOW)
    followers = store.follower_notices(original, change.event_id)
    assert [(n.reference, n.case_id, n.status, n.channel) for n in followers] == [
        (original, store.get_case(copy).id, "in_progress", "whatsapp")]
    assert followers[0].recipient and followers[0].recipient != store.status_notice(original, change.event_id).recipient


def test_suggestions_from_places_written_alike(store: CaseStore) -> None:
    place = f"Rue Ibn Sina {secrets.token_hex(3)}"
    original = filed(store, None, None, location_text=place)
    unrelated = filed(store, None, None, location_text="Avenue Hassan II")
    asked = filed(store, None, None, location_text=place.upper() + " devant l'école")
    suggested = [c.reference for c in store.duplicate_suggestions(asked, NOW)]
    assert original in suggested and unrelated not in suggested and asked not in suggested
    assert store.get_case(asked).duplicate_of_id is None, "never merged by itself"


def test_duplicates_are_not_counted_apart(store: CaseStore) -> None:
    lat, lon = spot()
    channel = "dup-" + secrets.token_hex(3)
    contact = store.get_or_create_contact(random_moroccan_mobile()).id
    references = [store.create_case(category="waste", description="x", language="fr", contact_id=contact,
                                    origin_channel=channel, lat=lat, lon=lon, now=NOW).reference for _ in range(3)]
    store.mark_duplicate(references[1], references[0], "officer", NOW)
    store.mark_duplicate(references[2], references[0], "officer", NOW)
    totals, _ = store.statistics(StatisticsQuery(channel=channel), NOW)
    assert totals.received == 1 and totals.processed == 0
