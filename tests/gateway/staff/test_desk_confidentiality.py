"""Who sees a citizen in a conversation, and who may write in it.

A citizen who chose to stay anonymous in a case is seen by the call centre (agents, deployment-wide
supervisors, admins), who talk to them, and by nobody bound to an administration: not in the queue,
the conversation document, its console page or its live transcript (SSE). Only the member holding a
conversation writes in it; a supervisor steps in by taking it over, which the agent is told of and
the audit log keeps."""

from __future__ import annotations

import pytest

from tests.gateway.staff.api.test_api_conversations import waiting_citizen
from tests.gateway.staff.conftest import LIGHTING, Console
from tests.gateway.staff.console.test_console_security import sign_in

SAID = "Le lampadaire devant l'école est éteint depuis une semaine"


def anonymous_in_queue(console: Console) -> tuple[str, int]:
    """A citizen who filed an anonymous case and now waits for a person: (their phone, conversation id)."""
    citizen, conversation_id = waiting_citizen(console)
    store = console.gateway.runtime.store
    store.create_case(category="lighting", description="Lampe", language="fr",
                      contact_id=store.contact_id_for("sms", citizen.phone), origin_channel="sms", anonymous=True)
    return citizen.phone, conversation_id


@pytest.mark.parametrize("who", ["agent", "supervisor", "admin"])
def test_the_call_centre_sees_an_anonymous_citizen_it_talks_to(console: Console, who: str) -> None:
    phone, conversation_id = anonymous_in_queue(console)
    detail = console.api("GET", f"/api/v1/conversations/{conversation_id}", who).json()
    assert detail["contact"]["phone"] == phone and detail["identity_withheld"] is False
    assert SAID in [line["body"] for line in detail["transcript"]]


def test_staff_bound_to_an_administration_never_see_an_anonymous_citizen(console: Console) -> None:
    phone, conversation_id = anonymous_in_queue(console)
    boss = console.add_staff("supervisor", LIGHTING)
    detail = console.api("GET", f"/api/v1/conversations/{conversation_id}", boss.username).json()
    assert detail["identity_withheld"] is True
    assert detail["contact"] == {"name": None, "phone": None, "address": None}
    assert detail["transcript"] == [] and detail["collected"] == {}
    assert phone not in str(detail) and phone[-6:] not in str(detail)
    assert detail["dialogue"]["draft"]["description"] == SAID, "what is complained of is the administration's"
    queue = console.api("GET", "/api/v1/conversations", boss.username).json()["conversations"]
    item = next(c for c in queue if c["id"] == conversation_id)
    assert item["contact"] == {"phone": None, "name": None}, "not even the masked number"

    browser, _ = sign_in(console, boss.username)
    page = browser.get(console.gateway.url + f"/console/conversations/{conversation_id}", timeout=10).text
    with browser.get(console.gateway.url + f"/console/conversations/{conversation_id}/events", stream=True,
                     timeout=10) as live:
        first = next(live.iter_lines(decode_unicode=True, delimiter="\n\n"))
    assert phone not in page and phone[-6:] not in page
    assert phone not in first and "lampadaire devant" not in first.lower(), "no transcript lines, live or not"

    agent_view = console.api("GET", f"/api/v1/conversations/{conversation_id}", "agent").json()
    assert agent_view["contact"]["phone"] == phone, "the agent's view is unchanged"


def test_a_named_citizen_is_seen_by_a_bound_supervisor(console: Console) -> None:
    citizen, conversation_id = waiting_citizen(console)
    boss = console.add_staff("supervisor", LIGHTING)
    detail = console.api("GET", f"/api/v1/conversations/{conversation_id}", boss.username).json()
    assert detail["identity_withheld"] is False and detail["contact"]["phone"] == citizen.phone


def test_a_supervisor_steps_in_by_taking_over_and_the_agent_is_told(console: Console) -> None:
    _, conversation_id = waiting_citizen(console)
    assert console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent").status_code == 200
    over_the_shoulder = console.api("POST", f"/api/v1/conversations/{conversation_id}/messages", "supervisor",
                                    {"text": "Bonjour, ici la superviseure"})
    assert over_the_shoulder.status_code == 409 and over_the_shoulder.json()["error"] == "held_by_another"
    for action, body in (("handback", {"step": "menu"}), ("close", None), ("case", {})):
        refused = console.api("POST", f"/api/v1/conversations/{conversation_id}/{action}", "supervisor", body)
        assert refused.status_code == 409, action

    stepped = console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "supervisor",
                          {"force": True})
    assert stepped.status_code == 200 and stepped.json()["result"] == "taken"
    assert console.api("POST", f"/api/v1/conversations/{conversation_id}/messages", "supervisor",
                       {"text": "Bonjour, ici la superviseure"}).status_code == 202
    told = console.api("GET", "/api/v1/notifications?unread=1", "agent").json()["notifications"]
    step_ins = [n for n in told if n["kind"] == "step_in" and n["conversation"] == conversation_id]
    assert [n["detail"] for n in step_ins] == [console.staff["supervisor"].username]
    assert console.api("POST", f"/api/v1/conversations/{conversation_id}/messages", "agent",
                       {"text": "encore moi"}).status_code == 409, "the agent no longer holds it"
    entries = console.gateway.runtime.store.audit_entries(None, 50)
    assert any(e["action"] == "conversation.step_in" and f'"conversation": {conversation_id}' in e["detail"]
               for e in entries)
    console.api("POST", f"/api/v1/conversations/{conversation_id}/close", "supervisor")
