"""The JSON API for staff tools and integrations (`/api/v1/...`), with bearer-token auth.

Who may do what is decided by `core.access`; every read of a case's personal data is audited. The
conversation routes live in `gateway.staff.api.conversation_routes`, the case lists, notes and transfers in
`gateway.staff.api.case_routes`; the whole API is described by the OpenAPI document at `/api/v1/openapi.json`.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

from aiohttp import web
from redis.exceptions import RedisError

from core import references
from core.access import can_change_status, can_read_quarantine, can_view_case
from core.lifecycle import NOTE_REQUIRED, STATUSES, InvalidTransition
from core.records import Staff
from core.store.case_store import CaseNotFound
from gateway.keys import REDIS, RUNTIME, SYNC_REDIS
from gateway.staff.api.case_routes import add_case_routes, case_view
from gateway.staff.api.common import error, json_body, text_field, with_staff
from gateway.staff.api.conversation_routes import add_conversation_routes
from gateway.staff.api.openapi import openapi_document
from gateway.staff.api.statistics_routes import add_statistics_routes
from gateway.staff.case_actions import change_status
from gateway.staff.desk import Refused


def add_api_routes(app: web.Application) -> None:
    """Register the API routes."""
    app.router.add_get("/api/v1/openapi.json", get_openapi)
    add_case_routes(app)
    app.router.add_get("/api/v1/cases/{reference}", get_case)
    app.router.add_post("/api/v1/cases/{reference}/status", post_status)
    add_conversation_routes(app)
    add_statistics_routes(app)
    app.router.add_get("/api/v1/quarantine", get_quarantine)


async def get_openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 description of this API."""
    return web.json_response(openapi_document())


@with_staff()
async def get_case(request: web.Request, staff: Staff) -> web.Response:
    """The case document, as `hotline case show --json` prints it, for staff allowed to see it."""
    document, _ = await case_view(request.app[RUNTIME], staff, request.match_info["reference"], "api")
    return web.json_response(document)


@with_staff()
async def post_status(request: web.Request, staff: Staff) -> web.Response:
    """Change a case's status with a note: `{"status": ..., "note": ...}`; the citizen is told."""
    payload = await json_body(request)
    if not isinstance(payload.get("status"), str):
        return error(400, "bad_request", 'expected {"status": "...", "note": "..."}')
    note = text_field(payload, "note", required=False)
    status = payload["status"]
    if status not in STATUSES:
        return error(400, "unknown_status", f"status must be one of: {', '.join(STATUSES)}")
    if status in NOTE_REQUIRED and not note:
        return error(400, "note_required", f"{status} needs a note: the reasoned answer the citizen will read")
    reference = references.parse(request.match_info["reference"])
    if reference is None:
        return error(404, "not_found", "not a valid case reference")
    runtime = request.app[RUNTIME]
    record = await runtime.db(runtime.store.get_case, reference)
    if record is None:
        return error(404, "not_found", "no case with this reference")
    if not can_view_case(staff, record.administration_code):
        return error(404, "not_found", "no case with this reference")
    if not can_change_status(staff, record.administration_code):
        return error(403, "forbidden", "your role cannot change this case")
    try:
        change = await runtime.blocking(
            change_status, runtime.store, request.app[SYNC_REDIS], runtime.settings.queue_prefix,
            reference, status, staff.username, note,
        )
    except InvalidTransition as exc:
        raise Refused(409, "invalid_transition", str(exc)) from exc
    except CaseNotFound as exc:
        raise Refused(404, "not_found", "no case with this reference") from exc
    return web.json_response(
        {"reference": reference, "status": change.case.status, "previous": change.previous,
         "event_id": change.event_id}
    )


@with_staff(can_read_quarantine, "only admins and deployment-wide supervisors see the quarantine")
async def get_quarantine(request: web.Request, staff: Staff) -> web.Response:
    """Work set aside after failing repeatedly, with its error: messages (inbound and outbound, from
    the store) and other work items (from the lanes), newest first."""
    runtime = request.app[RUNTIME]
    messages = await runtime.db(runtime.store.quarantined_messages, 200)
    items = []
    with contextlib.suppress(RedisError, OSError):
        raw = await request.app[REDIS].hgetall(f"{runtime.settings.queue_prefix}:out:quarantine")
        for item, value in raw.items():
            entry = json.loads(value)
            items.append({"item": item.decode() if isinstance(item, bytes) else item, "error": entry.get("error"),
                          "at": datetime.fromtimestamp(entry.get("at", 0) / 1000, UTC).isoformat()})
    items.sort(key=lambda entry: entry["at"], reverse=True)
    return web.json_response({
        "messages": [{**m, "updated_at": m["updated_at"].isoformat() if m.get("updated_at") else None}
                     for m in messages],
        "items": items,
    })
