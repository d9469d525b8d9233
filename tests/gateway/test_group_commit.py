"""One bad write fails alone: the group commit under a poisoned item.

Concurrent requests share one transaction (`gateway.batching.GroupCommit` over the store's
`record_inbound_many`). A draft the store refuses must fail only its own caller: the others are
written again one by one and every one of them is recorded. A failure of the database itself (not of
one item's data) still fails the whole batch at once, without one retry per item. Checked on a fake
writer, on the real store (SQLite and PostgreSQL), and through the running gateway with 30 concurrent
signed SMS and one poisoned request among them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from channels.base import InboundMessage
from channels.sms import adapter as sms_adapter
from core.db import messages
from core.store.case_store import CaseStore, InboundDraft, InboundRecord
from gateway.batching import GroupCommit
from tests.core.helpers import random_moroccan_mobile, sid
from tests.fixtures.gateway import Gateway
from tests.support import ACCOUNT_SID, inbound_sms

POISON = "poison"
CONCURRENT = 30


async def _direct(write: Callable[[Sequence[Any]], list[Any]], items: Sequence[Any]) -> list[Any]:
    """Run the write on the loop, yielding first so that every submit lands in one batch."""
    await asyncio.sleep(0)
    return write(items)


async def _threaded(write: Callable[[Sequence[Any]], list[Any]], items: Sequence[Any]) -> list[Any]:
    """Run the write in a thread, as the gateway runs PostgreSQL's."""
    await asyncio.sleep(0)
    return await asyncio.to_thread(write, items)


def test_a_failing_item_fails_alone_and_the_rest_are_written() -> None:
    batches: list[list[str]] = []

    def write(items: Sequence[str]) -> list[str]:
        batches.append(list(items))
        if POISON in items:
            raise ValueError("poisoned")
        return [item.upper() for item in items]

    async def run() -> list[str | BaseException]:
        commit: GroupCommit[str, str] = GroupCommit(write, _direct)
        items = [f"m{n}" for n in range(CONCURRENT)]
        items.insert(CONCURRENT // 2, POISON)
        return await asyncio.gather(*(commit.submit(item) for item in items), return_exceptions=True)

    results = asyncio.run(run())
    assert len(results) == CONCURRENT + 1
    (failure,) = [r for r in results if isinstance(r, BaseException)]
    assert isinstance(failure, ValueError)
    assert [r for r in results if isinstance(r, str)] == [f"M{n}" for n in range(CONCURRENT)]
    assert len(batches[0]) == CONCURRENT + 1, "the items were batched together first"
    assert all(len(batch) == 1 for batch in batches[1:])


def test_a_failing_database_fails_the_batch_at_once() -> None:
    calls: list[int] = []

    def write(items: Sequence[str]) -> list[str]:
        calls.append(len(items))
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    async def run() -> list[str | BaseException]:
        commit: GroupCommit[str, str] = GroupCommit(write, _direct)
        return await asyncio.gather(*(commit.submit(f"m{n}") for n in range(10)), return_exceptions=True)

    results = asyncio.run(run())
    assert all(isinstance(r, OperationalError) for r in results)
    assert calls == [10], "no retry item by item when the database itself failed"


def _draft(**changes: str) -> InboundDraft:
    draft = InboundDraft("sms", random_moroccan_mobile(), "+212522000111", sid(), "Bonjour", datetime.now(UTC))
    return dataclasses.replace(draft, **changes)


POISONED_DRAFTS = [
    ("an empty sender", {"sender": ""}),
    ("a malformed address kind", {"address_kind": "Fax number!"}),
]


@pytest.mark.parametrize(("label", "poison"), POISONED_DRAFTS, ids=[row[0] for row in POISONED_DRAFTS])
def test_the_store_records_every_draft_batched_with_a_poisoned_one(
    store: CaseStore, label: str, poison: dict[str, str]
) -> None:
    senders = [random_moroccan_mobile() for _ in range(CONCURRENT)]
    drafts = [_draft(sender=sender) for sender in senders]
    drafts.insert(7, _draft(**poison))

    async def submit_all() -> list[InboundRecord | BaseException]:
        commit: GroupCommit[InboundDraft, InboundRecord] = GroupCommit(store.record_inbound_many, _threaded)
        return await asyncio.gather(*(commit.submit(draft) for draft in drafts), return_exceptions=True)

    results = asyncio.run(submit_all())
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and isinstance(failures[0], ValueError), label
    with store.engine.connect() as connection:
        recorded = connection.execute(select(func.count()).select_from(messages).where(
            messages.c.sender.in_(senders), messages.c.direction == "in")).scalar_one()
    assert recorded == CONCURRENT


def _inbound_from(gateway: Gateway, phones: list[str]) -> int:
    with gateway.runtime.store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(messages).where(
            messages.c.sender.in_(phones), messages.c.direction == "in")).scalar_one()


def _concurrently(gateway: Gateway, phones: list[str], poisoned: tuple[str, dict[str, str]]) -> list[int]:
    """The 30 SMS and the poisoned request at once; their statuses, the poisoned one's last."""
    requests_ = [("/webhooks/twilio/sms", inbound_sms(phone, gateway.number, "Bonjour")) for phone in phones]
    requests_.insert(CONCURRENT // 2, poisoned)
    with ThreadPoolExecutor(len(requests_)) as pool:
        answers = list(pool.map(lambda request: gateway.post(*request), requests_))
    statuses = [answer.status_code for answer in answers]
    return statuses[: CONCURRENT // 2] + statuses[CONCURRENT // 2 + 1:] + [statuses[CONCURRENT // 2]]


def test_a_signed_keypress_without_a_caller_among_30_sms(gateway: Gateway) -> None:
    phones = [random_moroccan_mobile() for _ in range(CONCURRENT)]
    keypress = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": "", "To": gateway.number,
                "Direction": "inbound", "CallStatus": "in-progress", "Digits": "1"}
    statuses = _concurrently(gateway, phones, ("/webhooks/twilio/voice/language", keypress))
    assert statuses[:-1] == [200] * CONCURRENT
    assert 400 <= statuses[-1] < 500
    assert _inbound_from(gateway, phones) == CONCURRENT


def test_a_draft_the_store_refuses_among_30_sms(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    """A poison the edge does not catch (the SMS adapter's checks turned off for one text): it reaches
    the group commit with the 30 others, which are all answered and recorded all the same."""
    checked = sms_adapter.checked

    def unchecked(message: InboundMessage) -> InboundMessage:
        return dataclasses.replace(message, sender="") if message.text == POISON else checked(message)

    monkeypatch.setattr(sms_adapter, "checked", unchecked)
    phones = [random_moroccan_mobile() for _ in range(CONCURRENT)]
    poisoned = ("/webhooks/twilio/sms", inbound_sms(random_moroccan_mobile(), gateway.number, POISON))
    statuses = _concurrently(gateway, phones, poisoned)
    assert statuses[:-1] == [200] * CONCURRENT
    assert statuses[-1] != 200
    assert _inbound_from(gateway, phones) == CONCURRENT
    assert requests.get(gateway.url + "/healthz", timeout=5).status_code == 200
