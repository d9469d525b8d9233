"""Messages: inbound recorded once (also under racing deliveries), outbound claimed once, delivery ranked."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from core.records import InboundDraft, OutboundDraft
from core.store.case_store import CaseStore
from core.store.transactions import utcnow
from tests.core.helpers import random_moroccan_mobile, sid

HOTLINE = "+212522000111"


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released at once; their results (exceptions re-raised)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return results


def draft(contact_id: int, body: str = "hello", **kw: Any) -> OutboundDraft:
    """An SMS reply draft."""
    return OutboundDraft(
        channel="sms", contact_id=contact_id, sender=HOTLINE, recipient="+212600000000", body=body, **kw
    )


def test_record_inbound_creates_contact_and_dedups(store: CaseStore) -> None:
    phone = random_moroccan_mobile()
    local = "0" + phone[4:]
    message_sid = sid()
    first = store.record_inbound("whatsapp", f"whatsapp:{phone}", f"whatsapp:{HOTLINE}", message_sid, "salam", utcnow(),
                                 sender_name="Amina")  # fmt: skip
    assert not first.duplicate and not first.processed and not first.opted_out and first.language is None
    contact = store.contact(first.contact_id)
    assert contact is not None and contact.phone == phone and contact.name == "Amina"
    again = store.record_inbound("whatsapp", f"whatsapp:{phone}", HOTLINE, message_sid, "salam", utcnow())
    assert again.duplicate and again.message_id == first.message_id and again.contact_id == first.contact_id
    # the same provider id on another channel is another message; a local spelling is the same contact
    other = store.record_inbound("sms", local, HOTLINE, message_sid, "salam", utcnow())
    assert not other.duplicate and other.message_id != first.message_id and other.contact_id == first.contact_id


def test_record_inbound_without_provider_id_is_not_deduplicated(store: CaseStore) -> None:
    phone = random_moroccan_mobile()
    a = store.record_inbound("sms", phone, HOTLINE, None, "one", utcnow())
    b = store.record_inbound("sms", phone, HOTLINE, None, "one", utcnow())
    assert a.message_id != b.message_id and a.contact_id == b.contact_id


def test_record_inbound_race_same_message(store: CaseStore) -> None:
    phone, message_sid = random_moroccan_mobile(), sid()
    results = race(8, lambda _: store.record_inbound("sms", phone, HOTLINE, message_sid, "x", utcnow()))
    assert len({r.message_id for r in results}) == 1
    assert len({r.contact_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1


def test_record_inbound_race_new_contact_many_messages(store: CaseStore) -> None:
    phone = random_moroccan_mobile()
    results = race(8, lambda _: store.record_inbound("sms", phone, HOTLINE, sid(), "x", utcnow()))
    assert len({r.message_id for r in results}) == 8
    assert len({r.contact_id for r in results}) == 1


def test_a_batch_records_each_message_as_one_at_a_time_would(store: CaseStore) -> None:
    """One group commit holding every case at once: a known and a new sender (twice), a repeat of a
    stored message, a delivery repeated inside the batch, a message without provider id (twice)."""
    known, new = random_moroccan_mobile(), random_moroccan_mobile()
    stored = store.record_inbound("sms", known, HOTLINE, sid(), "earlier", utcnow())
    store.set_language(stored.contact_id, "fr")
    repeated = sid()
    drafts = [
        InboundDraft("sms", known, HOTLINE, sid(), "one", None),
        InboundDraft("sms", new, HOTLINE, repeated, "two", None, "Amina"),
        InboundDraft("sms", new, HOTLINE, repeated, "two", None),
        InboundDraft("sms", known, HOTLINE, stored_sid := sid(), "three", None),
        InboundDraft("sms", "0" + new[4:], HOTLINE, None, "four", None),
        InboundDraft("sms", "0" + new[4:], HOTLINE, None, "four", None),
    ]
    store.record_inbound("sms", known, HOTLINE, stored_sid, "three", utcnow())
    records = store.record_inbound_many(drafts)
    assert [r.duplicate for r in records] == [False, False, True, True, False, False]
    assert records[2].message_id == records[1].message_id and not records[2].processed
    assert len({r.message_id for r in records}) == 5
    assert {records[i].contact_id for i in (0, 3)} == {stored.contact_id}
    assert records[0].language == "fr" and records[1].language is None
    assert {records[i].contact_id for i in (1, 2, 4, 5)} == {records[1].contact_id} != {stored.contact_id}
    assert store.contact(records[1].contact_id).name == "Amina"


def test_a_batch_with_a_provider_id_each_records_each_message_as_one_at_a_time_would(store: CaseStore) -> None:
    """As the webhooks' group commit sends it (on PostgreSQL one statement, then a transaction for
    what it left): a known sender who chose French and stopped, a new sender twice (named the first
    time), a repeat of a stored message, a Telegram user."""
    known, new, user = random_moroccan_mobile(), random_moroccan_mobile(), str(secrets.randbelow(10**9) + 10**9)
    stored = store.record_inbound("sms", known, HOTLINE, stored_sid := sid(), "earlier", utcnow())
    store.set_language(stored.contact_id, "fr")
    store.set_opted_out(stored.contact_id, True)
    records = store.record_inbound_many([
        InboundDraft("sms", known, HOTLINE, sid(), "one", None),
        InboundDraft("whatsapp", f"whatsapp:{new}", HOTLINE, sid(), "two", None, "Amina"),
        InboundDraft("sms", known, HOTLINE, stored_sid, "earlier", None),
        InboundDraft("sms", "0" + new[4:], HOTLINE, sid(), "three", None, "Someone else"),
        InboundDraft("telegram", user, "bot", f"upd-{sid()}", "/start", None, "", "telegram"),
    ])
    assert [r.duplicate for r in records] == [False, False, True, False, False]
    assert records[0].contact_id == records[2].contact_id == stored.contact_id
    assert records[0].language == "fr" and records[0].opted_out and records[2].message_id == stored.message_id
    assert records[1].contact_id == records[3].contact_id != stored.contact_id
    assert records[1].language is None and not records[1].opted_out
    assert len({r.message_id for r in records}) == 5 and records[1].message_id < records[3].message_id
    new_contact = store.contact(records[1].contact_id)
    assert new_contact.name == "Amina" and new_contact.addresses == {"phone": new}
    assert store.contact(records[4].contact_id).addresses == {"telegram": user}
    assert store.find_contact(user, "telegram").id == records[4].contact_id


def test_a_batch_keeps_the_order_the_messages_came_in(store: CaseStore) -> None:
    """A message without provider id first, then one with: the transcript reads them in that order."""
    phone = random_moroccan_mobile()
    records = store.record_inbound_many([InboundDraft("sms", phone, HOTLINE, None, "first", None),
                                         InboundDraft("sms", phone, HOTLINE, sid(), "second", None),
                                         InboundDraft("sms", phone, HOTLINE, sid(), "third", None)])
    assert records[0].message_id < records[1].message_id < records[2].message_id


def test_a_batch_finishes_a_message_given_twice_once(store: CaseStore) -> None:
    phone = random_moroccan_mobile()
    first, second = (store.record_inbound("sms", phone, HOTLINE, sid(), body, utcnow()) for body in ("a", "b"))
    done = store.finish_inbound_many([
        (first.message_id, [draft(first.contact_id, "1"), draft(first.contact_id, "2")]),
        (first.message_id, [draft(first.contact_id, "again")]),
        (second.message_id, []),
        (second.message_id, [draft(second.contact_id, "late")]),
    ])
    assert done[1] is None and done[3] is None and done[2] == []
    assert done[0] is not None and len(done[0]) == 2 and done[0][0] < done[0][1]
    assert store.finish_inbound_many([(first.message_id, [draft(first.contact_id, "3")])]) == [None]


def test_telegram_contacts_and_language_and_opt_out(store: CaseStore) -> None:
    user = str(10**9 + threading.get_ident() % 10**6)
    rec = store.record_inbound("telegram", user, "bot", f"upd-{sid()}", "/start", utcnow(), address_kind="telegram")
    contact = store.contact(rec.contact_id)
    assert contact is not None and contact.addresses == {"telegram": user} and contact.phone is None
    assert store.set_language(rec.contact_id, "fr")
    assert store.set_opted_out(rec.contact_id, True)
    again = store.record_inbound("telegram", user, "bot", f"upd-{sid()}", "hi", utcnow(), address_kind="telegram")
    assert again.contact_id == rec.contact_id and again.language == "fr" and again.opted_out
    assert store.set_unreachable(rec.contact_id, True)
    assert store.contact(rec.contact_id).unreachable
    assert not store.set_opted_out(10**9, True)


def test_finish_inbound_records_replies_once_and_pending(store: CaseStore) -> None:
    phone = random_moroccan_mobile()
    rec = store.record_inbound("sms", phone, HOTLINE, sid(), "hello", utcnow() - timedelta(minutes=5))
    pending = store.pending_inbound(utcnow(), limit=1000)
    mine = [p for p in pending if p.message_id == rec.message_id]
    assert len(mine) == 1 and mine[0].body == "hello" and mine[0].sender == phone and mine[0].recipient == HOTLINE
    assert mine[0].received_at.tzinfo is not None
    assert mine[0].language is None and mine[0].opted_out is False
    assert not store.is_processed(rec.message_id)
    ids = store.finish_inbound(rec.message_id, [draft(rec.contact_id, "one"), draft(rec.contact_id, "two")])
    assert len(ids) == 2 and ids[0] < ids[1]
    assert store.finish_inbound(rec.message_id, [draft(rec.contact_id, "three")]) == []
    assert store.is_processed(rec.message_id)
    assert rec.message_id not in {p.message_id for p in store.pending_inbound(utcnow(), limit=1000)}
    dup = store.record_inbound("sms", phone, HOTLINE, mine[0].provider_message_id, "hello", utcnow())
    assert dup.duplicate and dup.processed


def test_claim_outbound_once(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    (message_id,) = store.record_outbound([draft(contact.id, "status update", priority="bulk")])
    claimed = store.claim_outbound(message_id)
    assert claimed is not None and claimed.body == "status update" and claimed.attempts == 0
    assert not claimed.opted_out and not claimed.unreachable and claimed.priority == "bulk"
    assert store.claim_outbound(message_id) is None
    store.mark_sent(message_id, sid(), "queued")
    assert store.claim_outbound(message_id) is None
    assert store.message_status(message_id)["status"] == "accepted"


def test_claim_outbound_race(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    (message_id,) = store.record_outbound([draft(contact.id)])
    results = race(8, lambda _: store.claim_outbound(message_id))
    assert sum(r is not None for r in results) == 1


def test_claim_reports_opt_out(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    store.set_opted_out(contact.id, True)
    (message_id,) = store.record_outbound([draft(contact.id)])
    claimed = store.claim_outbound(message_id)
    assert claimed is not None and claimed.opted_out
    store.mark_failed(message_id, "21610", "recipient opted out", attempted=False)
    state = store.message_status(message_id)
    assert state["status"] == "failed" and state["error_code"] == "21610" and state["attempts"] == 0


def stale_ids(store: CaseStore, older_than: datetime, lease_seconds: float = 60.0) -> set[int]:
    """Ids of the messages the sweeper would queue again."""
    return {item.message_id for item in store.stale_outbound(older_than, lease_seconds, limit=10_000)}


def test_retrying_and_stale(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    (message_id,) = store.record_outbound([draft(contact.id)])
    assert message_id in stale_ids(store, utcnow() + timedelta(seconds=1))
    assert store.claim_outbound(message_id) is not None
    assert message_id not in stale_ids(store, utcnow() + timedelta(seconds=1))
    assert store.mark_retrying(message_id, 20429, "too many requests") == 1
    assert message_id in stale_ids(store, utcnow() + timedelta(seconds=1))
    assert message_id not in stale_ids(store, utcnow() - timedelta(hours=1))
    claimed = store.claim_outbound(message_id)
    assert claimed is not None and claimed.attempts == 1
    (found,) = [s for s in store.stale_outbound(utcnow(), 0.0, limit=10_000) if s.message_id == message_id]
    assert (found.channel, found.recipient, found.priority) == ("sms", claimed.recipient, claimed.priority)


def test_a_claim_is_a_lease(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    (message_id,) = store.record_outbound([draft(contact.id)])
    assert store.claim_outbound(message_id, lease_seconds=60) is not None
    assert store.claim_outbound(message_id, lease_seconds=60) is None, "being sent by its worker"
    assert message_id not in stale_ids(store, utcnow(), lease_seconds=60)
    assert message_id in stale_ids(store, utcnow(), lease_seconds=0), "its worker is taken to be dead"
    assert store.claim_outbound(message_id, lease_seconds=0) is not None, "claimed again once the lease ran out"
    store.mark_sent(message_id, "SM" + "1" * 32, "queued")
    assert store.claim_outbound(message_id, lease_seconds=0) is None, "sent: never claimed again"
    assert message_id not in stale_ids(store, utcnow(), lease_seconds=0)


def test_paced_message_is_given_back(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    (message_id,) = store.record_outbound([draft(contact.id)])
    assert store.claim_outbound(message_id) is not None
    store.release_outbound(message_id)
    assert store.message_status(message_id)["status"] == "queued"
    assert store.claim_outbound(message_id) is not None


def test_delivery_status_ranking(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    (message_id,) = store.record_outbound([draft(contact.id)])
    store.claim_outbound(message_id)
    provider_id = sid()
    store.mark_sent(message_id, provider_id, "queued")
    assert store.apply_delivery_status(provider_id, "sent")
    assert store.apply_delivery_status(provider_id, "delivered")
    assert not store.apply_delivery_status(provider_id, "sent")  # late callback: ignored
    assert not store.apply_delivery_status(provider_id, "delivered")
    assert store.message_status(message_id)["status"] == "delivered"
    assert store.apply_delivery_status(provider_id, "read")
    assert store.message_status(message_id)["status"] == "read"
    assert not store.apply_delivery_status(provider_id, "bogus")
    assert not store.apply_delivery_status("SMunknown", "delivered")


def test_delivery_failure(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    (message_id,) = store.record_outbound([draft(contact.id)])
    store.claim_outbound(message_id)
    provider_id = sid()
    store.mark_sent(message_id, provider_id, "sent")
    assert store.apply_delivery_status(provider_id, "undelivered", "30003")
    assert not store.apply_delivery_status(provider_id, "failed", "30005")  # same rank
    state = store.message_status(message_id)
    assert state["status"] == "undelivered" and state["error_code"] == "30003"
    assert not store.apply_delivery_status(provider_id, "delivered", channel="whatsapp")
    assert store.apply_delivery_status(provider_id, "delivered", channel="sms")


def test_delivery_race_keeps_the_highest(store: CaseStore) -> None:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    (message_id,) = store.record_outbound([draft(contact.id)])
    store.claim_outbound(message_id)
    provider_id = sid()
    store.mark_sent(message_id, provider_id, "queued")
    statuses = ["sent", "delivered", "read", "sent", "failed", "sending", "delivered", "sent"]
    race(len(statuses), lambda i: store.apply_delivery_status(provider_id, statuses[i]))
    assert store.message_status(message_id)["status"] == "read"
