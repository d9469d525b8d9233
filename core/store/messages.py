"""Messages in the store: inbound recorded once per provider id, outbound claimed once, delivery ranked.

Inbound: `record_inbound` (contact and message in one transaction, deduplicated by provider id), then
`finish_inbound` (processed, with the replies). A crash in between leaves the message in
`pending_inbound` for replay. Outbound: a draft is recorded `queued`; a sender `claim_outbound`s it
(queued|retrying -> sending, atomically, so a message queued twice goes out once), then marks it sent,
retrying or failed. Provider status callbacks only ever move a message up the delivery ranks.

Provider ids are unique per (channel, direction): for Telegram, whose message ids are per chat, record
`"{chat_id}:{message_id}"` (or the update id for inbound).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.changes import messages_topic
from core.db import UNPROCESSED_INBOUND, contacts, messages
from core.records import (
    ContactRecord,
    InboundDraft,
    InboundRecord,
    OutboundDraft,
    OutboundRow,
    PendingInbound,
    StaleOutbound,
)
from core.store.contacts import ContactsMixin
from core.store.transactions import TRANSCRIPT_COLUMNS, StoreBase, utcnow

STATUS_RANK: dict[str, int] = {
    "received": 0,
    "queued": 0,
    "accepted": 0,
    "scheduled": 0,
    "retrying": 0,
    "sending": 1,
    "sent": 2,
    "failed": 3,
    "undelivered": 3,
    "canceled": 3,
    "delivered": 4,
    "read": 5,
}
"""Delivery statuses in order: a status only replaces one of a lower rank."""

CLAIMABLE = ("queued", "retrying")
PRIORITIES = ("replies", "bulk")
INBOUND_RETURNED = (messages.c.id, messages.c.channel, messages.c.provider_message_id)
"""What an inbound insert returns: the id, and the provider's id to tell which message it is."""


def status_rank(status: str) -> int:
    """The rank of a delivery status (unknown statuses rank 0)."""
    return STATUS_RANK.get(status, 0)


class MessagesMixin(ContactsMixin):
    """Message operations of the case store."""

    # -- inbound ---------------------------------------------------------------------------------

    @functools.cached_property
    def _inbound_statements(self) -> _InboundStatements:
        return _InboundStatements(self)

    def _existing_inbound(self, conn: Connection, channel: str, provider_message_id: str) -> InboundRecord | None:
        row = conn.execute(
            self._inbound_statements.existing, {"channel": channel, "provider_message_id": provider_message_id}
        ).first()
        if row is None:
            return None
        return InboundRecord(
            message_id=row.id,
            contact_id=row.contact_id,
            duplicate=True,
            processed=row.processed_at is not None,
            language=row.language,
            opted_out=bool(row.opted_out),
        )

    def record_inbound(
        self,
        channel: str,
        sender: str,
        recipient: str,
        provider_message_id: str | None,
        body: str,
        received_at: datetime | None = None,
        sender_name: str = "",
        address_kind: str = "phone",
        payload: dict[str, Any] | None = None,
    ) -> InboundRecord:
        """Record an inbound message and its contact in one transaction; a known provider id: duplicate."""
        draft = InboundDraft(channel, sender, recipient, provider_message_id, body, received_at, sender_name,
                             address_kind, payload)
        return self.record_inbound_many([draft])[0]

    def record_inbound_many(self, drafts: Sequence[InboundDraft]) -> list[InboundRecord]:
        """Record several inbound messages (a group commit of concurrent requests), each with its
        sender, found or created. On PostgreSQL in one statement (`_record_in_one_statement`); what
        it leaves (a sender another request was creating, a repeated delivery), and everything on
        SQLite, in one transaction (`_record_in_transaction`). On PostgreSQL the batch is then two
        commits, not one: should the transaction fail, a retry finds what the statement recorded as
        repeats not yet processed, which are processed as new ones are."""
        now = utcnow()
        keys = [self.contact_key(draft.sender, draft.address_kind) for draft in drafts]
        if any(not value for _, value in keys):
            raise ValueError("empty contact address")
        recorded = self._record_in_one_statement(drafts, keys, now) if self._postgres else {}
        rest = [index for index in range(len(drafts)) if index not in recorded]
        if rest:
            recorded.update(zip(rest, self._record_in_transaction(
                [drafts[index] for index in rest], [keys[index] for index in rest], now), strict=True))
        return [recorded[index] for index in range(len(drafts))]

    def _record_in_one_statement(self, drafts: Sequence[InboundDraft], keys: Sequence[tuple[str, str]],
                                 now: datetime) -> dict[int, InboundRecord]:
        """Draft index -> record for the drafts `_InboundStatements.record_all` recorded: senders
        looked up, new ones created and the messages inserted in one statement, a transaction by
        itself (one round trip where BEGIN, a lookup, an insert per new sender and its address, the
        messages' insert and COMMIT were five or more). Nothing when a draft has no provider id of
        its own in the batch: those are recorded one by one, in the order they came."""
        position = _by_own_provider_id(drafts)
        if position is None:
            return {}
        statements = self._inbound_statements
        parameters = {
            **statements.inbound.parameters([_inbound_row(draft, now) for draft in drafts]),
            "known_kind": [kind for kind, _ in keys], "known_value": [value for _, value in keys],
            "sender_name": [(draft.sender_name or "")[:200] for draft in drafts], "now": now,
        }
        with self.write(one_statement=True) as conn:
            found = conn.execute(statements.record_all, parameters).all()
            self.touched(conn, {messages_topic(row.channel, row.contact_id) for row in found})
        return {position[(row.channel, row.provider_message_id)]: InboundRecord(
            message_id=row.id, contact_id=row.contact_id, duplicate=False, processed=False,
            language=row.language, opted_out=bool(row.opted_out)) for row in found}

    def _record_in_transaction(self, drafts: Sequence[InboundDraft], keys: Sequence[tuple[str, str]],
                               now: datetime) -> list[InboundRecord]:
        """The drafts recorded in one transaction: their senders looked up in one statement and the
        messages inserted in one, so a batch costs about as many round trips as one message. The
        insert comes first (`ON CONFLICT DO NOTHING`): a repeated delivery is the rare case, so it
        alone pays for a lookup of what it repeats."""
        with self.write() as conn:
            known = self.contacts_in(conn, set(keys))
            senders: list[ContactRecord] = []
            for draft, key in zip(drafts, keys, strict=True):
                if key not in known:
                    known[key] = self.create_contact_in(conn, key, draft.sender_name, now)
                senders.append(known[key])
            inserted = self._insert_inbound(conn, drafts, senders, now)
            self.touched(conn, {messages_topic(draft.channel, contact.id)
                                for draft, contact in zip(drafts, senders, strict=True)})
            return [_new_inbound(inserted[index], contact) if index in inserted
                    else self._inbound_alone(conn, draft, contact, now)
                    for index, (draft, contact) in enumerate(zip(drafts, senders, strict=True))]

    def _insert_inbound(self, conn: Connection, drafts: Sequence[InboundDraft], senders: Sequence[ContactRecord],
                        now: datetime) -> dict[int, int]:
        """Insert the drafts in one statement when each has a provider id of its own in the batch (as
        providers' webhooks do): draft index -> message id for those inserted (a provider id already
        stored inserts nothing). Otherwise nothing here: `_inbound_alone` records each in turn, so
        ids still follow the order the messages came in."""
        position = _by_own_provider_id(drafts)
        if position is None:
            return {}
        rows = [_inbound_row(draft, now, contact.id) for draft, contact in zip(drafts, senders, strict=True)]
        inserted = self.insert_rows(conn, messages, rows, INBOUND_RETURNED, skip_conflicts=True)
        return {position[(row.channel, row.provider_message_id)]: row.id for row in inserted}

    def _inbound_alone(self, conn: Connection, draft: InboundDraft, contact: ContactRecord,
                       now: datetime) -> InboundRecord:
        """A draft `_insert_inbound` did not insert, recorded alone: a new message, else (its provider
        id is taken) the message it repeats."""
        row = conn.execute(self._inbound_statements.insert, _inbound_row(draft, now, contact.id)).first()
        if row is None and draft.provider_message_id is not None:
            existing = self._existing_inbound(conn, draft.channel, draft.provider_message_id)
            if existing is not None:
                return existing
        if row is None:  # pragma: no cover - only a provider id can conflict
            raise RuntimeError("inbound message neither inserted nor found")
        return _new_inbound(row.id, contact)

    def finish_inbound(self, message_id: int, replies: Sequence[OutboundDraft] = ()) -> list[int]:
        """Mark an inbound message processed and record its replies, once: a second call records nothing."""
        return self.finish_inbound_many([(message_id, replies)])[0] or []

    def finish_inbound_many(self, items: Sequence[tuple[int, Sequence[OutboundDraft]]]) -> list[list[int] | None]:
        """`finish_inbound` for several messages in one transaction: the reply ids of each, None for
        a message another process finished first (whose replies are its to give)."""
        now = utcnow()
        if self._postgres:
            return self._finish_in_one_statement(items, now)
        with self.write() as conn:
            finished = set(conn.execute(self._inbound_statements.finish,
                                        {"ids": sorted({message_id for message_id, _ in items}), "now": now}).scalars())
            mine: list[bool] = []
            for message_id, _ in items:  # a message given twice in one batch is finished by the first
                mine.append(message_id in finished)
                finished.discard(message_id)
            reply_ids = iter(self._insert_outbound(
                conn, [draft for (_, replies), own in zip(items, mine, strict=True) if own for draft in replies], now))
        return [[next(reply_ids) for _ in replies] if own else None
                for (_, replies), own in zip(items, mine, strict=True)]

    def _finish_in_one_statement(self, items: Sequence[tuple[int, Sequence[OutboundDraft]]],
                                 now: datetime) -> list[list[int] | None]:
        """`finish_inbound_many` on PostgreSQL: the update and the replies' insert in one statement
        (`_InboundStatements.finish_with_replies`), which is a transaction by itself: one round trip
        for the batch where BEGIN, two statements and COMMIT were four."""
        first: dict[int, int] = {}  # a message given twice in one batch is finished by the first
        for index, (message_id, _) in enumerate(items):
            first.setdefault(message_id, index)
        given = [(message_id, _outbound_row(draft, now)) for index, (message_id, replies) in enumerate(items)
                 if first[message_id] == index for draft in replies]
        statements = self._inbound_statements
        parameters = {**statements.replies.parameters([row for _, row in given]),
                      "reply_to": [message_id for message_id, _ in given], "ids": sorted(first), "now": now}
        with self.write(one_statement=True) as conn:
            found = conn.execute(statements.finish_with_replies, parameters).all()
            replies = sorted((row for row in found if row.what == "reply"), key=lambda row: row.id)
            self.touched_messages(conn, replies)
        finished = {row.id for row in found if row.what == "finished"}
        reply_ids = iter(row.id for row in replies)
        return [[next(reply_ids) for _ in replies_of] if first[message_id] == index and message_id in finished
                else None for index, (message_id, replies_of) in enumerate(items)]

    def pending_inbound(self, older_than: datetime, limit: int = 100) -> list[PendingInbound]:
        """Inbound messages recorded before `older_than` and never processed, oldest first."""
        query = (
            sa.select(messages, contacts.c.language, contacts.c.opted_out)
            .select_from(messages.outerjoin(contacts, contacts.c.id == messages.c.contact_id))
            .where(UNPROCESSED_INBOUND, messages.c.created_at < older_than)  # as the partial index says
            .order_by(messages.c.created_at, messages.c.id)
            .limit(limit)
        )
        with self.read() as conn:
            rows = conn.execute(query).all()
        return [
            PendingInbound(
                message_id=r.id,
                channel=r.channel,
                sender=r.sender,
                recipient=r.recipient,
                provider_message_id=r.provider_message_id,
                body=r.body,
                payload=r.payload,
                contact_id=r.contact_id,
                received_at=r.created_at,
                language=r.language,
                opted_out=bool(r.opted_out),
            )
            for r in rows
        ]

    def quarantine_inbound(self, message_id: int, error: str) -> None:
        """Set aside an inbound message whose processing keeps failing: marked processed (so it is not
        replayed for ever), `quarantined`, with its error, where supervisors see it."""
        now = utcnow()
        with self.write() as conn:
            self.touched_messages(conn, conn.execute(
                sa.update(messages)
                .where(messages.c.id == message_id, messages.c.direction == "in", messages.c.processed_at.is_(None))
                .values(status="quarantined", error_code="quarantined", error_message=error[:500],
                        processed_at=now, updated_at=now)
                .returning(*TRANSCRIPT_COLUMNS)
            ))

    def quarantined_messages(self, limit: int = 200) -> list[dict[str, Any]]:
        """Messages set aside after failing repeatedly (inbound and outbound), newest first."""
        query = (
            sa.select(messages.c.id, messages.c.direction, messages.c.channel, messages.c.contact_id,
                      messages.c.case_id, messages.c.error_message, messages.c.updated_at)
            .where(messages.c.error_code == "quarantined")
            .order_by(messages.c.updated_at.desc(), messages.c.id.desc())
            .limit(limit)
        )
        with self.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def is_processed(self, message_id: int) -> bool:
        """True when the inbound message was processed (`finish_inbound` ran)."""
        with self.read() as conn:
            processed_at = conn.execute(sa.select(messages.c.processed_at).where(messages.c.id == message_id)).scalar()
        return processed_at is not None

    # -- outbound --------------------------------------------------------------------------------

    def _insert_outbound(self, conn: Connection, drafts: Sequence[OutboundDraft], now: datetime) -> list[int]:
        if not drafts:
            return []
        self.touched(conn, {messages_topic(d.channel, d.contact_id) for d in drafts if d.contact_id is not None})
        rows = [_outbound_row(draft, now) for draft in drafts]
        if len(rows) == 1:
            return [conn.execute(self._inbound_statements.insert_one, rows[0]).scalar_one()]
        return [row.id for row in self.insert_rows(conn, messages, rows, (messages.c.id,))]

    def record_outbound(self, drafts: Sequence[OutboundDraft]) -> list[int]:
        """Record outbound messages (status updates, agent messages, reminders); their ids, in order."""
        with self.write() as conn:
            return self._insert_outbound(conn, drafts, utcnow())

    def stale_outbound(self, older_than: datetime, lease_seconds: float, limit: int = 200) -> list[StaleOutbound]:
        """Messages to queue again: still queued or retrying since before `older_than` (their work item
        may have been lost with Redis), or claimed for sending longer ago than a lease (their worker
        died); replies first. Queueing one that is still queued changes nothing."""
        claimed_before = utcnow() - timedelta(seconds=lease_seconds)
        query = (
            sa.select(messages.c.id, messages.c.channel, messages.c.sender, messages.c.recipient,
                      messages.c.priority)
            .where(
                messages.c.direction == "out",
                sa.or_(
                    sa.and_(messages.c.status.in_(CLAIMABLE), messages.c.updated_at < older_than),
                    sa.and_(messages.c.status == "sending", messages.c.updated_at < claimed_before),
                ),
            )
            .order_by(sa.case((messages.c.priority == "replies", 0), else_=1), messages.c.id)
            .limit(limit)
        )
        with self.read() as conn:
            return [StaleOutbound(r.id, r.channel, r.sender, r.recipient, r.priority) for r in conn.execute(query)]

    def release_outbound(self, message_id: int) -> None:
        """Give back a claimed message unsent (its send waits for the sender's pace)."""
        with self.write() as conn:
            result = conn.execute(
                sa.update(messages)
                .where(messages.c.id == message_id, messages.c.status == "sending")
                .values(status="queued", status_rank=0, updated_at=utcnow())
                .returning(*TRANSCRIPT_COLUMNS)
            )
            self.touched_messages(conn, result)

    def claim_outbound(self, message_id: int, lease_seconds: float = 60.0) -> OutboundRow | None:
        """Take a queued or retrying message for sending, or one whose claim is older than a lease (its
        worker died before it could say how the send went); None when it went out or is being sent.

        The one window where a message can go twice: the provider took it, and the worker died before
        `mark_sent` committed (a few milliseconds after the provider's answer)."""
        return self.claim_outbound_many([(message_id, lease_seconds)])[0]

    def claim_outbound_many(self, claims: Sequence[tuple[int, float]]) -> list[OutboundRow | None]:
        """`claim_outbound` for several (message id, lease) in one transaction (a worker's group commit)."""
        now = utcnow()
        with self.write() as conn:
            return [self._claim_in(conn, message_id, lease_seconds, now) for message_id, lease_seconds in claims]

    def _claim_in(self, conn: Connection, message_id: int, lease_seconds: float, now: datetime) -> OutboundRow | None:
        row = conn.execute(
            sa.update(messages)
            .where(
                messages.c.id == message_id,
                messages.c.direction == "out",
                sa.or_(
                    messages.c.status.in_(CLAIMABLE),
                    sa.and_(messages.c.status == "sending",
                            messages.c.updated_at < now - timedelta(seconds=lease_seconds)),
                ),
            )
            .values(status="sending", status_rank=STATUS_RANK["sending"], updated_at=now)
            .returning(
                messages.c.id,
                messages.c.channel,
                messages.c.sender,
                messages.c.recipient,
                messages.c.body,
                messages.c.payload,
                messages.c.contact_id,
                messages.c.case_id,
                messages.c.priority,
                messages.c.attempts,
            )
        ).first()
        if row is None:
            return None
        self.touched_messages(conn, [row])
        flags = None
        if row.contact_id is not None:
            flags = conn.execute(
                sa.select(contacts.c.opted_out, contacts.c.unreachable).where(contacts.c.id == row.contact_id)
            ).first()
        return OutboundRow(
            message_id=row.id,
            channel=row.channel,
            sender=row.sender,
            recipient=row.recipient,
            body=row.body,
            payload=row.payload,
            contact_id=row.contact_id,
            case_id=row.case_id,
            priority=row.priority,
            attempts=row.attempts,
            opted_out=bool(flags.opted_out) if flags else False,
            unreachable=bool(flags.unreachable) if flags else False,
        )

    def mark_sent(self, message_id: int, provider_message_id: str | None, provider_status: str = "sent") -> None:
        """The provider took the message: store its id and status (Twilio's `queued` becomes `accepted`)."""
        self.mark_sent_many([(message_id, provider_message_id, provider_status)])

    def mark_sent_many(self, sent: Sequence[tuple[int, str | None, str]]) -> list[None]:
        """`mark_sent` for several messages in one transaction (a worker's group commit)."""
        now = utcnow()
        with self.write() as conn:
            for message_id, provider_message_id, provider_status in sent:
                status = "accepted" if provider_status in ("queued", "", None) else provider_status
                result = conn.execute(
                    sa.update(messages)
                    .where(messages.c.id == message_id)
                    .values(
                        provider_message_id=provider_message_id,
                        status=status,
                        status_rank=status_rank(status),
                        attempts=messages.c.attempts + 1,
                        error_code=None,
                        error_message=None,
                        updated_at=now,
                    )
                    .returning(*TRANSCRIPT_COLUMNS)
                )
                self.touched_messages(conn, result)
        return [None] * len(sent)

    def mark_retrying(self, message_id: int, error_code: str | None, error_message: str | None) -> int:
        """A send failed and will be tried again; returns the attempts made so far."""
        with self.write() as conn:
            row = conn.execute(
                sa.update(messages)
                .where(messages.c.id == message_id)
                .values(
                    status="retrying",
                    status_rank=STATUS_RANK["retrying"],
                    attempts=messages.c.attempts + 1,
                    error_code=_code(error_code),
                    error_message=error_message,
                    updated_at=utcnow(),
                )
                .returning(messages.c.attempts, *TRANSCRIPT_COLUMNS)
            ).first()
            self.touched_messages(conn, [row] if row is not None else [])
        return row.attempts if row is not None else 0

    def mark_failed(
        self, message_id: int, error_code: str | None, error_message: str | None, attempted: bool = True
    ) -> None:
        """A final failure (opted out, blocked, retries used up), visible to staff."""
        attempts = messages.c.attempts + 1 if attempted else messages.c.attempts
        with self.write() as conn:
            result = conn.execute(
                sa.update(messages)
                .where(messages.c.id == message_id)
                .values(
                    status="failed",
                    status_rank=STATUS_RANK["failed"],
                    attempts=attempts,
                    error_code=_code(error_code),
                    error_message=error_message,
                    updated_at=utcnow(),
                )
                .returning(*TRANSCRIPT_COLUMNS)
            )
            self.touched_messages(conn, result)

    def apply_delivery_status(
        self, provider_message_id: str, status: str, error_code: str | None = None, channel: str | None = None,
        opted_out: bool = False,
    ) -> bool:
        """Apply a provider status callback when it ranks above the stored one; True when it changed.
        With `opted_out` (the carrier says the recipient unsubscribed) the contact is opted out too."""
        rank = STATUS_RANK.get(status)
        if rank is None or not provider_message_id:
            return False
        conditions = [
            messages.c.provider_message_id == provider_message_id,
            messages.c.direction == "out",
            messages.c.status_rank < rank,
        ]
        if channel is not None:
            conditions.append(messages.c.channel == channel)
        values: dict[str, Any] = {"status": status, "status_rank": rank, "updated_at": utcnow()}
        if error_code:
            values["error_code"] = _code(error_code)
        with self.write() as conn:
            changed = conn.execute(sa.update(messages).where(*conditions).values(values)
                                   .returning(*TRANSCRIPT_COLUMNS)).all()
            self.touched_messages(conn, changed)
            if opted_out:
                conn.execute(
                    sa.update(contacts)
                    .where(contacts.c.id.in_(
                        sa.select(messages.c.contact_id).where(messages.c.provider_message_id == provider_message_id,
                                                               messages.c.direction == "out")))
                    .values(opted_out=True)
                )
        return bool(changed)

    def message_status(self, message_id: int) -> dict[str, Any] | None:
        """A message's delivery state (status, rank, attempts, error, provider id, processed_at), or None."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(
                    messages.c.status,
                    messages.c.status_rank,
                    messages.c.attempts,
                    messages.c.error_code,
                    messages.c.error_message,
                    messages.c.provider_message_id,
                    messages.c.processed_at,
                ).where(messages.c.id == message_id)
            ).first()
        return dict(row._mapping) if row is not None else None


def _code(error_code: Any) -> str | None:
    """An error code as stored (text, at most 32 characters)."""
    return None if error_code in (None, "") else str(error_code)[:32]


def _new_inbound(message_id: int, contact: ContactRecord) -> InboundRecord:
    """A message just recorded, from its sender as the store knows them."""
    return InboundRecord(message_id=message_id, contact_id=contact.id, duplicate=False, processed=False,
                         language=contact.language, opted_out=contact.opted_out)


def _by_own_provider_id(drafts: Sequence[InboundDraft]) -> dict[tuple[str, str], int] | None:
    """Draft index by (channel, provider id), when every draft has a provider id of its own in the
    batch (as providers' webhooks give): a batch insert then tells each draft's row by it. None
    otherwise: such drafts are recorded one by one, so ids follow the order they came in."""
    position = {(draft.channel, draft.provider_message_id): index for index, draft in enumerate(drafts)
                if draft.provider_message_id is not None}
    return position if len(position) == len(drafts) else None


def _inbound_row(draft: InboundDraft, now: datetime, contact_id: int | None = None) -> dict[str, Any]:
    """The `messages` row of an inbound draft (`INBOUND_COLUMNS`), and its sender's `contact_id` when given."""
    row = {
        "direction": "in",
        "channel": draft.channel,
        "provider_message_id": draft.provider_message_id,
        "sender": draft.sender[:64],
        "recipient": draft.recipient[:64],
        "body": draft.body,
        "payload": draft.payload,
        "status": "received",
        "status_rank": 0,
        "attempts": 0,
        "priority": "replies",
        "created_at": draft.received_at or now,
        "updated_at": now,
    }
    if contact_id is not None:
        row["contact_id"] = contact_id
    return row


INBOUND_COLUMNS = ("direction", "channel", "provider_message_id", "sender", "recipient", "body", "payload", "status",
                   "status_rank", "attempts", "priority", "created_at", "updated_at")


OUTBOUND_COLUMNS = ("direction", "channel", "contact_id", "case_id", "provider_message_id", "sender", "recipient",
                    "body", "payload", "status", "status_rank", "attempts", "priority", "created_at", "updated_at",
                    "processed_at")


def _outbound_row(draft: OutboundDraft, now: datetime) -> dict[str, Any]:
    """The `messages` row of an outbound draft (`OUTBOUND_COLUMNS`)."""
    if draft.priority not in PRIORITIES:
        raise ValueError(f"unknown priority {draft.priority!r} (expected one of {PRIORITIES})")
    return {
        "direction": "out",
        "channel": draft.channel,
        "contact_id": draft.contact_id,
        "case_id": draft.case_id,
        "provider_message_id": None,
        "sender": draft.sender[:64],
        "recipient": draft.recipient[:64],
        "body": draft.body,
        "payload": draft.payload,
        "status": draft.status,
        "status_rank": status_rank(draft.status),
        "attempts": 0,
        "priority": draft.priority,
        "created_at": now,
        "updated_at": now,
        "processed_at": None,
    }


_RECORD_ALL = """
WITH given AS MATERIALIZED (
  SELECT * FROM unnest({arrays}, CAST(:known_kind AS VARCHAR[]), CAST(:known_value AS VARCHAR[]),
                       CAST(:sender_name AS VARCHAR[]))
  WITH ORDINALITY AS given({listed}, known_kind, known_value, sender_name, given_order)
),
fresh AS MATERIALIZED (
  SELECT nextval(pg_get_serial_sequence('contacts', 'id')) AS contact_id, kind, value, name FROM (
    SELECT DISTINCT ON (known_kind, known_value) known_kind AS kind, known_value AS value, sender_name AS name
    FROM given
    WHERE NOT EXISTS (SELECT 1 FROM contact_addresses AS a
                      WHERE a.kind = given.known_kind AND a.value = given.known_value)
    ORDER BY known_kind, known_value, given_order
  ) AS unknown
),
new_addresses AS (
  INSERT INTO contact_addresses (contact_id, kind, value, created_at)
  SELECT contact_id, kind, value, :now FROM fresh ON CONFLICT DO NOTHING RETURNING contact_id, kind, value
),
new_contacts AS (
  INSERT INTO contacts (id, name, created_at, updated_at)
  SELECT contact_id, name, :now, :now FROM fresh WHERE contact_id IN (SELECT contact_id FROM new_addresses)
),
senders AS (
  SELECT a.kind, a.value, a.contact_id, c.language, c.opted_out
  FROM contact_addresses AS a JOIN contacts AS c ON c.id = a.contact_id
  WHERE (a.kind, a.value) IN (SELECT known_kind, known_value FROM given)
  UNION ALL
  SELECT kind, value, contact_id, CAST(NULL AS VARCHAR), false FROM new_addresses
),
inserted AS (
  INSERT INTO messages ({listed}, contact_id)
  SELECT {taken}, senders.contact_id
  FROM given JOIN senders ON senders.kind = given.known_kind AND senders.value = given.known_value
  ORDER BY given.given_order
  ON CONFLICT DO NOTHING
  RETURNING id, channel, provider_message_id, contact_id
)
SELECT DISTINCT ON (inserted.id) inserted.id, inserted.channel, inserted.provider_message_id, inserted.contact_id,
       senders.language, senders.opted_out
FROM inserted JOIN senders ON senders.contact_id = inserted.contact_id
"""
"""`MessagesMixin._record_in_one_statement` on PostgreSQL. A sender not yet known gets a contact and
its address; a sender another request is creating at the same moment (its address conflicts, the
contact is then not inserted) and a repeated delivery (its provider id conflicts) are not recorded
here, and go on to the transaction. Foreign keys are checked at the end of the statement, so the
address may name the contact inserted beside it."""


class _InboundStatements:
    """The inbound path's statements, built once per store: SQLAlchemy then reuses their compiled form
    instead of rebuilding and re-keying them for every message."""

    def __init__(self, store: StoreBase) -> None:
        self.existing = (
            sa.select(messages.c.id, messages.c.contact_id, messages.c.processed_at, contacts.c.language,
                      contacts.c.opted_out)
            .select_from(messages.outerjoin(contacts, contacts.c.id == messages.c.contact_id))
            .where(
                messages.c.channel == sa.bindparam("channel"),
                messages.c.direction == "in",
                messages.c.provider_message_id == sa.bindparam("provider_message_id"),
            )
        )
        self.insert = store.insert(messages).on_conflict_do_nothing().returning(*INBOUND_RETURNED)
        self.insert_one = sa.insert(messages).returning(messages.c.id)
        if store.engine.dialect.name == "postgresql":
            self.inbound = store.row_arrays(messages, INBOUND_COLUMNS)
            self.record_all = sa.text(_RECORD_ALL.format(
                arrays=self.inbound.arrays, listed=self.inbound.listed,
                taken=", ".join(f"given.{name}" for name in self.inbound.names)))
            self.replies = store.row_arrays(messages, OUTBOUND_COLUMNS)
            replies = self.replies.insert((messages.c.id, messages.c.channel, messages.c.contact_id),
                                          beside={"reply_to": "INTEGER"}, where="reply_to IN (SELECT id FROM finished)")
            self.finish_with_replies = sa.text(
                "WITH finished AS (UPDATE messages SET processed_at = :now, updated_at = :now "
                f"WHERE id = ANY(CAST(:ids AS INTEGER[])) AND {UNPROCESSED_INBOUND.text} RETURNING id), "
                f"replies AS ({replies}) "
                "SELECT 'finished' AS what, id, CAST(NULL AS VARCHAR) AS channel, CAST(NULL AS INTEGER) AS contact_id "
                "FROM finished UNION ALL SELECT 'reply', id, channel, contact_id FROM replies")
        self.finish = (
            sa.update(messages)
            .where(messages.c.id.in_(sa.bindparam("ids", expanding=True)), UNPROCESSED_INBOUND)
            .values(processed_at=sa.bindparam("now"), updated_at=sa.bindparam("now"))
            .returning(messages.c.id)
        )
