"""Bad input and failures on the SMS path: odd replies, expired sessions, a provider failing then
recovering, opt-out, delivery reports, duplicate jobs, priorities."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.db import messages
from core.store.case_store import OutboundDraft
from gateway.outbound.lanes import WorkLanes, send_work
from tests.emulators.twilio import ScriptedFailure
from tests.fixtures.gateway import Citizen, Gateway
from tests.gateway.conftest import Hotline, reference_in, say_text, set_status, staff_token
from tests.support import inbound_sms, status_callback


def session_key(gateway: Gateway, phone: str) -> str:
    return f"{gateway.settings.queue_prefix}:session:sms:{phone}"


def age_session(gateway: Gateway, phone: str, by: timedelta) -> None:
    """Pretend the citizen's last message was `by` ago."""
    key = session_key(gateway, phone)
    raw = json.loads(gateway.connection.get(key))
    raw["updated_at"] = (datetime.fromisoformat(raw["updated_at"]) - by).isoformat()
    gateway.connection.set(key, json.dumps(raw))


def outbound_rows(gateway: Gateway, phone: str) -> list[dict]:
    with gateway.runtime.store.engine.connect() as connection:
        rows = connection.execute(
            select(messages).where(messages.c.recipient == phone, messages.c.direction == "out",
                                   messages.c.priority == "bulk").order_by(messages.c.id)
        ).mappings().all()
    return [dict(row) for row in rows]


def filed_case(gateway: Gateway, citizen: Citizen) -> str:
    for message in ["Bonjour", "1", "1", "Poubelles pleines", "Rue 3", "0"]:
        citizen.say(message)
    return reference_in(citizen.say("1"))


@pytest.mark.parametrize(
    ("steps", "odd", "expected_key", "values"),
    [
        (["Bonjour"], "banane", "miss_number", {"first": "1", "last": "5"}),
        (["Bonjour", "1"], "42", "miss_number", {"first": "1", "last": "9"}),
        (["Bonjour", "1", "1"], "?", "miss_text", {}),
        (["Bonjour", "1", "1", "Poubelles pleines"], "  ", "miss_text", {}),
        (["Bonjour", "1", "1", "Poubelles pleines", "Rue 3", "0"], "peut-être", "miss_number",
         {"first": "1", "last": "2"}),
    ],
    ids=["menu", "category", "description", "location", "confirm"],
)
def test_unexpected_reply_repeats_the_question(
    gateway: Gateway, steps: list[str], odd: str, expected_key: str, values: dict[str, str]
) -> None:
    citizen = gateway.citizen()
    asked = [citizen.say(step) for step in steps][-1]
    replies = citizen.say(odd)
    joined = "\n".join(replies)
    assert say_text(gateway, "fr", expected_key, **values) in joined
    assert asked[-1] in joined, "the question is asked again with its choices"


def test_three_misses_offer_a_person(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    citizen.say("Bonjour")
    offer = say_text(gateway, "fr", "offer_agent")
    assert offer not in "\n".join(citizen.say("xx"))
    assert offer not in "\n".join(citizen.say("yy"))
    assert offer in "\n".join(citizen.say("zz"))
    assert say_text(gateway, "fr", "agent_requested") in "\n".join(citizen.say("agent"))


def test_expired_session_restarts_and_says_so(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    for message in ["Bonjour", "1", "1"]:
        citizen.say(message)
    age_session(gateway, citizen.phone, timedelta(days=2))
    replies = "\n".join(citizen.say("Poubelles pleines"))
    assert say_text(gateway, "fr", "expired") in replies
    assert "1 Plainte" in replies


def test_break_resumes_where_the_citizen_was(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    for message in ["Bonjour", "1", "1"]:
        citizen.say(message)
    age_session(gateway, citizen.phone, timedelta(hours=2))
    replies = "\n".join(citizen.say("Salut"))
    assert say_text(gateway, "fr", "expired") not in replies
    assert say_text(gateway, "fr", "resume") in replies or say_text(gateway, "fr", "welcome_back") in replies


def test_provider_failing_then_recovering(gateway: Gateway, hotline: Hotline) -> None:
    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    administration = gateway.runtime.store.get_case(reference).administration_code
    token = staff_token(hotline, f"officer-retry-{citizen.phone[-6:]}", "officer", administration)
    gateway.twilio.fail_next(citizen.phone, ScriptedFailure(503, None, "Service Unavailable"),
                             ScriptedFailure(429, 20429, "Too Many Requests", retry_after="1"))
    assert set_status(gateway, token, reference, "in_progress").status_code == 200
    gateway.run_jobs(until=lambda: len(citizen.inbox()) == 1, timeout=20)
    (row,) = outbound_rows(gateway, citizen.phone)
    assert row["status"] == "accepted"
    assert row["attempts"] == 3
    assert len([r for r in gateway.twilio.requests if r.get("To") == citizen.phone]) == 3


def test_final_provider_error_is_not_retried(gateway: Gateway, hotline: Hotline) -> None:
    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    gateway.twilio.fail_next(citizen.phone, ScriptedFailure(400, 21211, "Invalid 'To' Phone Number"))
    code, _, err = hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    assert code == 0, err
    gateway.run_jobs(until=lambda: bool(outbound_rows(gateway, citizen.phone))
                     and outbound_rows(gateway, citizen.phone)[0]["status"] == "failed")
    (row,) = outbound_rows(gateway, citizen.phone)
    assert (row["status"], row["error_code"], row["attempts"]) == ("failed", "21211", 1)
    assert citizen.inbox() == []


def test_opted_out_at_twilio_marks_the_contact(gateway: Gateway, hotline: Hotline) -> None:
    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    gateway.twilio.fail_next(citizen.phone, ScriptedFailure(400, 21610, "Attempt to send to unsubscribed recipient"))
    hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    gateway.run_jobs(until=lambda: bool(outbound_rows(gateway, citizen.phone))
                     and outbound_rows(gateway, citizen.phone)[0]["status"] == "failed")
    contact = gateway.runtime.store.find_contact(citizen.phone)
    assert contact is not None and contact.opted_out is True


def test_stop_and_start_keywords(gateway: Gateway, hotline: Hotline) -> None:
    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    assert citizen.say("STOP") == [say_text(gateway, "fr", "opted_out")]
    assert citizen.say("Bonjour") == [], "an opted-out citizen gets nothing back"
    assert citizen.say("help") == [say_text(gateway, "fr", "opted_out")], "but HELP is always answered"
    hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    gateway.run_jobs()
    assert citizen.inbox() == []
    assert citizen.say("start") == [say_text(gateway, "fr", "opted_in")]
    assert citizen.say("Bonjour"), "the dialogue answers again"
    hotline("case", "set-status", reference, "answered", "--note", "Réglé")
    gateway.run_jobs(until=lambda: len(citizen.inbox()) >= 1)


def test_late_sent_report_never_overwrites_delivered(gateway: Gateway, hotline: Hotline) -> None:
    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    gateway.run_jobs(until=lambda: len(citizen.inbox()) == 1)
    sent = gateway.twilio.sent_to(citizen.phone)[0]
    assert sent.status_callback == "https://hotline.commune.example/webhooks/twilio/status"
    for status in ["sent", "delivered", "sent"]:
        response = gateway.post("/webhooks/twilio/status", status_callback(sent.sid, status, citizen.phone,
                                                                           gateway.number))
        assert response.status_code == 204
    assert outbound_rows(gateway, citizen.phone)[0]["status"] == "delivered"
    forged = gateway.post("/webhooks/twilio/status", status_callback(sent.sid, "failed", citizen.phone,
                                                                     gateway.number), signature="forged")
    assert forged.status_code == 403
    assert outbound_rows(gateway, citizen.phone)[0]["status"] == "delivered"


def test_undelivered_report_is_recorded(gateway: Gateway, hotline: Hotline) -> None:
    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    gateway.run_jobs(until=lambda: len(citizen.inbox()) == 1)
    sid = gateway.twilio.sent_to(citizen.phone)[0].sid
    gateway.post("/webhooks/twilio/status", status_callback(sid, "undelivered", citizen.phone, gateway.number, "30003"))
    row = outbound_rows(gateway, citizen.phone)[0]
    assert (row["status"], row["error_code"]) == ("undelivered", "30003")


def _draft(gateway: Gateway, citizen: Citizen, body: str, priority: str) -> int:
    contact = gateway.runtime.store.find_contact(citizen.phone)
    assert contact is not None
    (message_id,) = gateway.runtime.store.record_outbound(
        [OutboundDraft("sms", contact.id, gateway.number, citizen.phone, body, priority=priority)])
    return message_id


def test_message_queued_twice_is_sent_once(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    citizen.say("Bonjour")
    message_id = _draft(gateway, citizen, "Une seule fois", "replies")
    lanes = WorkLanes(gateway.connection, gateway.settings.queue_prefix)
    for priority in ("replies", "replies", "bulk"):
        lanes.enqueue([send_work(message_id, "sms", gateway.number, citizen.phone, priority)])
    assert gateway.connection.hexists(lanes.key("items"), f"m:{message_id}")
    gateway.run_jobs()
    assert citizen.inbox() == ["Une seule fois"]
    lanes.enqueue([send_work(message_id, "sms", gateway.number, citizen.phone, "replies")])
    gateway.run_jobs()
    assert citizen.inbox() == ["Une seule fois"], "queued again after it went: claimed in SQL, not sent again"


def test_replies_go_before_bulk_updates(gateway: Gateway) -> None:
    lanes = WorkLanes(gateway.connection, gateway.settings.queue_prefix)
    others = [gateway.citizen() for _ in range(3)]
    citizen = gateway.citizen()
    for person in (*others, citizen):
        person.say("Bonjour")
    for n, person in enumerate(others):
        (bulk,) = [_draft(gateway, person, f"mise à jour {n}", "bulk")]
        lanes.enqueue([send_work(bulk, "sms", gateway.number, person.phone, "bulk")])
    reply = _draft(gateway, citizen, "réponse directe", "replies")
    lanes.enqueue([send_work(reply, "sms", gateway.number, citizen.phone, "replies")])
    started = len(gateway.twilio.messages)
    gateway.run_jobs(concurrency=1)
    ours = {person.phone for person in (*others, citizen)}  # the shared gateway may still hold others' sends
    arrived = [m.body for m in gateway.twilio.messages[started:] if m.to in ours]
    assert arrived[0] == "réponse directe", arrived
    assert sorted(arrived[1:]) == ["mise à jour 0", "mise à jour 1", "mise à jour 2"]


def test_one_citizens_messages_arrive_in_order(gateway: Gateway) -> None:
    lanes = WorkLanes(gateway.connection, gateway.settings.queue_prefix)
    citizen = gateway.citizen()
    citizen.say("Bonjour")
    ids = [_draft(gateway, citizen, f"message {n}", "bulk") for n in range(8)]
    lanes.enqueue([send_work(i, "sms", gateway.number, citizen.phone, "bulk") for i in ids])
    gateway.run_jobs()
    assert citizen.inbox()[-8:] == [f"message {n}" for n in range(8)]


def test_same_text_without_provider_id_is_a_repeat(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    form = inbound_sms(citizen.phone, gateway.number, "Bonjour")
    for key in ("MessageSid", "SmsSid", "SmsMessageSid"):
        form.pop(key)
    first = gateway.post("/webhooks/twilio/sms", form)
    second = gateway.post("/webhooks/twilio/sms", form)
    assert "<Message>" in first.text
    assert second.status_code == 200 and "<Message>" not in second.text


def test_api_refuses_who_must_not_pass(gateway: Gateway, hotline: Hotline) -> None:
    import requests

    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    own = gateway.runtime.store.get_case(reference).administration_code
    other = next(a.code for a in gateway.runtime.deployment.administrations if a.code != own)
    suffix = citizen.phone[-6:]
    officer = staff_token(hotline, f"own-{suffix}", "officer", own)
    stranger = staff_token(hotline, f"other-{suffix}", "officer", other)
    agent = staff_token(hotline, f"agent-{suffix}", "agent")
    admin = staff_token(hotline, f"admin-{suffix}", "admin")
    url = f"{gateway.url}/api/v1/cases/{reference}"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
    for token in (stranger, agent):
        assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 404, \
            "a case one may not see answers as an unknown one does"
        assert set_status(gateway, token, reference, "in_progress").status_code == 404
    document = requests.get(url, headers={"Authorization": f"Bearer {officer}"}, timeout=5)
    assert document.status_code == 200 and document.json()["reference"] == reference
    assert set_status(gateway, officer, reference, "closed").status_code == 409
    assert set_status(gateway, officer, reference, "in_progress").status_code == 200
    missing_note = set_status(gateway, officer, reference, "answered", "  ")
    assert (missing_note.status_code, missing_note.json()["error"]) == (400, "note_required")
    assert set_status(gateway, admin, reference, "flying").status_code == 400
    bad_json = requests.post(url + "/status", data="{", headers={"Authorization": f"Bearer {admin}"}, timeout=5)
    assert bad_json.status_code == 400
    assert set_status(gateway, admin, "1234567890", "in_progress").status_code == 404
    views = gateway.runtime.store.audit_entries(case_id=gateway.runtime.store.get_case(reference).id)
    assert [entry["action"] for entry in views].count("case.view") == 1
