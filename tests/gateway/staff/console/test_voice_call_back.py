"""A caller who hung up mid-complaint is in the queue with what the call collected; an agent calls them
back through Twilio (an outbound call that puts them through to a person), or notes that they phoned."""

from __future__ import annotations

import re

import requests

from tests.channels.twiml_rules import check
from tests.gateway.staff.conftest import PASSWORD, Console
from tests.gateway.voice_kit import MP3, Caller, is_route, to_description


def abandoned_call(console: Console) -> tuple[Caller, int]:
    """A French caller who recorded a description and hung up; their conversation id."""
    caller = Caller(console.gateway)
    to_description(caller, "fr")
    caller.record(console.gateway.twilio.add_recording(MP3), 9)
    caller.hang_up()
    store = console.gateway.runtime.store
    contact_id = store.contact_id_for("ivr", caller.phone)
    assert contact_id is not None
    opened = store.open_conversation("ivr", contact_id)
    assert opened is not None
    return caller, opened[0]


def test_an_abandoned_call_is_called_back(console: Console) -> None:
    caller, conversation_id = abandoned_call(console)
    path = f"/api/v1/conversations/{conversation_id}"
    detail = console.api("GET", path, "agent").json()
    assert detail["channel"] == "ivr" and detail["reason"] == "abandoned"
    assert detail["collected"]["step"] == "location" and len(detail["collected"]["recordings"]) == 1
    not_holder = console.api("POST", f"{path}/callback", "agent", {"how": "call"})
    assert not_holder.status_code == 409, "the conversation is taken over first"
    assert console.api("POST", f"{path}/takeover", "agent").status_code == 200
    assert console.api("POST", f"{path}/callback", "agent", {"how": "ring"}).status_code == 400
    placed = console.api("POST", f"{path}/callback", "agent", {"how": "call"})
    assert placed.status_code == 200, placed.text
    (call,) = [c for c in console.gateway.twilio.calls if c["To"] == caller.phone]
    assert placed.json()["call_sid"] == call["Sid"]
    assert call["From"] == console.gateway.number
    assert "service des plaintes" in call["Twiml"] and re.search(r"<(Enqueue|Dial)\b", call["Twiml"])
    check(call["Twiml"], is_route), "only verbs, attributes and nesting Twilio documents"
    noted = console.api("POST", f"{path}/callback", "agent", {"how": "called"})
    assert noted.status_code == 200
    closed = console.api("GET", path, "agent").json()
    assert (closed["status"], closed["closed_reason"]) == ("closed", "called_back")
    audit = console.api("GET", "/api/v1/audit", "supervisor").json()
    entries = audit["entries"] if isinstance(audit, dict) else audit
    assert sum(1 for e in entries if e["action"] == "conversation.call_back") >= 2


def test_only_voice_conversations_are_called_back(console: Console) -> None:
    citizen = console.gateway.citizen()
    citizen.say("Bonjour")
    citizen.say("agent")
    conversation_id = console.conversation_of(citizen)
    assert console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent2").status_code == 200
    refused = console.api("POST", f"/api/v1/conversations/{conversation_id}/callback", "agent2", {"how": "call"})
    assert (refused.status_code, refused.json()["error"]) == (409, "not_a_call")


def test_the_console_page_shows_the_call_and_calls_back(console: Console) -> None:
    caller, conversation_id = abandoned_call(console)
    agent = console.add_staff("agent")
    assert console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", agent.username).status_code == 200
    browser = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get(console.gateway.url + "/console/login").text)
    assert csrf
    browser.post(console.gateway.url + "/console/login",
                 data={"csrf": csrf.group(1), "username": agent.username, "password": PASSWORD})
    page = browser.get(f"{console.gateway.url}/console/conversations/{conversation_id}").text
    assert 'id="call-collected"' in page and "/console/media/" in page and 'id="call-back"' in page
    token = re.search(r'id="call-back">\s*<input type="hidden" name="csrf" value="([^"]+)"', page)
    assert token
    done = browser.post(f"{console.gateway.url}/console/conversations/{conversation_id}/callback",
                        data={"csrf": token.group(1), "how": "call"})
    assert done.status_code == 200 and "notice" in done.text
    assert any(c["To"] == caller.phone for c in console.gateway.twilio.calls)
