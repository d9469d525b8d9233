"""The cases API: lists with filters within each role's reach, the case document with identity
withheld for anonymous cases and every view audited, notes, transfers, status changes, refusals for
every role that must not pass, and the OpenAPI document (validated, and naming every route)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from openapi_spec_validator import validate

from core import references
from tests.gateway.staff.conftest import LIGHTING, ROADS, Console

ROLES = ("agent", "officer", "officer_other", "supervisor", "admin")


def new_case(console: Console, *, anonymous: bool = False, category: str = "lighting", name: str = "Khadija") -> str:
    """A case filed in the store, as the dialogue files one; its reference."""
    store = console.gateway.runtime.store
    citizen = console.gateway.citizen()
    citizen.say("Bonjour")
    contact_id = store.contact_id_for("sms", citizen.phone)
    record = store.create_case(category=category, description="<b>Lampadaire</b> éteint", language="fr",
                               contact_id=contact_id, origin_channel="sms", channel_address=console.gateway.number,
                               anonymous=anonymous, name="" if anonymous else name, location_text="Rue 5")
    return record.reference


def test_openapi_document_is_valid_and_complete(console: Console) -> None:
    response = console.api("GET", "/api/v1/openapi.json", None)
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert console.gateway.server is not None
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in console.gateway.server.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/v1/")
        and route.resource.canonical != "/api/v1/openapi.json" and route.method != "HEAD"
    }
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert routes == documented
    for path in ("/api/v1/conversations", "/api/v1/conversations/{id}/takeover", "/api/v1/conversations/{id}/messages",
                 "/api/v1/conversations/{id}/handback", "/api/v1/cases", "/api/v1/cases/{reference}",
                 "/api/v1/cases/{reference}/status", "/api/v1/cases/{reference}/notes",
                 "/api/v1/cases/{reference}/transfer"):
        assert path in document["paths"]


# route -> roles that pass, roles told 404 (the case is not theirs to know of); everyone else gets
# 403, and no token gets 401
CASE = "/api/v1/cases/{ref}"
NOT_THEIRS = {"officer_other"}
ACCESS = [
    ("GET", "/api/v1/cases", None, {"officer", "officer_other", "supervisor", "admin"}, set()),
    ("GET", "/api/v1/cases.csv", None, {"officer", "officer_other", "supervisor", "admin"}, set()),
    ("GET", CASE, None, {"officer", "supervisor", "admin"}, {"officer_other", "agent"}),
    ("POST", CASE + "/notes", {"note": "internal"}, {"officer", "supervisor", "admin"}, NOT_THEIRS),
    ("POST", CASE + "/status", {"status": "in_progress", "note": ""}, {"officer", "supervisor", "admin"},
     {"officer_other", "agent"}),
    ("POST", CASE + "/transfer", {"administration": ROADS, "reason": "roads, not lighting"},
     {"officer", "supervisor", "admin"}, NOT_THEIRS),
    ("POST", CASE + "/circulate", {"service": "works", "reason": "for the works team"},
     {"officer", "supervisor", "admin"}, NOT_THEIRS),
    ("POST", CASE + "/assign", {"staff": "{officer}"}, {"officer", "supervisor", "admin"}, NOT_THEIRS),
    ("POST", CASE + "/duplicate-of", {"reference": None}, {"officer", "supervisor", "admin"}, NOT_THEIRS),
    ("GET", "/api/v1/workload", None, {"supervisor", "admin"}, set()),
    ("GET", "/api/v1/notifications", None, set(ROLES), set()),
    ("POST", "/api/v1/notifications/read", None, set(ROLES), set()),
    ("GET", "/api/v1/audit", None, {"supervisor", "admin"}, set()),
    ("GET", "/api/v1/quarantine", None, {"supervisor", "admin"}, set()),
    ("GET", "/api/v1/conversations", None, {"agent", "supervisor", "admin"}, set()),
    ("GET", "/api/v1/conversations/{conv}", None, {"agent", "supervisor", "admin"}, set()),
    ("POST", "/api/v1/conversations/next", None, {"agent", "supervisor", "admin"}, set()),
    ("POST", "/api/v1/conversations/{conv}/takeover", None, {"agent", "supervisor", "admin"}, set()),
    ("POST", "/api/v1/conversations/{conv}/messages", {"text": "x"}, {"agent", "supervisor", "admin"}, set()),
    ("POST", "/api/v1/conversations/{conv}/messages/1/retry", None, {"agent", "supervisor", "admin"}, set()),
    ("POST", "/api/v1/conversations/{conv}/case", {}, {"agent", "supervisor", "admin"}, set()),
    ("POST", "/api/v1/conversations/{conv}/handback", {"step": "menu"}, {"agent", "supervisor", "admin"}, set()),
    ("POST", "/api/v1/conversations/{conv}/close", None, {"agent", "supervisor", "admin"}, set()),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed", "hidden"), ACCESS,
                         ids=[f"{m} {p}" for m, p, _, _, _ in ACCESS])
def test_every_route_refuses_the_roles_that_must_not_pass(
    console: Console, method: str, path: str, body: dict[str, str] | None, allowed: set[str], hidden: set[str]
) -> None:
    if body is not None:
        body = {key: value.replace("{officer}", console.staff["officer"].username) if isinstance(value, str) else value
                for key, value in body.items()}
    reference = new_case(console)
    url = path.replace("{ref}", reference).replace("{conv}", "999999")
    assert console.api(method, url, None, body).status_code == 401
    bad = console.api(method, url, None, body)
    assert bad.json()["error"] == "unauthorized"
    for role in ROLES:
        url = path.replace("{ref}", new_case(console)).replace("{conv}", "999999")  # untouched by the roles before
        status = console.api(method, url, role, body).status_code
        if role in allowed:
            assert status not in (401, 403), f"{role} refused on {method} {path} ({status})"
            assert status != 404 or "{conv}" in path, f"{role} not shown the case on {method} {path}"
        elif role in hidden:
            assert status == 404, f"{role} told of another administration's case on {method} {path} ({status})"
        else:
            assert status == 403, f"{role} passed {method} {path} ({status})"
    import requests

    forged = requests.request(method, console.gateway.url + url, json=body,
                              headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert forged.status_code == 401


def test_anonymous_identity_is_withheld_and_every_view_audited(console: Console) -> None:
    store = console.gateway.runtime.store
    named = new_case(console, name="Rachid <script>")
    anonymous = new_case(console, anonymous=True)
    seen = console.api("GET", f"/api/v1/cases/{named}", "officer").json()
    assert seen["contact"]["name"] == "Rachid <script>" and seen["contact"]["phone"]
    hidden = console.api("GET", f"/api/v1/cases/{anonymous}", "officer").json()
    assert hidden["anonymous"] is True
    assert hidden["contact"] == {"phone": None, "telegram_user_id": None, "name": None, "addresses": {}}
    assert console.api("GET", f"/api/v1/cases/{anonymous}", "supervisor").json()["contact"]["phone"] is None
    record = store.get_case(anonymous)
    assert record is not None
    entries = store.audit_entries(record.id)
    assert [e["action"] for e in entries][:2] == ["case.view", "case.view"]
    audit = console.api("GET", f"/api/v1/audit?case={anonymous}", "supervisor").json()["entries"]
    assert {e["staff_id"] for e in audit} >= {store.get_staff(console.staff["officer"].username).id}
    assert console.api("GET", f"/api/v1/audit?case={anonymous}", "officer").status_code == 403


def test_case_list_filters_and_scope(console: Console) -> None:
    lighting = new_case(console)
    roads = new_case(console, category="roads")
    mine = console.api("GET", "/api/v1/cases?limit=500", "officer").json()
    refs = {c["reference"] for c in mine["cases"]}
    assert lighting in refs and roads not in refs
    assert {c["administration"] for c in mine["cases"]} == {LIGHTING}
    assert "contact" not in mine["cases"][0], "lists carry no personal data"
    other = console.api("GET", f"/api/v1/cases?administration={LIGHTING}", "officer_other")
    assert other.status_code == 403
    everyone = console.api("GET", "/api/v1/cases?limit=500", "admin").json()
    assert {lighting, roads} <= {c["reference"] for c in everyone["cases"]}
    by_ref = console.api("GET", f"/api/v1/cases?reference={references.display(roads)}", "admin").json()
    assert [c["reference"] for c in by_ref["cases"]] == [roads]
    prefix = console.api("GET", f"/api/v1/cases?reference={roads[:6]}&limit=500", "admin").json()
    assert roads in {c["reference"] for c in prefix["cases"]}
    assert all(c["status"] == "routed" for c in console.api(
        "GET", "/api/v1/cases?status=routed&limit=500", "admin").json()["cases"])
    assert all(c["category"] == "roads" for c in console.api(
        "GET", "/api/v1/cases?category=roads&limit=500", "admin").json()["cases"])
    assert console.api("GET", "/api/v1/cases?channel=telegram", "admin").json()["total"] == 0
    today = datetime.now(UTC).date()
    in_period = console.api("GET", f"/api/v1/cases?from={today}&to={today}&limit=500", "admin").json()
    assert lighting in {c["reference"] for c in in_period["cases"]}
    before = console.api("GET", f"/api/v1/cases?to={today - timedelta(days=1)}", "admin").json()
    assert lighting not in {c["reference"] for c in before["cases"]}
    assert console.api("GET", "/api/v1/cases?status=lost", "admin").status_code == 400
    assert console.api("GET", "/api/v1/cases?from=yesterday", "admin").status_code == 400

    store = console.gateway.runtime.store
    late = new_case(console)
    store.create_case(category="lighting", description="old one", language="fr", contact_id=None,
                      origin_channel="sms", now=datetime.now(UTC) - timedelta(days=90))
    overdue = console.api("GET", "/api/v1/cases?overdue=1&limit=500", "admin").json()["cases"]
    assert overdue and all(c["overdue"] for c in overdue)
    on_time = console.api("GET", "/api/v1/cases?overdue=0&limit=500", "admin").json()["cases"]
    assert late in {c["reference"] for c in on_time} and not any(c["overdue"] for c in on_time)


def test_notes_transfer_and_status(console: Console) -> None:
    reference = new_case(console)
    note = console.api("POST", f"/api/v1/cases/{reference}/notes", "officer", {"note": "Vu avec le technicien"})
    assert note.status_code == 201
    assert console.api("POST", f"/api/v1/cases/{reference}/notes", "officer", {"note": " "}).status_code == 400
    assert console.api("POST", f"/api/v1/cases/{reference}/notes", "officer_other", {"note": "x"}).status_code == 404
    moved = console.api("POST", f"/api/v1/cases/{reference}/status", "officer", {"status": "in_progress"})
    assert moved.status_code == 200
    no_reason = console.api("POST", f"/api/v1/cases/{reference}/transfer", "officer", {"administration": ROADS})
    assert no_reason.status_code == 400
    unknown = console.api("POST", f"/api/v1/cases/{reference}/transfer", "officer",
                          {"administration": "nowhere", "reason": "x"})
    assert unknown.status_code == 409
    transferred = console.api("POST", f"/api/v1/cases/{reference}/transfer", "officer",
                              {"administration": ROADS, "reason": "Relève de la voirie"})
    assert transferred.status_code == 200 and transferred.json()["administration"] == ROADS
    assert console.api("GET", f"/api/v1/cases/{reference}", "officer").status_code == 404, "no longer theirs"
    document = console.api("GET", f"/api/v1/cases/{reference}", "officer_other").json()
    kinds = [(e["kind"], e["status"], e["note"]) for e in document["events"]]
    assert ("note", None, "Vu avec le technicien") in kinds
    assert ("status", "routed", "Relève de la voirie") in kinds
    assert console.api("POST", f"/api/v1/cases/{reference}/status", "officer_other",
                       {"status": "rejected"}).json()["error"] == "note_required"
    console.api("POST", f"/api/v1/cases/{reference}/status", "officer_other", {"status": "in_progress"})
    answered = console.api("POST", f"/api/v1/cases/{reference}/status", "officer_other",
                           {"status": "answered", "note": "Réparé le 3 mars."})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    events = console.gateway.runtime.store.case_events(console.gateway.runtime.store.get_case(reference).id)
    assert [e.notified_at for e in events if e.kind == "note"] != [None], "a note is never sent to the citizen"
