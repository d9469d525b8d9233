"""The JSON API for staff tools and integrations (`/api/v1/...`), with bearer-token auth.

Who may do what is decided by `core.access`; every read of a case's personal data is audited.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from core import references
from core.access import can_change_status, can_view_case
from core.lifecycle import NOTE_REQUIRED, STATUSES, InvalidTransition
from core.store import CaseNotFound, Staff
from gateway.casework import change_status
from gateway.keys import RQ_REDIS, RUNTIME


def add_api_routes(app: web.Application) -> None:
    """Register the API routes."""
    app.router.add_get("/api/v1/cases/{reference}", get_case)
    app.router.add_post("/api/v1/cases/{reference}/status", post_status)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


async def _authenticate(request: web.Request) -> Staff | web.Response:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "unauthorized", "send 'Authorization: Bearer <token>' (hotline staff token)")
    runtime = request.app[RUNTIME]
    staff = await runtime.db(runtime.store.staff_for_token, token.strip())
    if staff is None:
        return _error(401, "unauthorized", "unknown or revoked token")
    return staff


def _reference(request: web.Request) -> str | None:
    return references.parse(request.match_info["reference"])


async def get_case(request: web.Request) -> web.Response:
    """The case document, as `hotline case show --json` prints it, for staff allowed to see it."""
    staff = await _authenticate(request)
    if isinstance(staff, web.Response):
        return staff
    reference = _reference(request)
    if reference is None:
        return _error(404, "not_found", "not a valid case reference")
    runtime = request.app[RUNTIME]
    record = await runtime.db(runtime.store.get_case, reference)
    if record is None:
        return _error(404, "not_found", "no case with this reference")
    if not can_view_case(staff, record.administration_code):
        return _error(403, "forbidden", "this case belongs to another administration")
    document = await runtime.db(runtime.store.case_document, reference)
    await runtime.db(runtime.store.audit, staff.id, "case.view", record.id, "api")
    return web.json_response(document)


async def post_status(request: web.Request) -> web.Response:
    """Change a case's status with a note: `{"status": ..., "note": ...}`; the citizen is told."""
    staff = await _authenticate(request)
    if isinstance(staff, web.Response):
        return staff
    try:
        payload: Any = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "bad_request", "the body must be JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("status"), str):
        return _error(400, "bad_request", 'expected {"status": "...", "note": "..."}')
    note = payload.get("note") or ""
    if not isinstance(note, str):
        return _error(400, "bad_request", "note must be a string")
    status = payload["status"]
    if status not in STATUSES:
        return _error(400, "unknown_status", f"status must be one of: {', '.join(STATUSES)}")
    if status in NOTE_REQUIRED and not note.strip():
        return _error(400, "note_required", f"{status} needs a note: the reasoned answer the citizen will read")
    reference = _reference(request)
    if reference is None:
        return _error(404, "not_found", "not a valid case reference")
    runtime = request.app[RUNTIME]
    record = await runtime.db(runtime.store.get_case, reference)
    if record is None:
        return _error(404, "not_found", "no case with this reference")
    if not can_change_status(staff, record.administration_code):
        return _error(403, "forbidden", "your role or administration cannot change this case")
    try:
        change = await runtime.db(
            change_status, runtime.store, request.app[RQ_REDIS], runtime.settings.queue_prefix,
            reference, status, staff.username, note,
        )
    except InvalidTransition as exc:
        return _error(409, "invalid_transition", str(exc))
    except CaseNotFound:
        return _error(404, "not_found", "no case with this reference")
    return web.json_response(
        {"reference": reference, "status": change.case.status, "previous": change.previous,
         "event_id": change.event_id}
    )
