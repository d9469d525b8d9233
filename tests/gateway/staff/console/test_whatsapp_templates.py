"""Past WhatsApp's 24-hour window an agent cannot write freely: the console and the API say so before
the agent types, and offer the deployment's approved templates instead, which really go out as
templates (ContentSid and ContentVariables)."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
import requests

from core.config import Template, TemplatePolicy
from tests.gateway.staff.conftest import PASSWORD, Console
from tests.gateway.whatsapp_kit import age_inbound, whatsapp_citizen

FOLLOW_UP_SID = "HX" + "a1" * 16
AGENT_TEMPLATES = TemplatePolicy({"fr": {
    "agent_follow_up": Template(FOLLOW_UP_SID, ("text",), "Suivi de votre demande"),
    "status": Template("HX" + "b2" * 16, ("reference", "status")),
}})


@pytest.fixture
def templates(console: Console, monkeypatch: pytest.MonkeyPatch) -> Console:
    """The console's deployment with French agent templates, for this test only."""
    runtime = console.gateway.runtime
    templated = dataclasses.replace(runtime.deployment, templates={"whatsapp": AGENT_TEMPLATES})
    monkeypatch.setattr(runtime, "deployment", templated)
    return console


def silent_whatsapp_citizen(console: Console) -> tuple[str, int]:
    """A French WhatsApp citizen who asked for a person and then said nothing for 25 hours."""
    citizen = whatsapp_citizen(console.gateway)
    citizen.send("Bonjour")
    citizen.send("agent")
    contact_id = console.gateway.runtime.store.contact_id_for("whatsapp", citizen.phone)
    assert contact_id is not None
    found = console.gateway.runtime.store.open_conversation("whatsapp", contact_id)
    assert found is not None
    age_inbound(console.gateway, citizen.phone, timedelta(hours=25))
    return citizen.phone, found[0]


def test_window_closed_offers_templates_and_sends_one(templates: Console) -> None:
    console = templates
    phone, conversation_id = silent_whatsapp_citizen(console)
    path = f"/api/v1/conversations/{conversation_id}"
    assert console.api("POST", f"{path}/takeover", "agent").status_code == 200
    detail = console.api("GET", path, "agent").json()
    assert detail["templates"] == [{"key": "agent_follow_up", "label": "Suivi de votre demande"}]
    refused = console.api("POST", f"{path}/messages", "agent", {"text": "Bonjour, toujours là ?"})
    assert (refused.status_code, refused.json()["error"]) == (409, "window_closed")
    unknown = console.api("POST", f"{path}/messages", "agent", {"template": "status"})
    assert (unknown.status_code, unknown.json()["error"]) == (400, "unknown_template")
    sent = console.api("POST", f"{path}/messages", "agent",
                       {"template": "agent_follow_up", "text": "Nous attendons votre photo"})
    assert sent.status_code == 202, sent.text
    twilio = console.gateway.twilio
    console.gateway.run_jobs(until=lambda: any(m.to == f"whatsapp:{phone}" for m in twilio.messages))
    (form,) = [m.form for m in twilio.messages if m.to == f"whatsapp:{phone}"]
    assert form["ContentSid"] == FOLLOW_UP_SID
    assert form["ContentVariables"] == '{"1": "Nous attendons votre photo"}'
    assert "Body" not in form


def test_console_page_offers_the_templates(templates: Console) -> None:
    console = templates
    _, conversation_id = silent_whatsapp_citizen(console)
    agent = console.staff["agent2"]
    assert console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent2").status_code == 200
    browser = requests.Session()
    login = browser.get(console.gateway.url + "/console/login", timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert csrf
    signed_in = browser.post(console.gateway.url + "/console/login", timeout=10,
                             data={"csrf": csrf.group(1), "username": agent.username, "password": PASSWORD})
    assert signed_in.status_code == 200
    page = browser.get(f"{console.gateway.url}/console/conversations/{conversation_id}", timeout=10).text
    assert 'id="write-template"' in page and "Suivi de votre demande" in page
    assert 'id="write"' not in page, "no free-form box once the window has closed"
