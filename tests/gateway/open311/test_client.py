"""A GeoReport client against the running gateway over real HTTP: it files a case, follows it through
the staff's answer, and the phone number it gave is told of each change by SMS (the Twilio emulator
records the sends). Public answers carry no personal data; a retried POST files one case."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from core.db import audit_log, cases, messages
from tests.fixtures.gateway import Gateway
from tests.gateway.conftest import Hotline, set_status, staff_token
from tests.gateway.open311.conftest import Client
from tests.support import random_mobile

ANSWER = "Les conteneurs ont été vidés et lavés."


def test_a_reporter_follows_their_case_and_is_told_by_sms(client: Client, gateway: Gateway, hotline: Hotline) -> None:
    phone = random_mobile()
    reference = client.file(phone=phone.replace("+212", "0"), first_name="Karim", last_name="Benali",
                            email="karim@example.org", locale="fr")
    token = staff_token(hotline, f"sup-{reference[-6:]}", "supervisor")
    assert set_status(gateway, token, reference, "in_progress").status_code == 200
    assert set_status(gateway, token, reference, "answered", ANSWER).status_code == 200
    gateway.run_jobs(until=lambda: len(gateway.twilio.sent_to(phone)) >= 3)
    told = [message.body for message in gateway.twilio.sent_to(phone)]
    assert any(ANSWER in body for body in told), told
    assert all(message.sender == gateway.number for message in gateway.twilio.sent_to(phone))

    [request] = client.get("requests.json", service_request_id=reference).json()
    assert request["status"] == "closed"
    assert request["status_notes"] == ANSWER
    assert request["expected_datetime"] is None
    text = json.dumps(request, ensure_ascii=False)
    for personal in ("Karim", "Benali", "karim@example.org", phone, phone[4:]):
        assert personal not in text

    updates = client.get("servicerequestupdates.json").json()
    mine = [u for u in updates if u["service_request_id"] == reference]
    assert [u["status"] for u in mine] == ["open", "closed"]
    assert mine[-1]["description"] == ANSWER

    reply = gateway.citizen(phone).say("5")
    assert reply, "the rating question was asked on SMS and the answer is understood there"
    document = gateway.runtime.store.case_document(reference)
    assert document is not None and document["rating"] == 5


def test_a_request_without_contact_is_anonymous_and_nobody_is_texted(client: Client, gateway: Gateway,
                                                                      hotline: Hotline) -> None:
    before = len(gateway.twilio.messages)
    reference = client.file(first_name="Nadia")
    document = gateway.runtime.store.case_document(reference)
    assert document is not None and document["anonymous"] is True and document["contact"]["name"] is None
    token = staff_token(hotline, f"sup-{reference[-6:]}", "supervisor")
    assert set_status(gateway, token, reference, "rejected", "Hors compétence de la commune.").status_code == 200
    gateway.run_jobs()
    # Other tests' work may go out meanwhile (one gateway for the session): what matters is this case's.
    assert not [m for m in gateway.twilio.messages[before:] if "Hors compétence" in m.body]
    with gateway.runtime.store.read() as conn:
        case_id = conn.execute(sa.select(cases.c.id).where(cases.c.reference == reference)).scalar_one()
        assert conn.execute(sa.select(sa.func.count()).select_from(messages).where(
            messages.c.case_id == case_id)).scalar_one() == 0, "nothing recorded to be sent about it"
    [request] = client.get(f"requests/{reference}.json").json()
    assert request["status"] == "closed" and request["status_notes"] == "Hors compétence de la commune."


def test_a_retried_post_files_one_case(client: Client, gateway: Gateway) -> None:
    fields = {"service_code": "lighting", "address_string": "Place du marché", "description": "Lampadaire éteint"}
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client.post("json", fields), range(4)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()[0]["service_request_id"] for a in answers}) == 1
    reference = answers[0].json()[0]["service_request_id"]
    with gateway.runtime.store.read() as conn:
        filed = conn.execute(sa.select(sa.func.count()).select_from(cases).where(
            cases.c.description == "Lampadaire éteint", cases.c.origin_channel == "open311")).scalar_one()
        audited = conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "open311.request",
                                                                    audit_log.c.detail.contains(client.name))).all()
    assert filed == 1
    assert len(audited) == 4 and sum(reference in row.detail for row in audited) == 4
    other = client.post("json", {**fields, "description": "Lampadaire éteint, rue 3"})
    assert other.json()[0]["service_request_id"] != reference


def test_only_cases_filed_over_open311_are_public(client: Client, gateway: Gateway) -> None:
    citizen = gateway.citizen()
    replies = [citizen.say(m) for m in ["Bonjour, j'ai une plainte", "1", "1", "Poubelles pleines rue 5",
                                        "Rue 5, Hay Riad", "0", "1"]]
    sms_case = gateway.runtime.store.cases_for_contact(gateway.runtime.store.find_contact(citizen.phone).id)[0]
    assert replies
    assert client.get(f"requests/{sms_case.reference}.json").status_code == 404
    listed = client.get("requests.json").json()
    assert sms_case.reference not in {r["service_request_id"] for r in listed}


def test_a_revoked_key_files_nothing(client: Client, gateway: Gateway) -> None:
    assert gateway.runtime.store.revoke_api_key(client.name)
    response = client.post("xml", {"service_code": "waste", "lat": "33.9", "long": "-6.9"})
    assert response.status_code == 403
