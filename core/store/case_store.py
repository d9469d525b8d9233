"""The case store: one object over the SQL database for everything durable.

    engine = make_engine(url); migrate(engine)
    store = CaseStore(engine, load_config(None)); store.sync_reference_data()

Its parts live in their own modules (contacts, messages, cases, attachments, hand-offs, staff); this
module puts them together and adds what spans them: reference data and the case document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core import lifecycle
from core.db import administrations, attachments, case_events, cases, categories, contacts, staff
from core.lifecycle import InvalidTransition
from core.records import (
    AttachmentRecord,
    CaseEvent,
    CaseNotFound,
    CaseRecord,
    ContactRecord,
    InboundDraft,
    InboundRecord,
    OutboundDraft,
    OutboundRow,
    PendingInbound,
    Staff,
    StatusChange,
    StatusNotice,
)
from core.store.accounts import StaffMixin
from core.store.agent_queue import QueueMixin
from core.store.apikeys import ApiKeysMixin
from core.store.attachments import AttachmentsMixin
from core.store.calls import CallsMixin
from core.store.casework import CaseworkMixin
from core.store.contacts import addresses_in
from core.store.deadlines import DeadlinesMixin
from core.store.deliveries import DeliveryMixin
from core.store.duplicates import DuplicatesMixin
from core.store.handoffs import HandoffsMixin
from core.store.messages import MessagesMixin
from core.store.notices import NoticesMixin
from core.store.retention import RetentionMixin
from core.store.tallies import StatisticsMixin
from core.store.transactions import PHONE, utcnow

__all__ = [
    "AttachmentRecord",
    "CaseEvent",
    "CaseNotFound",
    "CaseRecord",
    "CaseStore",
    "ContactRecord",
    "InboundDraft",
    "InboundRecord",
    "InvalidTransition",
    "OutboundDraft",
    "OutboundRow",
    "PendingInbound",
    "Staff",
    "StatusChange",
    "StatusNotice",
]


def _iso(value: datetime | None) -> str | None:
    """ISO-8601, or None."""
    return value.isoformat() if value is not None else None


class CaseStore(
    MessagesMixin, CaseworkMixin, DeadlinesMixin, DuplicatesMixin, AttachmentsMixin, NoticesMixin, CallsMixin,
    HandoffsMixin, ApiKeysMixin, StaffMixin, QueueMixin, DeliveryMixin, StatisticsMixin, RetentionMixin,
):
    """Cases, contacts, messages, attachments, hand-offs, staff and audit, over SQLite or PostgreSQL."""

    def sync_reference_data(self) -> None:
        """Upsert administrations and categories from the configuration; those no longer in it go inactive."""
        dep = self.deployment
        with self.write() as conn:
            for table, rows in (
                (
                    administrations,
                    [{"code": a.code, "names": a.names, "active": True} for a in dep.administrations],
                ),
                (
                    categories,
                    [
                        {
                            "code": c.code,
                            "names": c.names,
                            "administration_code": c.administration,
                            "deadline_days": c.deadline_days,
                            "active": True,
                        }
                        for c in dep.categories
                    ],
                ),
            ):
                stmt = self.insert(table)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[table.c.code],
                    set_={col: stmt.excluded[col] for col in rows[0] if col != "code"},
                )
                conn.execute(stmt, rows)
                codes = [r["code"] for r in rows]
                conn.execute(sa.update(table).where(table.c.code.not_in(codes)).values(active=False))

    def case_document(self, reference: str, now: datetime | None = None) -> dict[str, Any] | None:
        """The case as `hotline case show --json` prints it (None when there is no such case)."""
        now = now or utcnow()
        with self.read() as conn:
            case = self._case_where(conn, cases.c.reference == reference)
            if case is None:
                return None
            contact, addresses = None, {}
            if case.contact_id is not None:
                contact = conn.execute(sa.select(contacts.c.name).where(contacts.c.id == case.contact_id)).first()
                addresses = addresses_in(conn, case.contact_id)
            files = conn.execute(
                sa.select(attachments).where(attachments.c.case_id == case.id).order_by(attachments.c.id)
            ).all()
            events = conn.execute(
                sa.select(case_events).where(case_events.c.case_id == case.id).order_by(case_events.c.id)
            ).all()
            assignee = None
            if case.assignee_id is not None:
                assignee = conn.execute(sa.select(staff.c.username).where(staff.c.id == case.assignee_id)).scalar()
            original = None
            if case.duplicate_of_id is not None:
                original = conn.execute(sa.select(cases.c.reference).where(cases.c.id == case.duplicate_of_id)).scalar()
            duplicates = list(conn.execute(sa.select(cases.c.reference).where(cases.c.duplicate_of_id == case.id)
                                           .order_by(cases.c.id)).scalars())
        return {
            "reference": case.reference,
            "status": case.status,
            "kind": case.kind,
            "category": case.category_code,
            "administration": case.administration_code,
            "service": case.service_code,
            "assignee": assignee,
            "language": case.language,
            "origin_channel": case.origin_channel,
            "anonymous": case.anonymous,
            "contact": {  # `phone` and `telegram_user_id` are the contract's names (DESIGN.md §5)
                "phone": addresses.get(PHONE),
                "telegram_user_id": addresses.get("telegram"),
                "name": (contact.name or None) if contact else None,
                "addresses": addresses,
            },
            "location": {"lat": case.lat, "lon": case.lon, "text": case.location_text},
            "description": case.description,
            "attachments": [
                {
                    "kind": f.kind,
                    "content_type": f.content_type,
                    "size": f.size,
                    "sha256": f.sha256,
                    "status": f.status,
                }
                for f in files
            ],
            "rating": case.rating,
            "events": [
                {
                    "kind": e.kind,
                    "status": e.status,
                    "actor": e.actor,
                    "at": _iso(e.at),
                    "note": e.note,
                    "administration": e.administration_code,
                    "target": e.target,
                }
                for e in events
            ],
            "created_at": _iso(case.created_at),
            "due": {"routing": _iso(case.routed_due_at), "answer": _iso(case.answer_due_at)},
            "overdue": lifecycle.is_overdue(case, now),
            "escalated": lifecycle.is_escalated(case),
            "duplicate_of": original,
            "duplicates": duplicates,
        }
