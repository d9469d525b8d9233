"""Contacts in the store: found or created by phone or Telegram id; opt-out, language, reachability."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.contacts import normalize_phone, strip_channel_prefix
from core.db import contacts, metadata
from core.records import ContactRecord
from core.storebase import StoreBase, utcnow

ADDRESS_KINDS = ("phone", "telegram")


def contact_from_row(row: Any) -> ContactRecord:
    """A `ContactRecord` from a `contacts` row."""
    return ContactRecord(
        id=row.id,
        phone=row.phone,
        telegram_user_id=row.telegram_user_id,
        name=row.name,
        language=row.language,
        opted_out=bool(row.opted_out),
        unreachable=bool(row.unreachable),
    )


class ContactsMixin(StoreBase):
    """Contact operations of the case store."""

    def contact_key(self, address: str, address_kind: str = "phone") -> tuple[sa.Column[Any], str]:
        """The column and value that identify a contact: E.164 phone, or the Telegram user id.

        A phone address that is not a valid number (an alphanumeric sender, a short code) is kept
        verbatim, without a channel prefix, so the same sender is still found again.
        """
        if address_kind not in ADDRESS_KINDS:
            raise ValueError(f"unknown address kind {address_kind!r} (expected one of {ADDRESS_KINDS})")
        if address_kind == "telegram":
            return contacts.c.telegram_user_id, str(address).strip()
        bare = strip_channel_prefix(address)
        return contacts.c.phone, normalize_phone(bare, self.deployment.default_region) or bare

    @functools.cached_property
    def _contact_by(self) -> dict[str, sa.Select[Any]]:
        """Lookups by phone and by Telegram id, built once (they run for every inbound message)."""
        return {column.name: sa.select(contacts).where(column == sa.bindparam("value"))
                for column in (contacts.c.phone, contacts.c.telegram_user_id)}

    def get_or_create_contact_in(
        self, conn: Connection, address: str, address_kind: str, name: str, now: datetime
    ) -> ContactRecord:
        """Find or create the contact inside the caller's transaction (safe against a racing insert)."""
        column, value = self.contact_key(address, address_kind)
        if not value:
            raise ValueError("empty contact address")
        row = conn.execute(self._contact_by[column.name], {"value": value}).first()
        if row is not None:
            return contact_from_row(row)
        stmt = (
            self.insert(contacts)
            .values({column.name: value, "name": (name or "")[:200], "created_at": now, "updated_at": now})
            .on_conflict_do_nothing()
            .returning(*contacts.c)
        )
        row = conn.execute(stmt).first() or conn.execute(sa.select(contacts).where(column == value)).first()
        if row is None:  # pragma: no cover - the conflicting row must exist
            raise RuntimeError(f"contact {value!r} neither inserted nor found")
        return contact_from_row(row)

    def get_or_create_contact(self, address: str, address_kind: str = "phone", name: str = "") -> ContactRecord:
        """Find or create a contact by address."""
        with self.write() as conn:
            return self.get_or_create_contact_in(conn, address, address_kind, name, utcnow())

    def find_contact(self, address: str, address_kind: str = "phone") -> ContactRecord | None:
        """The contact with this address, or None."""
        column, value = self.contact_key(address, address_kind)
        with self.read() as conn:
            row = conn.execute(sa.select(contacts).where(column == value)).first()
        return contact_from_row(row) if row is not None else None

    def contact(self, contact_id: int) -> ContactRecord | None:
        """The contact with this id, or None."""
        with self.read() as conn:
            row = conn.execute(sa.select(contacts).where(contacts.c.id == contact_id)).first()
        return contact_from_row(row) if row is not None else None

    def _update_contact(self, contact_id: int, **values: Any) -> bool:
        with self.write() as conn:
            result = conn.execute(
                sa.update(contacts).where(contacts.c.id == contact_id).values(updated_at=utcnow(), **values)
            )
        return result.rowcount > 0

    def set_opted_out(self, contact_id: int, opted_out: bool) -> bool:
        """Record an opt-out (STOP) or opt-in (START); False when there is no such contact."""
        return self._update_contact(contact_id, opted_out=opted_out)

    def set_language(self, contact_id: int, language: str) -> bool:
        """Remember the contact's language."""
        if language not in self.deployment.languages:
            raise ValueError(f"language {language!r} is not one of {self.deployment.languages}")
        return self._update_contact(contact_id, language=language)

    def set_unreachable(self, contact_id: int, unreachable: bool) -> bool:
        """Mark a contact that cannot be reached (bot blocked, number dead), or reachable again."""
        return self._update_contact(contact_id, unreachable=unreachable)

    def set_contact_name(self, contact_id: int, name: str) -> bool:
        """Record the name the citizen gave."""
        return self._update_contact(contact_id, name=name.strip()[:200])

    def link_phone(self, contact_id: int, phone: str, channel: str = "telegram") -> str:
        """Make `phone` the contact's number (a Telegram user sharing theirs); what was done:

        - `linked`: no contact had the number; it is now this one's;
        - `same`: it already was;
        - `merged`: an earlier contact (SMS, WhatsApp) had it and no other account of `channel`: that
          contact takes over this one's Telegram id, and everything recorded for this one (messages,
          cases, conversations: every table referring to contacts) moves to it, so the citizen is one
          person; the emptied contact stays, without its Telegram id;
        - `taken`: another account of `channel` already has the number: nothing changes;
        - `opted_out`: the number's contact said STOP: nothing changes (that consent is not overridden);
        - `invalid`: not a valid number, or no such contact.
        """
        e164 = normalize_phone(phone, self.deployment.default_region)
        if not e164:
            return "invalid"
        now = utcnow()
        with self.write() as conn:
            me = conn.execute(sa.select(contacts).where(contacts.c.id == contact_id)).first()
            if me is None:
                return "invalid"
            if me.phone == e164:
                return "same"
            other = conn.execute(sa.select(contacts).where(contacts.c.phone == e164)).first()
            if other is None:
                conn.execute(sa.update(contacts).where(contacts.c.id == me.id).values(phone=e164, updated_at=now))
                return "linked"
            if other.telegram_user_id and other.telegram_user_id != me.telegram_user_id:
                return "taken"
            if other.opted_out:
                return "opted_out"
            for table in metadata.sorted_tables:
                for fk in table.foreign_keys:
                    if fk.column is contacts.c.id:
                        column = fk.parent
                        conn.execute(sa.update(table).where(column == me.id).values({column.name: other.id}))
            conn.execute(sa.update(contacts).where(contacts.c.id == me.id)
                         .values(telegram_user_id=None, updated_at=now))
            conn.execute(sa.update(contacts).where(contacts.c.id == other.id).values(
                telegram_user_id=me.telegram_user_id,
                name=other.name or me.name,
                language=me.language or other.language,
                unreachable=False,
                updated_at=now,
            ))
        return "merged"
