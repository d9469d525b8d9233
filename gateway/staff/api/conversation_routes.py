"""JSON API of the conversations queue: list, view, take over, write, retry, file, hand back, close.

Agents, supervisors and admins work conversations; officers do not (403). Only the agent holding a
conversation writes in it, files from it or hands it back (a supervisor or admin may step in).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.access import can_see_citizen, can_work_conversations
from core.records import Staff
from gateway.keys import DESK
from gateway.staff.api.common import int_param, json_body, text_field, with_staff
from gateway.staff.desk import Desk, Refused, conversation_detail

REFUSAL = "only agents, supervisors and admins work conversations"
worker = with_staff(can_work_conversations, REFUSAL)


def add_conversation_routes(app: web.Application) -> None:
    """Register the conversation routes."""
    app.router.add_get("/api/v1/conversations", list_conversations)
    app.router.add_post("/api/v1/conversations/next", take_next)
    app.router.add_get("/api/v1/conversations/{id}", get_conversation)
    app.router.add_post("/api/v1/conversations/{id}/takeover", takeover)
    app.router.add_post("/api/v1/conversations/{id}/messages", post_message)
    app.router.add_post("/api/v1/conversations/{id}/messages/{message_id}/retry", retry_message)
    app.router.add_post("/api/v1/conversations/{id}/case", file_case)
    app.router.add_post("/api/v1/conversations/{id}/handback", handback)
    app.router.add_post("/api/v1/conversations/{id}/close", close)
    app.router.add_post("/api/v1/conversations/{id}/callback", call_back)


def mask(address: str | None) -> str | None:
    """A phone number with its middle hidden, for lists (`+2126•••••789`)."""
    if not address:
        return None
    return address if len(address) <= 6 else address[:5] + "•" * (len(address) - 8) + address[-3:]


async def queue_items(desk: Desk, staff: Staff, needs_person: bool) -> dict[str, Any]:
    """The queue as the API and the console list it: oldest first, which one is offered to `staff`."""
    store = desk.runtime.store
    statuses = ("needs_person",) if needs_person else ("needs_person", "with_agent")
    items = await desk.db(store.conversations, statuses)
    load = await desk.db(store.agent_load, staff.id)
    room = load < desk.policy.capacity
    offered = next((c.id for c in items if c.status == "needs_person"), None) if room else None
    return {
        "capacity": desk.policy.capacity,
        "load": load,
        "conversations": [
            {**c.to_json(), "contact": {"phone": mask(c.contact_phone or c.contact_address),
                                        "name": c.contact_name or None} if can_see_citizen(staff, c.anonymous)
             else {"phone": None, "name": None},
             "offered": c.id == offered, "mine": c.agent_id == staff.id}
            for c in items
        ],
    }


@worker
async def list_conversations(request: web.Request, staff: Staff) -> web.Response:
    """The open conversations (`?needs_person=1`: only those nobody has taken), oldest first."""
    needs_person = request.query.get("needs_person", "") in ("1", "true", "yes")
    return web.json_response(await queue_items(request.app[DESK], staff, needs_person))


@worker
async def get_conversation(request: web.Request, staff: Staff) -> web.Response:
    """One conversation: contact, what was collected, transcript with delivery statuses."""
    return web.json_response(await conversation_detail(request.app[DESK], staff, int_param(request, "id")))


@worker
async def take_next(request: web.Request, staff: Staff) -> web.Response:
    """Take the conversation waiting longest (when the agent has room)."""
    taken = await request.app[DESK].take_next(staff)
    if taken is None:
        return web.json_response({"id": None, "result": "none_waiting"})
    return web.json_response({"id": taken, "result": "taken"})


@worker
async def takeover(request: web.Request, staff: Staff) -> web.Response:
    """Take the conversation over; `{"force": true}` lets a supervisor take it from another agent."""
    payload = await json_body(request)
    result = await request.app[DESK].take_over(staff, int_param(request, "id"), force=payload.get("force") is True)
    return web.json_response({"id": int_param(request, "id"), "result": result, "agent": staff.username})


@worker
async def post_message(request: web.Request, staff: Staff) -> web.Response:
    """Write to the citizen: `{"text": ...}`, or an approved WhatsApp template once the 24 h window has
    closed: `{"template": key, "text": ...}` (the text fills its `text` variable); sent by an outbound job."""
    payload = await json_body(request)
    desk = request.app[DESK]
    template = text_field(payload, "template", required=False, limit=64)
    if template:
        text = text_field(payload, "text", required=False, limit=1600)
        message_id = await desk.send_template(staff, int_param(request, "id"), template, text)
    else:
        text = text_field(payload, "text", limit=1600)
        message_id = await desk.send(staff, int_param(request, "id"), text)
    return web.json_response({"id": message_id, "status": "queued"}, status=202)


@worker
async def retry_message(request: web.Request, staff: Staff) -> web.Response:
    """Send a failed message again."""
    message_id = int_param(request, "message_id")
    await request.app[DESK].retry(staff, int_param(request, "id"), message_id)
    return web.json_response({"id": message_id, "status": "queued"}, status=202)


@worker
async def file_case(request: web.Request, staff: Staff) -> web.Response:
    """File the case from what was collected, with edits (`category`, `description`, ...)."""
    payload = await json_body(request)
    fields: dict[str, Any] = {}
    for name in ("kind", "category", "description", "location_text", "name"):
        if name in payload:
            fields[name] = text_field(payload, name, required=False)
    if "anonymous" in payload:
        if not isinstance(payload["anonymous"], bool):
            raise Refused(400, "bad_request", "anonymous must be true or false")
        fields["anonymous"] = payload["anonymous"]
    for name, bound in (("lat", 90), ("lon", 180)):
        if name in payload:
            value = payload[name]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not -bound <= value <= bound):
                raise Refused(400, "bad_request", f"{name} must be a number from -{bound} to {bound}")
            fields[name] = value
    reference = await request.app[DESK].file_case(staff, int_param(request, "id"), fields)
    return web.json_response({"reference": reference}, status=201)


@worker
async def handback(request: web.Request, staff: Staff) -> web.Response:
    """Hand back to the bot: `{"step": "menu"|"resume"|"category"|"description"|"location"|"name"|"confirm"}`."""
    payload = await json_body(request)
    step = text_field(payload, "step", required=False) or "resume"
    await request.app[DESK].hand_back(staff, int_param(request, "id"), step)
    return web.json_response({"id": int_param(request, "id"), "status": "closed", "step": step})


@worker
async def call_back(request: web.Request, staff: Staff) -> web.Response:
    """Call a voice-line caller back: `{"how": "call"}` places a call through Twilio that puts them
    through to a person; `{"how": "called"}` notes that the agent phoned them and closes the conversation."""
    payload = await json_body(request)
    how = text_field(payload, "how", limit=16)
    detail = await request.app[DESK].call_back(staff, int_param(request, "id"), how)
    return web.json_response({"id": int_param(request, "id"), **detail})


@worker
async def close(request: web.Request, staff: Staff) -> web.Response:
    """Close the conversation; the citizen is told."""
    await request.app[DESK].close(staff, int_param(request, "id"))
    return web.json_response({"id": int_param(request, "id"), "status": "closed"})
