"""Phone calls through the gateway: the voice channel's routes, wired to the dialogue, the store and jobs.

A call is a dialogue like any other (`InboundProcessor.process`), with what only a call has around it:

- a new call starts a fresh dialogue (the caller's previous one is dropped) with the language menu;
- the channel answers phone-only sub-steps itself (star to record the place, keying another number);
- the last words spoken are kept in Redis for "press 1 to hear it again";
- a case filed during the call is also texted to the caller when their number is a mobile;
- a caller put through to a person, or hanging up mid-complaint (the call status callback), leaves
  their conversation in the queue with what the call collected (`CaseStore.record_collected`), marked
  `abandoned` in the second case, for staff to call back;
- the recording status callback queues the download again once the recording is ready (or marks the
  attachment failed when Twilio has none).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from channels.base import CallChannel, Choice, OutboundMessage
from conversations import model as m
from conversations.catalog import text as catalog_text
from conversations.prompts import prompt
from core.phones import is_mobile
from core.references import display
from core.store.case_store import OutboundDraft
from gateway.dialogue.sessions import WATCHED_STATES
from gateway.http import metrics
from gateway.keys import LANES, PROCESSOR, REDIS, RUNTIME, SETTINGS, SYNC_REDIS
from gateway.outbound.lanes import WorkLanes
from gateway.outbound.queues import queue_downloads, queue_sends

log = logging.getLogger(__name__)

CALL_TTL = 2 * 3600
"""How long what a call said is kept for repeating (longer than any call)."""


def add_call_routes(app: web.Application, channel: str, path: str, steps: tuple[str, ...]) -> None:
    """The voice route and one sub-route per step, all answered by one handler."""
    handler = _call_handler(channel)
    app.router.add_post(path, handler)
    for step in steps:
        app.router.add_post(f"{path}/{step}", handler)


def _call_handler(channel: str):
    async def handler(request: web.Request) -> web.Response:
        from gateway.http.app import http_request, refused

        app = request.app
        adapter = app[RUNTIME].adapter(channel)
        assert isinstance(adapter, CallChannel)
        incoming = await http_request(request)
        public_url = app[SETTINGS].public_url
        if not adapter.verify(incoming, public_url):
            metrics.REJECTED.labels(request.path).inc()
            return web.Response(status=403, text="forbidden\n")
        call = adapter.parse_call(incoming)
        if call is None:
            return refused(request, 400, "not a call webhook", "not a call webhook\n")
        origin = public_url.rstrip("/") if public_url else f"{request.scheme}://{request.host}"
        calls = Calls(app, channel, adapter, origin + adapter.webhook_path)
        if call.step == "status":
            await calls.status(call)
            return web.Response(status=204)
        if call.step == "recording":
            await calls.recording(call)
            return web.Response(status=204)
        body = await calls.respond(call)
        return web.Response(body=body.encode(), content_type="application/xml", charset="utf-8")

    return handler


class Calls:
    """One voice request's work, with the app's shared resources."""

    def __init__(self, app: web.Application, channel: str, adapter: CallChannel, base: str) -> None:
        self.app = app
        self.channel = channel
        self.adapter = adapter
        self.runtime = app[RUNTIME]
        self.processor = app[PROCESSOR]
        self.prefix = app[SETTINGS].queue_prefix
        self.base = base
        self.renderer = adapter.renderer(base)

    def languages(self, called: str) -> list[str]:
        """The number's languages, its default first (the order of the language menu)."""
        context = self.runtime.dialogue_for(called)
        first = [context.default_language] if context.default_language in context.languages else []
        return list(dict.fromkeys([*first, *context.languages]))

    async def respond(self, call: Any) -> str:
        """The TwiML answering one step of the call."""
        languages = list(dict.fromkeys(self.languages(call.called)))
        language = call.language or languages[0]
        if call.step == "":
            await self.reset(call.caller)
            if len(languages) > 1:
                return self.renderer.language_menu(languages, call.view("new", languages[0]))
            return await self.turn(call, self.adapter.message(call, languages[0]))
        if call.step == "wait":
            return self.renderer.wait(language)
        if call.step == "queue":
            return self.renderer.after_agent(language)
        if call.step == "repeat":
            return await self.repeat(call, language)
        answer = self.adapter.answer(call, languages, self.base)
        if isinstance(answer, str):
            return answer
        return await self.turn(call, answer)

    async def repeat(self, call: Any, language: str) -> str:
        """After a reference or a status: 1 hears it again, 2 the menu, 0 a person; silence ends the call."""
        digits = call.digits or ""
        if digits == "1":
            said = await self.said(call.call_sid)
            return self.renderer.turn(said, call.view("menu", language))
        if digits in ("2", "0"):
            return await self.turn(call, self.adapter.message(call, "menu" if digits == "2" else "agent"))
        if not digits:
            return self.renderer.after_agent(language)
        return self.renderer.ask_again([], call.view("menu", language, repeats=call.repeats + 1), "repeat")

    async def turn(self, call: Any, message: Any) -> str:
        """Run the caller's answer through the dialogue and render what it says and asks next."""
        result = await self.processor.process(message)
        context = self.runtime.dialogue_for(call.called, self.channel)
        session = result.session
        if session is None:
            if result.replies:
                return self.renderer.turn(result.replies, call.view("ended", call.language or context.default_language))
            session = await self.processor.sessions.peek(self.channel, call.caller)
            again = prompt(session, context)
            replies = [OutboundMessage(self.channel, call.caller, call.called, again.text,
                                       tuple(Choice(o.key, o.label) for o in again.options), asks=again.asks)]
        else:
            replies = result.replies
            await self.after_turn(call, session, result.contact_id)
        view = call.view(session.state.value, session.language or context.default_language,
                         misses=session.misses, max_misses=context.max_misses, repeats=0)
        await self.remember(call.call_sid, replies)
        return self.renderer.turn(replies, view)

    async def after_turn(self, call: Any, session: m.Session, contact_id: int | None) -> None:
        """Keep what was collected for a person; text a newly filed reference to a mobile caller."""
        store = self.runtime.store
        if contact_id is None:
            return
        if session.state == m.State.HANDOFF:
            await self.runtime.db(store.record_collected, self.channel, contact_id, collected(session, call))
        reference = session.data.get("last_case")
        if not reference or not is_mobile(call.caller):
            return
        try:
            first = await self.app[REDIS].set(f"{self.prefix}:call:{call.call_sid}:texted:{reference}", "1", nx=True,
                                              ex=CALL_TTL)
        except RedisError:
            first = False
        if first:
            await self.runtime.blocking(self.text_reference, call, reference, contact_id, session.language)

    def text_reference(self, call: Any, reference: str, contact_id: int, language: str | None) -> None:
        """Record the reference as a text to the caller and queue its sending (a blocking call)."""
        store = self.runtime.store
        case = store.get_case(reference)
        if case is None:
            return
        context = self.runtime.dialogue_for(call.called)
        lang = language or context.default_language
        names = self.runtime.deployment.administration_names(case.administration_code)
        administration = names.get(lang) or next(iter(names.values()), "") or catalog_text(
            lang, "administration_unknown", context)
        body = catalog_text(lang, "case_created", context, reference=display(reference), administration=administration)
        drafts = [OutboundDraft(self.channel, contact_id, call.called, call.caller, body, priority="replies",
                                case_id=case.id)]
        queue_sends(WorkLanes(self.app[SYNC_REDIS], self.prefix), store.record_outbound(drafts), drafts)

    async def reset(self, caller: str) -> None:
        """A new call starts a new dialogue."""
        async with self.processor.sessions.locked(self.channel, caller) as held:
            held.session, held.changed = m.Session(), True

    async def remember(self, call_sid: str, replies: list[OutboundMessage]) -> None:
        """Keep what was just said, for "press 1 to hear it again"."""
        said = [{"text": r.text, "choices": [[c.key, c.label] for c in r.choices], "asks": r.asks, "lead": r.lead}
                for r in replies]
        try:
            await self.app[REDIS].set(f"{self.prefix}:call:{call_sid}:said", json.dumps(said, ensure_ascii=False),
                                      ex=CALL_TTL)
        except RedisError as exc:
            log.warning("call %s: what was said is not kept for repeating: %s", call_sid, exc)

    async def said(self, call_sid: str) -> list[OutboundMessage]:
        """What was last said on the call (nothing when Redis lost it)."""
        try:
            raw = await self.app[REDIS].get(f"{self.prefix}:call:{call_sid}:said")
        except RedisError:
            raw = None
        return [OutboundMessage(self.channel, "", "", item["text"], tuple(Choice(k, v) for k, v in item["choices"]),
                                asks=item["asks"], lead=item["lead"]) for item in json.loads(raw or "[]")]

    async def status(self, call: Any) -> None:
        """The call is over: a complaint left half-way goes to the queue as abandoned; the dialogue resets."""
        if not call.ended:
            return
        store = self.runtime.store
        async with self.processor.sessions.locked(self.channel, call.caller) as held:
            session = held.session
            mid_complaint = session.state in WATCHED_STATES
            if mid_complaint or session.state == m.State.HANDOFF:
                contact_id = await self.runtime.db(store.contact_id_for, self.channel, call.caller)
                if contact_id is not None:
                    await self.runtime.db(store.record_collected, self.channel, contact_id, collected(session, call),
                                          "abandoned" if mid_complaint else None)
            held.session, held.changed = m.Session(language=session.language), True

    async def recording(self, call: Any) -> None:
        """The provider says a recording is ready (download it now) or will never be (the attachment failed)."""
        store = self.runtime.store
        source = call.recording_url + self.adapter.recording_suffix
        attachment_id = await self.runtime.db(store.pending_attachment_by_source, source)
        if attachment_id is None:
            return
        if call.recording_status == "completed":
            await queue_downloads(self.app[LANES], [attachment_id])
        elif call.recording_status in ("absent", "failed"):
            await self.runtime.db(store.media_not_stored, attachment_id, "failed", f"recording {call.recording_status}")


def collected(session: m.Session, call: Any) -> dict[str, Any]:
    """What the call collected, for the person who takes it over or calls back."""
    data, submission = session.data, session.submission or m.Submission()
    found = {
        "call_sid": call.call_sid,
        "language": session.language,
        "step": data.get("handoff_from") or session.state.value,
        "kind": submission.kind if session.submission else None,
        "category": submission.category,
        "description": submission.description,
        "location": submission.location_text,
        "callback": submission.callback,
        "anonymous": submission.anonymous or None,
        "recordings": list(submission.media),
        "case": data.get("last_case"),
    }
    return {key: value for key, value in found.items() if value not in (None, "", [])}
