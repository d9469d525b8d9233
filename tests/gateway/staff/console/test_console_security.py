"""Console security without a browser: sign-in with the session cookie's flags, lock-out, CSRF
refused on every kind of form, citizen text escaped in the queue, transcript and case pages (and in
the live fragments), the Content-Security-Policy, and an officer kept out of another's case."""

from __future__ import annotations

import re

import requests

from gateway.staff.console.i18n import translate
from tests.gateway.staff.api.test_api_conversations import waiting_citizen
from tests.gateway.staff.conftest import PASSWORD, Console

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SCRIPT = "<script>alert('pwned')</script>"
IMG = '<img src=x onerror="alert(1)">'


def sign_in(console: Console, username: str, password: str = PASSWORD) -> tuple[requests.Session, requests.Response]:
    """A browser-like session that signed in (or tried to)."""
    http = requests.Session()
    form = http.get(console.gateway.url + "/console/login?lang=en", timeout=10)
    token = CSRF.search(form.text)
    assert token is not None
    answer = http.post(console.gateway.url + "/console/login", data={"csrf": token.group(1), "username": username,
                                                                    "password": password},
                       allow_redirects=False, timeout=10)
    return http, answer


def csrf_of(http: requests.Session, url: str) -> str:
    """The CSRF token of the session, read off a page."""
    found = CSRF.search(http.get(url, timeout=10).text)
    assert found is not None
    return found.group(1)


def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it(console: Console) -> None:
    http, answer = sign_in(console, console.staff["agent"].username)
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/"
    cookie = answer.headers["Set-Cookie"]
    assert "hotline_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    queue = http.get(console.gateway.url + "/console/queue", timeout=10)
    assert queue.status_code == 200 and "Conversations" in queue.text
    assert "script-src 'self'" in queue.headers["Content-Security-Policy"]
    token = csrf_of(http, console.gateway.url + "/console/queue")
    out = http.post(console.gateway.url + "/console/logout", data={"csrf": token}, allow_redirects=False, timeout=10)
    assert out.status_code == 303
    again = http.get(console.gateway.url + "/console/queue", allow_redirects=False, timeout=10)
    assert again.status_code == 303 and again.headers["Location"] == "/console/login"


def test_wrong_passwords_lock_the_account(console: Console) -> None:
    member = console.add_staff("agent")
    for attempt in range(4):
        _, answer = sign_in(console, member.username, "wrong")
        assert answer.status_code == 401, attempt
        assert "Wrong username or password" in answer.text
    _, answer = sign_in(console, member.username, "wrong")
    assert answer.status_code == 429 and "locked" in answer.text
    _, answer = sign_in(console, member.username, PASSWORD)
    assert answer.status_code == 429, "locked even with the right password"
    _, unknown = sign_in(console, "nobody-here", "x")
    assert unknown.status_code == 401
    actions = [e["action"] for e in console.gateway.runtime.store.audit_entries(None, 50)]
    assert "console.login_failed" in actions


def test_forms_without_the_csrf_token_are_refused(console: Console) -> None:
    _, conversation_id = waiting_citizen(console)
    http, _ = sign_in(console, console.staff["agent"].username)
    url = console.gateway.url
    login_forged = requests.post(url + "/console/login", data={"username": console.staff["agent"].username,
                                                               "password": PASSWORD}, allow_redirects=False, timeout=10)
    assert login_forged.status_code == 403
    for path, data in ((f"/console/conversations/{conversation_id}/takeover", {}),
                       (f"/console/conversations/{conversation_id}/takeover", {"csrf": "forged"}),
                       ("/console/queue/next", {}), ("/console/logout", {"csrf": ""})):
        refused = http.post(url + path, data=data, allow_redirects=False, timeout=10)
        assert refused.status_code == 403, path
        assert "did not come from this console" in refused.text
    detail = console.api("GET", f"/api/v1/conversations/{conversation_id}", "agent").json()
    assert detail["status"] == "needs_person", "nothing changed"
    token = csrf_of(http, url + "/console/queue")
    taken = http.post(url + f"/console/conversations/{conversation_id}/takeover", data={"csrf": token},
                      allow_redirects=False, timeout=10)
    assert taken.status_code == 303
    console.api("POST", f"/api/v1/conversations/{conversation_id}/close", "agent")


def test_citizen_text_is_inert_in_every_page(console: Console) -> None:
    citizen = console.gateway.citizen()
    citizen.say("Bonjour")
    citizen.say("1")
    citizen.say("2")
    citizen.say(f"Lampe cassée {IMG} {SCRIPT}")
    citizen.say("Rue </textarea><script>alert(2)</script>")
    citizen.say(SCRIPT)  # the name
    citizen.say("agent")
    conversation_id = console.conversation_of(citizen)
    console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent")
    reference = console.api("POST", f"/api/v1/conversations/{conversation_id}/case", "agent", {}).json()["reference"]
    agent, _ = sign_in(console, console.staff["agent"].username)
    officer, _ = sign_in(console, console.staff["officer"].username)
    pages = [
        agent.get(console.gateway.url + "/console/queue", timeout=10).text,
        agent.get(console.gateway.url + f"/console/conversations/{conversation_id}", timeout=10).text,
        officer.get(console.gateway.url + f"/console/cases/{reference}", timeout=10).text,
    ]
    with agent.get(console.gateway.url + f"/console/conversations/{conversation_id}/events", stream=True,
                   timeout=10) as live:
        first = next(live.iter_lines(decode_unicode=True, delimiter="\n\n"))
    pages.append(first)
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "</textarea><script>" not in html
    assert "&lt;script&gt;alert(" in pages[1] and "&lt;img src=x onerror=" in pages[1]
    assert "&lt;script&gt;alert(" in pages[2]
    assert "\\u003cscript\\u003e" in first or "&lt;script&gt;" in first
    console.api("POST", f"/api/v1/conversations/{conversation_id}/close", "agent")


def test_an_officer_cannot_open_another_administrations_case(console: Console) -> None:
    store = console.gateway.runtime.store
    record = store.create_case(category="lighting", description="Lampe", language="fr", contact_id=None,
                               origin_channel="sms")
    other, _ = sign_in(console, console.staff["officer_other"].username)
    refused = other.get(console.gateway.url + f"/console/cases/{record.reference}", timeout=10)
    unknown = other.get(console.gateway.url + "/console/cases/0000000000", timeout=10)
    assert refused.status_code == unknown.status_code == 404, "another administration's case is as unknown"
    assert refused.text.replace(record.reference, "") == unknown.text.replace("0000000000", ""), "no oracle"
    assert other.get(console.gateway.url + "/console/queue", timeout=10).status_code == 403, "officers have no queue"
    right, _ = sign_in(console, console.staff["officer"].username)
    assert right.get(console.gateway.url + f"/console/cases/{record.reference}", timeout=10).status_code == 200
    token = csrf_of(right, console.gateway.url + "/console/cases")
    forged = other.post(console.gateway.url + f"/console/cases/{record.reference}/status",
                        data={"csrf": csrf_of(other, console.gateway.url + "/console/cases"), "status": "rejected",
                              "note": "no"}, allow_redirects=False, timeout=10)
    assert forged.status_code == 404
    answer = right.post(console.gateway.url + f"/console/cases/{record.reference}/status",
                        data={"csrf": token, "status": "rejected", "note": ""}, allow_redirects=False, timeout=10)
    assert answer.status_code == 409 and translate("en", "refused_note_required") in answer.text, "inline, in words"
    assert store.get_case(record.reference).status == "routed"
