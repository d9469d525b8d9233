"""Conversations handed to a person ("talk to a person", or the bot did not understand)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from core.db import conversations
from core.store.transactions import StoreBase, utcnow

CONVERSATION_STATUSES = ("needs_person", "with_agent", "closed")
OPEN_CONVERSATION = ("needs_person", "with_agent")


class HandoffsMixin(StoreBase):
    """Hand-off operations of the case store."""

    def request_agent(self, channel: str, contact_id: int, reason: str, now: datetime | None = None) -> int:
        """Queue the contact's conversation for a person; an open one is reused. The conversation id."""
        now = now or utcnow()
        with self.write() as conn:
            existing = conn.execute(
                self.for_update(
                    sa.select(conversations.c.id)
                    .where(
                        conversations.c.channel == channel,
                        conversations.c.contact_id == contact_id,
                        conversations.c.status.in_(OPEN_CONVERSATION),
                    )
                    .order_by(conversations.c.id.desc())
                    .limit(1)
                )
            ).scalar()
            if existing is not None:
                conn.execute(sa.update(conversations).where(conversations.c.id == existing).values(updated_at=now))
                self.touched_conversations(conn, [existing])
                return existing
            opened = conn.execute(
                sa.insert(conversations)
                .values(
                    channel=channel,
                    contact_id=contact_id,
                    status="needs_person",
                    reason=reason[:64],
                    created_at=now,
                    updated_at=now,
                )
                .returning(conversations.c.id)
            ).scalar_one()
            self.touched_conversations(conn, [opened])
            return opened

    def set_conversation_status(self, conversation_id: int, status: str, now: datetime | None = None) -> bool:
        """An agent takes the conversation (`with_agent`) or hands it back (`closed`)."""
        if status not in CONVERSATION_STATUSES:
            raise ValueError(f"unknown conversation status {status!r} (expected one of {CONVERSATION_STATUSES})")
        with self.write() as conn:
            result = conn.execute(
                sa.update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(status=status, updated_at=now or utcnow())
            )
            self.touched_conversations(conn, [conversation_id])
        return result.rowcount > 0

    def open_conversation(self, channel: str, contact_id: int) -> tuple[int, str] | None:
        """(id, status) of the contact's open hand-off on this channel, or None."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(conversations.c.id, conversations.c.status)
                .where(
                    conversations.c.channel == channel,
                    conversations.c.contact_id == contact_id,
                    conversations.c.status.in_(OPEN_CONVERSATION),
                )
                .order_by(conversations.c.id.desc())
                .limit(1)
            ).first()
        return (row.id, row.status) if row is not None else None
