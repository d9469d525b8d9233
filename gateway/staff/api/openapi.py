"""The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json` (a test validates it)."""

from __future__ import annotations

from functools import cache
from typing import Any

from conversations.slots import HANDBACK_STEPS
from core.lifecycle import STATUSES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {400: "Bad input", 401: "No or unknown token", 403: "The role or administration may not do this",
             404: "Not found", 409: "Not possible in the current state"}
    return {str(code): {"$ref": f"#/components/responses/E{code}"} for code in codes if code in texts}


def _op(summary: str, ok: dict[str, Any], *, body: dict[str, Any] | None = None, params: list[str] | None = None,
        query: list[dict[str, Any]] | None = None, errors: tuple[int, ...] = (401, 403), tag: str = "cases",
        ok_code: str = "200") -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": {ok_code: ok, **_errors(*errors)}}
    parameters = [{"$ref": f"#/components/parameters/{name}"} for name in params or ()]
    parameters += query or []
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _q(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INT = {"type": "integer"}


@cache
def openapi_document() -> dict[str, Any]:
    """The document, built once."""
    schemas = {
        "Error": _obj(["error", "message"], error=STR, message=STR),
        "CaseSummary": _obj(
            ["reference", "status", "category", "overdue"], reference=STR, display_reference=STR,
            status={"enum": list(STATUSES)}, kind=STR, category=STR, administration=NSTR, origin_channel=STR,
            anonymous={"type": "boolean"}, created_at={"type": "string", "format": "date-time"},
            answer_due_at={"type": ["string", "null"], "format": "date-time"}, overdue={"type": "boolean"},
            escalated={"type": "boolean", "description": "Past due, its supervisors alerted, not answered yet"},
            service=NSTR, assignee=NSTR, preview={"type": "string", "description": "The description's start"},
            location_text=STR, map={"type": ["string", "null"], "description": "OpenStreetMap link (located cases)"},
        ),
        "CaseList": _obj(["total", "cases"], total=INT, limit=INT, offset=INT,
                         total_capped={"type": "boolean", "description": "More than `total` (1,000) match: "
                                                                         "narrow the filters"},
                         cases={"type": "array", "items": _ref("CaseSummary")}),
        "Case": {
            "type": "object",
            "description": "As `hotline case show --json` prints it; `contact` is empty for anonymous cases.",
            "required": ["reference", "status", "events"],
            "properties": {
                "reference": STR, "status": {"enum": list(STATUSES)}, "category": STR, "administration": NSTR,
                "service": NSTR, "assignee": NSTR, "escalated": {"type": "boolean"},
                "duplicate_of": NSTR, "duplicates": {"type": "array", "items": STR},
                "language": STR, "origin_channel": STR, "anonymous": {"type": "boolean"},
                "contact": _obj([], phone=NSTR, telegram_user_id=NSTR, name=NSTR,
                                addresses={"type": "object", "additionalProperties": STR,
                                           "description": "Address kind (phone, telegram, messenger...) -> value"}),
                "location": _obj([], lat={"type": ["number", "null"]}, lon={"type": ["number", "null"]}, text=STR),
                "description": STR, "attachments": {"type": "array", "items": {"type": "object"}},
                "rating": {"type": ["integer", "null"]}, "overdue": {"type": "boolean"},
                "events": {"type": "array", "items": _obj(["kind", "actor", "at"], kind=STR, status=NSTR, actor=STR,
                                                          at=STR, note=STR, administration=NSTR,
                                                          target={"type": ["string", "null"], "description":
                                                                  "The service circulated to, the username "
                                                                  "assigned"})},
            },
        },
        "StatusChange": _obj(["status"], status={"enum": list(STATUSES)},
                             note={"type": "string", "description": "Required for answered and rejected: the "
                                                                   "reasoned text the citizen receives."}),
        "StatusChanged": _obj(["reference", "status"], reference=STR, status=STR, previous=STR, event_id=INT),
        "Note": _obj(["note"], note=STR),
        "Transfer": _obj(["administration", "reason"], administration=STR, reason=STR),
        "Transferred": _obj(["reference", "status", "administration"], reference=STR, status=STR,
                            administration=STR, event_id=INT),
        "Circulate": _obj(["service", "reason"], service={"type": "string", "description": "A service code of the "
                                                                                 "case's administration"},
                          reason=STR),
        "Circulated": _obj(["reference", "service"], reference=STR, service=STR, event_id=INT),
        "Assign": _obj(["staff"], staff={"type": "string", "description": "The username of an officer or "
                                                                         "supervisor of the administration"},
                       note=STR),
        "Assigned": _obj(["reference", "assignee"], reference=STR, assignee=STR, event_id=INT),
        "Workload": _obj(["staff"], administration=NSTR, staff={"type": "array", "items": _obj(
            ["username", "open", "overdue"], username=STR, role=STR, administration=NSTR, open=INT, overdue=INT)}),
        "Notifications": _obj(["unread", "notifications"], unread=INT, notifications={"type": "array", "items": _obj(
            ["id", "kind", "case"], id=INT, kind={"enum": ["reminder", "overdue"]}, at=STR, read={"type": "boolean"},
            case=STR, status=STR, administration=NSTR, answer_due_at=NSTR)}),
        "Figures": _obj(["received", "processed"], received=INT, processed=INT,
                        processed_share={"type": ["number", "null"]}, in_progress=INT, reopened=INT,
                        average_days_to_process={"type": ["number", "null"]}, satisfied=INT, dissatisfied=INT,
                        rated=INT, satisfaction_share={"type": ["number", "null"]}, overdue=INT),
        "Statistics": _obj(["totals", "groups"], period=_obj([], **{"from": NSTR, "to": NSTR}), kind=STR,
                           administration=NSTR, group_by=NSTR, totals=_ref("Figures"),
                           groups={"type": "array", "items": {"allOf": [_ref("Figures"), _obj(
                               ["key"], key=NSTR, administration=NSTR)]}}),
        "Conversation": _obj(
            ["id", "channel", "status"], id=INT, channel=STR, status={"enum": ["needs_person", "with_agent", "closed"]},
            reason=STR, language=NSTR, agent=NSTR, case=NSTR, closed_reason=NSTR, created_at=STR, updated_at=STR,
            taken_at=NSTR, closed_at=NSTR, contact=_obj([], phone=NSTR, name=NSTR, address=NSTR),
            offered={"type": "boolean"}, mine={"type": "boolean"},
        ),
        "Queue": _obj(["conversations"], capacity=INT, load=INT,
                      conversations={"type": "array", "items": _ref("Conversation")}),
        "TranscriptLine": _obj(["id", "direction", "body", "status", "at"], id=INT, direction={"enum": ["in", "out"]},
                               body=STR, status=STR, error_code=NSTR, error_message=NSTR, at=STR, agent=NSTR,
                               media={"type": "array", "items": INT}),
        "ConversationDetail": {
            "allOf": [_ref("Conversation"), _obj(
                ["transcript"], dialogue=_obj([], state=NSTR, language=NSTR, draft={"type": "object"}),
                reply_window_closes_at=NSTR, transcript={"type": "array", "items": _ref("TranscriptLine")},
                collected={"type": "object", "description": "What a phone call collected before it ended"},
                templates={"type": "array", "description": "Approved WhatsApp templates an agent may send",
                           "items": _obj(["key", "label"], key=STR, label=STR)},
            )],
        },
        "Text": _obj(["text"], text={"type": "string", "maxLength": 1600}),
        "Message": {"oneOf": [
            _ref("Text"),
            _obj(["template"], template={"type": "string", "description": "An offered template's key"},
                 text={"type": "string", "maxLength": 1600, "description": "Fills the template's text variable"}),
        ]},
        "Queued": _obj(["id", "status"], id=INT, status=STR),
        "CallBack": _obj(["how"], how={"enum": ["call", "called"]}),
        "CalledBack": _obj(["id", "how", "to"], id=INT, how=STR, to=STR, call_sid=STR),
        "Takeover": _obj([], force={"type": "boolean", "description": "Supervisors: take it from another agent."}),
        "Taken": _obj(["result"], id={"type": ["integer", "null"]}, result=STR, agent=STR),
        "Handback": _obj([], step={"enum": list(HANDBACK_STEPS)}),
        "Closed": _obj(["id", "status"], id=INT, status=STR, step=STR),
        "CaseFields": _obj([], kind=STR, category=STR, description=STR, location_text=STR, name=STR,
                           anonymous={"type": "boolean"}, lat={"type": ["number", "null"]},
                           lon={"type": ["number", "null"]}),
        "Filed": _obj(["reference"], reference=STR),
        "Audit": _obj(["entries"], entries={"type": "array", "items": {"type": "object"}}),
        "Quarantine": _obj(["messages", "items"], messages={"type": "array", "items": {"type": "object"}},
                           items={"type": "array", "items": {"type": "object"}}),
    }
    responses = {
        f"E{code}": _json(_ref("Error"), text)
        for code, text in ((400, "Bad input"), (401, "No or unknown token"),
                           (403, "The role or administration may not do this"), (404, "Not found"),
                           (409, "Not possible in the current state"))
    }
    parameters = {
        "reference": {"name": "reference", "in": "path", "required": True, "schema": STR,
                      "description": "Case reference: 10 digits, spaces or dashes allowed"},
        "id": {"name": "id", "in": "path", "required": True, "schema": INT, "description": "Conversation id"},
        "message_id": {"name": "message_id", "in": "path", "required": True, "schema": INT},
    }
    conv = "conversations"
    filters = [_q("status", "A status", {"enum": list(STATUSES)}),
                                            _q("category", "A category code"), _q("channel", "Origin channel"),
                                            _q("overdue", "1: only overdue, 0: only on time"),
                                            _q("from", "Filed on or after (YYYY-MM-DD)", {"type": "string",
                                                                                        "format": "date"}),
                                            _q("to", "Filed on or before (YYYY-MM-DD)", {"type": "string",
                                                                                       "format": "date"}),
                                            _q("reference", "Reference, or its first digits"),
                                            _q("administration", "Administration code (admins, supervisors)"),
                                            _q("q", "Words of the description or the place (each the start "
                                                    "of a word)"),
                                            _q("service", "A service code"),
                                            _q("assignee", "A username, or `me`"),
                                            _q("unassigned", "1: only cases nobody holds"),
                                            _q("escalated", "1: only escalated (overdue, supervisors alerted)")]
    stats_query = [_q("from", "Filed on or after (YYYY-MM-DD)", {"type": "string", "format": "date"}),
                   _q("to", "Filed on or before (YYYY-MM-DD)", {"type": "string", "format": "date"}),
                   _q("administration", "Administration code"), _q("category", "Category code"),
                   _q("channel", "Origin channel"), _q("service", "Service code"),
                   _q("kind", "complaint (default), observation or suggestion",
                      {"enum": ["complaint", "observation", "suggestion"]}),
                   _q("group_by", "A grouping", {"enum": ["administration", "category", "channel", "service",
                                                          "month"]})]
    paths = {
        "/api/v1/cases": {"get": _op("Cases the caller may see, newest first", _json(_ref("CaseList"), "A page"),
                                     query=[*filters, _q("limit", "Page size (max 500)", INT),
                                            _q("offset", "Skip", INT)],
                                     errors=(400, 401, 403))},
        "/api/v1/cases.csv": {"get": {
            "summary": "The filtered list as CSV (no names or numbers; times in the deployment's zone)",
            "tags": ["cases"], "parameters": filters,
            "responses": {"200": {"description": "CSV, UTF-8", "content": {"text/csv": {"schema": STR}}},
                          **_errors(400, 401, 403)}}},
        "/api/v1/cases/{reference}/circulate": {"post": _op(
            "Pass the case to another service of its administration, with a reason",
            _json(_ref("Circulated"), "Circulated"), body=_ref("Circulate"), params=["reference"],
            errors=(400, 401, 403, 404, 409))},
        "/api/v1/cases/{reference}/assign": {"post": _op(
            "Assign the case to an officer (officers: to themselves)", _json(_ref("Assigned"), "Assigned"),
            body=_ref("Assign"), params=["reference"], errors=(400, 401, 403, 404, 409))},
        "/api/v1/cases/{reference}/duplicate-of": {"post": _op(
            "Mark the case as the duplicate of another (closed as such, its reporter follows the original), "
            "or take it out with null", _json(_obj(["reference"], reference=STR, duplicate_of=NSTR, status=STR),
                                              "Marked or taken out"),
            body=_obj(["reference"], reference=NSTR), params=["reference"], errors=(400, 401, 403, 404, 409))},
        "/api/v1/workload": {"get": _op(
            "Open and overdue cases per officer (supervisors, admins)", _json(_ref("Workload"), "Per member"),
            query=[_q("administration", "Administration code (admins, deployment-wide supervisors)")])},
        "/api/v1/notifications": {"get": _op(
            "The caller's reminders and overdue alerts, newest first", _json(_ref("Notifications"), "Newest first"),
            query=[_q("unread", "1: only unread")], errors=(401,))},
        "/api/v1/notifications/read": {"post": _op(
            "Mark the caller's notifications read", _json(_obj(["marked"], marked=INT), "How many"),
            errors=(401,))},
        "/api/v1/cases/{reference}": {"get": _op("One case (its view is audited)", _json(_ref("Case"), "The case"),
                                                 params=["reference"], errors=(401, 403, 404))},
        "/api/v1/cases/{reference}/status": {"post": _op(
            "Change the status; the citizen is told", _json(_ref("StatusChanged"), "Changed"),
            body=_ref("StatusChange"), params=["reference"], errors=(400, 401, 403, 404, 409))},
        "/api/v1/cases/{reference}/notes": {"post": _op(
            "Add an internal note (never shown to the citizen)", _json(_obj(["reference"], reference=STR,
                                                                              event_id=INT), "Added"),
            body=_ref("Note"), params=["reference"], errors=(400, 401, 403, 404), ok_code="201")},
        "/api/v1/cases/{reference}/transfer": {"post": _op(
            "Transfer to another administration with a reason", _json(_ref("Transferred"), "Transferred"),
            body=_ref("Transfer"), params=["reference"], errors=(400, 401, 403, 404, 409))},
        "/api/v1/statistics": {"get": _op(
            "The national portal's figures for a period and scope (officers: their administration)",
            _json(_ref("Statistics"), "Totals and groups"), query=stats_query, errors=(400, 401, 403))},
        "/api/v1/statistics.csv": {"get": {
            "summary": "The same figures as CSV (a total row, then one row per group)", "tags": ["cases"],
            "parameters": stats_query,
            "responses": {"200": {"description": "CSV, UTF-8", "content": {"text/csv": {"schema": STR}}},
                          **_errors(400, 401, 403)}}},
        "/api/v1/audit": {"get": _op("Audit log (supervisors, admins)", _json(_ref("Audit"), "Newest first"),
                                     query=[_q("case", "A case reference")], errors=(401, 403, 404))},
        "/api/v1/quarantine": {"get": _op("Work set aside after failing repeatedly (admins, deployment-wide "
                                          "supervisors)", _json(_ref("Quarantine"), "Newest first"),
                                          errors=(401, 403))},
        "/api/v1/conversations": {"get": _op(
            "Open conversations, oldest first", _json(_ref("Queue"), "The queue"), tag=conv,
            query=[_q("needs_person", "1: only those nobody has taken")])},
        "/api/v1/conversations/next": {"post": _op(
            "Take the conversation waiting longest", _json(_ref("Taken"), "Taken, or none waiting"), tag=conv,
            errors=(401, 403, 409))},
        "/api/v1/conversations/{id}": {"get": _op(
            "A conversation with its transcript (audited)", _json(_ref("ConversationDetail"), "The conversation"),
            params=["id"], tag=conv, errors=(401, 403, 404))},
        "/api/v1/conversations/{id}/takeover": {"post": _op(
            "Take the conversation over; the bot stays silent", _json(_ref("Taken"), "Taken"), params=["id"],
            tag=conv, body=_ref("Takeover"), errors=(400, 401, 403, 404, 409))},
        "/api/v1/conversations/{id}/messages": {"post": _op(
            "Write to the citizen on their channel (a template once WhatsApp's window has closed)",
            _json(_ref("Queued"), "Queued for sending"), params=["id"], tag=conv, body=_ref("Message"),
            errors=(400, 401, 403, 404, 409), ok_code="202")},
        "/api/v1/conversations/{id}/messages/{message_id}/retry": {"post": _op(
            "Send a failed message again", _json(_ref("Queued"), "Queued again"), params=["id", "message_id"],
            tag=conv, errors=(401, 403, 404, 409), ok_code="202")},
        "/api/v1/conversations/{id}/case": {"post": _op(
            "File the case from what was collected", _json(_ref("Filed"), "Filed"), params=["id"], tag=conv,
            body=_ref("CaseFields"), errors=(400, 401, 403, 404, 409), ok_code="201")},
        "/api/v1/conversations/{id}/handback": {"post": _op(
            "Hand back to the bot at a step", _json(_ref("Closed"), "Handed back"), params=["id"], tag=conv,
            body=_ref("Handback"), errors=(400, 401, 403, 404, 409))},
        "/api/v1/conversations/{id}/close": {"post": _op(
            "Close the conversation; the citizen is told", _json(_ref("Closed"), "Closed"), params=["id"],
            tag=conv, errors=(401, 403, 404, 409))},
        "/api/v1/conversations/{id}/callback": {"post": _op(
            "Call a voice-line caller back (an outbound call), or note that the agent phoned them",
            _json(_ref("CalledBack"), "Called back"), params=["id"], tag=conv, body=_ref("CallBack"),
            errors=(400, 401, 403, 404, 409, 502))},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hotline gateway staff API", "version": "1.0.0",
                 "description": "Cases and conversations for call-centre and administration staff. Bearer "
                                "tokens come from `hotline staff token USERNAME`."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": "cases"}, {"name": "conversations"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
            "responses": responses,
            "parameters": parameters,
        },
    }
