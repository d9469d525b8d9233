"""What every store write relies on: many rows inserted in one statement, in order, values intact;
a write of one statement outside a transaction on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from core.db import contacts, messages
from core.records import InboundDraft
from core.store.case_store import CaseStore
from core.store.transactions import utcnow
from tests.core.helpers import random_moroccan_mobile, sid

HOTLINE = "+212522000111"


def message_rows(store: CaseStore, count: int, provider_ids: list[str | None]) -> list[dict]:
    contact = store.get_or_create_contact(random_moroccan_mobile())
    now = utcnow()
    return [{
        "direction": "in", "channel": "sms", "contact_id": contact.id if index % 3 else None,
        "provider_message_id": provider_ids[index], "sender": "+212661000000", "recipient": HOTLINE,
        "body": f"شكاية {index} — plainte n° {index}",
        "payload": {"index": index, "ar": "حي السلام"} if index % 2 else None,
        "status": "received", "status_rank": 0, "attempts": index, "priority": "replies",
        "created_at": now + timedelta(seconds=index), "updated_at": now,
    } for index in range(count)]


def test_many_rows_go_in_one_statement_in_order_with_their_values(store: CaseStore) -> None:
    """40 rows (more than a multi-row VALUES page held): ids in the rows' order, every value back
    as given (JSON, none, an aware time, Arabic)."""
    rows = message_rows(store, 40, [sid() for _ in range(40)])
    with store.write() as conn:
        inserted = store.insert_rows(conn, messages, rows, (messages.c.id, messages.c.provider_message_id))
    assert [row.provider_message_id for row in inserted] == [row["provider_message_id"] for row in rows]
    assert [row.id for row in inserted] == sorted(row.id for row in inserted)
    with store.read() as conn:
        stored = {r.id: r for r in conn.execute(sa.select(messages).where(
            messages.c.id.in_([row.id for row in inserted])))}
    for given, row in zip(rows, inserted, strict=True):
        kept = stored[row.id]
        assert {key: getattr(kept, key) for key in given} == given


def test_rows_that_conflict_are_left_out_and_the_others_inserted(store: CaseStore) -> None:
    taken = sid()
    first = message_rows(store, 1, [taken])
    with store.write() as conn:
        store.insert_rows(conn, messages, first, (messages.c.id,))
    rows = message_rows(store, 4, [sid(), taken, sid(), None])
    with store.write() as conn:
        inserted = store.insert_rows(conn, messages, rows, (messages.c.id, messages.c.provider_message_id),
                                     skip_conflicts=True)
    assert {row.provider_message_id for row in inserted} == {rows[0]["provider_message_id"],
                                                             rows[2]["provider_message_id"], None}


def test_an_insert_of_many_rows_must_return_their_ids(store: CaseStore) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's insert of many rows keeps their order itself")
    rows = message_rows(store, 2, [sid(), sid()])
    with store.write() as conn, pytest.raises(ValueError, match="returns their id"):
        store.insert_rows(conn, messages, rows, (messages.c.provider_message_id,))


def test_a_write_of_one_statement_opens_no_transaction_on_postgresql(store: CaseStore) -> None:
    """One round trip instead of BEGIN, the statement and COMMIT; on SQLite it takes the write lock
    as every write does."""
    contact = store.get_or_create_contact(random_moroccan_mobile())
    changed = sa.update(contacts).where(contacts.c.id == contact.id).values(language="fr")
    with store.write(one_statement=True) as conn:
        conn.execute(changed)
        driver = conn.connection.driver_connection
        if store.engine.dialect.name == "postgresql":
            assert driver.info.transaction_status is psycopg.pq.TransactionStatus.IDLE
        else:
            assert driver.in_transaction
    with store.write() as conn:
        conn.execute(changed)
        if store.engine.dialect.name == "postgresql":
            assert conn.connection.driver_connection.info.transaction_status is psycopg.pq.TransactionStatus.INTRANS
    assert store.contact(contact.id).language == "fr"


def test_a_value_too_long_for_its_column_is_refused_not_cut_short(store: CaseStore) -> None:
    """A provider id over its column's 128 characters: the batch fails as a single insert would (its
    retry one at a time then refuses that message alone), and nothing of it is recorded, cut short."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not hold text to a column's length")
    long_id = "SM" + "a" * 127
    drafts = [InboundDraft("sms", random_moroccan_mobile(), HOTLINE, sid(), "fine", None),
              InboundDraft("sms", random_moroccan_mobile(), HOTLINE, long_id, "too long an id", None)]
    with pytest.raises(sa.exc.DataError):
        store.record_inbound_many(drafts)
    with store.read() as conn:
        found = conn.execute(sa.select(messages.c.id).where(
            messages.c.provider_message_id.in_([drafts[0].provider_message_id, long_id[:128]]))).all()
    assert found == []
