"""Erasure in the store: a file stored once for the same bytes sent twice is deleted only when no
attachment still holds it."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from core.db import attachments
from core.store.case_store import CaseStore
from tests.core.helpers import random_moroccan_mobile

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_a_shared_file_outlives_one_of_its_cases(store: CaseStore) -> None:
    shared = "ab/" + random_moroccan_mobile()[1:] + ".jpg"
    references = []
    for _ in range(2):
        contact = store.get_or_create_contact(random_moroccan_mobile()).id
        record = store.create_case(category="waste", description="x", language="fr", contact_id=contact,
                                   origin_channel="whatsapp", now=NOW)
        photo = store.add_attachment("photo", "image/jpeg", case_id=record.id)
        with store.write() as conn:
            conn.execute(sa.update(attachments).where(attachments.c.id == photo).values(path=shared, status="stored"))
        references.append(record.reference)
    assert store.erase_cases([references[0]], NOW).files == [], "the other case still shows the photo"
    assert store.erase_cases([references[1]], NOW).files == [shared], "the last one lets the file go"
