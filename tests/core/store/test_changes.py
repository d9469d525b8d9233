"""Every store write that changes what a live view shows names it, once committed: the agents' queue
and a conversation's own page for a conversation's row, a citizen's transcript for their messages on
a channel. A write that fails announces nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.changes import QUEUE, conversation_topic, messages_topic
from core.records import InboundDraft, OutboundDraft
from core.store.case_store import CaseStore
from core.store.transactions import utcnow
from tests.core.helpers import random_moroccan_mobile, sid

HOTLINE = "+212522000111"


@pytest.fixture
def heard(store: CaseStore) -> Iterator[list[set[str]]]:
    """What the store announces, one set of topics per committed write."""
    announced: list[set[str]] = []
    store.announce = announced.append
    yield announced
    store.announce = None


def citizen(store: CaseStore) -> tuple[int, str]:
    phone = random_moroccan_mobile()
    return store.record_inbound("sms", phone, HOTLINE, sid(), "salam", utcnow()).contact_id, phone


def reply(contact_id: int, phone: str, body: str = "hello") -> OutboundDraft:
    return OutboundDraft(channel="sms", contact_id=contact_id, sender=HOTLINE, recipient=phone, body=body)


def sent_message(store: CaseStore, contact_id: int, phone: str) -> tuple[int, str]:
    (message_id,) = store.record_outbound([reply(contact_id, phone)])
    store.claim_outbound(message_id)
    provider_id = sid()
    store.mark_sent(message_id, provider_id, "queued")
    return message_id, provider_id


def failed_message(store: CaseStore, contact_id: int, phone: str) -> int:
    (message_id,) = store.record_outbound([reply(contact_id, phone)])
    store.mark_failed(message_id, "30003", "unreachable")
    return message_id


def agent(store: CaseStore) -> int:
    return store.add_staff("agent-" + sid()[2:10], "agent").id


# (what, the setup given the store and a citizen, the write given the store and what the setup gave,
# the topics the write must name given the citizen and what the setup gave)
Setup = Callable[[CaseStore, int, str], Any]
Act = Callable[[CaseStore, Any], Any]
Topics = Callable[[int, Any], set[str]]
TRANSCRIPT: Topics = lambda contact_id, _: {messages_topic("sms", contact_id)}  # noqa: E731
CONVERSATION: Topics = lambda _, conversation_id: {QUEUE, conversation_topic(conversation_id)}  # noqa: E731


def queued(store: CaseStore, contact_id: int, phone: str) -> int:
    return store.record_outbound([reply(contact_id, phone)])[0]


def received(store: CaseStore, contact_id: int, phone: str) -> int:
    return store.record_inbound("sms", phone, HOTLINE, sid(), "x", utcnow()).message_id


def waiting(store: CaseStore, contact_id: int, phone: str) -> int:
    return store.request_agent("sms", contact_id, "asked")


WRITES: list[tuple[str, Setup, Act, Topics]] = [
    ("a message received", lambda s, c, p: p,
     lambda s, p: s.record_inbound_many([InboundDraft("sms", p, HOTLINE, sid(), "x")]), TRANSCRIPT),
    ("a received message finished with its reply", lambda s, c, p: (received(s, c, p), reply(c, p)),
     lambda s, given: s.finish_inbound(given[0], [given[1]]), TRANSCRIPT),
    ("a message recorded to be sent", lambda s, c, p: reply(c, p), lambda s, r: s.record_outbound([r]), TRANSCRIPT),
    ("a message claimed for sending", queued, lambda s, m: s.claim_outbound(m), TRANSCRIPT),
    ("a message given back unsent", lambda s, c, p: s.claim_outbound(queued(s, c, p)).message_id,
     lambda s, m: s.release_outbound(m), TRANSCRIPT),
    ("a message sent", queued, lambda s, m: s.mark_sent(m, sid(), "queued"), TRANSCRIPT),
    ("a send to be retried", queued, lambda s, m: s.mark_retrying(m, "20429", "busy"), TRANSCRIPT),
    ("a send failed", queued, lambda s, m: s.mark_failed(m, "30003", "unreachable"), TRANSCRIPT),
    ("a failed send queued again", failed_message, lambda s, m: s.retry_failed(m), TRANSCRIPT),
    ("a delivery report", lambda s, c, p: sent_message(s, c, p)[1],
     lambda s, provider_id: s.apply_delivery_status(provider_id, "delivered"), TRANSCRIPT),
    ("a message set aside", received, lambda s, m: s.quarantine_inbound(m, "boom"), TRANSCRIPT),
    ("a conversation queued for a person", lambda s, c, p: c, lambda s, c: s.request_agent("sms", c, "asked"),
     lambda _, c: {QUEUE}),
    ("a conversation's status", waiting, lambda s, v: s.set_conversation_status(v, "needs_person"), CONVERSATION),
    ("a conversation taken", lambda s, c, p: (waiting(s, c, p), agent(s)), lambda s, given: s.take_over(*given, 5),
     lambda c, given: CONVERSATION(c, given[0])),
    ("a conversation closed", waiting, lambda s, v: s.finish_conversation(v, "closed_by_agent"), CONVERSATION),
    ("a conversation touched", waiting, lambda s, v: s.touch_conversation(v), CONVERSATION),
    ("what a call collected", waiting, lambda s, v: s.record_collected("sms", s.conversation(v).contact_id,
                                                                    {"step": "name"}), CONVERSATION),
]


@pytest.mark.parametrize(("what", "setup", "act", "topics"), WRITES, ids=[row[0] for row in WRITES])
def test_each_write_names_what_it_changed(store: CaseStore, heard: list[set[str]], what: str, setup: Setup,
                                          act: Act, topics: Topics) -> None:
    contact_id, phone = citizen(store)
    given = setup(store, contact_id, phone)
    heard.clear()
    act(store, given)
    assert topics(contact_id, given) <= set().union(*heard), f"{what}: announced {heard}"


def test_a_merged_citizen_s_conversations_are_announced(store: CaseStore, heard: list[set[str]]) -> None:
    telegram_user = str(7 * 10**9 + int(sid()[2:8], 16))
    on_telegram = store.record_inbound("telegram", telegram_user, "bot", sid("up"), "hi", utcnow(),
                                       address_kind="telegram").contact_id
    conversation = store.request_agent("telegram", on_telegram, "asked")
    _, phone = citizen(store)
    heard.clear()
    assert store.link_phone(on_telegram, phone) == "merged"
    assert conversation_topic(conversation) in heard[-1]


def test_an_erased_citizen_s_transcript_is_announced(store: CaseStore, heard: list[set[str]]) -> None:
    contact_id, phone = citizen(store)
    heard.clear()
    assert store.erase_contact(phone) is not None
    assert any(messages_topic("sms", contact_id) in topics for topics in heard)


def test_a_write_that_fails_announces_nothing(store: CaseStore, heard: list[set[str]]) -> None:
    contact_id, phone = citizen(store)
    heard.clear()
    with pytest.raises(ValueError, match="unknown priority"):
        store.record_outbound([reply(contact_id, phone), OutboundDraft(
            channel="sms", contact_id=contact_id, sender=HOTLINE, recipient=phone, body="x", priority="urgent")])
    assert heard == []
