"""Cases: filing (routed, idempotent, unique references), the lifecycle in the store, ratings, reopening,
the `case show --json` document, deadlines and hand-offs."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from typing import Any

import pytest

import core.store.cases
from core import references
from core.config import Deployment, Profile
from core.lifecycle import InvalidTransition
from core.records import CaseNotFound, CaseRecord
from core.store.case_store import CaseStore
from core.store.transactions import utcnow
from tests.core.helpers import random_moroccan_mobile, sid
from tests.core.store.test_messages import race

HOTLINE = "+212522000111"


def new_case(store: CaseStore, category: str = "waste", **overrides: Any) -> CaseRecord:
    """File a case from a fresh contact."""
    contact_id = overrides.pop("contact_id", None)
    if contact_id is None:
        contact_id = store.get_or_create_contact(random_moroccan_mobile()).id
    fields: dict[str, Any] = {
        "kind": "complaint",
        "category": category,
        "description": "Les ordures ne sont pas ramassées depuis une semaine",
        "location_text": "Rue 12, Hay Nahda",
        "language": "fr",
        "anonymous": False,
        "contact_id": contact_id,
        "origin_channel": "sms",
        "channel_address": HOTLINE,
    }
    fields.update(overrides)
    return store.create_case(**fields)


def answered_case(store: CaseStore, answered_days_ago: float = 0) -> CaseRecord:
    """A case taken to `answered`, `answered_days_ago` days ago."""
    case = new_case(store, "roads")
    when = utcnow() - timedelta(days=answered_days_ago)
    store.change_status(case.reference, "in_progress", "officer1", now=when - timedelta(hours=1))
    return store.change_status(case.reference, "answered", "officer1", "Repaired on Monday", now=when).case


def test_create_routed_case(store: CaseStore, deployment: Deployment) -> None:
    now = utcnow()
    case = new_case(store, "waste", now=now, lat=33.92, lon=-6.91, name="Amina")
    assert references.is_valid(case.reference)
    assert case.status == "routed" and case.administration_code == "commune-temara-hygiene"
    assert case.origin_channel == "sms" and case.channel_address == HOTLINE
    assert case.answer_due_at == now + timedelta(days=7)
    assert case.routed_due_at == now + timedelta(days=15)
    events = store.case_events(case.id)
    assert [(e.kind, e.status, e.actor) for e in events] == [
        ("created", "received", "citizen"),
        ("status", "routed", "system"),
    ]
    assert store.contact(case.contact_id).name == "Amina"
    assert store.get_case(case.reference) == case


def test_unrouted_category_stays_received(store: CaseStore) -> None:
    case = new_case(store, "other")
    assert case.status == "received" and case.administration_code is None
    assert [e.kind for e in store.case_events(case.id)] == ["created"]
    with pytest.raises(InvalidTransition, match="needs an administration"):
        store.change_status(case.reference, "routed", "supervisor1")
    routed = store.change_status(case.reference, "routed", "supervisor1", administration="commune-temara-roads")
    assert routed.case.administration_code == "commune-temara-roads" and routed.previous == "received"


def test_profile_default_administration(engine: Any, deployment: Deployment) -> None:
    number = "+201555516528"
    profile = Profile(number=number, default_administration="commune-temara-general", languages=("ar",),
                      default_language="ar")  # fmt: skip
    dep = dataclasses.replace(deployment, profiles=(profile, *deployment.profiles))
    store = CaseStore(engine, dep)
    case = new_case(store, "other", channel_address=f"whatsapp:{number}", origin_channel="whatsapp")
    assert case.status == "routed" and case.administration_code == "commune-temara-general"
    assert new_case(store, "waste", channel_address=number).administration_code == "commune-temara-hygiene"


def test_create_case_rejects_bad_input(store: CaseStore) -> None:
    with pytest.raises(ValueError, match="unknown category"):
        new_case(store, "potholes")
    with pytest.raises(ValueError, match="unknown case kind"):
        new_case(store, kind="praise")
    with pytest.raises(ValueError, match="unknown administration"):
        new_case(store, administration="ministry-of-magic")


def test_create_case_idempotent_on_source_message(store: CaseStore) -> None:
    source = store.record_inbound("sms", random_moroccan_mobile(), HOTLINE, sid(), "1", utcnow())
    first = new_case(store, source_message_id=source.message_id, contact_id=source.contact_id, name="Amina")
    replay = new_case(store, source_message_id=source.message_id, contact_id=source.contact_id,
                      description="another text", name="Someone else")  # fmt: skip
    assert replay == first
    assert store.count_cases_for_source(source.message_id) == 1
    assert len(store.case_events(first.id)) == 2
    assert store.contact(source.contact_id).name == "Amina"  # a replay writes nothing


def test_create_case_idempotent_under_race(store: CaseStore) -> None:
    source = store.record_inbound("sms", random_moroccan_mobile(), HOTLINE, sid(), "1", utcnow())
    results = race(8, lambda _: new_case(store, source_message_id=source.message_id, contact_id=source.contact_id))
    assert len({c.reference for c in results}) == 1
    assert store.count_cases_for_source(source.message_id) == 1
    assert len(store.case_events(results[0].id)) == 2


def test_references_unique_and_valid(store: CaseStore) -> None:
    contact_id = store.get_or_create_contact(random_moroccan_mobile()).id
    refs = [new_case(store, "markets", contact_id=contact_id).reference for _ in range(150)]
    assert len(set(refs)) == len(refs)
    assert all(references.is_valid(r) for r in refs)
    assert len(store.cases_for_contact(contact_id, limit=500)) == 150


def test_open_cases_for_contact_lists_what_the_citizen_may_still_ask_about(store: CaseStore) -> None:
    """Open and answered cases, newest first, at most the limit; closed and rejected ones are over,
    and another contact's are never listed."""
    contact_id = store.get_or_create_contact(random_moroccan_mobile()).id
    start = utcnow() - timedelta(days=10)
    filed = [new_case(store, "roads", contact_id=contact_id, now=start + timedelta(days=n)) for n in range(5)]
    store.change_status(filed[0].reference, "rejected", "officer1", "Hors compétence")
    store.change_status(filed[1].reference, "in_progress", "officer1")
    store.change_status(filed[1].reference, "answered", "officer1", "Réparé")
    store.change_status(filed[2].reference, "in_progress", "officer1")
    store.change_status(filed[2].reference, "answered", "officer1", "Réparé")
    store.change_status(filed[2].reference, "closed", "citizen")
    new_case(store, "roads")  # someone else's
    listed = store.open_cases_for_contact(contact_id, limit=3)
    assert [case.reference for case in listed] == [filed[4].reference, filed[3].reference, filed[1].reference]
    assert [case.status for case in listed] == ["routed", "routed", "answered"]
    assert [case.reference for case in store.open_cases_for_contact(contact_id, limit=1)] == [filed[4].reference]


@pytest.mark.parametrize(("administration", "reason"), [("", "Relève de la voirie"), ("commune-temara-hygiene", "x"),
                                                      ("commune-temara-roads", " ")])
def test_a_transfer_needs_another_administration_and_a_reason(store: CaseStore, administration: str,
                                                              reason: str) -> None:
    """No administration named (the console's empty choice), the one that has it, or no reason: refused,
    and the case stays where it is."""
    case = new_case(store, "waste")
    store.change_status(case.reference, "in_progress", "officer1")
    with pytest.raises(InvalidTransition):
        store.transfer_case(case.reference, administration, "officer1", reason)
    kept = store.get_case(case.reference)
    assert kept is not None and (kept.status, kept.administration_code) == ("in_progress", "commune-temara-hygiene")


def test_reference_collision_is_retried(store: CaseStore, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = new_case(store).reference
    fresh = references.new_reference()
    supply = iter([taken, taken, fresh])
    monkeypatch.setattr(core.store.cases, "new_reference", lambda: next(supply))
    assert new_case(store).reference == fresh


def test_full_lifecycle_and_events(store: CaseStore) -> None:
    case = new_case(store, "lighting")
    ref = case.reference
    with pytest.raises(InvalidTransition, match="allowed: routed, in_progress, rejected"):
        store.change_status(ref, "answered", "officer1", "done")
    with pytest.raises(InvalidTransition, match="already routed"):
        store.change_status(ref, "routed", "officer1", administration="commune-temara-lighting")
    with pytest.raises(InvalidTransition, match="unknown administration"):
        store.change_status(ref, "routed", "officer1", administration="nowhere")
    moved = store.change_status(ref, "routed", "supervisor1", "wrong service",
                                administration="commune-temara-roads")  # fmt: skip
    assert moved.case.administration_code == "commune-temara-roads" and moved.previous == "routed"
    store.change_status(ref, "in_progress", "officer1")
    with pytest.raises(InvalidTransition, match="needs a note"):
        store.change_status(ref, "answered", "officer1", "  ")
    answered = store.change_status(ref, "answered", "officer1", "The lamp was replaced")
    assert answered.case.status == "answered" and answered.case.answered_at is not None
    closed = store.close_case(ref, "citizen")
    assert closed.status == "closed" and closed.closed_at is not None
    assert store.close_case(ref) == closed  # closing twice changes nothing
    kinds = [(e.kind, e.status, e.actor) for e in store.case_events(case.id)]
    assert kinds == [
        ("created", "received", "citizen"),
        ("status", "routed", "system"),
        ("status", "routed", "supervisor1"),
        ("status", "in_progress", "officer1"),
        ("status", "answered", "officer1"),
        ("status", "closed", "citizen"),
    ]
    events = store.case_events(case.id)
    assert [e.administration_code for e in events[1:3]] == ["commune-temara-lighting", "commune-temara-roads"]
    assert events[2].note == "wrong service" and events[4].note == "The lamp was replaced"
    with pytest.raises(CaseNotFound):
        store.change_status("1234567890", "routed", "x")


def test_rejection_then_close(store: CaseStore) -> None:
    case = new_case(store, "other")
    store.change_status(case.reference, "rejected", "supervisor1", "Not a commune matter: ask the ONEE")
    assert store.close_case(case.reference, "system").status == "closed"
    assert store.reopen_case(case.reference, "but why", utcnow()) == "not_answered"


def test_rating(store: CaseStore) -> None:
    case = new_case(store)
    with pytest.raises(InvalidTransition, match="cannot be rated"):
        store.rate_case(case.reference, 4)
    answered = answered_case(store)
    for bad in (0, 6, True, 2.5):
        with pytest.raises(ValueError, match="1 to 5"):
            store.rate_case(answered.reference, bad)  # type: ignore[arg-type]
    rated = store.rate_case(answered.reference, 4)
    assert rated.rating == 4
    assert store.case_events(rated.id)[-1].kind == "rating"
    store.close_case(answered.reference)
    assert store.rate_case(answered.reference, 5).rating == 5
    with pytest.raises(CaseNotFound):
        store.rate_case("1234567890", 3)


def test_reopen_inside_window(store: CaseStore, deployment: Deployment) -> None:
    case = answered_case(store, answered_days_ago=5)
    now = utcnow()
    assert store.reopen_case(case.reference, "Still dark at night", now) == "reopened"
    reopened = store.get_case(case.reference)
    assert reopened.status == "reopened"
    assert reopened.answer_due_at == now + timedelta(days=deployment.answer_deadline_days)
    last = store.case_events(case.id)[-1]
    assert (last.kind, last.status, last.actor, last.note) == ("status", "reopened", "citizen", "Still dark at night")
    store.change_status(case.reference, "in_progress", "officer1")


def test_reopen_closed_inside_window(store: CaseStore) -> None:
    case = answered_case(store, answered_days_ago=29)
    store.close_case(case.reference)
    assert store.reopen_case(case.reference, "not fixed", utcnow()) == "reopened"
    assert store.get_case(case.reference).closed_at is None


def test_reopen_outside_window(store: CaseStore) -> None:
    case = answered_case(store, answered_days_ago=31)
    store.close_case(case.reference)
    assert store.reopen_case(case.reference, "too late", utcnow()) == "window_closed"
    assert store.get_case(case.reference).status == "closed"
    with pytest.raises(InvalidTransition, match="window"):
        store.change_status(case.reference, "reopened", "supervisor1")


def test_reopen_not_answered_and_not_found(store: CaseStore) -> None:
    case = new_case(store)
    assert store.reopen_case(case.reference, "x", utcnow()) == "not_answered"
    assert store.reopen_case("1234567890", "x", utcnow()) == "not_found"


def test_case_document(store: CaseStore) -> None:
    phone = random_moroccan_mobile()
    contact = store.get_or_create_contact(phone)
    case = new_case(store, "water", contact_id=contact.id, lat=33.9, lon=-6.9, name="Youssef", anonymous=True)
    photo = store.add_attachment("photo", "image/jpeg", "https://api.twilio.com/media/1")
    store.update_attachment(photo, "stored", size=1234, sha256="ab" * 32, path="var/media/1.jpg")
    assert store.attach_to_case(case.id, [photo]) == 1
    assert store.attach_to_case(case.id, [photo]) == 0
    doc = store.case_document(case.reference)
    required = {"reference", "status", "category", "administration", "language", "origin_channel", "anonymous",
                "contact", "location", "description", "attachments", "rating", "events"}  # fmt: skip
    assert required <= set(doc)
    assert doc["reference"] == case.reference and doc["status"] == "routed"
    assert doc["category"] == "water" and doc["administration"] == "commune-temara-water"
    assert doc["language"] == "fr" and doc["origin_channel"] == "sms" and doc["anonymous"] is True
    assert doc["contact"] == {"phone": phone, "telegram_user_id": None, "name": "Youssef",
                              "addresses": {"phone": phone}}
    assert doc["location"] == {"lat": 33.9, "lon": -6.9, "text": "Rue 12, Hay Nahda"}
    assert doc["description"].startswith("Les ordures")
    assert [{k: a[k] for k in ("kind", "content_type", "size", "sha256")} for a in doc["attachments"]] == [
        {"kind": "photo", "content_type": "image/jpeg", "size": 1234, "sha256": "ab" * 32}
    ]
    assert doc["rating"] is None
    assert all({"kind", "status", "actor", "at", "note"} <= set(e) for e in doc["events"])
    assert doc["events"][1]["administration"] == "commune-temara-water"
    assert [e["kind"] for e in doc["events"]] == ["created", "status", "attachment"]
    assert doc["events"][0]["at"].endswith("+00:00")
    assert doc["overdue"] is False
    assert store.case_document("1234567890") is None


def test_overdue(store: CaseStore) -> None:
    created = utcnow() - timedelta(days=61)
    case = new_case(store, "roads", now=created)
    assert store.case_document(case.reference)["overdue"] is True
    late_waste = new_case(store, "waste", now=utcnow() - timedelta(days=8))
    assert store.case_document(late_waste.reference)["overdue"] is True
    unrouted = new_case(store, "other", now=utcnow() - timedelta(days=16))
    assert store.case_document(unrouted.reference)["overdue"] is True
    assert store.case_document(new_case(store, "roads").reference)["overdue"] is False


def test_request_agent_reuses_open_conversation(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    first = store.request_agent("sms", contact.id, "asked")
    assert store.request_agent("sms", contact.id, "misunderstood") == first
    assert store.request_agent("whatsapp", contact.id, "asked") != first
    assert store.open_conversation("sms", contact.id) == (first, "needs_person")
    store.set_conversation_status(first, "with_agent")
    assert store.request_agent("sms", contact.id, "asked") == first
    store.set_conversation_status(first, "closed")
    assert store.open_conversation("sms", contact.id) is None
    assert store.request_agent("sms", contact.id, "asked") != first


def test_sync_reference_data_is_repeatable(store: CaseStore, engine: Any) -> None:
    import sqlalchemy as sa

    from core.db import categories

    store.sync_reference_data()
    with engine.connect() as conn:
        rows = {r.code: r for r in conn.execute(sa.select(categories))}
    assert rows["waste"].administration_code == "commune-temara-hygiene" and rows["waste"].deadline_days == 7
    assert rows["other"].names["fr"] == "Autre" and rows["other"].active


def test_category_code_is_accepted(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    case = store.create_case(category_code="markets", description="prix", language="ar", contact_id=contact.id,
                             origin_channel="sms")  # fmt: skip
    assert case.category_code == "markets" and case.administration_code == "commune-temara-markets"
    with pytest.raises(ValueError, match="needs a category"):
        store.create_case(description="x", language="ar", contact_id=contact.id, origin_channel="sms")


def test_status_notices(store: CaseStore) -> None:
    phone = random_moroccan_mobile()
    contact = store.get_or_create_contact(phone)
    case = new_case(store, "roads", contact_id=contact.id, origin_channel="whatsapp",
                    channel_address="whatsapp:+212522000111")  # fmt: skip
    later = utcnow() + timedelta(seconds=5)
    # filing (citizen, system) owes the citizen nothing
    owed = {event for ref, event in store.unnotified_events(later, 10_000) if ref == case.reference}
    assert owed == set()
    change = store.change_status(case.reference, "in_progress", "officer1", "on it")
    owed = {event for ref, event in store.unnotified_events(later, 10_000) if ref == case.reference}
    assert owed == {change.event_id}
    earlier = utcnow() - timedelta(hours=1)
    assert all(ref != case.reference for ref, _ in store.unnotified_events(earlier, 10_000))
    notice = store.status_notice(case.reference, change.event_id)
    assert notice is not None and notice.status == "in_progress" and notice.note == "on it"
    assert notice.channel == "whatsapp" and notice.channel_address == "whatsapp:+212522000111"
    assert notice.recipient == phone and notice.contact_id == contact.id and notice.language == "fr"
    assert notice.administration_code == "commune-temara-roads" and not notice.notified and not notice.opted_out
    assert store.mark_notified(change.event_id)
    assert not store.mark_notified(change.event_id)
    assert store.status_notice(case.reference, change.event_id).notified
    assert all(ref != case.reference for ref, _ in store.unnotified_events(later, 10_000))
    assert store.status_notice("1234567890", change.event_id) is None
    # the citizen's own moves (reopen, close) are answered by the dialogue, not by a notice
    store.change_status(case.reference, "answered", "officer1", "fixed")
    store.close_case(case.reference, "citizen")
    owed = [event for ref, event in store.unnotified_events(later, 10_000) if ref == case.reference]
    assert len(owed) == 1  # the answer only


def test_telegram_notice_recipient(store: CaseStore) -> None:
    user = f"7{secrets.randbelow(10**9):09d}"
    contact = store.get_or_create_contact(user, "telegram")
    case = new_case(store, "roads", contact_id=contact.id, origin_channel="telegram", channel_address="bot")
    change = store.change_status(case.reference, "in_progress", "officer1")
    assert store.status_notice(case.reference, change.event_id).recipient == user
