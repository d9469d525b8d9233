"""One step's working state: the session being changed, the replies and effects collected so far.

Handlers in `states`, `fallbacks` and `events` act on a `Turn`; `engine.step` makes one from the
caller's session (a copy: the caller's object is never changed) and turns it into an `Outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conversations import language, prompts
from conversations.catalog import text
from conversations.model import (
    AT_REST,
    DialogueContext,
    Effect,
    Outcome,
    Say,
    Session,
    SetLanguage,
    State,
    Submission,
    UserMessage,
)
from conversations.slots import FLOW_STATES

QUESTION_KEYS = ("cat_page", "editing", "media_ack_at")
"""What the questions of a submission keep beside it (the category page shown, editing from the
summary, the last photo acknowledgement): dropped with it."""


@dataclass
class Turn:
    """The session being changed by one step, with what the step says and does."""

    session: Session
    ctx: DialogueContext
    message: UserMessage | None = None
    replies: list[Say] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missed: bool = False
    resuming: bool = False
    """Mid-submission after a pause: a valid answer is welcomed back, anything else re-asks."""
    fresh: bool = False
    """Idle for long at rest (or in a side question): anything unexpected starts afresh."""

    @classmethod
    def begin(cls, session: Session, ctx: DialogueContext, message: UserMessage | None = None) -> Turn:
        """A turn on a private copy of `session`."""
        return cls(session=session.copy(), ctx=ctx, message=message)

    @property
    def lang(self) -> str:
        """The session's language (the deployment default until one is decided)."""
        return self.session.language or self.ctx.default_language

    @property
    def data(self) -> dict[str, Any]:
        """The session's data."""
        return self.session.data

    @property
    def draft(self) -> Submission:
        """The submission being written (an empty one is started when there is none)."""
        if self.session.submission is None:
            self.session.submission = Submission()
        return self.session.submission

    def start_draft(self, kind: str) -> Submission:
        """A fresh submission of `kind` (anything half-written before is dropped)."""
        self.drop_draft()
        self.session.submission = Submission(kind=kind)
        return self.session.submission

    def t(self, key: str, **kw: Any) -> str:
        """A catalog text in the session's language."""
        return text(self.lang, key, self.ctx, **kw)

    def note(self, line: str) -> None:
        """A line to put before the next message (or to send alone at the end of the step)."""
        self.notes.append(line)

    def emit(self, say: Say) -> None:
        """Send `say`, with any pending notes put before it."""
        self.replies.extend(prompts.merge(self.notes, say))
        self.notes.clear()

    def say(self, key: str, **kw: Any) -> None:
        """Send one catalog text."""
        self.emit(Say(self.t(key, **kw)))

    def ask(self) -> None:
        """Ask the current state's question."""
        self.emit(prompts.prompt(self.session, self.ctx))

    def goto(self, state: State) -> None:
        """Move to `state`."""
        self.session.state = state

    def do(self, effect: Effect) -> None:
        """Ask the gateway to apply `effect`."""
        self.effects.append(effect)

    def set_language(self, lang: str, *, decided: bool = True) -> None:
        """Use `lang` from now on; tell the gateway when it was decided or it changed."""
        changed = self.session.language != lang
        self.session.language = lang
        if decided or changed:
            self.effects = [e for e in self.effects if not isinstance(e, SetLanguage)]
            self.do(SetLanguage(lang))

    def decide_language(self, text: str) -> None:
        """The language of a first message: its words' when they tell, else the one already kept,
        else the language the citizen's app is set to (a channel's hint), else the deployment's."""
        detected = language.detect(text, self.ctx) if text else None
        if detected:
            self.set_language(detected)
            return
        if self.session.language in self.ctx.languages:
            return
        hint = self.message.language_hint if self.message is not None else ""
        if hint in self.ctx.languages:
            self.set_language(hint)
            return
        fallback = self.ctx.default_language
        self.set_language(fallback if fallback in self.ctx.languages else self.ctx.languages[0], decided=False)

    def drop_draft(self) -> bool:
        """Forget the half-written submission; True when there was one."""
        had = self.session.state in FLOW_STATES or self.session.submission is not None
        self.session.submission = None
        for key in QUESTION_KEYS:
            self.data.pop(key, None)
        return had

    def rest(self, *, show_menu: bool) -> None:
        """Come to rest: back to an interrupted question, else a stashed rating, else the menu."""
        self.data.pop("track_purpose", None)
        self.data.pop("open_cases", None)
        back_to = self.data.pop("return_to", None)
        if back_to:
            self.goto(State(back_to))
            self.ask()
            return
        pending = self.data.pop("pending_rating", None)
        if pending:
            self.data["rating_ref"] = pending
            self.goto(State.RATE)
            self.ask()
            return
        self.goto(State.MENU)
        if show_menu:
            self.ask()

    def forget_rating(self) -> None:
        """The rating and reopen questions are over."""
        for key in ("rating_ref", "reopen_ref", "offered_reopen"):
            self.data.pop(key, None)

    def outcome(self) -> Outcome:
        """The step's result; notes with no message after them are sent on their own."""
        if self.notes:
            self.replies.append(Say("\n".join(self.notes)))
            self.notes.clear()
        return Outcome(self.session, tuple(self.replies), tuple(self.effects))


def at_rest(session: Session) -> bool:
    """True when nothing is half-done, so a rating question may be asked now."""
    return session.state in AT_REST
