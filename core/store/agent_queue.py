"""The queue of conversations that need a person: who holds which, by load, and what was said.

A conversation (table `conversations`) is opened by the dialogue's `RequestAgent` effect
(`needs_person`), taken over by one agent at a time (`with_agent`, an atomic UPDATE: two agents
clicking at once cannot both win), and closed when the agent hands back to the bot, closes it, or it
was left waiting or abandoned too long. An agent holds at most `ConsolePolicy.capacity` conversations;
a freed agent is offered the oldest waiting one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.db import attachments, cases, contact_addresses, contacts, conversations, messages, staff
from core.store.handoffs import OPEN_CONVERSATION
from core.store.transactions import PHONE, TRANSCRIPT_COLUMNS, StoreBase, utcnow

CLOSED_REASONS = ("handed_back", "closed_by_agent", "waiting_too_long", "abandoned", "called_back")


@dataclass(frozen=True)
class ConsolePolicy:
    """How the queue behaves: agent load, stall detection in the dialogue, and automatic closing."""

    capacity: int = 3
    """Open conversations one agent holds at most."""
    remind_after: timedelta = timedelta(minutes=10)
    """Silence mid-complaint before the bot sends one reminder."""
    stall_after: timedelta = timedelta(minutes=10)
    """Further silence after the reminder before the conversation goes to a person."""
    waiting_close_after: timedelta = timedelta(hours=8)
    """A conversation nobody took over for this long is closed (the citizen is told)."""
    abandoned_close_after: timedelta = timedelta(hours=2)
    """A taken conversation where nobody wrote for this long is closed (the citizen is told)."""
    sweep_interval: timedelta = timedelta(seconds=15)
    """How often the gateway looks for stalled and stale conversations."""

    @classmethod
    def from_env(cls, env: dict[str, str] | Any) -> ConsolePolicy:
        """`HOTLINE_AGENT_CAPACITY`, `HOTLINE_STALL_REMIND_MINUTES`, `HOTLINE_STALL_AFTER_MINUTES`,
        `HOTLINE_WAITING_CLOSE_MINUTES`, `HOTLINE_ABANDONED_CLOSE_MINUTES`, all optional."""
        base = cls()

        def minutes(name: str, default: timedelta) -> timedelta:
            raw = env.get(name)
            return timedelta(minutes=float(raw)) if raw else default

        return cls(
            capacity=int(env.get("HOTLINE_AGENT_CAPACITY") or base.capacity),
            remind_after=minutes("HOTLINE_STALL_REMIND_MINUTES", base.remind_after),
            stall_after=minutes("HOTLINE_STALL_AFTER_MINUTES", base.stall_after),
            waiting_close_after=minutes("HOTLINE_WAITING_CLOSE_MINUTES", base.waiting_close_after),
            abandoned_close_after=minutes("HOTLINE_ABANDONED_CLOSE_MINUTES", base.abandoned_close_after),
        )


@dataclass(frozen=True)
class Conversation:
    """A conversation in the queue, with who the citizen is and who holds it."""

    id: int
    channel: str
    contact_id: int
    status: str
    reason: str
    created_at: datetime
    updated_at: datetime
    agent_id: int | None
    agent: str | None
    case_id: int | None
    case_reference: str | None
    closed_reason: str
    taken_at: datetime | None
    closed_at: datetime | None
    contact_name: str
    contact_phone: str | None
    contact_address: str | None
    """Where the citizen is reached on the conversation's channel (a phone, a channel's user id)."""
    language: str | None
    anonymous: bool = False
    """The citizen chose to stay anonymous in a case they filed: staff bound to an administration see
    neither who they are nor what they wrote here (`core.access.can_see_citizen`)."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, without the contact (callers add it when the viewer may see it)."""
        return {
            "id": self.id,
            "channel": self.channel,
            "status": self.status,
            "reason": self.reason,
            "language": self.language,
            "agent": self.agent,
            "case": self.case_reference,
            "closed_reason": self.closed_reason or None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
        }


@dataclass(frozen=True)
class TranscriptLine:
    """One message of a conversation's transcript, either way, with its delivery state."""

    id: int
    direction: str
    body: str
    status: str
    error_code: str | None
    error_message: str | None
    at: datetime
    agent: str | None
    media: tuple[int, ...]
    """Ids of the photos and recordings that came with the message."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "id": self.id,
            "direction": self.direction,
            "body": self.body,
            "status": self.status,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "at": self.at.isoformat(),
            "agent": self.agent,
            "media": list(self.media),
        }


def pick_agent(loads: dict[int, int], capacity: int) -> int | None:
    """The least loaded agent under `capacity` (lowest id on a tie), or None when all are full."""
    free = [(load, agent) for agent, load in loads.items() if load < capacity]
    return min(free)[1] if free else None


_agent = staff.alias("agent")


def _address(kind: Any) -> Any:
    """The value of the conversation's contact's address of `kind`, as a column."""
    return (sa.select(contact_addresses.c.value)
            .where(contact_addresses.c.contact_id == conversations.c.contact_id, contact_addresses.c.kind == kind)
            .scalar_subquery())


_filed = cases.alias("filed")
"""The contact's cases, any of them (whether the citizen ever chose to stay anonymous)."""


def _select(kind: Any) -> sa.Select[Any]:
    """Conversations with their agent, case and contact; `kind`: the address kind of their channel."""
    return sa.select(
        conversations,
        _agent.c.username.label("agent"),
        cases.c.reference.label("case_reference"),
        contacts.c.name.label("contact_name"),
        _address(PHONE).label("contact_phone"),
        _address(kind).label("contact_address"),
        contacts.c.language.label("language"),
        sa.exists().where(_filed.c.contact_id == conversations.c.contact_id, _filed.c.anonymous).label("anonymous"),
    ).select_from(
        conversations.join(contacts, contacts.c.id == conversations.c.contact_id)
        .outerjoin(_agent, _agent.c.id == conversations.c.agent_id)
        .outerjoin(cases, cases.c.id == conversations.c.case_id)
    )


def _conversation(row: Any) -> Conversation:
    return Conversation(
        id=row.id, channel=row.channel, contact_id=row.contact_id, status=row.status, reason=row.reason,
        created_at=row.created_at, updated_at=row.updated_at, agent_id=row.agent_id, agent=row.agent,
        case_id=row.case_id, case_reference=row.case_reference, closed_reason=row.closed_reason or "",
        taken_at=row.taken_at, closed_at=row.closed_at, contact_name=row.contact_name or "",
        contact_phone=row.contact_phone, contact_address=row.contact_address, language=row.language,
        anonymous=bool(row.anonymous),
    )


class QueueMixin(StoreBase):
    """Conversation-queue operations of the case store."""

    def _select_conversations(self) -> sa.Select[Any]:
        return _select(self.address_kind_in_sql(conversations.c.channel))

    def conversations(
        self, statuses: tuple[str, ...] = OPEN_CONVERSATION, agent_id: int | None = None, limit: int = 200
    ) -> list[Conversation]:
        """Conversations in these statuses, oldest first (of one agent when given)."""
        query = self._select_conversations().where(conversations.c.status.in_(statuses))
        if agent_id is not None:
            query = query.where(conversations.c.agent_id == agent_id)
        query = query.order_by(conversations.c.created_at, conversations.c.id).limit(limit)
        with self.read() as conn:
            return [_conversation(r) for r in conn.execute(query)]

    def conversation(self, conversation_id: int) -> Conversation | None:
        """One conversation, or None."""
        with self.read() as conn:
            row = conn.execute(self._select_conversations().where(conversations.c.id == conversation_id)).first()
        return _conversation(row) if row is not None else None

    def agent_load(self, agent_id: int) -> int:
        """How many conversations the agent holds now."""
        with self.read() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(conversations).where(
                    conversations.c.agent_id == agent_id, conversations.c.status == "with_agent")
            ).scalar_one()

    def oldest_waiting(self) -> int | None:
        """The id of the conversation waiting longest for a person, or None."""
        with self.read() as conn:
            return conn.execute(
                sa.select(conversations.c.id).where(conversations.c.status == "needs_person")
                .order_by(conversations.c.created_at, conversations.c.id).limit(1)
            ).scalar()

    def take_over(
        self, conversation_id: int, agent_id: int, capacity: int, *, force: bool = False, now: datetime | None = None
    ) -> str:
        """Give the conversation to the agent: `taken`, `already_yours`, `held` (another agent has it; only
        `force` takes it from them), `at_capacity`, `closed` or `not_found`."""
        now = now or utcnow()
        with self.write() as conn:
            row = conn.execute(self.for_update(
                sa.select(conversations.c.status, conversations.c.agent_id).where(conversations.c.id == conversation_id)
            )).first()
            if row is None:
                return "not_found"
            if row.status not in OPEN_CONVERSATION:
                return "closed"
            if row.status == "with_agent" and row.agent_id == agent_id:
                return "already_yours"
            if row.status == "with_agent" and not force:
                return "held"
            held = conn.execute(
                sa.select(sa.func.count()).select_from(conversations).where(
                    conversations.c.agent_id == agent_id, conversations.c.status == "with_agent")
            ).scalar_one()
            if held >= capacity and not force:
                return "at_capacity"
            result = conn.execute(
                sa.update(conversations)
                .where(conversations.c.id == conversation_id, conversations.c.status == row.status,
                       conversations.c.agent_id.is_(None) if row.agent_id is None
                       else conversations.c.agent_id == row.agent_id)
                .values(status="with_agent", agent_id=agent_id, taken_at=now, updated_at=now)
            )
            self.touched_conversations(conn, [conversation_id])
        return "taken" if result.rowcount else "held"

    def finish_conversation(self, conversation_id: int, reason: str, now: datetime | None = None) -> bool:
        """Close an open conversation with one of `CLOSED_REASONS`; False when it was not open."""
        if reason not in CLOSED_REASONS:
            raise ValueError(f"unknown closing reason {reason!r} (expected one of {CLOSED_REASONS})")
        now = now or utcnow()
        with self.write() as conn:
            result = conn.execute(
                sa.update(conversations)
                .where(conversations.c.id == conversation_id, conversations.c.status.in_(OPEN_CONVERSATION))
                .values(status="closed", closed_reason=reason, closed_at=now, updated_at=now)
            )
            self.touched_conversations(conn, [conversation_id])
        return result.rowcount > 0

    def serves_case(self, agent_id: int, case_id: int, contact_id: int | None) -> bool:
        """Whether the agent filed the case from a conversation they held, or holds an open
        conversation with its citizen."""
        serving = conversations.c.case_id == case_id
        if contact_id is not None:
            serving = sa.or_(serving, sa.and_(conversations.c.contact_id == contact_id,
                                              conversations.c.status.in_(OPEN_CONVERSATION)))
        query = sa.select(conversations.c.id).where(conversations.c.agent_id == agent_id, serving).limit(1)
        with self.read() as conn:
            return conn.execute(query).first() is not None

    def touch_conversation(self, conversation_id: int, case_id: int | None = None, now: datetime | None = None) -> None:
        """Note activity on the conversation (and the case it filed)."""
        values: dict[str, Any] = {"updated_at": now or utcnow()}
        if case_id is not None:
            values["case_id"] = case_id
        with self.write() as conn:
            conn.execute(sa.update(conversations).where(conversations.c.id == conversation_id).values(values))
            self.touched_conversations(conn, [conversation_id])

    def citizen_addresses(self, channel: str, contact_id: int) -> tuple[str, str, datetime] | None:
        """(the citizen's address, our number they wrote to, when) from their last message on `channel`."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(messages.c.sender, messages.c.recipient, messages.c.created_at)
                .where(messages.c.channel == channel, messages.c.contact_id == contact_id,
                       messages.c.direction == "in")
                .order_by(messages.c.id.desc()).limit(1)
            ).first()
        return (row.sender, row.recipient, row.created_at) if row is not None else None

    def contact_id_for(self, channel: str, address: str) -> int | None:
        """The contact whose last message on `channel` came from `address`, or None."""
        bare = address.split(":", 1)[1] if ":" in address else address
        with self.read() as conn:
            found = conn.execute(
                sa.select(contact_addresses.c.contact_id)
                .where(contact_addresses.c.kind == self.address_kind_of(channel),
                       contact_addresses.c.value.in_({bare, address}))
            ).scalar()
            if found is not None:
                return found
            return conn.execute(
                sa.select(messages.c.contact_id)
                .where(messages.c.channel == channel, messages.c.sender == address, messages.c.direction == "in")
                .order_by(messages.c.id.desc()).limit(1)
            ).scalar()

    def transcript(self, channel: str, contact_id: int, since: datetime, limit: int = 200) -> list[TranscriptLine]:
        """The messages exchanged with the contact on `channel` since `since`, oldest first."""
        query = (
            sa.select(messages)
            .where(messages.c.channel == channel, messages.c.contact_id == contact_id, messages.c.created_at >= since)
            .order_by(messages.c.id.desc()).limit(limit)
        )
        with self.read() as conn:
            rows = list(conn.execute(query))
            media: dict[int, list[int]] = {}
            if rows:
                for file in conn.execute(
                    sa.select(attachments.c.id, attachments.c.message_id)
                    .where(attachments.c.message_id.in_([r.id for r in rows])).order_by(attachments.c.id)
                ):
                    media.setdefault(file.message_id, []).append(file.id)
        lines = []
        for row in reversed(rows):
            payload = row.payload if isinstance(row.payload, dict) else {}
            lines.append(TranscriptLine(
                id=row.id, direction=row.direction, body=row.body, status=row.status, error_code=row.error_code,
                error_message=row.error_message, at=row.created_at, agent=payload.get("agent"),
                media=tuple(media.get(row.id, ())),
            ))
        return lines

    def last_activity(self, channel: str, contact_id: int) -> datetime | None:
        """When the last message either way was recorded with this contact on `channel`."""
        with self.read() as conn:
            return conn.execute(
                sa.select(sa.func.max(messages.c.created_at))
                .where(messages.c.channel == channel, messages.c.contact_id == contact_id)
            ).scalar()

    def retry_failed(self, message_id: int) -> bool:
        """Put a failed outbound message back in the queue (its attempts start again); False if not failed."""
        with self.write() as conn:
            changed = conn.execute(
                sa.update(messages)
                .where(messages.c.id == message_id, messages.c.direction == "out",
                       messages.c.status.in_(("failed", "undelivered")))
                .values(status="queued", status_rank=0, attempts=0, error_code=None, error_message=None,
                        provider_message_id=None, updated_at=utcnow())
                .returning(*TRANSCRIPT_COLUMNS)
            ).all()
            self.touched_messages(conn, changed)
        return bool(changed)

    def outbound_of(self, message_id: int) -> dict[str, Any] | None:
        """An outbound message's channel, contact, addresses and status, or None."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(messages.c.id, messages.c.channel, messages.c.contact_id, messages.c.status,
                          messages.c.sender, messages.c.recipient)
                .where(messages.c.id == message_id, messages.c.direction == "out")
            ).first()
        return dict(row._mapping) if row is not None else None

    def stale_conversations(self, now: datetime, policy: ConsolePolicy) -> list[tuple[int, str]]:
        """(id, reason) of open conversations to close: waiting with nobody, or taken and silent too long."""
        found: list[tuple[int, str]] = []
        for item in self.conversations(limit=1000):
            if item.status == "needs_person" and item.updated_at < now - policy.waiting_close_after:
                found.append((item.id, "waiting_too_long"))
            elif item.status == "with_agent":
                last = max(filter(None, (self.last_activity(item.channel, item.contact_id), item.updated_at)))
                if last < now - policy.abandoned_close_after:
                    found.append((item.id, "abandoned"))
        return found

    def queue_fingerprint(self) -> str:
        """Changes whenever the open queue changes (for live views)."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(sa.func.count(), sa.func.max(conversations.c.updated_at), sa.func.max(conversations.c.id))
                .where(conversations.c.status.in_(OPEN_CONVERSATION))
            ).first()
        return f"{row[0]}|{row[1]}|{row[2]}" if row is not None else ""

    def conversation_fingerprint(self, item: Conversation) -> str:
        """Changes whenever the conversation (as read) or its messages (and their delivery) change."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(sa.func.count(), sa.func.max(messages.c.id), sa.func.max(messages.c.updated_at))
                .where(messages.c.channel == item.channel, messages.c.contact_id == item.contact_id)
            ).first()
        return f"{item.status}|{item.agent_id}|{item.updated_at}|{row[0]}|{row[1]}|{row[2]}"
