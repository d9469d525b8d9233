"""One way to step a citizen's dialogue and record what the bot says: every caller uses it.

A webhook's message, a status notice, an agent's action and the idle reminder all do the same thing:
take the contact's lock, load the session, run the pure dialogue with its effects (`run_turn`), save
the session, release the lock; then turn each thing said into an outbound draft (numbered text for
channels without buttons, and the buttons' own text, choices and location/phone request for those
with them), record the drafts and queue their sends. `DialogueTurns.take` is the first half (the
webhook path records its replies together with marking its message processed); `tell` is both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from channels.base import Choice, numbered_text
from conversations import model as m
from core.records import OutboundDraft
from gateway.dialogue.effects import EffectScope
from gateway.dialogue.sessions import SessionStore
from gateway.dialogue.stepping import run_turn
from gateway.outbound.lanes import WorkLanes
from gateway.outbound.queues import queue_sends
from gateway.runtime import Runtime


@dataclass(frozen=True)
class Addressed:
    """Who a turn's replies go to, and from which of our numbers."""

    channel: str
    contact_id: int | None
    ours: str
    citizen: str
    case_id: int | None = None


def choices_payload(text: str, choices: Sequence[Choice | m.Option], request: tuple[str, str] | None,
                    ) -> dict[str, Any] | None:
    """What a reply sent by a job needs besides its numbered text: its own text, its choices and its
    location or phone request (for channels with buttons); None when it has none."""
    if not choices and request is None:
        return None
    return {
        "text": text,
        "choices": [[choice.key, choice.label] for choice in choices],
        "request": list(request) if request else None,
    }


def rendered(say: m.Say) -> str:
    """A reply as plain text: its choices as numbered lines."""
    return numbered_text(say.text, [Choice(o.key, o.label) for o in say.options])


def drafts_for(says: Sequence[m.Say], to: Addressed, priority: str,
               extra: Callable[[int, m.Say], dict[str, Any] | None] | None = None) -> list[OutboundDraft]:
    """The outbound drafts of what the bot says (with `extra(index, say)` merged into each payload)."""
    drafts = []
    for index, say in enumerate(says):
        own = choices_payload(say.text, say.options, say.request) or {}
        payload = {**((extra(index, say) if extra else None) or {}), **own}
        drafts.append(OutboundDraft(channel=to.channel, contact_id=to.contact_id, sender=to.ours,
                                    recipient=to.citizen, body=rendered(say), priority=priority,
                                    case_id=to.case_id, payload=payload or None))
    return drafts


@dataclass(frozen=True)
class Taken:
    """A turn's outcome: the session after it and what it said (`replayed`: said the first time the
    turn was taken, given back because the session had taken it already)."""

    session: m.Session
    says: list[m.Say]
    replayed: bool = False


LAST_TURN = "last_turn"
LAST_SAID = "last_said"
"""Session keys: the id of the last turn taken in, and what it said."""


def say_to_json(say: m.Say) -> dict[str, Any]:
    """A reply as kept in the session."""
    return {"text": say.text, "options": [[o.key, o.label] for o in say.options],
            "request": list(say.request) if say.request else None, "asks": say.asks, "lead": say.lead}


def say_from_json(raw: dict[str, Any]) -> m.Say:
    """A reply kept by `say_to_json`."""
    request = raw.get("request")
    return m.Say(str(raw.get("text", "")), tuple(m.Option(str(k), str(v)) for k, v in raw.get("options") or []),
                 (str(request[0]), str(request[1])) if isinstance(request, list) and len(request) == 2 else None,
                 str(raw.get("asks", "")), str(raw.get("lead", "")))


class DialogueTurns:
    """Steps dialogues under their contact's lock, and records and queues what they say."""

    def __init__(self, runtime: Runtime, sessions: SessionStore, lanes: WorkLanes) -> None:
        self.runtime = runtime
        self.sessions = sessions
        self.lanes = lanes

    async def take(self, channel: str, citizen: str, given: m.Input, context: m.DialogueContext,
                   scope: EffectScope, *, language: str | None = None, turn_id: str | None = None,
                   ) -> Taken:
        """Lock, load, step (effects included), save. `language` seeds a session that has none.

        `turn_id` names what the turn takes in (an inbound message, a status event). The session
        keeps the last turn's id with what it said, saved in the same Redis call that saves the
        session: a turn done again (Redis died as it saved, a worker was killed after) is not stepped
        twice, and gives back what it said the first time, so its replies are still recorded and sent."""
        async with self.sessions.locked(channel, citizen) as held:
            if turn_id is not None and held.session.data.get(LAST_TURN) == turn_id:
                return Taken(held.session, [say_from_json(raw) for raw in held.session.data.get(LAST_SAID) or []],
                             replayed=True)
            if held.session.language is None and language:
                held.session.language = language
            session, says = await run_turn(self.runtime, held.session, given, context, scope)
            if turn_id is not None:
                session.data[LAST_TURN] = turn_id
                session.data[LAST_SAID] = [say_to_json(say) for say in says]
            held.session, held.changed = session, True
        return Taken(session, says)

    async def record(self, drafts: Sequence[OutboundDraft]) -> list[int]:
        """Record drafts as queued outbound messages and queue their sends; their ids."""
        if not drafts:
            return []
        ids = await self.runtime.db(self.runtime.store.record_outbound, list(drafts))
        await self.queue_sends(ids, drafts)
        return ids

    async def queue_sends(self, ids: Sequence[int], drafts: Sequence[OutboundDraft]) -> None:
        """Queue the sends of recorded messages (`drafts` in the same order as `ids`)."""
        if ids:
            await queue_sends(self.lanes, ids, drafts)

    async def tell(self, to: Addressed, given: m.Input, context: m.DialogueContext, scope: EffectScope,
                   priority: str, language: str | None = None,
                   extra: Callable[[m.Session, int, m.Say], dict[str, Any] | None] | None = None,
                   ) -> tuple[m.Session, list[int]]:
        """Step the citizen's dialogue with an event and send what it says; the session and the
        message ids. `language` seeds a session that has none; `extra` adds to each reply's payload."""
        taken = await self.take(to.channel, to.citizen, given, context, scope, language=language)
        session, says = taken.session, taken.says
        shaped = (lambda index, say: extra(session, index, say)) if extra else None
        return session, await self.record(drafts_for(says, to, priority, shaped))
