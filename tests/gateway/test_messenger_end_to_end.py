"""Messenger end to end: Meta's webhook check and signed deliveries on the real routes of a running
gateway, sends and downloads worked by the worker against the local Graph API emulator, on SQLite and
PostgreSQL with a real Redis.

A complaint is filed with quick replies and a photo; a repeated delivery is processed once; a forged
one changes nothing; a status update reaches the citizen on Messenger inside the 24 hour window, and
outside it goes by SMS to the citizen's phone, or nowhere when they have none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import random
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import select

from core.config import MediaPolicy
from core.db import messages
from core.references import display
from core.store.agent_queue import ConsolePolicy
from gateway.dialogue.sessions import SessionStore
from gateway.outbound.lanes import WorkLanes
from gateway.redis_clients import async_client
from gateway.staff.case_actions import change_status
from gateway.staff.desk import Desk, Refused
from tests.emulators import messenger as fb
from tests.emulators.messenger import MessengerEmulator
from tests.emulators.server import ThreadedServer
from tests.fixtures.gateway import Gateway, gateway_settings, start_gateway
from tests.gateway.conftest import REFERENCE
from tests.gateway.whatsapp_kit import age_inbound, message_attachments, settled
from tests.support import random_mobile

SECRET = "meta-app-secret-0123456789abcdef"
VERIFY = "hotline-verify-token"


@dataclasses.dataclass
class MessengerGateway:
    """A gateway with a Facebook Page configured, and its Graph API emulator."""

    gw: Gateway
    api: MessengerEmulator

    def post(self, delivery: Any, secret: str = SECRET, raw: bytes | None = None) -> requests.Response:
        """POST one delivery to the webhook route, signed as Meta signs it (with `secret`)."""
        body = raw if raw is not None else fb.encode(delivery)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": fb.signature(secret, body),
                   "User-Agent": "facebookexternalua"}
        return requests.post(f"{self.gw.url}/webhooks/messenger", data=body, headers=headers, timeout=15)

    def deliver(self, *events: dict[str, Any]) -> requests.Response:
        """Deliver events, expect Meta's 200, run the jobs they queued."""
        response = self.post(fb.webhook(*events))
        assert response.status_code == 200, response.text
        self.gw.run_jobs()
        return response

    def answer(self, psid: str, key: str) -> bool:
        """Choose `key` in the last message sent to `psid`: tap its quick reply (the title comes as the
        text), or type the number when the choices came as numbered lines; whether it was a tap."""
        last = self.api.sent(psid)[-1]
        chosen = next((reply for reply in last.quick_replies if reply["payload"] == key), None)
        if chosen is None:
            assert f"\n{key} " in last.text, (key, last.message)
            self.deliver(fb.text(psid, key))
            return False
        self.deliver(fb.quick_reply(psid, chosen["title"], chosen["payload"]))
        return True

    def texts(self, psid: str) -> list[str]:
        return self.api.texts(psid)


@pytest.fixture(scope="session")
def graph_api() -> Iterator[MessengerEmulator]:
    """A local Graph API for the session."""
    emulator = MessengerEmulator()
    server = ThreadedServer(emulator.app()).start()
    emulator.url = server.url
    yield emulator
    server.stop()


@pytest.fixture(scope="session")
def mg(database_url: str, redis_url: str, twilio: Any, graph_api: MessengerEmulator) -> Iterator[MessengerGateway]:
    """A gateway (same store and Redis as the others, its own queues) with the Page configured."""
    settings = gateway_settings(database_url, redis_url, twilio)
    env = {**settings.env, "MESSENGER_PAGE_TOKEN": graph_api.token, "MESSENGER_APP_SECRET": SECRET,
           "MESSENGER_VERIFY_TOKEN": VERIFY, "MESSENGER_API_BASE": graph_api.url,
           "MESSENGER_API_VERSION": graph_api.version}
    running = start_gateway(dataclasses.replace(settings, env=env), twilio)
    running.runtime.deployment = dataclasses.replace(
        running.runtime.deployment, media=MediaPolicy(max_bytes=5 * 1024 * 1024, attempts=2, backoff_seconds=(1,)))
    yield MessengerGateway(running, graph_api)
    running.stop()


def new_psid() -> str:
    """A fresh page-scoped id."""
    return str(random.randint(10**15, 10**16 - 1))


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def file_complaint(mg: MessengerGateway, psid: str) -> str:
    """File a complaint by text and quick replies, with a photo; the reference."""
    mg.deliver(fb.text(psid, "Bonjour"))
    taps = [mg.answer(psid, "1"), mg.answer(psid, "1")]
    mg.deliver(fb.text(psid, "Les poubelles ne sont pas ramassées depuis une semaine"))
    photo = mg.api.add_media(jpeg(), "image/jpeg")
    mg.deliver(fb.attachments(psid, fb.attachment("image", photo)))
    mg.deliver(fb.text(psid, "Rue 7, devant l'école"))
    taps += [mg.answer(psid, "0"), mg.answer(psid, "1")]
    assert any(taps), "some choices came as quick replies"
    # a message that found the contact busy (its photo still being stored) is answered a moment later
    mg.gw.run_jobs(until=lambda: REFERENCE.search("\n".join(mg.texts(psid))) is not None)
    found = REFERENCE.search("\n".join(mg.texts(psid)))
    assert found, mg.texts(psid)
    return found.group(1).replace(" ", "")


def test_meta_verifies_the_webhook(mg: MessengerGateway) -> None:
    url = f"{mg.gw.url}/webhooks/messenger"
    good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    response = requests.get(url, params=good, timeout=15)
    assert (response.status_code, response.text) == (200, "1158201444")
    assert response.headers["Content-Type"].startswith("text/plain")
    for wrong in ({**good, "hub.verify_token": "meatyhamhock"}, {**good, "hub.mode": "x"},
                  {"hub.mode": "subscribe", "hub.verify_token": VERIFY}):
        assert requests.get(url, params=wrong, timeout=15).status_code == 403


def test_forged_and_unreadable_deliveries_change_nothing(mg: MessengerGateway) -> None:
    psid = new_psid()
    before = len(mg.api.calls)
    assert mg.post(fb.webhook(fb.text(psid, "Bonjour")), secret="forged").status_code == 403
    unsigned = requests.post(f"{mg.gw.url}/webhooks/messenger", data=fb.encode(fb.webhook(fb.text(psid, "x"))),
                             headers={"Content-Type": "application/json"}, timeout=15)
    assert unsigned.status_code == 403
    assert mg.post(None, raw=b"{not json").status_code == 400
    assert mg.post({"object": "instagram", "entry": [fb.entry(fb.text(psid, "x"))]}).status_code == 200
    mg.gw.run_jobs()
    assert len(mg.api.calls) == before
    assert mg.gw.runtime.store.find_contact(psid, "messenger") is None


def test_a_complaint_with_quick_replies_and_a_photo_then_a_status_update(mg: MessengerGateway) -> None:
    psid = new_psid()
    reference = file_complaint(mg, psid)
    sends = mg.api.sent(psid)
    assert any(call.quick_replies for call in sends), "choices went as quick replies"
    assert all(call.json["messaging_type"] == "RESPONSE" for call in sends)
    document = mg.gw.runtime.store.case_document(reference)
    assert document is not None
    assert document["origin_channel"] == "messenger" and document["language"] == "fr"
    mg.gw.run_jobs(until=lambda: settled(mg.gw, psid, 1))
    assert [row["status"] for row in message_attachments(mg.gw, psid)] == ["stored"]
    document = mg.gw.runtime.store.case_document(reference)
    assert [a["status"] for a in document["attachments"]] == ["stored"]

    change_status(mg.gw.runtime.store, mg.gw.connection, mg.gw.settings.queue_prefix, reference, "in_progress",
                  "agent", "Équipe envoyée")
    mg.gw.run_jobs()
    last = mg.texts(psid)[-1]
    assert display(reference) in last and "en cours de traitement" in last


def test_the_same_delivery_twice_is_processed_once(mg: MessengerGateway) -> None:
    psid = new_psid()
    event = fb.text(psid, "Bonjour")
    mg.deliver(event)
    count = len(mg.api.sent(psid))
    assert count >= 1
    mg.deliver(event)
    assert len(mg.api.sent(psid)) == count
    with mg.gw.runtime.store.engine.connect() as connection:
        rows = connection.execute(select(messages.c.id).where(messages.c.sender == psid,
                                                              messages.c.direction == "in")).all()
    assert len(rows) == 1


def test_outside_the_window_a_status_update_goes_by_sms(mg: MessengerGateway) -> None:
    psid = new_psid()
    reference = file_complaint(mg, psid)
    store = mg.gw.runtime.store
    contact = store.find_contact(psid, "messenger")
    assert contact is not None
    phone = random_mobile()
    assert store.link_phone(contact.id, phone) == "linked"
    age_inbound(mg.gw, psid, timedelta(hours=30))
    before = len(mg.api.calls)
    change_status(store, mg.gw.connection, mg.gw.settings.queue_prefix, reference, "in_progress", "agent", "")
    mg.gw.run_jobs(until=lambda: len(mg.gw.twilio.sent_to(phone)) >= 1)
    assert [c for c in mg.api.calls[before:] if c.recipient == psid] == [], "nothing tried on Messenger"
    (sms,) = mg.gw.twilio.sent_to(phone)
    assert display(reference) in sms.body and "en cours de traitement" in sms.body


def test_outside_the_window_without_a_phone_it_fails_cleanly(mg: MessengerGateway) -> None:
    psid = new_psid()
    reference = file_complaint(mg, psid)
    age_inbound(mg.gw, psid, timedelta(days=2))
    before, sms_before = len(mg.api.calls), len(mg.gw.twilio.messages)
    change_status(mg.gw.runtime.store, mg.gw.connection, mg.gw.settings.queue_prefix, reference, "in_progress",
                  "agent", "")
    mg.gw.run_jobs()
    assert [c for c in mg.api.calls[before:] if c.recipient == psid] == []
    assert len(mg.gw.twilio.messages) == sms_before
    with mg.gw.runtime.store.engine.connect() as connection:
        statuses = connection.execute(select(messages.c.status).where(
            messages.c.recipient == psid, messages.c.direction == "out").order_by(messages.c.id)).scalars().all()
    assert statuses[-1] == "failed"


def test_an_agent_writes_with_the_human_agent_tag_for_seven_days_then_not_at_all(mg: MessengerGateway) -> None:
    """Past the bot's 24 hours a person may still answer for 7 days (`Capabilities.person_window`):
    the desk lets the agent write and the message carries Meta's `HUMAN_AGENT` tag; after 7 days the
    desk refuses before anything is recorded."""
    psid = new_psid()
    mg.deliver(fb.text(psid, "Bonjour"))
    store = mg.gw.runtime.store
    contact = store.find_contact(psid, "messenger")
    assert contact is not None
    conversation_id = store.request_agent("messenger", contact.id, "asked")
    agent = store.add_staff(f"agent-{psid[-6:]}", "agent")

    async def desk_does(action: Callable[[Desk], Awaitable[Any]]) -> Any:
        client = async_client(mg.gw.settings.redis_url)
        try:
            prefix = mg.gw.settings.queue_prefix
            return await action(Desk(mg.gw.runtime, SessionStore(client, prefix), WorkLanes(client, prefix),
                                     ConsolePolicy()))
        finally:
            await client.aclose()

    asyncio.run(desk_does(lambda desk: desk.take_over(agent, conversation_id)))
    age_inbound(mg.gw, psid, timedelta(days=3))
    asyncio.run(desk_does(lambda desk: desk.send(agent, conversation_id, "Bonjour, je reprends votre demande.")))
    mg.gw.run_jobs()
    last = mg.api.sent(psid)[-1]
    assert last.text == "Bonjour, je reprends votre demande."
    assert (last.json["messaging_type"], last.json["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")

    age_inbound(mg.gw, psid, timedelta(days=8))
    with pytest.raises(Refused) as refused:
        asyncio.run(desk_does(lambda desk: desk.send(agent, conversation_id, "Encore là ?")))
    assert refused.value.code == "window_closed" and "templates" not in refused.value.message
