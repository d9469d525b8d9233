"""What phone calls leave behind: the data a call collected, kept on its conversation for a person.

A caller who asks for a person (or hangs up mid-complaint) has said things the agent must see: the
language, the kind and category chosen, the recordings made, the number to call back. They are kept
as one JSON document (`conversations.collected`) on the caller's open conversation, which is opened
when there is none (`needs_person`, so staff see it in the queue and call back).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.db import attachments, case_events, conversations
from core.store.cases import event_values
from core.store.handoffs import HandoffsMixin
from core.store.transactions import utcnow


class CallsMixin(HandoffsMixin):
    """Call leftovers: collected data on conversations, recordings by URL, case notes."""

    def record_collected(
        self, channel: str, contact_id: int, collected: Mapping[str, Any], reason: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Keep `collected` on the contact's open conversation (opened with `reason` when there is none,
        its reason replaced by `reason` when given). The conversation id."""
        now = now or utcnow()
        conversation_id = self.request_agent(channel, contact_id, reason or "asked", now)
        values: dict[str, Any] = {"collected": dict(collected), "updated_at": now}
        if reason:
            values["reason"] = reason[:64]
        with self.write() as conn:
            conn.execute(sa.update(conversations).where(conversations.c.id == conversation_id).values(values))
            self.touched_conversations(conn, [conversation_id])
        return conversation_id

    def collected(self, conversation_id: int) -> tuple[str, str, dict[str, Any]] | None:
        """(status, reason, collected document) of a conversation, or None."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(conversations.c.status, conversations.c.reason, conversations.c.collected)
                .where(conversations.c.id == conversation_id)
            ).first()
        if row is None:
            return None
        return row.status, row.reason, dict(row.collected or {})

    def pending_attachment_by_source(self, url: str) -> int | None:
        """The id of the attachment still waiting for the file at `url`, or None."""
        with self.read() as conn:
            return conn.execute(
                sa.select(attachments.c.id)
                .where(attachments.c.source_url == url, attachments.c.status == "pending")
                .order_by(attachments.c.id.desc()).limit(1)
            ).scalar()

    def add_case_note(self, case_id: int, note: str, actor: str = "citizen", now: datetime | None = None) -> None:
        """A note on the case's history (a caller's callback number, for instance)."""
        with self.write() as conn:
            conn.execute(sa.insert(case_events), [event_values(case_id, "note", None, actor, note[:500],
                                                               now or utcnow())])
