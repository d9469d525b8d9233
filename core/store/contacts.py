"""Contacts in the store: found or created by address, one citizen across channels; opt-out,
language, reachability.

A contact's addresses are rows `(kind, value)` (`core.db.contact_addresses`): an E.164 `phone`, or
a channel's own user id under the kind its adapter declares (`telegram`, `messenger`, ...). Nothing
here knows a channel: a new one brings a new kind, not a column.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.db import contact_addresses, contacts, conversations, metadata
from core.phones import normalize_phone, strip_channel_prefix
from core.records import ContactRecord
from core.store.transactions import PHONE, StoreBase, utcnow

_KIND = re.compile(r"[a-z][a-z0-9_]{0,15}")
MAX_ADDRESS_VALUE = 64

_KNOWN_BY = contact_addresses.alias("known_by")
_ALL = contact_addresses.alias("every_address")
_WITH_ADDRESSES = (
    sa.select(contacts, _ALL.c.kind.label("address_kind"), _ALL.c.value.label("address_value"),
              _KNOWN_BY.c.kind.label("known_kind"), _KNOWN_BY.c.value.label("known_value"))
    .select_from(contacts.join(_KNOWN_BY, _KNOWN_BY.c.contact_id == contacts.c.id)
                 .join(_ALL, _ALL.c.contact_id == contacts.c.id))
)
_BY_ADDRESS = _WITH_ADDRESSES.where(_KNOWN_BY.c.kind == sa.bindparam("kind"),
                                    _KNOWN_BY.c.value == sa.bindparam("value"))
"""The contact holding one address, a row per address it has: one statement where a lookup was two
(every inbound message looks its sender up)."""
_BY_ADDRESSES = _WITH_ADDRESSES.where(
    sa.tuple_(_KNOWN_BY.c.kind, _KNOWN_BY.c.value).in_(sa.bindparam("keys", expanding=True)))
"""The contacts holding any of several addresses: a group commit's senders in one statement."""
_ADDRESSES_OF = sa.select(contact_addresses.c.kind, contact_addresses.c.value).where(
    contact_addresses.c.contact_id == sa.bindparam("contact_id"))


def contact_from_row(row: Any, addresses: dict[str, str]) -> ContactRecord:
    """A `ContactRecord` from a `contacts` row and the contact's addresses."""
    return ContactRecord(
        id=row.id,
        addresses=addresses,
        name=row.name,
        language=row.language,
        opted_out=bool(row.opted_out),
        unreachable=bool(row.unreachable),
    )


def addresses_in(conn: Connection, contact_id: int) -> dict[str, str]:
    """Kind -> value of every address of one contact."""
    return {kind: value for kind, value in conn.execute(_ADDRESSES_OF, {"contact_id": contact_id})}


class ContactsMixin(StoreBase):
    """Contact operations of the case store."""

    def contact_key(self, address: str, address_kind: str = PHONE) -> tuple[str, str]:
        """The address kind and the value that identify a contact: an E.164 phone, or a channel's id.

        A phone address that is not a valid number (an alphanumeric sender, a short code) is kept
        verbatim, without a channel prefix, so the same sender is still found again.
        """
        if not _KIND.fullmatch(address_kind):
            raise ValueError(f"bad address kind {address_kind!r}")
        if address_kind != PHONE:
            return address_kind, str(address).strip()[:MAX_ADDRESS_VALUE]
        bare = strip_channel_prefix(address)
        return PHONE, normalize_phone(bare, self.deployment.default_region) or bare

    def _found(self, conn: Connection, kind: str, value: str) -> ContactRecord | None:
        rows = conn.execute(_BY_ADDRESS, {"kind": kind, "value": value}).all()
        if not rows:
            return None
        return contact_from_row(rows[0], {row.address_kind: row.address_value for row in rows})

    def contacts_in(self, conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], ContactRecord]:
        """The contacts holding these `contact_key`s, by key (unknown keys are left out)."""
        if not keys:
            return {}
        rows: dict[tuple[str, str], list[Any]] = {}
        for row in conn.execute(_BY_ADDRESSES, {"keys": sorted(keys)}):
            rows.setdefault((row.known_kind, row.known_value), []).append(row)
        return {key: contact_from_row(found[0], {row.address_kind: row.address_value for row in found})
                for key, found in rows.items()}

    def get_or_create_contact_in(
        self, conn: Connection, address: str, address_kind: str, name: str, now: datetime,
    ) -> ContactRecord:
        """Find or create the contact inside the caller's transaction."""
        kind, value = self.contact_key(address, address_kind)
        if not value:
            raise ValueError("empty contact address")
        return self._found(conn, kind, value) or self.create_contact_in(conn, (kind, value), name, now)

    def create_contact_in(self, conn: Connection, key: tuple[str, str], name: str, now: datetime) -> ContactRecord:
        """A new contact for the `contact_key` `key`, which was just looked for and not found, inside
        the caller's transaction (safe against a racing insert: the address is unique, so of two new
        contacts for one address only one keeps it, and the other request is given that one)."""
        kind, value = key
        row = conn.execute(contacts.insert().values(
            name=(name or "")[:200], created_at=now, updated_at=now).returning(*contacts.c)).one()
        taken = conn.execute(
            self.insert(contact_addresses)
            .values(contact_id=row.id, kind=kind, value=value, created_at=now)
            .on_conflict_do_nothing()
            .returning(contact_addresses.c.id)
        ).first()
        if taken is None:  # a concurrent request created the contact first: use theirs
            conn.execute(contacts.delete().where(contacts.c.id == row.id))
            found = self._found(conn, kind, value)
            if found is None:  # pragma: no cover - the conflicting row must exist
                raise RuntimeError(f"contact {value!r} neither inserted nor found")
            return found
        return contact_from_row(row, {kind: value})

    def get_or_create_contact(self, address: str, address_kind: str = PHONE, name: str = "") -> ContactRecord:
        """Find or create a contact by address."""
        with self.write() as conn:
            return self.get_or_create_contact_in(conn, address, address_kind, name, utcnow())

    def find_contact(self, address: str, address_kind: str = PHONE) -> ContactRecord | None:
        """The contact with this address, or None."""
        kind, value = self.contact_key(address, address_kind)
        with self.read() as conn:
            return self._found(conn, kind, value)

    def contact(self, contact_id: int) -> ContactRecord | None:
        """The contact with this id, or None."""
        with self.read() as conn:
            row = conn.execute(sa.select(contacts).where(contacts.c.id == contact_id)).first()
            return contact_from_row(row, addresses_in(conn, row.id)) if row is not None else None

    def _update_contact(self, contact_id: int, **values: Any) -> bool:
        with self.write(one_statement=True) as conn:
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

    def link_phone(self, contact_id: int, phone: str) -> str:
        """Make `phone` the contact's number (a citizen sharing theirs on a channel that knows them by
        another id); what was done:

        - `linked`: no contact had the number; it is now this one's (replacing any other it had);
        - `same`: it already was;
        - `merged`: an earlier contact (SMS, WhatsApp, a call) had it and no other account on a channel
          this one is on: that contact takes over this one's addresses, and everything recorded for
          this one (messages, cases, conversations: every table referring to contacts) moves to it, so
          the citizen is one person; the emptied contact stays, without addresses;
        - `taken`: the number's contact already has another account where this one has one (another
          Telegram user shared it): nothing changes;
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
            mine = addresses_in(conn, me.id)
            if mine.get(PHONE) == e164:
                return "same"
            other = conn.execute(_BY_ADDRESS, {"kind": PHONE, "value": e164}).first()
            if other is None:
                conn.execute(contact_addresses.delete().where(
                    contact_addresses.c.contact_id == me.id, contact_addresses.c.kind == PHONE))
                conn.execute(contact_addresses.insert().values(contact_id=me.id, kind=PHONE, value=e164,
                                                               created_at=now))
                conn.execute(sa.update(contacts).where(contacts.c.id == me.id).values(updated_at=now))
                return "linked"
            theirs = addresses_in(conn, other.id)
            if any(kind in theirs and theirs[kind] != value for kind, value in mine.items() if kind != PHONE):
                return "taken"
            if other.opted_out:
                return "opted_out"
            conn.execute(contact_addresses.delete().where(  # the shared number replaces any other
                contact_addresses.c.contact_id == me.id, contact_addresses.c.kind == PHONE))
            moved = conn.execute(sa.select(conversations.c.id).where(conversations.c.contact_id == me.id)).scalars()
            self.touched_conversations(conn, moved)
            for table in metadata.sorted_tables:
                for fk in table.foreign_keys:
                    if fk.column is contacts.c.id:
                        column = fk.parent
                        conn.execute(sa.update(table).where(column == me.id).values({column.name: other.id}))
            conn.execute(sa.update(contacts).where(contacts.c.id == me.id).values(updated_at=now))
            conn.execute(sa.update(contacts).where(contacts.c.id == other.id).values(
                name=other.name or me.name,
                language=me.language or other.language,
                unreachable=False,
                updated_at=now,
            ))
        return "merged"
