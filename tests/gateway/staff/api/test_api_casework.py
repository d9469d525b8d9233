"""Casework inside an administration, through the JSON API: a case walked from filing to its closing by
the system (circulated, assigned, reminded, escalated, answered), the refusals of circulation and
assignment, the workload, free-text search, the CSV export, "my cases", disabled members and the
audit log scoped to a supervisor's administration. Deadlines are acted on by the sweep the gateway
runs once a minute (`CaseStore.sweep_deadlines`), called here at chosen times."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from core.db import case_events
from tests.gateway.staff.api.test_api_cases import new_case
from tests.gateway.staff.conftest import LIGHTING, ROADS, Console


def events_of(console: Console, reference: str, who: str = "admin") -> list[tuple[str, str | None, str, str]]:
    """(kind, status, actor, note or target) of the case's events, oldest first."""
    document = console.api("GET", f"/api/v1/cases/{reference}", who).json()
    return [(e["kind"], e["status"], e["actor"], e["target"] or e["note"]) for e in document["events"]]


def backdate(console: Console, reference: str, days: int) -> None:
    """Move the case's filing `days` into the past (its due dates with it), as if it had waited."""
    store = console.gateway.runtime.store
    record = store.get_case(reference)
    assert record is not None and record.answer_due_at is not None and record.routed_due_at is not None
    shift = timedelta(days=days)
    import sqlalchemy as sa

    from core.db import cases
    with store.write() as conn:
        conn.execute(sa.update(cases).where(cases.c.id == record.id).values(
            created_at=record.created_at - shift, answer_due_at=record.answer_due_at - shift,
            routed_due_at=record.routed_due_at - shift))
        conn.execute(sa.update(case_events).where(case_events.c.case_id == record.id)
                     .values(at=case_events.c.at - shift))


def test_a_case_walks_from_filing_to_closing_by_the_system(console: Console) -> None:
    store = console.gateway.runtime.store
    officer = console.staff["officer"].username
    boss = console.add_staff("supervisor", LIGHTING)
    reference = new_case(console)
    filed = store.get_case(reference)
    assert filed is not None and filed.service_code == "maintenance", "landed in its administration's first service"

    moved = console.api("POST", f"/api/v1/cases/{reference}/circulate", officer and "officer",
                        {"service": "works", "reason": "Le poteau est à remplacer : travaux"})
    assert moved.status_code == 200 and moved.json()["service"] == "works"
    back = console.api("POST", f"/api/v1/cases/{reference}/circulate", boss.username,
                       {"service": "maintenance", "reason": "Poteau remplacé, reste le câblage"})
    assert back.status_code == 200
    assigned = console.api("POST", f"/api/v1/cases/{reference}/assign", boss.username,
                           {"staff": officer, "note": "À traiter cette semaine"})
    assert assigned.status_code == 200 and assigned.json()["assignee"] == officer
    shown = console.api("GET", f"/api/v1/cases/{reference}", "officer").json()
    assert (shown["service"], shown["assignee"]) == ("maintenance", officer)
    assert console.api("POST", f"/api/v1/cases/{reference}/status", "officer",
                       {"status": "in_progress", "note": ""}).status_code == 200

    record = store.get_case(reference)
    assert record is not None and record.answer_due_at is not None
    due = record.answer_due_at
    assert reference not in store.sweep_deadlines(due - timedelta(days=10)).reminded, "not yet: 7 days before"
    assert reference in store.sweep_deadlines(due - timedelta(days=6)).reminded
    assert reference not in store.sweep_deadlines(due - timedelta(days=5)).reminded, "reminded once"
    mine = console.api("GET", "/api/v1/notifications?unread=1", "officer").json()
    assert {(n["kind"], n["case"]) for n in mine["notifications"]} >= {("reminder", reference)}
    assert mine["unread"] >= 1

    late = due + timedelta(hours=2)
    assert reference in store.sweep_deadlines(late).escalated
    assert reference not in store.sweep_deadlines(late + timedelta(hours=1)).escalated, "escalated once"
    alerts = console.api("GET", "/api/v1/notifications", boss.username).json()["notifications"]
    assert [n["kind"] for n in alerts if n["case"] == reference] == ["overdue"]
    assert not [n for n in console.api("GET", "/api/v1/notifications", "officer_other").json()["notifications"]
                if n["case"] == reference], "another administration's officer hears nothing of it"
    escalated = console.api("GET", "/api/v1/cases?escalated=1&limit=500", boss.username).json()["cases"]
    assert reference in {c["reference"] for c in escalated}, "an escalated case stays marked"
    assert console.api("POST", "/api/v1/notifications/read", boss.username).json()["marked"] >= 1
    assert console.api("GET", "/api/v1/notifications?unread=1", boss.username).json()["unread"] == 0

    answered = console.api("POST", f"/api/v1/cases/{reference}/status", "officer",
                           {"status": "answered", "note": "Le lampadaire fonctionne de nouveau depuis lundi."})
    assert answered.status_code == 200
    assert console.api("GET", f"/api/v1/cases/{reference}", "officer").json()["escalated"] is False, \
        "the mark goes with the answer"
    answered_at = store.get_case(reference).answered_at
    window = timedelta(days=store.deployment.reopen_window_days)
    assert reference not in store.sweep_deadlines(answered_at + window - timedelta(hours=1)).closed
    assert reference in store.sweep_deadlines(answered_at + window + timedelta(hours=1)).closed
    assert store.get_case(reference).status == "closed"

    assert events_of(console, reference) == [
        ("created", "received", "citizen", ""),
        ("status", "routed", "system", ""),
        ("circulated", None, officer, "works"),
        ("circulated", None, boss.username, "maintenance"),
        ("assigned", None, boss.username, officer),
        ("status", "in_progress", officer, ""),
        ("reminded", None, "system", officer),
        ("escalated", None, "system", ""),
        ("status", "answered", officer, "Le lampadaire fonctionne de nouveau depuis lundi."),
        ("status", "closed", "system", ""),
    ]
    notes = [e["note"] for e in console.api("GET", f"/api/v1/cases/{reference}", "admin").json()["events"]
             if e["kind"] == "circulated"]
    assert notes == ["Le poteau est à remplacer : travaux", "Poteau remplacé, reste le câblage"], "reasons kept"


CIRCULATE_REFUSALS = [
    ("officer", {"service": "nowhere", "reason": "x"}, 409),
    ("officer", {"service": "maintenance", "reason": "déjà là"}, 409),
    ("officer", {"service": "works"}, 400),
    ("officer", {"service": "works", "reason": "   "}, 400),
    ("officer", {"service": 7, "reason": "x"}, 400),
    ("officer", {"reason": "x"}, 400),
    ("officer", {"service": "x" * 65, "reason": "x"}, 400),
    ("officer_other", {"service": "works", "reason": "x"}, 404),
    ("agent", {"service": "works", "reason": "x"}, 403),
]


@pytest.mark.parametrize(("who", "body", "status"), CIRCULATE_REFUSALS)
def test_circulation_refusals(console: Console, who: str, body: dict, status: int) -> None:
    reference = new_case(console)
    answer = console.api("POST", f"/api/v1/cases/{reference}/circulate", who, body)
    assert answer.status_code == status, answer.text
    assert "error" in answer.json()
    assert console.gateway.runtime.store.get_case(reference).service_code == "maintenance", "nothing moved"


def test_an_answered_case_no_longer_circulates_or_is_assigned(console: Console) -> None:
    reference = new_case(console)
    console.api("POST", f"/api/v1/cases/{reference}/status", "officer", {"status": "in_progress"})
    assert console.api("POST", f"/api/v1/cases/{reference}/status", "officer",
                       {"status": "answered", "note": "Réparé."}).status_code == 200
    assert console.api("POST", f"/api/v1/cases/{reference}/circulate", "officer",
                       {"service": "works", "reason": "x"}).status_code == 409
    assert console.api("POST", f"/api/v1/cases/{reference}/assign", "officer",
                       {"staff": console.staff["officer"].username}).status_code == 409


def test_assignment_refusals(console: Console) -> None:
    other_officer = console.add_staff("officer", LIGHTING)
    roads_officer = console.staff["officer_other"].username
    gone = console.add_staff("officer", LIGHTING)
    store = console.gateway.runtime.store
    store.update_staff(gone.username, role="officer", administration_code=LIGHTING, disabled=True)
    reference = new_case(console)
    cases = [
        ("officer", other_officer.username, 403),  # officers take cases themselves only
        ("supervisor", roads_officer, 409),  # not of this administration
        ("supervisor", console.staff["agent"].username, 409),  # agents hold conversations, not cases
        ("supervisor", gone.username, 409),  # disabled
        ("supervisor", "nobody-at-all", 409),
        ("officer_other", roads_officer, 404),
        ("agent", console.staff["agent"].username, 403),
    ]
    for who, assignee, status in cases:
        answer = console.api("POST", f"/api/v1/cases/{reference}/assign", who, {"staff": assignee})
        assert answer.status_code == status, (who, assignee, answer.text)
    assert store.get_case(reference).assignee_id is None
    taken = console.api("POST", f"/api/v1/cases/{reference}/assign", other_officer.username,
                        {"staff": other_officer.username})
    assert taken.status_code == 200, "an officer takes a case themselves"
    again = console.api("POST", f"/api/v1/cases/{reference}/assign", other_officer.username,
                        {"staff": other_officer.username})
    assert again.status_code == 409
    mine = console.api("GET", "/api/v1/cases?assignee=me&limit=500", other_officer.username).json()["cases"]
    assert [c["reference"] for c in mine] == [reference] and mine[0]["assignee"] == other_officer.username
    nobodys = console.api("GET", "/api/v1/cases?unassigned=1&limit=500", "officer").json()["cases"]
    assert reference not in {c["reference"] for c in nobodys}


def test_a_transfer_lets_the_case_go_from_its_service_and_holder(console: Console) -> None:
    reference = new_case(console)
    console.api("POST", f"/api/v1/cases/{reference}/assign", "officer", {"staff": console.staff["officer"].username})
    moved = console.api("POST", f"/api/v1/cases/{reference}/transfer", "officer",
                        {"administration": ROADS, "reason": "C'est la chaussée"})
    assert moved.status_code == 200
    shown = console.api("GET", f"/api/v1/cases/{reference}", "officer_other").json()
    assert (shown["administration"], shown["service"], shown["assignee"]) == (ROADS, "studies", None)


def test_workload_per_officer(console: Console) -> None:
    boss = console.add_staff("supervisor", LIGHTING)
    holder = console.add_staff("officer", LIGHTING)
    for _ in range(2):
        reference = new_case(console)
        assert console.api("POST", f"/api/v1/cases/{reference}/assign", boss.username,
                           {"staff": holder.username}).status_code == 200
    loads = console.api("GET", "/api/v1/workload", boss.username).json()
    assert loads["administration"] == LIGHTING
    rows = {row["username"]: row for row in loads["staff"]}
    assert rows[holder.username]["open"] == 2 and rows[holder.username]["overdue"] == 0
    assert console.staff["officer_other"].username not in rows, "only this administration's members"
    assert console.api("GET", f"/api/v1/workload?administration={ROADS}", boss.username).status_code == 403
    roads = console.api("GET", f"/api/v1/workload?administration={ROADS}", "admin").json()
    assert console.staff["officer_other"].username in {row["username"] for row in roads["staff"]}
    assert console.api("GET", "/api/v1/workload", "officer").status_code == 403


def test_free_text_search_over_description_and_place(console: Console) -> None:
    store = console.gateway.runtime.store
    marker = "Zerktouni" + datetime.now(UTC).strftime("%H%M%S%f")
    french = store.create_case(category="lighting", description=f"Lampadaire éteint près de l'école {marker}",
                               language="fr", contact_id=None, origin_channel="sms", location_text="Rue 5").reference
    arabic = store.create_case(category="lighting", description="الضو مطفي فالزنقة",
                               language="ar", contact_id=None, origin_channel="sms",
                               location_text=f"حي السلام {marker}").reference
    roads = store.create_case(category="roads", description=f"Nid de poule {marker}", language="fr",
                              contact_id=None, origin_channel="sms").reference

    def found(query: str, who: str = "officer") -> set[str]:
        answer = console.api("GET", "/api/v1/cases?limit=500&q=" + query, who)
        assert answer.status_code == 200, answer.text
        return {c["reference"] for c in answer.json()["cases"]}

    assert found(marker) == {french, arabic}, "description and place, within the officer's administration"
    assert found(marker, "admin") == {french, arabic, roads}
    assert french in found(f"lampadaire {marker[:6]}"), "every word, each the start of a word"
    assert french not in found(f"lampadaire {marker} absent")
    assert arabic in found(f"السلام {marker}")
    assert found(marker.lower()) == {french, arabic}, "letter case does not matter"
    for hostile in ('"', "*", "a:b", "x' OR 1=1 --", "NEAR(", "&|!", "\\", "%", "ـ", "🙂", "a" * 500):
        assert console.api("GET", "/api/v1/cases?q=" + hostile, "officer").status_code == 200, hostile
    listed = console.api("GET", "/api/v1/cases?limit=500&q=" + marker, "officer").json()["cases"]
    assert {c["preview"] for c in listed} >= {f"Lampadaire éteint près de l'école {marker}"}


def test_csv_export_of_the_filtered_list(console: Console) -> None:
    store = console.gateway.runtime.store
    marker = "Export" + datetime.now(UTC).strftime("%H%M%S%f")
    formula = store.create_case(category="lighting", description=f"=HYPERLINK(\"http://x\") {marker}",
                                language="fr", contact_id=None, origin_channel="sms", lat=33.9716, lon=-6.8498,
                                location_text="+212 rue").reference
    named = new_case(console, name="Rachid Secret")
    answer = console.api("GET", f"/api/v1/cases.csv?q={marker}", "officer")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    text = answer.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["reference"] for r in rows] == [formula], "the filter applies"
    row = rows[0]
    assert row["preview"].startswith("'=HYPERLINK"), "no formula runs in a spreadsheet"
    assert row["location_text"] == "'+212 rue"
    assert row["map"].startswith("https://www.openstreetmap.org/?mlat=33.971600&mlon=-6.849800")
    assert row["created_at"].endswith(("+0100", "+0000")), "in the deployment's zone (Africa/Casablanca)"
    everything = console.api("GET", "/api/v1/cases.csv", "officer").content.decode("utf-8-sig")
    assert named in everything and "Rachid Secret" not in everything, "no names or numbers in an export"
    assert console.api("GET", "/api/v1/cases.csv", "agent").status_code == 403


def test_a_disabled_member_is_shut_out(console: Console) -> None:
    member = console.add_staff("officer", LIGHTING)
    assert console.api("GET", "/api/v1/cases", member.username).status_code == 200
    console.gateway.runtime.store.update_staff(member.username, role="officer", administration_code=LIGHTING,
                                               disabled=True)
    assert console.api("GET", "/api/v1/cases", member.username).status_code == 401


def test_a_bound_supervisor_reads_only_their_administrations_audit(console: Console) -> None:
    boss = console.add_staff("supervisor", LIGHTING)
    lighting, roads = new_case(console), new_case(console, category="roads")
    console.api("GET", f"/api/v1/cases/{lighting}", "officer")
    console.api("GET", f"/api/v1/cases/{roads}", "officer_other")
    store = console.gateway.runtime.store
    ids = {store.get_case(lighting).id: lighting, store.get_case(roads).id: roads}
    entries = console.api("GET", "/api/v1/audit", boss.username).json()["entries"]
    seen = {ids[e["case_id"]] for e in entries if e["case_id"] in ids}
    assert seen == {lighting}
    assert console.api("GET", f"/api/v1/audit?case={roads}", boss.username).status_code == 404
    everything = console.api("GET", "/api/v1/audit", "supervisor").json()["entries"]
    assert {ids[e["case_id"]] for e in everything if e["case_id"] in ids} == {lighting, roads}


def test_staff_mark_and_unmark_a_duplicate(console: Console) -> None:
    original, copy = new_case(console), new_case(console)
    roads = new_case(console, category="roads")
    marked = console.api("POST", f"/api/v1/cases/{copy}/duplicate-of", "officer", {"reference": original})
    assert marked.status_code == 200 and marked.json() == {"reference": copy, "duplicate_of": original,
                                                           "status": "closed"}
    assert console.api("GET", f"/api/v1/cases/{original}", "officer").json()["duplicates"] == [copy]
    for who, body, status in (
        ("officer", {"reference": roads}, 404),  # another administration's case: not theirs to know of
        ("officer", {"reference": "1234567890"}, 404),
        ("officer", {"reference": 7}, 400),
        ("officer", {"reference": original}, 200),  # again: nothing changes
        ("agent", {"reference": original}, 403),
        ("officer_other", {"reference": original}, 404),
    ):
        answer = console.api("POST", f"/api/v1/cases/{copy}/duplicate-of", who, body)
        assert answer.status_code == status, (who, body, answer.text)
    self_mark = console.api("POST", f"/api/v1/cases/{original}/duplicate-of", "officer", {"reference": original})
    assert self_mark.status_code == 409
    back = console.api("POST", f"/api/v1/cases/{copy}/duplicate-of", "officer", {"reference": None})
    assert back.status_code == 200 and back.json()["status"] == "routed" and back.json()["duplicate_of"] is None
    assert console.api("POST", f"/api/v1/cases/{copy}/duplicate-of", "officer", {"reference": None}).status_code == 409
