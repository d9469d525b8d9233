"""JSON API of cases for officers, supervisors and admins: lists with filters, the case document
(identity withheld for anonymous cases, every view audited), internal notes, transfers, the audit log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from aiohttp import web

from channels.base import clean_text
from core import lifecycle, references
from core.access import (
    can_list_cases,
    can_read_audit,
    can_see_identity,
    can_transfer,
    can_view_case,
    can_work_conversations,
    case_scope,
)
from core.records import CaseRecord, Staff
from core.store.casework import CaseFilter
from gateway.keys import RUNTIME
from gateway.runtime import Runtime
from gateway.staff.api.common import MAX_OFFSET, bounded_int, json_body, text_field, with_staff
from gateway.staff.desk import Refused

officer = with_staff(can_list_cases, "only officers, supervisors and admins work cases")


def add_case_routes(app: web.Application) -> None:
    """Register the case list, notes, transfer and audit routes."""
    app.router.add_get("/api/v1/cases", list_cases)
    app.router.add_post("/api/v1/cases/{reference}/notes", post_note)
    app.router.add_post("/api/v1/cases/{reference}/transfer", post_transfer)
    app.router.add_get("/api/v1/audit", get_audit)


def _date(raw: str | None, name: str, end: bool = False) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise Refused(400, "bad_request", f"{name} must be a date (YYYY-MM-DD)") from exc
    return datetime.combine(day, time.max if end else time.min, UTC)


def _code(query: Any, name: str) -> str | None:
    """A code from the query string (an administration, a category, a channel), or None; `Refused(400)`
    for one no code can be (control characters, longer than the store's 64)."""
    raw = query.get(name) or ""
    if raw and (len(raw) > 64 or clean_text(raw) != raw):
        raise Refused(400, "bad_request", f"{name} is not a code")
    return raw or None


def case_filter(staff: Staff, query: Any) -> CaseFilter:
    """The filter a query string asks for, limited to what `staff` may see (Refused(400) on bad input)."""
    status = query.get("status") or None
    if status is not None and status not in lifecycle.STATUSES:
        raise Refused(400, "unknown_status", f"status must be one of: {', '.join(lifecycle.STATUSES)}")
    overdue_raw = query.get("overdue", "")
    overdue = True if overdue_raw in ("1", "true", "yes") else False if overdue_raw in ("0", "false", "no") else None
    scope = case_scope(staff)
    wanted = _code(query, "administration")
    if wanted is not None and scope is not None and wanted != scope:
        raise Refused(403, "forbidden", "you only see your administration's cases")
    reference = query.get("reference") or ""
    digits = "".join(ch for ch in reference if ch.isdigit())
    if reference and not digits:
        raise Refused(400, "bad_request", "reference holds digits")
    limit = bounded_int(query.get("limit"), "limit", 50, 0, MAX_OFFSET)
    offset = bounded_int(query.get("offset"), "offset", 0, 0, MAX_OFFSET)
    return CaseFilter(
        administration=scope if scope is not None else wanted,
        status=status,
        category=_code(query, "category"),
        channel=_code(query, "channel"),
        overdue=overdue,
        created_from=_date(query.get("from"), "from"),
        created_to=_date(query.get("to"), "to", end=True),
        reference=digits or None,
        limit=limit,
        offset=offset,
    )


def case_summary(case: CaseRecord, now: datetime) -> dict[str, Any]:
    """A case as lists show it: no personal data."""
    return {
        "reference": case.reference,
        "display_reference": references.display(case.reference),
        "status": case.status,
        "kind": case.kind,
        "category": case.category_code,
        "administration": case.administration_code,
        "origin_channel": case.origin_channel,
        "anonymous": case.anonymous,
        "created_at": case.created_at.isoformat(),
        "answer_due_at": case.answer_due_at.isoformat() if case.answer_due_at else None,
        "overdue": lifecycle.is_overdue(case, now),
    }


async def case_view(runtime: Runtime, staff: Staff, raw_reference: str, via: str) -> tuple[dict[str, Any], CaseRecord]:
    """The case document `staff` may see (identity withheld when anonymous), the view audited."""
    reference = references.parse(raw_reference)
    if reference is None:
        raise Refused(404, "not_found", "not a valid case reference")
    record = await runtime.db(runtime.store.get_case, reference)
    if record is None:
        raise Refused(404, "not_found", "no case with this reference")
    served = can_work_conversations(staff) and await runtime.db(runtime.store.serves_case, staff.id, record.id,
                                                                record.contact_id)
    if not can_view_case(staff, record.administration_code, served=served):
        raise Refused(403, "forbidden", "this case belongs to another administration")
    document = await runtime.db(runtime.store.case_document, reference)
    identity = can_see_identity(staff, record.administration_code, record.anonymous)
    if not identity:
        document["contact"] = {"phone": None, "telegram_user_id": None, "name": None, "addresses": {}}
    document["display_reference"] = references.display(reference)
    document["allowed_statuses"] = sorted(lifecycle.allowed_targets(record.status))
    await runtime.db(runtime.store.audit, staff.id, "case.view", record.id, {"via": via, "identity": identity})
    return document, record


@officer
async def list_cases(request: web.Request, staff: Staff) -> web.Response:
    """Cases the caller may see, newest first: `status`, `category`, `channel`, `overdue`, `from`, `to`
    (dates), `reference` (digits, a prefix), `administration`, `limit`, `offset`."""
    given = case_filter(staff, request.query)
    runtime = request.app[RUNTIME]
    total, found = await runtime.db(runtime.store.find_cases, given)
    now = datetime.now(UTC)
    return web.json_response({"total": total, "limit": given.limit, "offset": given.offset,
                              "cases": [case_summary(c, now) for c in found]})


async def _case_for_change(request: web.Request, staff: Staff) -> CaseRecord:
    return await _case_for_change_ref(request.app[RUNTIME], staff, request.match_info["reference"])


@officer
async def post_note(request: web.Request, staff: Staff) -> web.Response:
    """An internal note (`{"note": ...}`): staff read it, the citizen never does."""
    payload = await json_body(request)
    note = text_field(payload, "note")
    record = await _case_for_change(request, staff)
    runtime = request.app[RUNTIME]
    event_id = await runtime.db(runtime.store.add_note, record.reference, staff.username, note)
    return web.json_response({"reference": record.reference, "event_id": event_id}, status=201)


@officer
async def post_transfer(request: web.Request, staff: Staff) -> web.Response:
    """Pass the case to another administration: `{"administration": CODE, "reason": ...}`."""
    payload = await json_body(request)
    target = text_field(payload, "administration", limit=64)
    reason = text_field(payload, "reason")
    record = await _case_for_change(request, staff)
    if not can_transfer(staff, record.administration_code):
        raise Refused(403, "forbidden", "your role cannot transfer this case")
    runtime = request.app[RUNTIME]
    try:
        change = await runtime.db(runtime.store.transfer_case, record.reference, target, staff.username, reason)
    except lifecycle.InvalidTransition as exc:
        raise Refused(409, "invalid_transition", str(exc)) from exc
    return web.json_response({"reference": record.reference, "status": change.case.status,
                              "administration": change.case.administration_code, "event_id": change.event_id})


@with_staff(can_read_audit, "only supervisors and admins read the audit log")
async def get_audit(request: web.Request, staff: Staff) -> web.Response:
    """Recent audit entries (`?case=REF` for one case), newest first."""
    runtime = request.app[RUNTIME]
    case_id = None
    if request.query.get("case"):
        record = await _case_for_change_ref(runtime, staff, request.query["case"])
        case_id = record.id
    entries = await runtime.db(runtime.store.audit_entries, case_id, 200)
    return web.json_response({"entries": [
        {**entry, "at": entry["at"].isoformat() if entry.get("at") else None} for entry in entries
    ]})


async def _case_for_change_ref(runtime: Runtime, staff: Staff, raw: str) -> CaseRecord:
    reference = references.parse(raw)
    record = await runtime.db(runtime.store.get_case, reference) if reference else None
    if record is None:
        raise Refused(404, "not_found", "no case with this reference")
    if not can_view_case(staff, record.administration_code):
        raise Refused(403, "forbidden", "this case belongs to another administration")
    return record
