"""What the store hands back: plain frozen dataclasses (never database rows), and its exceptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class CaseNotFound(LookupError):
    """No case has this reference."""


@dataclass(frozen=True)
class ContactRecord:
    """A citizen as the store knows them."""

    id: int
    addresses: Mapping[str, str]
    """Address kind -> value: `phone` (E.164) and the ids channels know the citizen by."""
    name: str
    language: str | None
    opted_out: bool
    unreachable: bool

    @property
    def phone(self) -> str | None:
        """The E.164 number, when the citizen has given or used one."""
        return self.addresses.get("phone")


@dataclass(frozen=True)
class InboundDraft:
    """An inbound message as the provider gave it, before it is recorded."""

    channel: str
    sender: str
    recipient: str
    provider_message_id: str | None
    body: str
    received_at: datetime | None = None
    sender_name: str = ""
    address_kind: str = "phone"
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class InboundRecord:
    """The durable record of one inbound message (`duplicate`: the provider sent this id before)."""

    message_id: int
    contact_id: int
    duplicate: bool
    processed: bool
    language: str | None
    opted_out: bool


@dataclass(frozen=True)
class OutboundDraft:
    """A message to record before it is sent (`status="sent"` for a reply given inline, as TwiML)."""

    channel: str
    contact_id: int | None
    sender: str
    recipient: str
    body: str
    priority: str = "replies"
    status: str = "queued"
    case_id: int | None = None
    payload: dict[str, Any] | None = None
    """Channel extras to replay the send (choices, media, template variables), JSON-ready."""


@dataclass(frozen=True)
class PendingInbound:
    """An inbound message recorded but never processed (the process died): enough to replay it."""

    message_id: int
    channel: str
    sender: str
    recipient: str
    provider_message_id: str | None
    body: str
    payload: dict[str, Any] | None
    contact_id: int | None
    received_at: datetime
    language: str | None = None
    opted_out: bool = False


@dataclass(frozen=True)
class StatusNotice:
    """What the citizen must be told of one status event, and where to tell it."""

    reference: str
    event_id: int
    case_id: int
    status: str
    note: str
    administration_code: str | None
    channel: str
    """The case's origin channel: the citizen is answered where they wrote."""
    channel_address: str
    """Our number the citizen wrote to: the answer goes out from it."""
    contact_id: int | None
    recipient: str | None
    """The citizen's address on `channel` (E.164 phone, or Telegram user id); None when unknown."""
    language: str
    opted_out: bool
    unreachable: bool
    notified: bool


@dataclass(frozen=True)
class StaleOutbound:
    """An outbound message whose send must be queued again, with what names its lane."""

    message_id: int
    channel: str
    sender: str
    recipient: str
    priority: str


@dataclass(frozen=True)
class OutboundRow:
    """A claimed outbound message, with what the sender must check on the contact first."""

    message_id: int
    channel: str
    sender: str
    recipient: str
    body: str
    payload: dict[str, Any] | None
    contact_id: int | None
    case_id: int | None
    priority: str
    attempts: int
    opted_out: bool
    unreachable: bool


@dataclass(frozen=True)
class CaseRecord:
    """A case's current state."""

    id: int
    reference: str
    kind: str
    status: str
    category_code: str
    administration_code: str | None
    language: str
    origin_channel: str
    channel_address: str
    contact_id: int | None
    anonymous: bool
    description: str
    location_text: str
    lat: float | None
    lon: float | None
    rating: int | None
    source_message_id: int | None
    created_at: datetime
    updated_at: datetime
    routed_due_at: datetime | None
    answer_due_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    service_code: str | None = None
    """The service of its administration the case sits with (None: none named, or no services)."""
    assignee_id: int | None = None
    """The officer (or supervisor) who holds it."""
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    """When the deadline sweep reminded its officer, and alerted supervisors that it is overdue."""
    first_answer_at: datetime | None = None
    """When it first had a reasoned answer (answered or rejected): statistics count it processed."""
    reopen_count: int = 0
    duplicate_of_id: int | None = None
    """The case this one duplicates (closed as such; its reporter follows that one)."""
    erased_at: datetime | None = None
    """When its personal data was erased (retention, or the citizen's request)."""


@dataclass(frozen=True)
class CaseEvent:
    """One entry of a case's history."""

    id: int
    kind: str
    status: str | None
    actor: str
    note: str
    at: datetime
    administration_code: str | None = None
    notified_at: datetime | None = None
    target: str | None = None
    """What the event moved the case to: the service circulated to, the username assigned."""


@dataclass(frozen=True)
class StatusChange:
    """The result of a status change: the case after it, the event written, the status before."""

    case: CaseRecord
    event_id: int
    previous: str


@dataclass(frozen=True)
class AttachmentRecord:
    """A photo, recording or document, downloaded (`stored`) or not yet."""

    id: int
    case_id: int | None
    message_id: int | None
    kind: str
    content_type: str
    size: int | None
    sha256: str | None
    path: str | None
    source_url: str | None
    status: str
    error: str | None
    created_at: datetime


@dataclass(frozen=True)
class Staff:
    """A staff member (never with the password hash)."""

    id: int
    username: str
    role: str
    administration_code: str | None
    created_at: datetime
    disabled_at: datetime | None = None
    """Set by an admin: a disabled member cannot sign in, use a token, or be assigned cases."""
