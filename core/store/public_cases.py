"""What the public may read of cases filed from outside (Open311): never a contact, a name or a number.

`public_cases` answers a service-request query; `public_status_events` lists status changes over a time
range, so a client that filed a case can follow the answers. Both read only the fields listed in
`PublicCase` and `PublicEvent`: nothing here joins the contacts or their addresses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from core.db import case_events, cases
from core.lifecycle import FIRST_ANSWERS
from core.store.transactions import StoreBase


@dataclass(frozen=True)
class PublicCase:
    """A case as the public may see it; `answer` is the note of its latest reasoned answer ("" if none)."""

    reference: str
    status: str
    category_code: str
    administration_code: str | None
    description: str
    location_text: str
    lat: float | None
    lon: float | None
    created_at: datetime
    updated_at: datetime
    answer_due_at: datetime | None
    answer: str


@dataclass(frozen=True)
class PublicEvent:
    """One status change of a case; `note` is the reasoned answer of an answer or a rejection, else ""."""

    event_id: int
    reference: str
    status: str
    note: str
    at: datetime


@dataclass(frozen=True)
class CaseQuery:
    """Which cases filed by `origin_channel`: the given references (overriding everything else), or
    those of `categories` (all when empty) in `statuses` (all when None), created in [`created_from`,
    `created_to`], newest first, at most `limit`."""

    origin_channel: str
    references: Sequence[str] = ()
    categories: Sequence[str] = ()
    statuses: frozenset[str] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 1000


_PUBLIC_COLUMNS = (
    cases.c.id, cases.c.reference, cases.c.status, cases.c.category_code, cases.c.administration_code,
    cases.c.description, cases.c.location_text, cases.c.lat, cases.c.lon, cases.c.created_at, cases.c.updated_at,
    cases.c.answer_due_at,
)


def public_cases(store: StoreBase, query: CaseQuery) -> list[PublicCase]:
    """The cases `query` selects, with their latest reasoned answer."""
    select = sa.select(*_PUBLIC_COLUMNS).where(cases.c.origin_channel == query.origin_channel)
    if query.references:
        select = select.where(cases.c.reference.in_(list(query.references)))
    else:
        if query.categories:
            select = select.where(cases.c.category_code.in_(list(query.categories)))
        if query.statuses is not None:
            select = select.where(cases.c.status.in_(sorted(query.statuses)))
        if query.created_from is not None:
            select = select.where(cases.c.created_at >= query.created_from)
        if query.created_to is not None:
            select = select.where(cases.c.created_at <= query.created_to)
    select = select.order_by(cases.c.created_at.desc(), cases.c.id.desc()).limit(query.limit)
    with store.read() as conn:
        rows = conn.execute(select).all()
        answers: dict[int, str] = {}
        if rows:
            notes = conn.execute(
                sa.select(case_events.c.case_id, case_events.c.note)
                .where(case_events.c.case_id.in_([row.id for row in rows]), case_events.c.kind == "status",
                       case_events.c.status.in_(sorted(FIRST_ANSWERS)))
                .order_by(case_events.c.id)
            )
            answers = {case_id: note for case_id, note in notes}
    return [
        PublicCase(
            reference=row.reference, status=row.status, category_code=row.category_code,
            administration_code=row.administration_code, description=row.description,
            location_text=row.location_text, lat=row.lat, lon=row.lon, created_at=row.created_at,
            updated_at=row.updated_at, answer_due_at=row.answer_due_at, answer=answers.get(row.id, ""),
        )
        for row in rows
    ]


def public_status_events(store: StoreBase, origin_channel: str, since: datetime, until: datetime,
                         statuses: frozenset[str], limit: int = 1000) -> list[PublicEvent]:
    """Changes to one of `statuses` of cases filed by `origin_channel`, made in [`since`, `until`],
    oldest first, at most `limit`."""
    select = (
        sa.select(case_events.c.id, cases.c.reference, case_events.c.status, case_events.c.note, case_events.c.at)
        .select_from(case_events.join(cases, cases.c.id == case_events.c.case_id))
        .where(cases.c.origin_channel == origin_channel, case_events.c.kind == "status",
               case_events.c.status.in_(sorted(statuses)), case_events.c.at >= since, case_events.c.at <= until)
        .order_by(case_events.c.at, case_events.c.id)
        .limit(limit)
    )
    with store.read() as conn:
        return [
            PublicEvent(event_id=row.id, reference=row.reference, status=row.status,
                        note=row.note if row.status in FIRST_ANSWERS else "", at=row.at)
            for row in conn.execute(select)
        ]
