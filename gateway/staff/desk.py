"""What staff do with a conversation that needs a person: shared by the JSON API and the console.

Every action follows the same order: the durable fact first (the `conversations` row, the case, the
recorded outbound message), then the citizen's dialogue is stepped with the matching pure event
(`AgentJoined`, `HandedBack`, `ConversationClosed`, `CaseCreated`) under the contact's lock, and what
the bot says is recorded and sent by the outbound jobs on the citizen's own channel.

The clock lives here too: `sweep_idle` ticks silent mid-complaint sessions (`Idle`: one reminder, then
the queue), and `close_stale` closes conversations left waiting or abandoned, telling the citizen.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.exceptions import RedisError

from channels.base import CallChannel, SendError
from conversations import model as m
from conversations.slots import HANDBACK_STEPS
from core import references
from core.access import can_see_citizen
from core.records import CaseRecord, OutboundDraft, Staff
from core.store.agent_queue import ConsolePolicy, Conversation, TranscriptLine
from gateway.dialogue.effects import EffectScope
from gateway.dialogue.sessions import ContactBusy, SessionStore
from gateway.dialogue.turns import Addressed, DialogueTurns
from gateway.outbound.lanes import WorkLanes, send_work
from gateway.runtime import Runtime

log = logging.getLogger(__name__)

CALL_BACK_WAYS = ("call", "called")
"""`call`: an outbound call through the call channel's provider; `called`: the agent phoned another
way (a note)."""


class Refused(Exception):
    """An action that cannot be done now: `code` for the API, `message` for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


STAFF_DRAFT_FIELDS = ("kind", "category", "description", "location_text", "lat", "lon", "name", "anonymous")
"""What the console shows of the citizen's submission, and what an agent may edit before filing it."""


def draft_from_collected(collected: dict[str, Any]) -> m.Submission:
    """What a phone call collected (kept on its conversation after the caller hung up), as a draft."""
    return m.Submission(
        kind=str(collected.get("kind") or "complaint"),
        category=collected.get("category"),
        description=str(collected.get("description") or ""),
        location_text=str(collected.get("location") or ""),
        anonymous=bool(collected.get("anonymous")),
    )


def draft_from_case(case: CaseRecord, name: str) -> m.Submission:
    """What a filed case holds, as a draft: the conversation's "collected" panel after filing."""
    return m.Submission(kind=case.kind, category=case.category_code, description=case.description,
                        location_text=case.location_text, lat=case.lat, lon=case.lon,
                        name="" if case.anonymous else name, anonymous=case.anonymous)


def draft_of(session: m.Session | None) -> m.Submission:
    """A copy of the submission collected so far (an empty one when there is none)."""
    return session.submission.copy() if session is not None and session.submission else m.Submission()


def draft_json(draft: m.Submission) -> dict[str, Any]:
    """The draft as the console and the API show it."""
    return {name: getattr(draft, name) for name in STAFF_DRAFT_FIELDS}


class Desk:
    """The agent's desk: the store, the citizens' sessions and the outbound queue."""

    def __init__(self, runtime: Runtime, sessions: SessionStore, lanes: WorkLanes, policy: ConsolePolicy) -> None:
        self.runtime = runtime
        self.sessions = sessions
        self.lanes = lanes
        self.turns = DialogueTurns(runtime, sessions, lanes)
        self.policy = policy

    @property
    def prefix(self) -> str:
        """The deployment's Redis key prefix."""
        return self.runtime.settings.queue_prefix

    async def db(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking store call in the store's thread pool."""
        return await self.runtime.db(function, *args, **kwargs)

    # -- reading ---------------------------------------------------------------------------------

    async def conversation(self, conversation_id: int) -> Conversation:
        """The conversation, or `Refused(404)`."""
        found = await self.db(self.runtime.store.conversation, conversation_id)
        if found is None:
            raise Refused(404, "not_found", "no conversation with this id")
        return found

    async def session_of(self, conversation: Conversation) -> m.Session | None:
        """The citizen's dialogue session (read without the lock), or None when they never wrote."""
        addresses = await self.db(self.runtime.store.citizen_addresses, conversation.channel, conversation.contact_id)
        if addresses is None:
            return None
        return await self.sessions.peek(conversation.channel, addresses[0])

    async def reply_window(self, conversation: Conversation, now: datetime | None = None) -> datetime | None:
        """When a person may no longer write freely on the conversation's channel (its reply window,
        or the longer window it gives people); None on channels without one."""
        capabilities = self.runtime.adapter(conversation.channel).capabilities
        window = capabilities.person_window or capabilities.reply_window
        if window is None:
            return None
        addresses = await self.db(self.runtime.store.citizen_addresses, conversation.channel, conversation.contact_id)
        return addresses[2] + window if addresses is not None else now

    async def transcript(self, staff: Staff, conversation: Conversation,
                         session: m.Session | None = None) -> list[TranscriptLine]:
        """What was said in the conversation, as `staff` may read it: nothing of a citizen who chose to
        stay anonymous, for staff bound to an administration (`can_see_citizen`)."""
        session = session or await self.session_of(conversation)
        if not can_see_citizen(staff, conversation.anonymous or draft_of(session).anonymous):
            return []
        since = conversation.created_at - TRANSCRIPT_SPAN
        return await self.db(self.runtime.store.transcript, conversation.channel, conversation.contact_id, since)

    # -- stepping the citizen's dialogue ---------------------------------------------------------

    async def step_citizen(self, conversation: Conversation, event: m.Input) -> list[int]:
        """Step the citizen's dialogue with `event` under their lock; what the bot says is queued."""
        store = self.runtime.store
        addresses = await self.db(store.citizen_addresses, conversation.channel, conversation.contact_id)
        if addresses is None:
            return []
        citizen, ours, _ = addresses
        context = self.runtime.dialogue_for(ours)
        at = getattr(event, "at", datetime.now(UTC))
        scope = EffectScope(conversation.channel, conversation.contact_id, ours, None, at)
        to = Addressed(conversation.channel, conversation.contact_id, ours, citizen, conversation.case_id)
        _, ids = await self.turns.tell(to, event, context, scope, "replies")
        return ids

    # -- actions ---------------------------------------------------------------------------------

    def _holder(self, staff: Staff, conversation: Conversation) -> None:
        """Only the member holding a conversation acts in it: a supervisor steps in by taking it over
        (which the agent is told of), never by writing over the agent's shoulder."""
        if conversation.status != "with_agent":
            raise Refused(409, "not_taken", "take the conversation over first")
        if conversation.agent_id != staff.id:
            raise Refused(409, "held_by_another", f"{conversation.agent} holds this conversation: take it over first")

    async def take_over(self, staff: Staff, conversation_id: int, force: bool = False) -> str:
        """Take the conversation (one agent at a time); the bot goes silent. `taken` or `already_yours`."""
        store = self.runtime.store
        before = await self.conversation(conversation_id)
        result = await self.db(store.take_over, conversation_id, staff.id, self.policy.capacity,
                               force=force and staff.role in ("supervisor", "admin"))
        refusals = {
            "not_found": (404, "no conversation with this id"),
            "closed": (409, "this conversation is closed"),
            "held": (409, "another agent holds this conversation"),
            "at_capacity": (409, f"you already hold {self.policy.capacity} conversations"),
        }
        if result in refusals:
            status, message = refusals[result]
            raise Refused(status, result, message)
        conversation = await self.conversation(conversation_id)
        if result == "taken":
            await self.step_citizen(conversation, m.AgentJoined(staff.username, datetime.now(UTC)))
            await self.db(store.audit, staff.id, "conversation.takeover", None, {"conversation": conversation_id})
            if before.status == "with_agent" and before.agent_id not in (None, staff.id):
                await self.db(store.notify_step_in, before.agent_id, conversation_id, staff.username,
                              datetime.now(UTC))
                await self.db(store.audit, staff.id, "conversation.step_in", None,
                              {"conversation": conversation_id, "from": before.agent})
        return result

    async def take_next(self, staff: Staff) -> int | None:
        """Take the conversation waiting longest, if the agent has room; its id, or None when none waits."""
        for _ in range(5):
            waiting = await self.db(self.runtime.store.oldest_waiting)
            if waiting is None:
                return None
            try:
                await self.take_over(staff, waiting)
            except Refused as refused:
                if refused.code == "held":
                    continue  # another agent was quicker: try the next one
                raise
            return waiting
        return None

    async def send(self, staff: Staff, conversation_id: int, text: str) -> int:
        """Write to the citizen on their channel (an outbound job sends it); the message id."""
        text = text.strip()
        if not text:
            raise Refused(400, "empty", "write something first")
        if len(text) > 1600:
            raise Refused(400, "too_long", "a message is at most 1600 characters")
        conversation = await self.conversation(conversation_id)
        self._holder(staff, conversation)
        now = datetime.now(UTC)
        window = await self.reply_window(conversation, now)
        if window is not None and now > window:
            templates = self.runtime.adapter(conversation.channel).capabilities.templates
            raise Refused(409, "window_closed", "the citizen last wrote too long ago for a free message here"
                          + (": only approved templates may be sent" if templates else ""))
        store = self.runtime.store
        addresses = await self.db(store.citizen_addresses, conversation.channel, conversation.contact_id)
        if addresses is None:
            raise Refused(409, "no_address", "the citizen's address on this channel is unknown")
        citizen, ours, _ = addresses
        draft = OutboundDraft(channel=conversation.channel, contact_id=conversation.contact_id, sender=ours,
                              recipient=citizen, body=text, priority="replies", case_id=conversation.case_id,
                              payload={"agent": staff.username, "conversation": conversation_id})
        [message_id] = await self.turns.record([draft])
        await self.db(store.touch_conversation, conversation_id)
        return message_id

    def templates_for(self, channel: str, language: str) -> list[dict[str, str]] | None:
        """The approved templates an agent may send on `channel` in `language`; None on a channel
        without templates."""
        if not self.runtime.adapter(channel).capabilities.templates:
            return None
        return [{"key": key, "label": template.label or key}
                for key, template in self.runtime.deployment.templates_for(channel).agent_templates(language)]

    async def citizen_language(self, conversation: Conversation) -> str:
        """The language the citizen's dialogue is in."""
        session = await self.session_of(conversation)
        return ((session.language if session else None) or conversation.language
                or self.runtime.deployment.default_language)

    async def send_template(self, staff: Staff, conversation_id: int, key: str, text: str = "") -> int:
        """Send an approved template (what an agent may still send once the channel's reply window has
        closed); `text` fills its `text` variable. The message id."""
        conversation = await self.conversation(conversation_id)
        self._holder(staff, conversation)
        language = await self.citizen_language(conversation)
        offered = {item["key"]: item["label"] for item in self.templates_for(conversation.channel, language) or []}
        if key not in offered:
            choices = ", ".join(offered) or "none"
            raise Refused(400, "unknown_template", f"no approved template {key!r} here (offered: {choices})")
        store = self.runtime.store
        addresses = await self.db(store.citizen_addresses, conversation.channel, conversation.contact_id)
        if addresses is None:
            raise Refused(409, "no_address", "the citizen's address on this channel is unknown")
        citizen, ours, _ = addresses
        case = await self.db(store.get_case_by_id, conversation.case_id) if conversation.case_id else None
        values = {"reference": references.display(case.reference) if case else ""}
        draft = OutboundDraft(channel=conversation.channel, contact_id=conversation.contact_id, sender=ours,
                              recipient=citizen, body=text.strip() or offered[key], priority="replies",
                              case_id=conversation.case_id,
                              payload={"agent": staff.username, "conversation": conversation_id, "template": key,
                                       "language": language, "values": values})
        [message_id] = await self.turns.record([draft])
        await self.db(store.touch_conversation, conversation_id)
        return message_id

    async def call_back(self, staff: Staff, conversation_id: int, how: str) -> dict[str, Any]:
        """A caller left in the queue (pressed 0, hung up mid-way) is called back: `call` places an
        outbound call that puts them through to a person; `called` notes that the agent phoned them
        another way and closes the conversation."""
        if how not in CALL_BACK_WAYS:
            raise Refused(400, "bad_request", f"how must be one of {', '.join(CALL_BACK_WAYS)}")
        conversation = await self.conversation(conversation_id)
        adapter = self.runtime.adapter(conversation.channel)
        if not isinstance(adapter, CallChannel):
            raise Refused(409, "not_a_call", "only conversations from the voice line are called back")
        self._holder(staff, conversation)
        store = self.runtime.store
        addresses = await self.db(store.citizen_addresses, conversation.channel, conversation.contact_id)
        if addresses is None:
            raise Refused(409, "no_address", "the caller's number is unknown")
        caller, ours, _ = addresses
        detail = {"conversation": conversation_id, "how": how, "to": caller}
        if how == "call":
            try:
                detail["call_sid"] = await adapter.call_back(caller, ours, await self.citizen_language(conversation))
            except SendError as error:
                raise Refused(502, "call_failed", f"the call could not be placed: {error}") from error
            await self.db(store.touch_conversation, conversation_id)
        else:
            await self.db(store.finish_conversation, conversation_id, "called_back")
        if conversation.case_id is not None:
            case = await self.db(store.get_case_by_id, conversation.case_id)
            if case is not None:
                note = "called back by phone" if how == "call" else "phoned the caller back"
                await self.db(store.add_note, case.reference, staff.username, note)
        await self.db(store.audit, staff.id, "conversation.call_back", conversation.case_id, detail)
        return detail

    async def retry(self, staff: Staff, conversation_id: int, message_id: int) -> None:
        """Send a failed message again (a new send job, its attempts counted afresh)."""
        conversation = await self.conversation(conversation_id)
        self._holder(staff, conversation)
        store = self.runtime.store
        message = await self.db(store.outbound_of, message_id)
        if message is None or message["contact_id"] != conversation.contact_id or \
                message["channel"] != conversation.channel:
            raise Refused(404, "not_found", "no such message in this conversation")
        if not await self.db(store.retry_failed, message_id):
            raise Refused(409, "not_failed", f"the message is {message['status']}, not failed")
        await self.lanes.enqueue([send_work(message_id, message["channel"], message["sender"], message["recipient"],
                                            "replies")])
        await self.db(store.audit, staff.id, "message.retry", None, {"message": message_id})

    async def file_case(self, staff: Staff, conversation_id: int, fields: dict[str, Any]) -> str:
        """File the case from what was collected, with the agent's edits; the citizen gets the reference."""
        conversation = await self.conversation(conversation_id)
        self._holder(staff, conversation)
        if conversation.case_id is not None:
            raise Refused(409, "already_filed", f"case {conversation.case_reference} was filed from this conversation")
        session = await self.session_of(conversation)
        draft = replace(draft_of(session), **{key: value for key, value in fields.items() if key in STAFF_DRAFT_FIELDS})
        store = self.runtime.store
        if not draft.category or store.deployment.category(draft.category) is None:
            known_codes = ", ".join(c.code for c in store.deployment.categories)
            raise Refused(400, "bad_category", f"choose a category (one of {known_codes})")
        if len("".join(draft.description.split())) < 3:
            raise Refused(400, "bad_description", "the description is too short")
        addresses = await self.db(store.citizen_addresses, conversation.channel, conversation.contact_id)
        language = (session.language if session else None) or conversation.language or "ar"
        now = datetime.now(UTC)
        try:
            record = await self.db(
                store.create_case, kind=draft.kind, category=draft.category, description=draft.description,
                location_text=draft.location_text, lat=draft.lat, lon=draft.lon, language=language,
                anonymous=draft.anonymous, name="" if draft.anonymous else draft.name,
                contact_id=conversation.contact_id, origin_channel=conversation.channel,
                channel_address=addresses[1] if addresses else "", now=now,
            )
        except ValueError as exc:
            raise Refused(400, "bad_request", str(exc)) from exc
        if draft.media:
            await self.db(store.attach_to_case, record.id, tuple(draft.media), "citizen", now)
        await self.db(store.touch_conversation, conversation_id, record.id)
        await self.db(store.add_note, record.reference, staff.username,
                      f"filed by {staff.username} from conversation {conversation_id}")
        await self.db(store.audit, staff.id, "case.file", record.id, {"conversation": conversation_id})
        event = m.CaseCreated(record.reference, store.deployment.administration_names(record.administration_code), now)
        await self.step_citizen(replace(conversation, case_id=record.id), event)
        return record.reference

    async def hand_back(self, staff: Staff, conversation_id: int, step: str) -> None:
        """Give the conversation back to the bot at `step` (see `conversations.slots.HANDBACK_STEPS`)."""
        if step not in HANDBACK_STEPS:
            raise Refused(400, "bad_step", f"step must be one of: {', '.join(HANDBACK_STEPS)}")
        conversation = await self.conversation(conversation_id)
        self._holder(staff, conversation)
        if not await self.db(self.runtime.store.finish_conversation, conversation_id, "handed_back"):
            raise Refused(409, "closed", "this conversation is closed")
        await self.step_citizen(conversation, m.HandedBack(step, datetime.now(UTC)))
        await self.db(self.runtime.store.audit, staff.id, "conversation.handback", conversation.case_id,
                      {"conversation": conversation_id, "step": step})

    async def close(self, staff: Staff, conversation_id: int) -> None:
        """Close the conversation; the citizen is told and the bot is back."""
        conversation = await self.conversation(conversation_id)
        if conversation.status == "with_agent":
            self._holder(staff, conversation)
        elif staff.role not in ("agent", "supervisor", "admin"):
            raise Refused(403, "forbidden", "your role cannot close conversations")
        if not await self.db(self.runtime.store.finish_conversation, conversation_id, "closed_by_agent"):
            raise Refused(409, "closed", "this conversation is closed")
        await self.step_citizen(conversation, m.ConversationClosed("closed_by_agent", datetime.now(UTC)))
        await self.db(self.runtime.store.audit, staff.id, "conversation.close", conversation.case_id,
                      {"conversation": conversation_id})

    # -- the clock ---------------------------------------------------------------------------------

    async def close_stale(self, now: datetime | None = None) -> int:
        """Close conversations left waiting or abandoned too long, telling each citizen; how many."""
        now = now or datetime.now(UTC)
        store = self.runtime.store
        done = 0
        for conversation_id, reason in await self.db(store.stale_conversations, now, self.policy):
            conversation = await self.db(store.conversation, conversation_id)
            if conversation is None or not await self.db(store.finish_conversation, conversation_id, reason):
                continue
            await self.step_citizen(conversation, m.ConversationClosed(reason, now))
            done += 1
        return done

    async def sweep_idle(self, now: datetime | None = None) -> int:
        """Tick every session silent mid-complaint for longer than the reminder delay; how many."""
        now = now or datetime.now(UTC)
        due = await self.sessions.idle_since(now - self.policy.remind_after)
        ticked = 0
        for channel, citizen in due:
            contact_id = await self.db(self.runtime.store.contact_id_for, channel, citizen)
            if contact_id is None:
                await self.sessions.forget_idle(channel, citizen)
                continue
            addresses = await self.db(self.runtime.store.citizen_addresses, channel, contact_id)
            if addresses is None:
                continue
            ours = addresses[1]
            context = self.runtime.dialogue_for(ours)
            scope = EffectScope(channel, contact_id, ours, None, now)
            event = m.Idle(now, self.policy.remind_after, self.policy.stall_after)
            try:
                await self.turns.tell(Addressed(channel, contact_id, ours, citizen), event, context, scope,
                                      "replies")
            except (RedisError, OSError, ContactBusy):
                raise
            except Exception:  # one session that cannot be ticked must not stop every other reminder
                log.exception("idle tick of %s:%s failed; it is no longer watched", channel, citizen)
                await self.sessions.forget_idle(channel, citizen)
                continue
            ticked += 1
        return ticked


TRANSCRIPT_SPAN = timedelta(days=2)
"""How far back before the hand-off the transcript goes."""


async def conversation_detail(desk: Desk, staff: Staff, conversation_id: int) -> dict[str, Any]:
    """Everything an agent sees of one conversation (the view is audited: it shows the contact)."""
    conversation = await desk.conversation(conversation_id)
    store = desk.runtime.store
    session = await desk.session_of(conversation)
    draft = draft_of(session)
    shown = can_see_citizen(staff, conversation.anonymous or draft.anonymous)
    lines = await desk.transcript(staff, conversation, session)
    window = await desk.reply_window(conversation)
    left = await desk.db(store.collected, conversation_id)
    collected = left[2] if left and shown else {}
    if not draft.description and collected:
        draft = draft_from_collected(collected)
    if not draft.description and conversation.case_id is not None:
        filed = await desk.db(store.get_case_by_id, conversation.case_id)
        if filed is not None:
            draft = draft_from_case(filed, conversation.contact_name)
    await desk.db(store.audit, staff.id, "conversation.view", conversation.case_id,
                  {"conversation": conversation_id, "identity": shown})
    return {
        **conversation.to_json(),
        "contact": {
            "name": conversation.contact_name or None,
            "phone": conversation.contact_phone,
            "address": conversation.contact_address,
        } if shown else {"name": None, "phone": None, "address": None},
        "identity_withheld": not shown,
        "dialogue": {
            "state": session.state.value if session else None,
            "language": (session.language if session else None) or conversation.language,
            "draft": draft_json(draft) if shown else {**draft_json(draft), "name": "", "callback": ""},
        },
        "collected": collected,
        "reply_window_closes_at": window.isoformat() if window else None,
        "templates": desk.templates_for(conversation.channel, await desk.citizen_language(conversation)) or [],
        "transcript": [line.to_json() for line in lines],
    }
