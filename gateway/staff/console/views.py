"""The console's pages and form actions: sign-in, the live queue, a conversation, case lists and a case.

Every page is rendered by Jinja2 with autoescaping on, so whatever a citizen wrote (message, name,
description) reaches the browser as text; the Content-Security-Policy allows only the gateway's own
script and stylesheet. Every POST carries the session's CSRF token. Actions call the same code as the
JSON API (`gateway.staff.desk`, `gateway.staff.api.case_routes`), so both answer the same way.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from channels.base import CallChannel, implements
from channels.registry import REGISTRY
from conversations.slots import HANDBACK_STEPS
from core import references
from core.access import can_reassign, can_view_case, can_work_conversations
from core.changes import QUEUE, conversation_topic, messages_topic
from core.lifecycle import KINDS
from core.media_files import located
from core.records import Staff
from gateway.http.metrics import LIVE_CHECKS
from gateway.keys import DESK, LIVE, REDIS, RUNTIME, SETTINGS
from gateway.staff.api.conversation_routes import queue_items
from gateway.staff.console import auth
from gateway.staff.console.i18n import COOKIE, LANGUAGE_LABELS, LANGUAGES, RTL, choose_language, has_text, translate
from gateway.staff.desk import Refused, conversation_detail

CLOSING = web.AppKey("console_closing", asyncio.Event)
KEEP_ALIVE_SECONDS = 15.0
"""A live view with nothing new writes a comment this often, so proxies keep the stream open."""

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.ChoiceLoader([jinja2.PackageLoader("gateway.staff.console", "templates"),
                                jinja2.PackageLoader("gateway.public", "templates")]),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


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
    unread: int = 0
    """The staff member's unread notifications (the badge in the header)."""

    def t(self, key: str, **values: Any) -> str:
        """A console text in the page's language."""
        return translate(self.lang, key, **values)

    def refusal(self, key: str, fallback: str) -> str:
        """The catalog's text for a refusal (`refused_<key>`), else `fallback`."""
        return translate(self.lang, "refused_" + key) if has_text("refused_" + key) else fallback

    def when(self, iso: str | datetime | None, day_only: bool = False) -> str:
        """A stored time as staff read it: in the deployment's zone, with the zone's abbreviation."""
        if not iso:
            return ""
        moment = datetime.fromisoformat(iso) if isinstance(iso, str) else iso
        local = moment.astimezone(ZoneInfo(self.request.app[RUNTIME].deployment.timezone))
        return local.strftime("%Y-%m-%d") if day_only else local.strftime("%Y-%m-%d %H:%M %Z")

    def actor(self, name: str) -> str:
        """Who did something, as staff read it: the citizen and the system by name, staff by username."""
        return self.t("actor_" + name) if name in ("citizen", "system") else name

    def render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        """A rendered page, remembering the language chosen with `?lang=`."""
        html = ENVIRONMENT.get_template(template).render(
            t=self.t, lang=self.lang, dir="rtl" if self.lang in RTL else "ltr", staff=self.staff, csrf=self.csrf,
            languages=LANGUAGE_LABELS, notice=_notice(self.request), problem=context.pop("problem", None),
            channel_name=self.channel_name, is_call_channel=is_call_channel, when=self.when, actor=self.actor,
            unread=self.unread, kept=context.pop("kept", {}), **context,
        )
        response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
        if self.request.query.get("lang") in LANGUAGES:
            response.set_cookie(COOKIE, self.lang, max_age=365 * 24 * 3600, path="/console", samesite="Strict",
                                httponly=True, secure=auth.secure_request(self.request))
        return response

    def fragment(self, template: str, **context: Any) -> str:
        """A partial template rendered for a live update."""
        return ENVIRONMENT.get_template(template).render(t=self.t, lang=self.lang, staff=self.staff, csrf=self.csrf,
                                                         channel_name=self.channel_name, when=self.when,
                                                         actor=self.actor, **context)

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
            if staff is not None and staff.disabled_at is not None:
                staff = None
            if session is None or staff is None:
                if post:
                    return Page(request, None, "", lang).render("error.html", 403, message=translate(lang, "forbidden"))
                raise redirect("/console/login")
            page = Page(request, staff, session.csrf, lang, await runtime.db(runtime.store.unread_notifications,
                                                                             staff.id))
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
                message = page.t(key) if key else page.refusal(refused.code, refused.message)
                return page.render("error.html", refused.status, message=message)

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


async def _live(request: web.Request, view: str, look: Callable[[], Awaitable[tuple[str, set[str]]]],
                render: Callable[[], Awaitable[str]]) -> web.StreamResponse:
    """A server-sent event stream: an `update` with fresh HTML whenever the version `look()` gives
    changes. It looks once at the start, then only when one of the topics its last look named is
    announced (`gateway.live`)."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                           "Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    closing = request.app[CLOSING]
    seen = request.headers.get("Last-Event-ID", "")
    closed = asyncio.ensure_future(closing.wait())
    try:
        with request.app[LIVE].watching(()) as watch:
            changed = watch.changed
            changed.set()
            while not closing.is_set():
                if changed.is_set():
                    changed.clear()
                    LIVE_CHECKS.labels(view).inc()
                    version, topics = await look()
                    watch.follow(topics)
                    if version != seen:
                        seen = version
                        payload = json.dumps({"version": version, "html": await render()}, ensure_ascii=False)
                        await response.write(f"event: update\nid: {version}\ndata: {payload}\n\n".encode())
                    continue
                woken = asyncio.ensure_future(changed.wait())
                done, _ = await asyncio.wait({woken, closed}, timeout=KEEP_ALIVE_SECONDS,
                                             return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                if not done:
                    await response.write(b": keep-alive\n\n")
    except ConnectionResetError:  # the viewer went away; a cancellation goes on to whoever cancelled
        pass
    finally:
        closed.cancel()
    return response


@signed_in(can_work_conversations)
async def queue_events(request: web.Request, page: Page) -> web.StreamResponse:
    """The queue as a server-sent event stream."""
    desk = request.app[DESK]
    staff = page.staff
    assert staff is not None

    async def look() -> tuple[str, set[str]]:
        store = desk.runtime.store
        return f"{await desk.db(store.queue_fingerprint)}|{await desk.db(store.agent_load, staff.id)}", {QUEUE}

    async def render() -> str:
        return page.fragment("_queue_rows.html", queue=await queue_items(desk, staff, False))

    return await _live(request, "queue", look, render)


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
    return await _conversation_page(request, page, _conversation_id(request))


async def _conversation_page(request: web.Request, page: Page, conversation_id: int, status: int = 200,
                             problem: str | None = None, kept: dict[str, str] | None = None) -> web.Response:
    """The conversation page; after a refused form, with the refusal and what was typed (`kept`)."""
    staff = page.staff
    assert staff is not None
    desk = request.app[DESK]
    detail = await conversation_detail(desk, staff, conversation_id)
    detail["case_display"] = references.display(detail["case"]) if detail["case"] else ""
    mine = detail["status"] == "with_agent" and detail["agent"] == staff.username
    window = detail["reply_window_closes_at"]
    deployment = desk.runtime.deployment
    draft = {**detail["dialogue"]["draft"], **(kept or {})} if kept and kept.get("form") == "case" \
        else detail["dialogue"]["draft"]
    return page.render(
        "conversation.html", status, c=detail, mine=mine, can_force=can_reassign(staff),
        transcript=detail["transcript"], conversation_id=detail["id"], draft=draft, kinds=KINDS,
        categories=page.names(deployment.categories), steps=HANDBACK_STEPS, form_problem=problem, kept=kept or {},
        window_closed=bool(window) and datetime.fromisoformat(window) < datetime.now(UTC),
    )


async def _or_page_again(request: web.Request, page: Page, conversation_id: int, kept: dict[str, str],
                         action: Awaitable[Any]) -> web.Response | None:
    """Run a conversation form's action; refused (not 403/404), the page again with the refusal
    in the page's language and the form as it was typed."""
    try:
        await action
    except Refused as refused:
        if refused.status in (403, 404):
            raise
        return await _conversation_page(request, page, conversation_id, refused.status,
                                        page.refusal(refused.code, refused.message), kept)
    return None


@signed_in(can_work_conversations)
async def conversation_events(request: web.Request, page: Page) -> web.StreamResponse:
    """The transcript as a server-sent event stream (new messages, delivery statuses)."""
    staff = page.staff
    assert staff is not None
    desk = request.app[DESK]
    conversation_id = _conversation_id(request)
    await desk.conversation(conversation_id)
    store = desk.runtime.store

    async def look() -> tuple[str, set[str]]:
        current = await desk.conversation(conversation_id)  # its citizen may have been merged meanwhile
        version = await desk.db(store.conversation_fingerprint, current)
        return version, {conversation_topic(conversation_id), messages_topic(current.channel, current.contact_id)}

    async def render() -> str:
        current = await desk.conversation(conversation_id)
        lines = await desk.transcript(staff, current)
        mine = current.status == "with_agent" and current.agent_id == staff.id
        return page.fragment("_transcript.html", transcript=[line.to_json() for line in lines], mine=mine,
                             conversation_id=conversation_id)

    return await _live(request, "transcript", look, render)


async def form_fields(request: web.Request) -> dict[str, str]:
    """A posted form's text fields (files left out)."""
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
    form = await form_fields(request)
    desk = request.app[DESK]
    if form.get("template"):
        sending = desk.send_template(page.staff, conversation_id, form["template"], form.get("text", ""))
    else:
        sending = desk.send(page.staff, conversation_id, form.get("text", ""))
    again = await _or_page_again(request, page, conversation_id, {"form": "write", "text": form.get("text", "")},
                                 sending)
    if again is not None:
        return again
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
    form = await form_fields(request)
    fields: dict[str, Any] = {key: form.get(key, "").strip() for key in
                              ("kind", "category", "description", "location_text", "name")}
    fields["anonymous"] = form.get("anonymous") == "1"
    again = await _or_page_again(request, page, conversation_id, {"form": "case", **fields},
                                 request.app[DESK].file_case(page.staff, conversation_id, fields))
    if again is not None:
        return again
    raise _back_to(conversation_id, "filed")


@signed_in(can_work_conversations, post=True)
async def hand_back(request: web.Request, page: Page) -> web.StreamResponse:
    """Hand back to the bot at the chosen step."""
    assert page.staff is not None
    conversation_id = _conversation_id(request)
    form = await form_fields(request)
    await request.app[DESK].hand_back(page.staff, conversation_id, form.get("step", "resume"))
    raise redirect("/console/queue", notice="handed_back")


@signed_in(can_work_conversations, post=True)
async def call_back(request: web.Request, page: Page) -> web.StreamResponse:
    """Call a voice-line caller back, or note that they were phoned."""
    assert page.staff is not None
    conversation_id = _conversation_id(request)
    form = await form_fields(request)
    await request.app[DESK].call_back(page.staff, conversation_id, form.get("how", ""))
    raise _back_to(conversation_id, "called")


@signed_in(can_work_conversations, post=True)
async def close(request: web.Request, page: Page) -> web.StreamResponse:
    """Close the conversation."""
    assert page.staff is not None
    await request.app[DESK].close(page.staff, _conversation_id(request))
    raise redirect("/console/queue", notice="closed")


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
    path = located(request.app[SETTINGS].media_dir, attachment.path)
    if not path.is_file():
        raise Refused(404, "not_found", "the file is gone")
    await runtime.db(runtime.store.audit, staff.id, "media.view", attachment.case_id, {"attachment": attachment.id})
    return web.FileResponse(path, headers={"Content-Type": attachment.content_type or "application/octet-stream",
                                           "Content-Disposition": "inline", "Cache-Control": "private, no-store"})


