"""What the sending side asks of the store beyond one message: the citizen's last message on a
channel (WhatsApp's 24-hour window) and a sent message found again by the provider's id (a failed
delivery report, to fall back to SMS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.db import messages
from core.store.transactions import StoreBase


@dataclass(frozen=True)
class SentMessage:
    """An outbound message as recorded, found by its provider id."""

    message_id: int
    channel: str
    contact_id: int | None
    case_id: int | None
    sender: str
    recipient: str
    body: str
    payload: dict[str, Any] | None
    priority: str
    status: str


class DeliveryMixin(StoreBase):
    """Delivery lookups of the case store."""

    def last_inbound_at(self, contact_id: int, channel: str) -> datetime | None:
        """When the contact last wrote to us on `channel` (None: never)."""
        query = (
            sa.select(messages.c.created_at)
            .where(messages.c.contact_id == contact_id, messages.c.channel == channel, messages.c.direction == "in")
            .order_by(messages.c.created_at.desc())
            .limit(1)
        )
        with self.read() as conn:
            return conn.execute(query).scalar()

    def sent_message(self, channel: str, provider_message_id: str) -> SentMessage | None:
        """The outbound message the provider knows by this id on `channel`, or None."""
        query = sa.select(messages).where(
            messages.c.channel == channel, messages.c.direction == "out",
            messages.c.provider_message_id == provider_message_id,
        )
        with self.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return SentMessage(row.id, row.channel, row.contact_id, row.case_id, row.sender, row.recipient, row.body,
                           row.payload, row.priority, row.status)
