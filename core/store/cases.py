"""Cases in the store: filed once per confirming message, routed, moved through the lifecycle, rated.

Every change writes a case event (kind, status, actor, note, time) in the same transaction.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core import lifecycle
from core.db import case_events, cases, contacts
from core.lifecycle import KINDS, InvalidTransition
from core.notifications import tell_citizen
from core.records import CaseEvent, CaseNotFound, CaseRecord, StatusChange
from core.references import new_reference
from core.store.contacts import ContactsMixin
from core.store.transactions import utcnow

_REFERENCE_TRIES = 20


def case_from_row(row: Any) -> CaseRecord:
    """A `CaseRecord` from a `cases` row."""
    return CaseRecord(
        id=row.id,
        reference=row.reference,
        kind=row.kind,
        status=row.status,
        category_code=row.category_code,
        administration_code=row.administration_code,
        language=row.language,
        origin_channel=row.origin_channel,
        channel_address=row.channel_address,
        contact_id=row.contact_id,
        anonymous=bool(row.anonymous),
        description=row.description,
        location_text=row.location_text,
        lat=row.lat,
        lon=row.lon,
        rating=row.rating,
        source_message_id=row.source_message_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        routed_due_at=row.routed_due_at,
        answer_due_at=row.answer_due_at,
        answered_at=row.answered_at,
        closed_at=row.closed_at,
        service_code=row.service_code,
        assignee_id=row.assignee_id,
        reminded_at=row.reminded_at,
        escalated_at=row.escalated_at,
        first_answer_at=row.first_answer_at,
        reopen_count=row.reopen_count,
        duplicate_of_id=row.duplicate_of_id,
        erased_at=row.erased_at,
    )


def event_values(
    case_id: int,
    kind: str,
    status: str | None,
    actor: str,
    note: str,
    at: datetime,
    administration_code: str | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """A `case_events` row; a status change the citizen must hear of starts un-notified."""
    must_tell = kind == "status" and status is not None and tell_citizen(status, actor)
    return {
        "case_id": case_id,
        "kind": kind,
        "status": status,
        "actor": actor,
        "note": (note or "").strip(),
        "administration_code": administration_code,
        "target": target,
        "at": at,
        "notified_at": None if must_tell else at,
    }


class _FilingStatements:
    """Filing's statements, built once per store so SQLAlchemy reuses their compiled form."""

    def __init__(self, store: ContactsMixin) -> None:
        self.by_source = sa.select(cases).where(cases.c.source_message_id == sa.bindparam("source"))
        self.insert = store.insert(cases).on_conflict_do_nothing().returning(*cases.c)
        self.insert_event = sa.insert(case_events)
        self._store = store
        self._in_one: dict[tuple[Any, ...], Any] = {}

    def in_one_statement(self, columns: tuple[str, ...], events: int, named: bool) -> Any:
        """PostgreSQL's filing in one statement (`CasesMixin._file`), built once per shape: the case's
        `columns` bound as `case_<column>`, `events` events as `event<i>_<column>`, the name as
        `citizen_name` (none of them a column's name, which SQLAlchemy would add to the update).
        The events and the name are data-modifying CTEs that read the inserted case: when the insert
        conflicts they write nothing."""
        key = (columns, events, named)
        if key not in self._in_one:
            filed = (self._store.insert(cases).values({name: sa.bindparam(f"case_{name}") for name in columns})
                     .on_conflict_do_nothing().returning(*cases.c).cte("filed"))
            given = [column for column in case_events.c if column.key not in ("id", "case_id")]
            selects = [sa.select(filed.c.id, *(sa.bindparam(f"event{index}_{column.key}", type_=column.type)
                                               for column in given)) for index in range(events)]
            ctes = [sa.insert(case_events).from_select(
                ["case_id", *(column.key for column in given)],
                selects[0] if len(selects) == 1 else sa.union_all(*selects)).cte("filed_events")]
            if named:
                ctes.append(sa.update(contacts)
                            .where(contacts.c.id == sa.bindparam("case_contact_id"), sa.exists(filed.select()))
                            .values(name=sa.bindparam("citizen_name"), updated_at=sa.bindparam("case_created_at"))
                            .cte("named"))
            self._in_one[key] = sa.select(filed).add_cte(*ctes)
        return self._in_one[key]


class CasesMixin(ContactsMixin):
    """Case operations of the case store."""

    @functools.cached_property
    def _filing_statements(self) -> _FilingStatements:
        return _FilingStatements(self)

    # -- creation --------------------------------------------------------------------------------

    def create_case(
        self,
        *,
        kind: str = "complaint",
        category: str | None = None,
        category_code: str | None = None,
        description: str,
        language: str,
        contact_id: int | None,
        origin_channel: str,
        channel_address: str = "",
        location_text: str = "",
        anonymous: bool = False,
        name: str = "",
        lat: float | None = None,
        lon: float | None = None,
        source_message_id: int | None = None,
        now: datetime | None = None,
        administration: str | None = None,
    ) -> CaseRecord:
        """File a case (routed at once when its category or number names an administration).

        Idempotent on `source_message_id`: replaying the confirming message returns the same case.
        The keyword names match `conversations.model.CaseDraft`, so `**asdict(draft)` fits;
        `category_code` is accepted for `category`.
        """
        now = now or utcnow()
        category = category or category_code
        if category is None:
            raise ValueError("create_case needs a category")
        if kind not in KINDS:
            raise ValueError(f"unknown case kind {kind!r} (expected one of {KINDS})")
        cat = self.deployment.category(category)
        if cat is None:
            known = ", ".join(c.code for c in self.deployment.categories)
            raise ValueError(f"unknown category {category!r} (known: {known})")
        admin = (
            administration or cat.administration or self.deployment.profile_for(channel_address).default_administration
        )
        if admin is not None and self.deployment.administration(admin) is None:
            raise ValueError(f"unknown administration {admin!r}")
        routed_due, answer_due = lifecycle.due_dates(now, cat, self.deployment)
        values = {
            "kind": kind,
            "status": lifecycle.ROUTED if admin else lifecycle.RECEIVED,
            "category_code": cat.code,
            "administration_code": admin,
            "language": language,
            "origin_channel": origin_channel,
            "channel_address": channel_address[:64],
            "contact_id": contact_id,
            "anonymous": anonymous,
            "description": description,
            "location_text": location_text,
            "lat": lat,
            "lon": lon,
            "source_message_id": source_message_id,
            "created_at": now,
            "updated_at": now,
            "routed_due_at": routed_due,
            "answer_due_at": answer_due,
            "service_code": self.deployment.landing_service(admin, cat.code),
        }
        statements = self._filing_statements
        events = [("created", lifecycle.RECEIVED, "citizen", "", now)]
        if admin:
            events.append(("status", lifecycle.ROUTED, "system", "", now, admin))
        named = name.strip()[:200] if name.strip() and contact_id is not None else None
        with self.write(one_statement=self._postgres) as conn:
            for _ in range(_REFERENCE_TRIES):
                row = self._file(conn, {"reference": new_reference(), **values}, events, named)
                if row is not None:
                    return case_from_row(row)
                if source_message_id is not None:  # a replay: the confirming message filed it before
                    existing = conn.execute(statements.by_source, {"source": source_message_id}).first()
                    if existing is not None:
                        return case_from_row(existing)
        raise RuntimeError("could not find a free case reference")

    def _file(self, conn: Connection, values: dict[str, Any], events: list[tuple[Any, ...]],
              name: str | None) -> Any:
        """Insert the case, its first events and the citizen's name; the case's row, or None when
        its reference or its confirming message was taken (nothing is then written). On PostgreSQL
        one statement (the events and the name in data-modifying CTEs), a transaction by itself:
        one round trip where BEGIN, three statements and COMMIT were five."""
        if not self._postgres:
            row = conn.execute(self._filing_statements.insert, values).first()
            if row is None:
                return None
            conn.execute(self._filing_statements.insert_event, [event_values(row.id, *event) for event in events])
            if name is not None:
                conn.execute(sa.update(contacts).where(contacts.c.id == values["contact_id"])
                             .values(name=name, updated_at=values["created_at"]))
            return row
        given = [event_values(0, *event) for event in events]
        statement = self._filing_statements.in_one_statement(tuple(values), len(given), name is not None)
        parameters = {f"case_{key}": value for key, value in values.items()}
        parameters.update({f"event{index}_{key}": value
                           for index, event in enumerate(given) for key, value in event.items()})
        parameters["citizen_name"] = name
        return conn.execute(statement, parameters).first()

    # -- lookups ---------------------------------------------------------------------------------

    def _case_where(self, conn: Connection, condition: Any, lock: bool = False) -> CaseRecord | None:
        query = sa.select(cases).where(condition)
        row = conn.execute(self.for_update(query) if lock else query).first()
        return case_from_row(row) if row is not None else None

    def get_case(self, reference: str) -> CaseRecord | None:
        """The case with this reference, or None."""
        with self.read() as conn:
            return self._case_where(conn, cases.c.reference == reference)

    def get_case_by_id(self, case_id: int) -> CaseRecord | None:
        """The case with this id, or None."""
        with self.read() as conn:
            return self._case_where(conn, cases.c.id == case_id)

    def case_for_source(self, source_message_id: int) -> CaseRecord | None:
        """The case filed by this confirming message, or None."""
        with self.read() as conn:
            return self._case_where(conn, cases.c.source_message_id == source_message_id)

    def count_cases_for_source(self, source_message_id: int) -> int:
        """How many cases this confirming message filed (0 or 1)."""
        with self.read() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(cases).where(cases.c.source_message_id == source_message_id)
            ).scalar_one()

    def cases_for_contact(self, contact_id: int, limit: int = 10) -> list[CaseRecord]:
        """The contact's cases, newest first."""
        query = (
            sa.select(cases)
            .where(cases.c.contact_id == contact_id)
            .order_by(cases.c.created_at.desc(), cases.c.id.desc())
            .limit(limit)
        )
        with self.read() as conn:
            return [case_from_row(r) for r in conn.execute(query)]

    def open_cases_for_contact(self, contact_id: int, limit: int = 3) -> list[CaseRecord]:
        """The contact's cases still open or answered (waiting for their rating or reopening), newest first:
        what "where is my complaint?" lists to pick from."""
        query = (
            sa.select(cases)
            .where(cases.c.contact_id == contact_id, cases.c.status.in_(sorted(lifecycle.TRACKED_STATUSES)))
            .order_by(cases.c.created_at.desc(), cases.c.id.desc())
            .limit(limit)
        )
        with self.read() as conn:
            return [case_from_row(r) for r in conn.execute(query)]

    def case_events(self, case_id: int) -> list[CaseEvent]:
        """The case's history, oldest first."""
        query = sa.select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
        with self.read() as conn:
            return [
                CaseEvent(
                    id=r.id,
                    kind=r.kind,
                    status=r.status,
                    actor=r.actor,
                    note=r.note,
                    at=r.at,
                    administration_code=r.administration_code,
                    notified_at=r.notified_at,
                    target=r.target,
                )
                for r in conn.execute(query)
            ]

    # -- lifecycle -------------------------------------------------------------------------------

    def _transition(
        self,
        conn: Connection,
        case: CaseRecord,
        status: str,
        actor: str,
        note: str,
        now: datetime,
        administration: str | None = None,
    ) -> StatusChange:
        """Check and apply one status change inside the caller's transaction."""
        lifecycle.check_transition(case.status, status, note)
        values: dict[str, Any] = {"status": status, "updated_at": now}
        event_admin = None
        if status == lifecycle.ROUTED:
            target = administration or case.administration_code
            if not target:
                raise InvalidTransition("routing needs an administration to route the case to",
                                        "administration_required")
            if self.deployment.administration(target) is None:
                known = ", ".join(a.code for a in self.deployment.administrations)
                raise InvalidTransition(f"unknown administration {target!r} (known: {known})", "unknown_administration")
            if case.status == lifecycle.ROUTED and target == case.administration_code:
                raise InvalidTransition(f"the case is already routed to {target}", "same_administration")
            values["administration_code"] = target
            if target != case.administration_code:
                values["service_code"] = self.deployment.landing_service(target, case.category_code)
                values["assignee_id"] = None
            event_admin = target
        elif status == lifecycle.ANSWERED:
            values["answered_at"] = now
        elif status == lifecycle.CLOSED:
            values["closed_at"] = now
        elif status == lifecycle.REOPENED:
            refusal = lifecycle.reopen_refusal(case.status, case.answered_at, now, self.deployment.reopen_window_days)
            if refusal is not None:
                raise InvalidTransition(
                    "the case was never answered" if refusal == "not_answered" else "the reopen window has passed",
                    f"reopen_{refusal}")
            days = lifecycle.answer_days(self.deployment.category(case.category_code), self.deployment)
            values["closed_at"] = None
            values["answer_due_at"] = now + timedelta(days=days)
            values["reminded_at"] = values["escalated_at"] = None
        if status in lifecycle.FIRST_ANSWERS and case.first_answer_at is None:
            values["first_answer_at"] = now
        if status == lifecycle.REOPENED:
            values["reopen_count"] = cases.c.reopen_count + 1
        row = conn.execute(sa.update(cases).where(cases.c.id == case.id).values(values).returning(*cases.c)).first()
        event_id = conn.execute(
            sa.insert(case_events)
            .values(event_values(case.id, "status", status, actor, note, now, event_admin))
            .returning(case_events.c.id)
        ).scalar_one()
        return StatusChange(case=case_from_row(row), event_id=event_id, previous=case.status)

    def _locked(self, conn: Connection, reference: str) -> CaseRecord:
        case = self._case_where(conn, cases.c.reference == reference, lock=True)
        if case is None:
            raise CaseNotFound(f"no case with reference {reference}")
        return case

    def change_status(
        self,
        reference: str,
        status: str,
        actor: str,
        note: str = "",
        now: datetime | None = None,
        administration: str | None = None,
    ) -> StatusChange:
        """Move a case to `status` (routing or transferring takes `administration`); raises on a bad move."""
        now = now or utcnow()
        with self.write() as conn:
            return self._transition(conn, self._locked(conn, reference), status, actor, note, now, administration)

    def add_note(self, reference: str, actor: str, note: str, now: datetime | None = None) -> int:
        """An internal note on the case (not a status change); the event id."""
        if not note.strip():
            raise ValueError("empty note")
        now = now or utcnow()
        with self.write() as conn:
            case = self._locked(conn, reference)
            return conn.execute(
                sa.insert(case_events)
                .values(event_values(case.id, "note", None, actor, note, now))
                .returning(case_events.c.id)
            ).scalar_one()

    def rate_case(self, reference: str, rating: int, now: datetime | None = None) -> CaseRecord:
        """Store the citizen's rating 1-5 of an answered (or closed) case."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValueError(f"a rating is a whole number from 1 to 5, not {rating!r}")
        now = now or utcnow()
        with self.write() as conn:
            case = self._locked(conn, reference)
            if case.status not in lifecycle.RATEABLE_STATUSES:
                raise InvalidTransition(f"a {case.status} case cannot be rated (only answered or closed ones)")
            row = conn.execute(
                sa.update(cases).where(cases.c.id == case.id).values(rating=rating, updated_at=now).returning(*cases.c)
            ).first()
            conn.execute(
                sa.insert(case_events).values(event_values(case.id, "rating", None, "citizen", str(rating), now))
            )
        return case_from_row(row)

    def reopen_case(self, reference: str, reason: str, now: datetime | None = None) -> str:
        """The citizen reopens: `reopened`, or why not: `window_closed`, `not_answered`, `not_found`."""
        now = now or utcnow()
        with self.write() as conn:
            case = self._case_where(conn, cases.c.reference == reference, lock=True)
            if case is None:
                return "not_found"
            refusal = lifecycle.reopen_refusal(case.status, case.answered_at, now, self.deployment.reopen_window_days)
            if refusal is not None:
                return refusal
            self._transition(conn, case, lifecycle.REOPENED, "citizen", reason.strip(), now)
        return "reopened"

    def close_case(self, reference: str, actor: str = "citizen", now: datetime | None = None) -> CaseRecord:
        """Close an answered (or rejected) case; closing a closed case changes nothing."""
        now = now or utcnow()
        with self.write() as conn:
            case = self._locked(conn, reference)
            if case.status == lifecycle.CLOSED:
                return case
            return self._transition(conn, case, lifecycle.CLOSED, actor, "", now).case
