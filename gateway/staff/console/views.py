"""The console's pages and form actions: sign-in, the live queue, a conversation, case lists and a case.

Every page is rendered by Jinja2 with autoescaping on, so whatever a citizen wrote (message, name,
description) reaches the browser as text; the Content-Security-Policy allows only the gateway's own
script and stylesheet. Every POST carries the session's CSRF token. Actions call the same code as the
JSON API (`gateway.staff.desk`, `gateway.staff.api.case_routes`), so both answer the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from channels.base import CallChannel, implements
from channels.registry import REGISTRY
from conversations.slots import HANDBACK_STEPS
from core import lifecycle, references
from core.access import can_change_status, can_list_cases, can_reassign, can_view_case, can_work_conversations
from core.records import Staff
from core.store.cases import KINDS
from gateway.keys import DESK, REDIS, RUNTIME, SETTINGS, SYNC_REDIS
from gateway.staff.api.case_routes import case_filter, case_view, found_cases
from gateway.staff.api.conversation_routes import queue_items
from gateway.staff.case_actions import change_status
from gateway.staff.console import auth
from gateway.staff.console.i18n import COOKIE, LANGUAGES, RTL, choose_language, translate
from gateway.staff.desk import Refused, conversation_detail

CLOSING = web.AppKey("console_closing", asyncio.Event)
LIVE_INTERVAL = 1.0
"""Seconds between checks of a live view (the queue, a transcript) for changes."""

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("gateway.staff.console", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
LANGUAGE_LABELS = (("ar", "العربية"), ("fr", "Français"), ("en", "English"))


def channel_name(channel: str, lang: str) -> str:
    """The channel's name as staff read it in `lang` (the adapter's own `display_names`)."""
    if channel not in REGISTRY.names():
        return channel
    names = REGISTRY.adapter_class(channel).display_names
    return names.get(lang) or names.get("en") or channel


def is_call_channel(channel: str) -> bool:
    """Whether the channel's conversations are phone calls (their callers can be called back)."""
    return channel in REGISTRY.names() and implements(REGISTRY.adapter_class(channel), CallChannel)


@dataclass
class Page:
    """Who asks and in which language: what every template needs."""

    request: web.Request
    staff: Staff | None
    csrf: str
    lang: str

    def t(self, key: str, **values: Any) -> str:
        """A console text in the page's language."""
        return translate(self.lang, key, **values)

    def render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        """A rendered page, remembering the language chosen with `?lang=`."""
        html = ENVIRONMENT.get_template(template).render(
            t=self.t, lang=self.lang, dir="rtl" if self.lang in RTL else "ltr", staff=self.staff, csrf=self.csrf,
            languages=LANGUAGE_LABELS, notice=_notice(self.request), problem=context.pop("problem", None),
            channel_name=self.channel_name, is_call_channel=is_call_channel, **context,
        )
        response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
        if self.request.query.get("lang") in LANGUAGES:
            response.set_cookie(COOKIE, self.lang, max_age=365 * 24 * 3600, path="/console", samesite="Strict",
                                httponly=True, secure=auth.secure_request(self.request))
        return response

    def fragment(self, template: str, **context: Any) -> str:
        """A partial template rendered for a live update."""
        return ENVIRONMENT.get_template(template).render(t=self.t, lang=self.lang, staff=self.staff, csrf=self.csrf,
                                                         channel_name=self.channel_name, **context)

    def channel_name(self, channel: str) -> str:
        """The channel's name in the page's language."""
        return channel_name(channel, self.lang)

    def names(self, items: Any) -> list[tuple[str, str]]:
        """(code, name in the page's language) of administrations or categories."""
        return [(item.code, item.name(self.lang)) for item in items]


def _notice(request: web.Request) -> str | None:
    notice = request.query.get("notice", "")
    return notice if notice and notice.isidentifier() and len(notice) < 30 else None


def _default_language(request: web.Request) -> str:
    return request.app[RUNTIME].deployment.default_language


def redirect(location: str, **query: str) -> web.HTTPSeeOther:
    """A 303 to `location` (with a notice key, say)."""
    return web.HTTPSeeOther(location + ("?" + urlencode(query) if query else ""))


ConsoleHandler = Callable[[web.Request, Page], Awaitable[web.StreamResponse]]


def signed_in(
    allowed: Callable[[Staff], bool] | None = None, *, post: bool = False
) -> Callable[[ConsoleHandler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Require a console session (else the sign-in page), the role, and on a POST the CSRF token."""

    def decorate(handler: ConsoleHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            lang = choose_language(request, _default_language(request))
            prefix = request.app[SETTINGS].queue_prefix
            session = await auth.load_session(request.app[REDIS], prefix, request)
            runtime = request.app[RUNTIME]
            staff = await runtime.db(runtime.store.staff_by_id, session.staff_id) if session else None
            if session is None or staff is None:
                if post:
                    return Page(request, None, "", lang).render("error.html", 403, message=translate(lang, "forbidden"))
                raise redirect("/console/login")
            page = Page(request, staff, session.csrf, lang)
            if post:
                form = await request.post()
                if not auth.same_token(session.csrf, form.get("csrf") if isinstance(form.get("csrf"), str) else None):
                    return page.render("error.html", 403, message=page.t("csrf_failed"))
            if allowed is not None and not allowed(staff):
                return page.render("error.html", 403, message=page.t("forbidden"))
            try:
                return await handler(request, page)
            except Refused as refused:
                key = {403: "forbidden", 404: "not_found"}.get(refused.status)
                return page.render("error.html", refused.status, message=page.t(key) if key else refused.message)

        return wrapped

    return decorate


# -- sign-in -------------------------------------------------------------------------------------


async def login_form(request: web.Request) -> web.Response:
    """The sign-in form, with a fresh double-submit CSRF token."""
    return _login_page(request)


def _login_page(request: web.Request, problem: str | None = None, status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    page = Page(request, None, "", choose_language(request, _default_language(request)))
    response = page.render("login.html", status, login_csrf=token, problem=page.t(problem) if problem else None)
    auth.set_cookie(response, request, auth.LOGIN_COOKIE, token, 3600)
    return response


async def login(request: web.Request) -> web.Response:
    """Check the password (throttled per address, locked per username and address) and open a session.
    A wrong password and an unknown username get the same answer."""
    form = await request.post()
    lang = choose_language(request, _default_language(request))
    given = form.get("csrf")
    if not auth.same_token(request.cookies.get(auth.LOGIN_COOKIE, ""), given if isinstance(given, str) else None):
        return Page(request, None, "", lang).render("error.html", 403, message=translate(lang, "csrf_failed"))
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:1024]
    runtime = request.app[RUNTIME]
    policy = auth.LoginPolicy.from_env(runtime.settings.env)
    result = await auth.sign_in(request.app[REDIS], runtime, policy, username, password,
                                auth.client_address(request, policy))
    if result.staff is None:
        refused = _login_page(request, result.refusal, 401 if result.refusal == auth.BAD_CREDENTIALS else 429)
        if result.retry_after is not None:
            refused.headers["Retry-After"] = str(result.retry_after)
        return refused
    session = await auth.open_session(request.app[REDIS], request.app[SETTINGS].queue_prefix, result.staff)
    await runtime.db(runtime.store.audit, result.staff.id, "console.login", None, "")
    response = web.HTTPSeeOther("/console/")
    auth.set_cookie(response, request, auth.SESSION_COOKIE, session.token, auth.SESSION_SECONDS)
    response.del_cookie(auth.LOGIN_COOKIE, path="/console")
    return response


@signed_in(post=True)
async def logout(request: web.Request, page: Page) -> web.StreamResponse:
    """End the session."""
    await auth.close_session(request.app[REDIS], request.app[SETTINGS].queue_prefix,
                             request.cookies.get(auth.SESSION_COOKIE, ""))
    response = web.HTTPSeeOther("/console/login")
    response.del_cookie(auth.SESSION_COOKIE, path="/console")
    return response


@signed_in()
async def home(request: web.Request, page: Page) -> web.StreamResponse:
    """Agents start at the queue, officers at their cases."""
    assert page.staff is not None
    raise redirect("/console/queue" if can_work_conversations(page.staff) else "/console/cases")


# -- the queue and a conversation --------------------------------------------------------------


@signed_in(can_work_conversations)
async def queue(request: web.Request, page: Page) -> web.StreamResponse:
    """The conversations that need a person, live."""
    assert page.staff is not None
    return page.render("queue.html", queue=await queue_items(request.app[DESK], page.staff, False))


async def _live(request: web.Request, fingerprint: Callable[[], Awaitable[str]],
                render: Callable[[], Awaitable[str]]) -> web.StreamResponse:
    """A server-sent event stream: an `update` with fresh HTML whenever `fingerprint()` changes."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    closing = request.app[CLOSING]
    seen = request.headers.get("Last-Event-ID", "")
    idle = 0
    try:
        while not closing.is_set():
            version = await fingerprint()
            if version != seen:
                seen = version
                payload = json.dumps({"version": version, "html": await render()}, ensure_ascii=False)
                await response.write(f"event: update\nid: {version}\ndata: {payload}\n\n".encode())
                idle = 0
            elif (idle := idle + 1) >= 15:
                await response.write(b": keep-alive\n\n")
                idle = 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closing.wait(), LIVE_INTERVAL)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


@signed_in(can_work_conversations)
async def queue_events(request: web.Request, page: Page) -> web.StreamResponse:
    """The queue as a server-sent event stream."""
    desk = request.app[DESK]
    staff = page.staff
    assert staff is not None

    async def fingerprint() -> str:
        store = desk.runtime.store
        return f"{await desk.db(store.queue_fingerprint)}|{await desk.db(store.agent_load, staff.id)}"

    async def render() -> str:
        return page.fragment("_queue_rows.html", queue=await queue_items(desk, staff, False))

    return await _live(request, fingerprint, render)


@signed_in(can_work_conversations, post=True)
async def take_next(request: web.Request, page: Page) -> web.StreamResponse:
    """Take the conversation waiting longest."""
    assert page.staff is not None
    taken = await request.app[DESK].take_next(page.staff)
    if taken is None:
        raise redirect("/console/queue", notice="none_waiting")
    raise redirect(f"/console/conversations/{taken}", notice="taken")


def _conversation_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError as exc:
        raise Refused(404, "not_found", "no such conversation") from exc


@signed_in(can_work_conversations)
async def conversation(request: web.Request, page: Page) -> web.StreamResponse:
    """One conversation: who, what was collected, the transcript (live), and the agent's actions."""
    staff = page.staff
    assert staff is not None
    desk = request.app[DESK]
    detail = await conversation_detail(desk, staff, _conversation_id(request))
    detail["case_display"] = references.display(detail["case"]) if detail["case"] else ""
    mine = detail["status"] == "with_agent" and detail["agent"] == staff.username
    window = detail["reply_window_closes_at"]
    deployment = desk.runtime.deployment
    return page.render(
        "conversation.html", c=detail, mine=mine, can_force=can_reassign(staff), transcript=detail["transcript"],
        conversation_id=detail["id"], draft=detail["dialogue"]["draft"], kinds=KINDS,
        categories=page.names(deployment.categories), steps=HANDBACK_STEPS,
        window_closed=bool(window) and datetime.fromisoformat(window) < datetime.now(UTC),
    )


@signed_in(can_work_conversations)
async def conversation_events(request: web.Request, page: Page) -> web.StreamResponse:
    """The transcript as a server-sent event stream (new messages, delivery statuses)."""
    staff = page.staff
    assert staff is not None
    desk = request.app[DESK]
    conversation_id = _conversation_id(request)
    await desk.conversation(conversation_id)
    store = desk.runtime.store

    async def fingerprint() -> str:
        return await desk.db(store.conversation_fingerprint, conversation_id)

    async def render() -> str:
        current = await desk.conversation(conversation_id)
        lines = await desk.transcript(staff, current)
        mine = current.status == "with_agent" and current.agent_id == staff.id
        return page.fragment("_transcript.html", transcript=[line.to_json() for line in lines], mine=mine,
                             conversation_id=conversation_id)

    return await _live(request, fingerprint, render)


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _back_to(conversation_id: int, notice: str) -> web.HTTPSeeOther:
    return redirect(f"/console/conversations/{conversation_id}", notice=notice)


@signed_in(can_work_conversations, post=True)
async def takeover(request: web.Request, page: Page) -> web.StreamResponse:
    """Take the conversation over (a supervisor may take it from another agent)."""
    assert page.staff is not None
    conversation_id = _conversation_id(request)
    await request.app[DESK].take_over(page.staff, conversation_id, force=can_reassign(page.staff))
    raise _back_to(conversation_id, "taken")


@signed_in(can_work_conversations, post=True)
async def write(request: web.Request, page: Page) -> web.StreamResponse:
    """Write to the citizen."""
    assert page.staff is not None
    conversation_id = _conversation_id(request)
    form = await _form(request)
    desk = request.app[DESK]
    if form.get("template"):
        await desk.send_template(page.staff, conversation_id, form["template"], form.get("text", ""))
    else:
        await desk.send(page.staff, conversation_id, form.get("text", ""))
    raise _back_to(conversation_id, "sent")


@signed_in(can_work_conversations, post=True)
async def retry(request: web.Request, page: Page) -> web.StreamResponse:
    """Send a failed message again."""
    assert page.staff is not None
    conversation_id = _conversation_id(request)
    try:
        message_id = int(request.match_info["message_id"])
    except ValueError as exc:
        raise Refused(404, "not_found", "no such message") from exc
    await request.app[DESK].retry(page.staff, conversation_id, message_id)
    raise _back_to(conversation_id, "retried")


@signed_in(can_work_conversations, post=True)
async def file_case(request: web.Request, page: Page) -> web.StreamResponse:
    """File the case from the (edited) fields."""
    assert page.staff is not None
    conversation_id = _conversation_id(request)
    form = await _form(request)
    fields: dict[str, Any] = {key: form.get(key, "").strip() for key in
                              ("kind", "category", "description", "location_text", "name")}
    fields["anonymous"] = form.get("anonymous") == "1"
    await request.app[DESK].file_case(page.staff, conversation_id, fields)
    raise _back_to(conversation_id, "filed")


@signed_in(can_work_conversations, post=True)
async def hand_back(request: web.Request, page: Page) -> web.StreamResponse:
    """Hand back to the bot at the chosen step."""
    assert page.staff is not None
    conversation_id = _conversation_id(request)
    form = await _form(request)
    await request.app[DESK].hand_back(page.staff, conversation_id, form.get("step", "resume"))
    raise redirect("/console/queue", notice="handed_back")


@signed_in(can_work_conversations, post=True)
async def call_back(request: web.Request, page: Page) -> web.StreamResponse:
    """Call a voice-line caller back, or note that they were phoned."""
    assert page.staff is not None
    conversation_id = _conversation_id(request)
    form = await _form(request)
    await request.app[DESK].call_back(page.staff, conversation_id, form.get("how", ""))
    raise _back_to(conversation_id, "called")


@signed_in(can_work_conversations, post=True)
async def close(request: web.Request, page: Page) -> web.StreamResponse:
    """Close the conversation."""
    assert page.staff is not None
    await request.app[DESK].close(page.staff, _conversation_id(request))
    raise redirect("/console/queue", notice="closed")


# -- cases ---------------------------------------------------------------------------------------


@signed_in(can_list_cases)
async def cases(request: web.Request, page: Page) -> web.StreamResponse:
    """The cases the staff member may see, with filters."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    try:
        given = case_filter(page.staff, request.query)
    except Refused as refused:
        if refused.status == 403:
            raise
        return page.render("error.html", 400, message=refused.message)
    total, found = await found_cases(runtime, given)
    deployment = runtime.deployment
    return page.render(
        "cases.html", cases=found, total=total, q=dict(request.query),
        statuses=lifecycle.STATUSES, categories=page.names(deployment.categories), channels=REGISTRY.names(),
        category_names=dict(page.names(deployment.categories)),
    )


@signed_in()
async def case(request: web.Request, page: Page) -> web.StreamResponse:
    """One case: timeline, description, photos, location, and the officer's forms."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    document, record = await case_view(runtime, page.staff, request.match_info["reference"], "console")
    files = await runtime.db(runtime.store.case_attachments, record.id)
    deployment = runtime.deployment
    return page.render(
        "case.html", d=document, files=files, can_change=can_change_status(page.staff, record.administration_code),
        category_names=dict(page.names(deployment.categories)),
        admin_names=dict(page.names(deployment.administrations)),
        administrations=page.names(deployment.administrations),
    )


async def _case_reference(request: web.Request, page: Page) -> str:
    assert page.staff is not None
    reference = references.parse(request.match_info["reference"])
    runtime = request.app[RUNTIME]
    record = await runtime.db(runtime.store.get_case, reference) if reference else None
    if record is None or not can_view_case(page.staff, record.administration_code):
        raise Refused(404, "not_found", "no such case")
    if not can_change_status(page.staff, record.administration_code):
        raise Refused(403, "forbidden", "not your administration's case")
    return record.reference


@signed_in(can_list_cases, post=True)
async def case_status(request: web.Request, page: Page) -> web.StreamResponse:
    """Change the status (answered and rejected need the reasoned text); the citizen is told."""
    assert page.staff is not None
    reference = await _case_reference(request, page)
    form = await _form(request)
    runtime = request.app[RUNTIME]
    try:
        await runtime.db(change_status, runtime.store, request.app[SYNC_REDIS], runtime.settings.queue_prefix,
                         reference, form.get("status", ""), page.staff.username, form.get("note", "").strip())
    except lifecycle.InvalidTransition as exc:
        raise Refused(409, "invalid_transition", str(exc)) from exc
    raise redirect(f"/console/cases/{reference}", notice="saved")


@signed_in(can_list_cases, post=True)
async def case_note(request: web.Request, page: Page) -> web.StreamResponse:
    """Add an internal note."""
    assert page.staff is not None
    reference = await _case_reference(request, page)
    note = (await _form(request)).get("note", "").strip()
    if not note:
        raise Refused(400, "note_required", "write the note first")
    runtime = request.app[RUNTIME]
    await runtime.db(runtime.store.add_note, reference, page.staff.username, note[:4000])
    raise redirect(f"/console/cases/{reference}", notice="saved")


@signed_in(can_list_cases, post=True)
async def case_transfer(request: web.Request, page: Page) -> web.StreamResponse:
    """Transfer the case to another administration with a reason."""
    assert page.staff is not None
    reference = await _case_reference(request, page)
    form = await _form(request)
    runtime = request.app[RUNTIME]
    try:
        await runtime.db(runtime.store.transfer_case, reference, form.get("administration", ""),
                         page.staff.username, form.get("reason", "")[:4000])
    except lifecycle.InvalidTransition as exc:
        raise Refused(409, "invalid_transition", str(exc)) from exc
    raise redirect("/console/cases", notice="saved")


@signed_in()
async def media(request: web.Request, page: Page) -> web.StreamResponse:
    """A stored photo or recording, for staff who may see its case (or work conversations)."""
    staff = page.staff
    assert staff is not None
    runtime = request.app[RUNTIME]
    try:
        attachment = await runtime.db(runtime.store.attachment, int(request.match_info["id"]))
    except ValueError:
        attachment = None
    if attachment is None or attachment.status != "stored" or not attachment.path:
        raise Refused(404, "not_found", "no such file")
    allowed = can_work_conversations(staff)
    if attachment.case_id is not None:
        record = await runtime.db(runtime.store.get_case_by_id, attachment.case_id)
        allowed = allowed or (record is not None and can_view_case(staff, record.administration_code))
    if not allowed:
        raise Refused(403, "forbidden", "not yours to see")
    path = Path(attachment.path)
    if not path.is_absolute():
        path = Path(request.app[SETTINGS].media_dir) / path
    if not path.is_file():
        raise Refused(404, "not_found", "the file is gone")
    await runtime.db(runtime.store.audit, staff.id, "media.view", attachment.case_id, {"attachment": attachment.id})
    return web.FileResponse(path, headers={"Content-Type": attachment.content_type or "application/octet-stream",
                                           "Content-Disposition": "inline", "Cache-Control": "private, no-store"})


