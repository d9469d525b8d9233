"""The SMS webhook refuses what Twilio did not send and never processes a delivery twice."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from core.db import messages
from tests.fixtures.gateway import Gateway
from tests.support import inbound_sms, message_sid, random_mobile, sign, twiml_messages


def inbound_count(gateway: Gateway, phone: str) -> int:
    with gateway.runtime.store.engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(messages).where(messages.c.sender == phone,
                                                            messages.c.direction == "in")
        ).scalar_one()


@pytest.mark.parametrize(
    ("label", "signature"),
    [
        ("unsigned", None),
        ("forged", "bm90IGEgcmVhbCBzaWduYXR1cmU="),
        ("signed with another account's token", "other-token"),
        ("signed over another URL", "other-url"),
    ],
)
def test_unverified_webhooks_get_403_and_record_nothing(gateway: Gateway, label: str, signature: str | None) -> None:
    phone = random_mobile()
    form = inbound_sms(phone, gateway.number, "Bonjour")
    if signature == "other-token":
        signature = sign("other-token", "https://hotline.commune.example/webhooks/twilio/sms", form)
    elif signature == "other-url":
        signature = sign(gateway.twilio.auth_token, "https://evil.example/webhooks/twilio/sms", form)
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    import requests

    response = requests.post(gateway.url + "/webhooks/twilio/sms", data=form, headers=headers, timeout=10)
    assert response.status_code == 403, label
    assert response.text == "forbidden\n"
    assert inbound_count(gateway, phone) == 0


def test_tampered_body_is_refused(gateway: Gateway) -> None:
    phone = random_mobile()
    form = inbound_sms(phone, gateway.number, "1")
    signature = sign(gateway.twilio.auth_token, "https://hotline.commune.example/webhooks/twilio/sms", form)
    form["Body"] = "2"
    assert gateway.post("/webhooks/twilio/sms", form, signature=signature).status_code == 403
    assert inbound_count(gateway, phone) == 0


def test_repeated_delivery_is_acknowledged_once(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    sid = message_sid()
    first = citizen.say("Bonjour", sid=sid)
    assert first, "the first delivery is answered"
    again = citizen.say("Bonjour", sid=sid)
    assert again == []
    assert inbound_count(gateway, citizen.phone) == 1
    session = gateway.connection.get(f"{gateway.settings.queue_prefix}:session:sms:{citizen.phone}")
    assert session is not None


def test_concurrent_duplicates_are_processed_once(gateway: Gateway) -> None:
    from concurrent.futures import ThreadPoolExecutor

    citizen = gateway.citizen()
    sid = message_sid()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: citizen.say("Hello", sid=sid), range(8)))
    assert sum(1 for replies in answers if replies) == 1
    assert inbound_count(gateway, citizen.phone) == 1


def test_empty_body_gets_an_answer(gateway: Gateway) -> None:
    replies = gateway.citizen().say("")
    assert replies and all(reply.strip() for reply in replies)


def test_very_long_body_gets_an_answer(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    citizen.say("Bonjour")
    citizen.say("1")
    citizen.say("1")
    replies = citizen.say("Les ordures " * 2000)
    assert replies and all(reply.strip() for reply in replies)


def test_oversized_request_is_refused_before_parsing(gateway: Gateway) -> None:
    phone = random_mobile()
    form = inbound_sms(phone, gateway.number, "x" * 400_000)
    response = gateway.post("/webhooks/twilio/sms", form)
    assert response.status_code == 413
    assert inbound_count(gateway, phone) == 0


def test_request_without_sender_is_acknowledged(gateway: Gateway) -> None:
    form = {"MessageSid": message_sid(), "To": gateway.number, "Body": "x"}
    response = gateway.post("/webhooks/twilio/sms", form)
    assert response.status_code == 200
    assert twiml_messages(response.text) == []


def test_health_and_metrics(gateway: Gateway) -> None:
    import requests

    health = requests.get(gateway.url + "/healthz", timeout=5)
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok", "redis": "ok",
                                                           "process": os.getpid()}, "the test gateway runs in-process"
    gateway.citizen().say("Bonjour")
    metrics = requests.get(gateway.url + "/metrics", timeout=5).text
    assert 'hotline_inbound_messages_total{channel="sms",outcome="new"}' in metrics


def test_one_contacts_messages_are_processed_one_at_a_time(gateway: Gateway) -> None:
    """Three unexpected replies sent at once: each turn sees the one before (the per-contact lock), so
    the miss count reaches three and exactly one reply offers a person. Without the lock, concurrent
    turns would read the same session and the count would be lost."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.gateway.conftest import say_text

    citizen = gateway.citizen()
    citizen.say("Bonjour")
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(citizen.say, ["xx", "yy", "zz"]))
    offer = say_text(gateway, "fr", "offer_agent")
    assert sum(offer in "\n".join(replies) for replies in answers) == 1
    assert all(answers)
