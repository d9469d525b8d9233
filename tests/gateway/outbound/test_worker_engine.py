"""The worker's guarantees through the real gateway, Redis, store and Twilio emulator: one item per
message however often it is queued, a dead worker's claim comes back, an item that keeps failing is
quarantined where supervisors see it, background loops outlive bugs, and `/metrics` shows what the
workers did."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from core.db import messages
from core.records import OutboundDraft
from core.store.transactions import utcnow
from gateway.outbound import sending, worker
from gateway.outbound.lanes import WorkLanes, notice_work, send_work
from gateway.outbound.sweeper import SweepPolicy, sweep_forever
from gateway.staff.case_actions import change_status
from tests.fixtures.gateway import Citizen, Gateway
from tests.gateway.conftest import Hotline, staff_token
from tests.gateway.test_sms_resilience import filed_case, outbound_rows
from tests.support import status_callback


def queued_message(gateway: Gateway, citizen: Citizen, body: str) -> int:
    """A recorded outbound SMS to the citizen, not yet queued."""
    contact = gateway.runtime.store.find_contact(citizen.phone)
    assert contact is not None
    (message_id,) = gateway.runtime.store.record_outbound(
        [OutboundDraft("sms", contact.id, gateway.number, citizen.phone, body, priority="bulk")])
    return message_id


def test_the_sweeper_never_grows_the_backlog(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    citizen.say("Bonjour")
    ids = [queued_message(gateway, citizen, f"en attente {n}") for n in range(4)]
    lanes = WorkLanes(gateway.connection, gateway.settings.queue_prefix)
    for _ in range(50):  # what 50 sweeps of a stuck backlog used to multiply
        lanes.enqueue([send_work(i, "sms", gateway.number, citizen.phone, "bulk") for i in ids])
    items = {k.decode() for k in gateway.connection.hkeys(lanes.key("items"))}
    assert {f"m:{i}" for i in ids} <= items
    lane = f"s|sms|{gateway.number}|{citizen.phone}"
    assert gateway.connection.llen(f"{lanes.prefix}:lane:{lane}") == 4
    gateway.run_jobs()
    assert citizen.inbox() == [f"en attente {n}" for n in range(4)]


def test_a_dead_workers_claim_is_sent_again_once(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    citizen.say("Bonjour")
    message_id = queued_message(gateway, citizen, "après la panne")
    lanes = WorkLanes(gateway.connection, gateway.settings.queue_prefix)
    lanes.enqueue([send_work(message_id, "sms", gateway.number, citizen.phone, "bulk")])
    (claim,), _ = lanes.claim(1, 1)  # a worker claims it (lease of 1 ms) ...
    assert gateway.runtime.store.claim_outbound(message_id) is not None  # ... marks it sending, and dies
    with gateway.runtime.store.write() as conn:  # its SQL claim is older than the lease
        conn.execute(update(messages).where(messages.c.id == message_id).values(
            updated_at=utcnow() - timedelta(seconds=sending.CLAIM_LEASE_SECONDS + 1)))
    gateway.run_jobs()  # the lease ran out: the lane is reaped and the message goes, once
    assert citizen.inbox() == ["après la panne"]
    assert lanes.ack(claim) == 0, "the dead worker's late answer is refused"
    gateway.run_jobs()
    assert citizen.inbox() == ["après la panne"]


def test_an_item_that_keeps_failing_is_quarantined_and_shown(gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
                                                             hotline: Hotline) -> None:
    citizen = gateway.citizen()
    citizen.say("Bonjour")
    message_id = queued_message(gateway, citizen, "jamais")
    monkeypatch.setattr(worker, "CRASH_BACKOFF_SECONDS", (0, 0, 0))
    adapter = gateway.runtime.adapter("sms")

    async def broken(message):  # a bug, not a provider refusal
        raise ValueError("a bug in the adapter")

    monkeypatch.setattr(adapter, "send", broken)
    lanes = WorkLanes(gateway.connection, gateway.settings.queue_prefix)
    lanes.enqueue([send_work(message_id, "sms", gateway.number, citizen.phone, "bulk")])
    gateway.run_jobs()
    state = gateway.runtime.store.message_status(message_id)
    assert (state["status"], state["error_code"]) == ("failed", "quarantined")
    assert "a bug in the adapter" in state["error_message"]
    assert not gateway.connection.hexists(lanes.key("items"), f"m:{message_id}"), "no longer retried"
    token = staff_token(hotline, "quarantine-admin-" + citizen.phone[-6:], "admin")
    listed = requests.get(gateway.url + "/api/v1/quarantine", headers={"Authorization": f"Bearer {token}"},
                          timeout=10).json()
    assert message_id in [entry["id"] for entry in listed["messages"]]
    assert f"m:{message_id}" in [entry["item"] for entry in listed["items"]]
    metrics = requests.get(gateway.url + "/metrics", timeout=10).text
    assert 'hotline_quarantined_items_total{kind="m"}' in metrics


def test_metrics_show_what_the_workers_did(gateway: Gateway, hotline: Hotline) -> None:
    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    gateway.run_jobs(until=lambda: len(citizen.inbox()) == 1)
    text = requests.get(gateway.url + "/metrics", timeout=10).text
    sent = [line for line in text.splitlines()
            if line.startswith('hotline_outbound_messages_total{channel="sms",outcome="sent"}')]
    assert sent and float(sent[0].split()[-1]) >= 1
    for gauge in ("hotline_queue_depth", "hotline_queue_oldest_seconds", "hotline_lanes_busy",
                  'hotline_lanes_ready{priority="replies"}', "hotline_quarantined "):
        assert gauge in text, gauge


def test_carrier_opt_out_report_stops_sending_at_once(gateway: Gateway, hotline: Hotline) -> None:
    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    gateway.run_jobs(until=lambda: len(citizen.inbox()) == 1)
    sid = gateway.twilio.sent_to(citizen.phone)[0].sid
    response = gateway.post("/webhooks/twilio/status",
                            status_callback(sid, "undelivered", citizen.phone, gateway.number, "21610"))
    assert response.status_code == 204
    contact = gateway.runtime.store.find_contact(citizen.phone)
    assert contact is not None and contact.opted_out
    rows = len(outbound_rows(gateway, citizen.phone))
    hotline("case", "set-status", reference, "answered", "--note", "Réglé")
    gateway.run_jobs()
    assert len(citizen.inbox()) == 1, "nothing more after the carrier said the citizen opted out"
    assert len(outbound_rows(gateway, citizen.phone)) == rows


def test_background_sweep_outlives_a_bug(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    rounds: list[int] = []

    async def buggy_once(processor, policy) -> None:
        rounds.append(len(rounds))
        if len(rounds) < 3:
            raise ValueError("an unexpected bug")

    monkeypatch.setattr("gateway.outbound.sweeper.sweep_once", buggy_once)

    async def run() -> None:
        task = asyncio.create_task(sweep_forever(None, SweepPolicy(interval=timedelta(milliseconds=5))))  # type: ignore[arg-type]
        deadline = asyncio.get_running_loop().time() + 5
        while len(rounds) < 4 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    assert len(rounds) >= 4, "the loop went on after two failures"


def test_notice_worked_on_twice_is_told_once(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    reference = filed_case(gateway, citizen)
    change = change_status(gateway.runtime.store, gateway.connection, gateway.settings.queue_prefix, reference,
                           "in_progress", "officer", "pris en charge")
    gateway.run_jobs(until=lambda: len(citizen.inbox()) == 1)
    lanes = WorkLanes(gateway.connection, gateway.settings.queue_prefix)
    assert lanes.enqueue([notice_work(reference, change.event_id)]) == 1, "done items may be queued again"
    gateway.run_jobs()
    assert len(citizen.inbox()) == 1, "the event was marked told with its messages: never told twice"
