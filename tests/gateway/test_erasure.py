"""Personal data kept only as long as needed, end to end on both SQL stores: a WhatsApp photo report,
answered and closed, is erased once its retention has passed (its words, place, photo file, the
citizen's number and name, their session), its statistics staying; a citizen's request erases
everything of theirs at once. Afterwards nothing personal is left in any table or in the media folder."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.db import metadata
from gateway.erasure import erase_expired
from gateway.redis_clients import async_client
from tests.fixtures.gateway import Gateway
from tests.gateway.conftest import Hotline, reference_in
from tests.gateway.whatsapp_kit import message_attachments, photo, settled, whatsapp_citizen


def personal_traces(gateway: Gateway, *needles: str) -> list[tuple[str, str]]:
    """(table, value) of every stored value holding one of `needles`, in every table of the schema."""
    found = []
    with gateway.runtime.store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                for value in row.values():
                    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
                    if any(needle in text for needle in needles):
                        found.append((table.name, text[:80]))
    return found


def photo_report(gateway: Gateway, marker: str, name: str) -> tuple[Any, str, Path]:
    """A waste report with a photo and a pin, named; (the citizen, the reference, the stored file)."""
    citizen = whatsapp_citizen(gateway)
    url = gateway.twilio.add_media(photo(gps=(35.1, -2.9)), "image/jpeg")
    citizen.send(f"Les poubelles débordent {marker}", media=((url, "image/jpeg"),))
    citizen.pin(35.1 + secrets.randbelow(10**4) / 10**6, -2.9, f"Rue {marker}")
    citizen.send("1")
    citizen.send(name)
    reference = reference_in(citizen.send("1"))
    gateway.run_jobs(until=lambda: settled(gateway, citizen.phone, 1))
    (row,) = message_attachments(gateway, citizen.phone)
    return citizen, reference, Path(row["path"])


def test_a_closed_case_is_erased_after_its_retention(gateway: Gateway, hotline: Hotline) -> None:
    marker = "Retenue" + secrets.token_hex(3)
    name = "Nadia" + secrets.token_hex(2)
    citizen, reference, stored = photo_report(gateway, marker, name)
    assert stored.is_file() and personal_traces(gateway, marker, citizen.phone, name)
    hotline("case", "set-status", reference, "in_progress", "--note", "Équipe envoyée")
    hotline("case", "set-status", reference, "answered", "--note", f"Conteneurs vidés, {name}")
    store = gateway.runtime.store
    store.close_case(reference)
    closed_at = store.get_case(reference).closed_at
    days = gateway.runtime.deployment.retention_days
    assert days is not None

    async def sweep(at: datetime) -> Any:
        client = async_client(gateway.settings.redis_url)
        try:
            return await erase_expired(gateway.runtime, client, at)
        finally:
            await client.aclose()

    assert reference not in asyncio.run(sweep(closed_at + timedelta(days=days) - timedelta(hours=1))).cases
    assert store.get_case(reference).erased_at is None, "not before its time"
    erased = asyncio.run(sweep(closed_at + timedelta(days=days, hours=1)))
    assert reference in erased.cases
    assert personal_traces(gateway, marker, citizen.phone, name) == [], "nothing personal in any table"
    assert not stored.exists(), "the photo file is gone"
    assert gateway.connection.get(f"{gateway.settings.queue_prefix}:session:whatsapp:{citizen.phone}") is None
    kept = store.get_case(reference)
    assert (kept.category_code, kept.status, kept.first_answer_at is not None) == ("waste", "closed", True)
    document = json.loads(hotline("case", "show", reference, "--json")[1])
    assert document["contact"] == {"phone": None, "telegram_user_id": None, "name": None, "addresses": {}}
    assert [e["kind"] for e in document["events"]][:2] == ["created", "status"], "its history stays, wordless"
    assert asyncio.run(sweep(closed_at + timedelta(days=days, hours=2))).cases == [], "erased once"


def test_a_citizen_asks_to_be_erased(gateway: Gateway, hotline: Hotline) -> None:
    marker = "Oubli" + secrets.token_hex(3)
    name = "Hicham" + secrets.token_hex(2)
    citizen, reference, stored = photo_report(gateway, marker, name)
    local = "0" + citizen.phone[4:]
    assert gateway.runtime.store.get_case(reference).erased_at is None
    code, out, err = hotline("contact", "erase", local)
    assert code == 0, err
    assert f"erased {citizen.phone}: 1 cases" in out, "the number as the citizen gives it, read as E.164"
    assert personal_traces(gateway, marker, citizen.phone, name) == []
    assert not stored.exists()
    assert gateway.runtime.store.get_case(reference).erased_at is not None, "the case stays, erased"
    assert gateway.connection.get(f"{gateway.settings.queue_prefix}:session:whatsapp:{citizen.phone}") is None
    entries = gateway.runtime.store.audit_entries(None, 20)
    assert any(e["action"] == "contact.erase" and '"cases": 1' in e["detail"] for e in entries), "audited"
    assert hotline("contact", "erase", local)[0] == 1, "nobody has the number any more"
    assert hotline("contact", "erase", "not a number")[0] == 1
    again = "\n".join(citizen.send("Bonjour"))
    assert again and name not in again, "the citizen starts afresh"
