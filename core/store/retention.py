"""Personal data kept only as long as needed: erasing a case's personal data once the retention after
its closing has passed (`retention.closed_days`), and everything of a citizen who asks (Morocco's law
09-08, Egypt's law 151/2020).

What goes: the citizen's link to the case, what they wrote (description, place and its position,
messages, notes), photos and recordings (their rows say `erased`; the files are deleted by the caller,
which knows the media folder), and for an erased contact its name, numbers and channel ids. What stays,
for the statistics: the case's reference, kind, category, administration, service, channel, dates,
statuses, rating and answer times. The store returns the files to delete and the addresses whose
dialogue sessions the caller forgets; it never touches the disk or Redis itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.db import attachments, case_events, cases, contact_addresses, contacts, conversations, messages
from core.store.contacts import ContactsMixin
from core.store.transactions import TRANSCRIPT_COLUMNS, utcnow

ERASED = "erased"


@dataclass
class Erased:
    """What an erasure left for the caller: files to delete, addresses whose sessions to forget."""

    cases: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    addresses: list[tuple[str, str]] = field(default_factory=list)
    """(kind, value) of the erased contact's addresses (`phone`, `telegram`...)."""


class RetentionMixin(ContactsMixin):
    """Erasure operations of the case store."""

    def expired_cases(self, now: datetime, limit: int = 500) -> list[str]:
        """Cases closed more than `retention_days` ago whose personal data is still there."""
        days = self.deployment.retention_days
        if days is None:
            return []
        query = (sa.select(cases.c.reference).where(cases.c.closed_at < now - timedelta(days=days),
                                                    cases.c.status == "closed", cases.c.erased_at.is_(None))
                 .order_by(cases.c.closed_at).limit(limit))
        with self.read() as conn:
            return list(conn.execute(query).scalars())

    def erase_cases(self, references: list[str], now: datetime | None = None) -> Erased:
        """Erase the personal data of these cases (each in its own short transaction), with what their
        reporter wrote until the case closed; a reporter left with no case still holding data is
        erased whole (their next message starts afresh)."""
        now = now or utcnow()
        done = Erased()
        for reference in references:
            with self.write() as conn:
                row = conn.execute(sa.select(cases.c.id, cases.c.contact_id, cases.c.closed_at)
                                   .where(cases.c.reference == reference)).first()
                if row is not None:
                    done.files += _unshared(conn, self._erase_reported(conn, row, now, done))
                    done.cases.append(reference)
        return done

    def _erase_reported(self, conn: Connection, row: Any, now: datetime, done: Erased) -> list[str]:
        """One case's erasure with what its reporter wrote until it closed, and the reporter too when
        no case of theirs still holds data; the files the erased rows named."""
        files = self._erase_case(conn, row.id, now)
        if row.contact_id is None:
            return files
        files += self._erase_messages(conn, sa.and_(messages.c.contact_id == row.contact_id,
                                                    messages.c.created_at <= (row.closed_at or now)))
        holding = conn.execute(sa.select(sa.func.count()).select_from(cases).where(
            cases.c.contact_id == row.contact_id, cases.c.erased_at.is_(None))).scalar_one()
        if not holding:
            done.addresses += self._erase_contact(conn, row.contact_id, now)
        return files

    def _erase_messages(self, conn: Connection, which: Any) -> list[str]:
        """Empty the messages `which` selects, and their files; the paths to delete."""
        chosen = sa.select(messages.c.id).where(which)
        files = list(conn.execute(sa.select(attachments.c.path).where(
            attachments.c.message_id.in_(chosen), attachments.c.path.is_not(None))).scalars())
        conn.execute(sa.update(attachments).where(attachments.c.message_id.in_(chosen)).values(
            path=None, source_url=None, sha256=None, lat=None, lon=None, status=ERASED))
        self.touched_messages(conn, conn.execute(sa.update(messages).where(which).values(
            body="", payload=None, sender="", recipient="", error_message=None, updated_at=utcnow())
            .returning(*TRANSCRIPT_COLUMNS)))
        return files

    def _erase_contact(self, conn: Connection, contact_id: int, now: datetime) -> list[tuple[str, str]]:
        """Erase the contact's name, numbers and channel ids and what calls collected; its addresses."""
        addresses = [(r.kind, r.value) for r in conn.execute(
            sa.select(contact_addresses.c.kind, contact_addresses.c.value)
            .where(contact_addresses.c.contact_id == contact_id))]
        erased = conn.execute(sa.update(conversations).where(conversations.c.contact_id == contact_id)
                              .values(collected=None, updated_at=now).returning(conversations.c.id)).scalars()
        self.touched_conversations(conn, erased)
        conn.execute(sa.delete(contact_addresses).where(contact_addresses.c.contact_id == contact_id))
        conn.execute(sa.update(contacts).where(contacts.c.id == contact_id).values(
            name="", language=None, updated_at=now))
        return addresses

    def _erase_case(self, conn: Connection, case_id: int, now: datetime) -> list[str]:
        files = [path for path in conn.execute(
            sa.select(attachments.c.path).where(attachments.c.case_id == case_id, attachments.c.path.is_not(None))
        ).scalars()]
        conn.execute(sa.update(attachments).where(attachments.c.case_id == case_id).values(
            path=None, source_url=None, sha256=None, lat=None, lon=None, status=ERASED))
        self.touched_messages(conn, conn.execute(sa.update(messages).where(messages.c.case_id == case_id).values(
            body="", payload=None, sender="", recipient="", error_message=None, updated_at=now)
            .returning(*TRANSCRIPT_COLUMNS)))
        conn.execute(sa.update(case_events).where(case_events.c.case_id == case_id).values(note=""))
        conn.execute(sa.update(cases).where(cases.c.id == case_id).values(
            contact_id=None, description="", location_text="", lat=None, lon=None, channel_address="",
            source_message_id=None, erased_at=now, updated_at=now))
        return files

    def erase_contact(self, address: str, kind: str = "phone", now: datetime | None = None) -> Erased | None:
        """A citizen's request: erase every case of theirs and the contact itself (name, numbers,
        channel ids, messages, what calls collected); None when nobody has this address."""
        now = now or utcnow()
        found = self.find_contact(address, kind)
        if found is None:
            return None
        done = Erased()
        with self.write() as conn:
            for case_id, reference in conn.execute(
                    sa.select(cases.c.id, cases.c.reference).where(cases.c.contact_id == found.id)).all():
                done.files += self._erase_case(conn, case_id, now)
                done.cases.append(reference)
            done.files += self._erase_messages(conn, messages.c.contact_id == found.id)
            done.addresses = self._erase_contact(conn, found.id, now)
            done.files = _unshared(conn, done.files)
        return done


def _unshared(conn: Connection, paths: list[str]) -> list[str]:
    """Of the files erased rows named, those no other attachment still holds: a file is stored once
    per content (`core.media_files.store`), so the same photo sent by two citizens is one file."""
    if not paths:
        return []
    held = set(conn.execute(sa.select(attachments.c.path).where(attachments.c.path.in_(sorted(set(paths))))).scalars())
    return sorted({path for path in paths if path not in held})
