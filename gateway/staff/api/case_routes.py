"""JSON API of cases for officers, supervisors and admins: lists with filters, the case document
(identity withheld for anonymous cases, every view audited), internal notes, transfers, the audit log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from channels.base import clean_text
from core import lifecycle, references
from core.access import (
    can_assign,
    can_change_status,
    can_circulate,
    can_list_cases,
    can_read_audit,
    can_see_identity,
    can_see_workload,
    can_transfer,
    can_view_case,
    can_work_conversations,
    case_scope,
)
from core.records import CaseRecord, Staff
from core.store.casework import COUNT_CAP, CaseFilter
from gateway.keys import RUNTIME
from gateway.runtime import Runtime
from gateway.staff.api.common import MAX_OFFSET, bounded_int, json_body, text_field, with_staff
from gateway.staff.api.export import EXPORT_LIMIT, csv_response
from gateway.staff.desk import Refused

officer = with_staff(can_list_cases, "only officers, supervisors and admins work cases")


def add_case_routes(app: web.Application) -> None:
    """Register the case list and export, notes, transfer, circulation, assignment, workload,
    notifications and audit routes."""
    app.router.add_get("/api/v1/cases", list_cases)
    app.router.add_get("/api/v1/cases.csv", export_cases)
    app.router.add_post("/api/v1/cases/{reference}/notes", post_note)
    app.router.add_post("/api/v1/cases/{reference}/transfer", post_transfer)
    app.router.add_post("/api/v1/cases/{reference}/circulate", post_circulate)
    app.router.add_post("/api/v1/cases/{reference}/assign", post_assign)
    app.router.add_post("/api/v1/cases/{reference}/duplicate-of", post_duplicate_of)
    app.router.add_get("/api/v1/workload", get_workload)
    app.router.add_get("/api/v1/notifications", get_notifications)
    app.router.add_post("/api/v1/notifications/read", post_notifications_read)
    app.router.add_get("/api/v1/audit", get_audit)


def date_param(raw: str | None, name: str, end: bool = False) -> datetime | None:
    """A `YYYY-MM-DD` query parameter as the start of that UTC day (`end`: the start of the next
    one), or None; `Refused(400)` for anything else."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
        return datetime.combine(day + timedelta(days=1) if end else day, time.min, UTC)
    except (ValueError, OverflowError) as exc:
        raise Refused(400, "bad_request", f"{name} must be a date (YYYY-MM-DD)") from exc


def code_param(query: Any, name: str) -> str | None:
    """A code from the query string (an administration, a category, a channel), or None; `Refused(400)`
    for one no code can be (control characters, longer than the store's 64)."""
    raw = query.get(name) or ""
    if raw and (len(raw) > 64 or clean_text(raw) != raw):
        raise Refused(400, "bad_request", f"{name} is not a code")
    return raw or None


def _flag(query: Any, name: str) -> bool | None:
    raw = query.get(name, "")
    return True if raw in ("1", "true", "yes") else False if raw in ("0", "false", "no") else None


def case_filter(staff: Staff, query: Any) -> CaseFilter:
    """The filter a query string asks for, limited to what `staff` may see (Refused(400) on bad input):
    besides the codes and dates, `q` (free text), `assignee` (a username, or `me`), `unassigned`,
    `escalated`, `service`."""
    given = _plain_filter(staff, query)
    assignee = code_param(query, "assignee")
    text = clean_text(query.get("q") or "").strip()[:200] or None
    return dataclasses.replace(given, assignee=staff.username if assignee == "me" else assignee,
                               unassigned=_flag(query, "unassigned") is True, escalated=_flag(query, "escalated"),
                               text=text, service=code_param(query, "service"))


def _plain_filter(staff: Staff, query: Any) -> CaseFilter:
    status = query.get("status") or None
    if status is not None and status not in lifecycle.STATUSES:
        raise Refused(400, "unknown_status", f"status must be one of: {', '.join(lifecycle.STATUSES)}")
    overdue = _flag(query, "overdue")
    scope = case_scope(staff)
    wanted = code_param(query, "administration")
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
        category=code_param(query, "category"),
        channel=code_param(query, "channel"),
        overdue=overdue,
        created_from=date_param(query.get("from"), "from"),
        created_to=date_param(query.get("to"), "to", end=True),
        reference=digits or None,
        limit=limit,
        offset=offset,
    )


PREVIEW_CHARACTERS = 140


def map_link(lat: float | None, lon: float | None) -> str | None:
    """Where a located case is on OpenStreetMap (None without a location)."""
    if lat is None or lon is None:
        return None
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"


def preview(text: str) -> str:
    """The start of a description, on one line, cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= PREVIEW_CHARACTERS:
        return flat
    cut = flat[:PREVIEW_CHARACTERS].rsplit(" ", 1)[0]
    return cut + "…"


def case_summary(case: CaseRecord, now: datetime, usernames: Mapping[int, str] | None = None) -> dict[str, Any]:
    """A case as lists show it: no personal data (the description's preview and the place, which the
    citizen gave for the administration to act on, but no name or number)."""
    return {
        "reference": case.reference,
        "display_reference": references.display(case.reference),
        "status": case.status,
        "kind": case.kind,
        "category": case.category_code,
        "administration": case.administration_code,
        "service": case.service_code,
        "assignee": (usernames or {}).get(case.assignee_id) if case.assignee_id is not None else None,
        "origin_channel": case.origin_channel,
        "anonymous": case.anonymous,
        "preview": preview(case.description),
        "location_text": case.location_text,
        "map": map_link(case.lat, case.lon),
        "created_at": case.created_at.isoformat(),
        "answer_due_at": case.answer_due_at.isoformat() if case.answer_due_at else None,
        "overdue": lifecycle.is_overdue(case, now),
        "escalated": lifecycle.is_escalated(case),
    }


async def found_cases(runtime: Runtime, given: CaseFilter) -> tuple[int, list[dict[str, Any]]]:
    """(how many match, the page's summaries): the one way lists, the console and exports read cases."""
    total, found = await runtime.db(runtime.store.find_cases, given)
    usernames = await runtime.db(runtime.store.usernames, {c.assignee_id for c in found if c.assignee_id})
    now = datetime.now(UTC)
    return total, [case_summary(c, now, usernames) for c in found]


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
        raise Refused(404, "not_found", "no case with this reference")
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
    runtime = request.app[RUNTIME]
    given = case_filter(staff, request.query)
    total, found = await found_cases(runtime, given)
    return web.json_response({"total": min(total, COUNT_CAP), "total_capped": total > COUNT_CAP,
                              "limit": given.limit, "offset": given.offset, "cases": found})


@officer
async def export_cases(request: web.Request, staff: Staff) -> web.StreamResponse:
    """The filtered list as CSV (the same filters as `GET /api/v1/cases`, up to `EXPORT_LIMIT` rows),
    times in the deployment's time zone; no name or number, whoever exports."""
    runtime = request.app[RUNTIME]
    given = dataclasses.replace(case_filter(staff, request.query), limit=EXPORT_LIMIT, offset=0)
    _, found = await found_cases(runtime, given)
    await runtime.db(runtime.store.audit, staff.id, "case.export", None, {"rows": len(found),
                                                                           "query": dict(request.query)})
    return csv_response(found, runtime.deployment.timezone)


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


@officer
async def post_circulate(request: web.Request, staff: Staff) -> web.Response:
    """Pass the case to another service of its administration: `{"service": CODE, "reason": ...}`."""
    payload = await json_body(request)
    service = text_field(payload, "service", limit=64)
    reason = text_field(payload, "reason")
    record = await _case_for_change(request, staff)
    if not can_circulate(staff, record.administration_code):
        raise Refused(403, "forbidden", "your role cannot circulate this case")
    runtime = request.app[RUNTIME]
    try:
        event = await runtime.db(runtime.store.circulate_case, record.reference, service, staff.username, reason)
    except lifecycle.InvalidTransition as exc:
        raise Refused(409, "invalid_transition", str(exc)) from exc
    return web.json_response({"reference": record.reference, "service": event.target, "event_id": event.id})


@officer
async def post_assign(request: web.Request, staff: Staff) -> web.Response:
    """Give the case to an officer: `{"staff": USERNAME, "note": ...}` (an officer may take it themselves;
    supervisors assign anyone of the administration)."""
    payload = await json_body(request)
    assignee = text_field(payload, "staff", limit=64)
    note = text_field(payload, "note", required=False)
    record = await _case_for_change(request, staff)
    if not can_assign(staff, record.administration_code, to_self=assignee == staff.username):
        raise Refused(403, "forbidden", "officers take cases themselves; supervisors assign them")
    runtime = request.app[RUNTIME]
    try:
        event = await runtime.db(runtime.store.assign_case, record.reference, assignee, staff.username, note)
    except lifecycle.InvalidTransition as exc:
        raise Refused(409, "invalid_transition", str(exc)) from exc
    return web.json_response({"reference": record.reference, "assignee": event.target, "event_id": event.id})


@officer
async def post_duplicate_of(request: web.Request, staff: Staff) -> web.Response:
    """Mark the case as the duplicate of another (`{"reference": ORIGINAL}`: closed as such, its reporter
    following the original), or take it out (`{"reference": null}`: open again)."""
    payload = await json_body(request)
    record = await _case_for_change(request, staff)
    if not can_change_status(staff, record.administration_code):
        raise Refused(403, "forbidden", "your role cannot change this case")
    runtime = request.app[RUNTIME]
    raw = payload.get("reference")
    if raw is not None and not isinstance(raw, str):
        raise Refused(400, "bad_request", 'expected {"reference": "ORIGINAL"} or {"reference": null}')
    try:
        if raw is None:
            changed = await runtime.db(runtime.store.unmark_duplicate, record.reference, staff.username)
            return web.json_response({"reference": record.reference, "duplicate_of": None, "status": changed.status})
        original = await _case_for_change_ref(runtime, staff, raw)
        changed = await runtime.db(runtime.store.mark_duplicate, record.reference, original.reference, staff.username)
    except lifecycle.InvalidTransition as exc:
        raise Refused(409, "invalid_transition", str(exc)) from exc
    document = await runtime.db(runtime.store.case_document, changed.reference)
    return web.json_response({"reference": record.reference, "duplicate_of": document["duplicate_of"] if document
                              else original.reference, "status": changed.status})


@with_staff(can_see_workload, "only supervisors and admins see the workload")
async def get_workload(request: web.Request, staff: Staff) -> web.Response:
    """Open and overdue cases per officer of the caller's administration (admins: `?administration=`)."""
    runtime = request.app[RUNTIME]
    scope = workload_scope(staff, request.query)
    loads = await runtime.db(runtime.store.workload, scope)
    return web.json_response({"administration": scope, "staff": [
        {"username": w.staff.username, "role": w.staff.role, "administration": w.staff.administration_code,
         "open": w.open, "overdue": w.overdue} for w in loads]})


def workload_scope(staff: Staff, query: Any) -> str | None:
    """The administration whose workload `staff` sees (`?administration=`): their own when bound to
    one (403 for another), 400 for what no code can be."""
    wanted = code_param(query, "administration")
    scope = case_scope(staff)
    if scope is not None and wanted is not None and wanted != scope:
        raise Refused(403, "forbidden", "you only see your administration's workload")
    return scope if scope is not None else wanted


@with_staff()
async def get_notifications(request: web.Request, staff: Staff) -> web.Response:
    """The caller's notifications (reminders, overdue alerts), newest first; `?unread=1` for the unread."""
    runtime = request.app[RUNTIME]
    found = await runtime.db(runtime.store.notifications_for, staff.id, _flag(request.query, "unread") is True)
    unread = await runtime.db(runtime.store.unread_notifications, staff.id)
    return web.json_response({"unread": unread, "notifications": [n.to_json() for n in found]})


@with_staff()
async def post_notifications_read(request: web.Request, staff: Staff) -> web.Response:
    """Mark every notification of the caller read."""
    runtime = request.app[RUNTIME]
    marked = await runtime.db(runtime.store.mark_notifications_read, staff.id, datetime.now(UTC))
    return web.json_response({"marked": marked})


@with_staff(can_read_audit, "only supervisors and admins read the audit log")
async def get_audit(request: web.Request, staff: Staff) -> web.Response:
    """Recent audit entries (`?case=REF` for one case), newest first."""
    runtime = request.app[RUNTIME]
    case_id = None
    if request.query.get("case"):
        record = await _case_for_change_ref(runtime, staff, request.query["case"])
        case_id = record.id
    entries = await runtime.db(runtime.store.audit_entries, case_id, 200, case_scope(staff))
    return web.json_response({"entries": [
        {**entry, "at": entry["at"].isoformat() if entry.get("at") else None} for entry in entries
    ]})


async def _case_for_change_ref(runtime: Runtime, staff: Staff, raw: str) -> CaseRecord:
    reference = references.parse(raw)
    record = await runtime.db(runtime.store.get_case, reference) if reference else None
    if record is None:
        raise Refused(404, "not_found", "no case with this reference")
    if not can_view_case(staff, record.administration_code):
        raise Refused(404, "not_found", "no case with this reference")
    return record
