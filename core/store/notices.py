"""Status notices: which status events the citizen has still to be told of, and what to tell them.

A status change staff make is written un-notified (`case_events.notified_at` empty); the gateway
sends the notice, to the case's reporter and to everyone who follows the case (their report was filed
as its duplicate), and marks it notified. If Redis or a worker was away, `unnotified_events` finds
what is still owed, so no notice is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.db import case_events, cases, contact_addresses, contacts
from core.records import OutboundDraft, StatusNotice
from core.store.transactions import StoreBase, utcnow


def _notice(row: Any) -> StatusNotice:
    return StatusNotice(
        reference=row.reference,
        event_id=row.event_id,
        case_id=row.case_id,
        status=row.status,
        note=row.note,
        administration_code=row.administration_code,
        channel=row.origin_channel,
        channel_address=row.channel_address,
        contact_id=row.contact_id,
        recipient=row.recipient,
        language=row.language,
        opted_out=bool(row.opted_out),
        unreachable=bool(row.unreachable),
        notified=row.notified_at is not None,
    )


class NoticesMixin(StoreBase):
    """Status-notice operations of the case store."""

    def _notice_query(self, told: Any, event_id: int, reference: str) -> sa.Select[Any]:
        """Event `event_id` of case `reference`, with who is told of it: the reporter of case `told`
        (the case itself, or one filed as its duplicate), on that case's channel."""
        address = contact_addresses.alias("address")
        kind = self.address_kind_in_sql(told.c.origin_channel)
        return (
            sa.select(
                case_events.c.id.label("event_id"),
                case_events.c.status,
                case_events.c.note,
                case_events.c.notified_at,
                told.c.id.label("case_id"),
                cases.c.reference,
                cases.c.administration_code,
                told.c.origin_channel,
                told.c.channel_address,
                told.c.contact_id,
                told.c.language,
                address.c.value.label("recipient"),
                contacts.c.opted_out,
                contacts.c.unreachable,
            )
            .select_from(
                case_events.join(cases, cases.c.id == case_events.c.case_id)
                .join(told, sa.or_(told.c.id == cases.c.id, told.c.duplicate_of_id == cases.c.id))
                .outerjoin(contacts, contacts.c.id == told.c.contact_id)
                .outerjoin(address, sa.and_(address.c.contact_id == told.c.contact_id, address.c.kind == kind))
            )
            .where(case_events.c.id == event_id, cases.c.reference == reference)
        )

    def status_notice(self, reference: str, event_id: int) -> StatusNotice | None:
        """What to tell the citizen of event `event_id` of case `reference`; None when there is no such event."""
        told = cases.alias("told")
        query = self._notice_query(told, event_id, reference).where(told.c.reference == reference)
        with self.read() as conn:
            row = conn.execute(query).first()
        if row is None or row.status is None:
            return None
        return _notice(row)

    def follower_notices(self, reference: str, event_id: int) -> list[StatusNotice]:
        """What to tell each citizen who follows case `reference` (their report was filed as its
        duplicate) of its event `event_id`: on their own channel, in their language."""
        told = cases.alias("told")
        query = (self._notice_query(told, event_id, reference).where(told.c.duplicate_of_id.is_not(None))
                 .order_by(told.c.id))
        with self.read() as conn:
            rows = conn.execute(query).all()
        return [_notice(row) for row in rows if row.status is not None]

    def mark_notified(self, event_id: int, now: datetime | None = None) -> bool:
        """The citizen was told of (or need not hear of) this event; True the first time."""
        with self.write() as conn:
            result = conn.execute(
                sa.update(case_events)
                .where(case_events.c.id == event_id, case_events.c.notified_at.is_(None))
                .values(notified_at=now or utcnow())
            )
        return result.rowcount > 0

    def record_notice(self, event_id: int, drafts: Sequence[OutboundDraft]) -> list[int] | None:
        """Mark the event notified and record the messages that tell it, in one transaction; None
        when it was told already (a notice worked on twice records its messages once)."""
        return self.record_notices([(event_id, drafts)])[0]

    def record_notices(self, notices: Sequence[tuple[int, Sequence[OutboundDraft]]]) -> list[list[int] | None]:
        """`record_notice` for several events in one transaction (a worker's group commit)."""
        now = utcnow()
        recorded: list[list[int] | None] = []
        with self.write() as conn:
            for event_id, drafts in notices:
                result = conn.execute(
                    sa.update(case_events)
                    .where(case_events.c.id == event_id, case_events.c.notified_at.is_(None))
                    .values(notified_at=now)
                )
                recorded.append(self._insert_outbound(conn, drafts, now)  # type: ignore[attr-defined]
                                if result.rowcount else None)
        return recorded

    def unnotified_events(self, older_than: datetime, limit: int = 200) -> list[tuple[str, int]]:
        """(reference, event id) of status events written before `older_than` and not yet told, oldest first."""
        query = (
            sa.select(cases.c.reference, case_events.c.id)
            .select_from(case_events.join(cases, cases.c.id == case_events.c.case_id))
            .where(case_events.c.notified_at.is_(None), case_events.c.at < older_than)
            .order_by(case_events.c.id)
            .limit(limit)
        )
        with self.read() as conn:
            return [(row.reference, row.id) for row in conn.execute(query)]
