"""The dialogue engine: `step(session, input, context) -> Outcome`, pure.

Read it as a `ConversationHandler`: an entry point (`states.start`, for a first message), a table
from each state to the handler of the citizen's answer, fallbacks tried first at every state (global
commands and a bare case reference, `fallbacks.handle`), and a table of system events. Around them,
the clock: time comes only from the input (`inp.at`) compared with `session.updated_at`:

- mid-submission, silent longer than `ctx.session_timeout`: the draft expires, start again;
- mid-submission, silent longer than `ctx.resume_notice_after`: a valid answer is taken with a
  "welcome back"; anything else re-asks the question (not counted as a miss);
- at rest or in a side question, after a long silence: anything unexpected starts afresh.

No I/O, no clock, no randomness: the same inputs always give the same outcome.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from conversations import catalog, commands, fallbacks, photos, prompts, slots, states
from conversations.events import EVENT_HANDLERS
from conversations.model import DialogueContext, Input, LinkPhone, Outcome, Say, Session, State, UserMessage
from conversations.slots import FLOW_STATES
from conversations.turn import Turn
from conversations.understanding import answers
from conversations.understanding.labels import option_for as labels_understood

Handler = Callable[[Turn, str], None]

HANDLERS: dict[State, Handler] = {
    State.MENU: states.on_menu,
    State.CATEGORY: states.on_category,
    State.CATEGORY_CHECK: states.on_category_check,
    State.DESCRIPTION: states.on_description,
    State.LOCATION: states.on_location,
    State.NAME: states.on_name,
    State.CONFIRM: states.on_confirm,
    State.DUPLICATE_OFFER: states.on_duplicate_offer,
    State.EDIT: states.on_edit,
    State.SUBMITTING: states.on_submitting,
    State.TRACK: states.on_track,
    State.RATE: states.on_rate,
    State.REOPEN_OFFER: states.on_reopen_offer,
    State.REOPEN_REASON: states.on_reopen_reason,
    State.ADD_MEDIA: states.on_add_media,
}
"""State -> handler of the citizen's answer (NEW and HANDOFF are handled before the fallbacks)."""

SIDE_STATES = frozenset(
    {State.TRACK, State.RATE, State.REOPEN_OFFER, State.REOPEN_REASON, State.HANDOFF, State.ADD_MEDIA}
)
"""Questions outside a submission: after `session_timeout`, an unexpected message starts afresh."""


def step(session: Session, inp: Input, ctx: DialogueContext) -> Outcome:
    """The new session, replies and effects for one citizen message or system event."""
    turn = Turn.begin(session, ctx, inp if isinstance(inp, UserMessage) else None)
    if isinstance(inp, UserMessage):
        _on_message(turn, inp)
    else:
        handler = EVENT_HANDLERS.get(type(inp))
        if handler is not None:
            handler(turn, inp)
    return turn.outcome()


def _on_message(turn: Turn, message: UserMessage) -> None:
    """Route a citizen's message: entry point, clock, fallbacks, then the state's handler."""
    session, ctx = turn.session, turn.ctx
    if message.edited:
        turn.say("edit_ignored")
        return
    gap = message.at - session.updated_at if session.updated_at is not None else None
    session.updated_at = message.at
    if message.shared_phone is not None and session.state != State.HANDOFF:
        _on_shared_contact(turn, message)
        return
    if message.button is not None and message.button_choices is not None and _stale_button(turn, message):
        if session.state == State.NEW:
            session.state = State.MENU
        turn.say("button_stale")
        turn.ask()
        return
    command = _sentence_command(turn, message.text) if message.button is None else None
    text = (command or message.button or _option_key(turn, message.text) or "").strip()
    visual = photos.carries_media(message) or photos.carries_pin(message)
    if session.state == State.NEW:
        if visual and not photos.is_command(text, turn):
            photos.start_report(turn, message, text, intro="greeting")
        else:
            states.start(turn, text)
        return
    if gap is not None and session.state in FLOW_STATES and gap > ctx.session_timeout:
        turn.drop_draft()
        turn.data.pop("return_to", None)
        if visual and not photos.is_command(text, turn):
            photos.start_report(turn, message, text, intro="expired")
        else:
            states.start(turn, text, intro="expired")
        return
    if gap is not None:
        turn.resuming = session.state in slots.DRAFTING and gap > ctx.resume_notice_after
        idle_limit = ctx.resume_notice_after if session.state == State.MENU else ctx.session_timeout
        turn.fresh = session.state in SIDE_STATES | {State.MENU} and gap > idle_limit
    if session.state == State.HANDOFF:
        states.on_handoff(turn, text)
        return
    if visual and photos.handle(turn, message, text):
        if not turn.missed:
            session.misses = 0
        return
    if not fallbacks.handle(turn, text):
        HANDLERS[session.state](turn, text)
    if not turn.missed:
        session.misses = 0
        if turn.resuming and turn.replies:
            first, *rest = turn.replies
            turn.replies = [*prompts.merge([turn.t("welcome_back")], first), *rest]


FREE_TEXT_STATES = slots.FREE_TEXT | {State.REOPEN_REASON, State.HANDOFF}
"""Where whatever the citizen writes is their answer (a description may well mention "a person")."""


SENTENCE_COMMANDS = {"agent": commands.Command.AGENT, "track": commands.Command.TRACK}
"""Intents a sentence may carry that work like a command: asking for a person ("je veux parler à
quelqu'un"), asking where a complaint is ("wach chkayti tsalat?")."""


def _sentence_command(turn: Turn, text: str) -> str | None:
    """The command a sentence surely asks for (not already a command word, and not where whatever is
    written is the answer), before its words are matched to the question's options ("where is my
    complaint?" names the menu's "Complaint")."""
    if (turn.session.state in FREE_TEXT_STATES or len(text.split()) < 2
            or commands.parse(text, turn.ctx.languages) is not None):
        return None
    reading = answers.reading_of(text, turn.ctx)
    command = SENTENCE_COMMANDS.get(reading.intent)
    return command.value if command is not None and reading.is_sure(reading.intent) else None


def _stale_button(turn: Turn, message: UserMessage) -> bool:
    """True for a press on a keyboard that is not the current question's (or was forged); a global
    command (a language, menu...) is never stale: it works at every step."""
    button = message.button or ""
    if commands.parse(button, turn.ctx.languages) is not None:
        return not message.button_choices
    if turn.session.state in (State.NEW, State.HANDOFF):
        return turn.session.state == State.NEW or not message.button_choices
    current = tuple((o.key, o.label) for o in prompts.prompt(turn.session, turn.ctx).options)
    offered = tuple(message.button_choices or ())
    return not offered or offered != current or button not in dict(current)


def _option_key(turn: Turn, text: str) -> str:
    """An answer naming an option as its key: the whole option line (`0 Stay anonymous`, as a reply
    keyboard sends it), or the option's words in any of the deployment's languages ("déchets",
    "النفايات", "Envoyer": `understanding.labels`); else the text as it came."""
    stripped = text.strip()
    if not stripped or turn.session.state in (State.NEW, State.HANDOFF):
        return text
    options = prompts.prompt(turn.session, turn.ctx).options
    if not options or stripped.upper() in {option.key.upper() for option in options}:
        return text
    for option in options:
        if stripped == f"{option.key} {option.label}":
            return option.key
    labels: dict[str, list[str]] = {option.key: [option.label] for option in options}
    for language in turn.ctx.languages:
        if language != turn.session.language:
            for option in prompts.prompt(dataclasses.replace(turn.session, language=language), turn.ctx).options:
                labels.setdefault(option.key, []).append(option.label)
    return labels_understood(stripped, labels) or text


def _on_shared_contact(turn: Turn, message: UserMessage) -> None:
    """A phone contact: the citizen's own is linked (the answer comes as `PhoneLinked`); at the name
    question its name is the answer. Someone else's card is declined."""
    if not message.shared_own:
        if turn.session.state == State.NEW:
            turn.goto(State.MENU)
        turn.say("contact_not_yours")
        turn.ask()
        return
    turn.do(LinkPhone(message.shared_phone or ""))
    if turn.session.state == State.NAME and message.shared_name.strip():
        turn.data["phone_asked"] = True
        states.on_name(turn, message.shared_name)
    elif turn.session.state == State.NEW:
        turn.goto(State.MENU)


def fallback_text(lang: str | None, key: str, ctx: DialogueContext, **kw: Any) -> str:
    """A stand-alone catalog text for the gateway (`service_busy`, `opted_out`, `agent_ack`...)."""
    return catalog.text(lang, key, ctx, **kw)


def fallback_say(lang: str | None, key: str, ctx: DialogueContext, **kw: Any) -> Say:
    """The same text as a `Say`, ready to send."""
    return Say(fallback_text(lang, key, ctx, **kw))
