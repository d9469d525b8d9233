"""One step's working state: the session being changed, the replies and effects collected so far.

Handlers in `states`, `fallbacks` and `events` act on a `Turn`; `engine.step` makes one from the
caller's session (a copy: the caller's object is never changed) and turns it into an `Outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conversations import prompts
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
    UserMessage,
)

DRAFT_KEYS = (
    "kind",
    "category",
    "description",
    "location_text",
    "lat",
    "lon",
    "name",
    "callback",
    "anonymous",
    "cat_page",
    "editing",
    "media",
    "media_count",
    "prefilled",
    "media_ack_at",
)
"""What a half-written submission keeps in `session.data`; dropped on cancel, expiry and filing."""

FLOW_STATES = frozenset(
    {State.CATEGORY, State.DESCRIPTION, State.LOCATION, State.NAME, State.CONFIRM, State.EDIT, State.SUBMITTING}
)
"""States in the middle of a submission: they expire, and a pause earns a welcome-back."""


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

    def first_missing(self) -> State | None:
        """The first question of the submission still unanswered, if any (after a hand-back from a
        person, or a damaged session)."""
        data = self.data
        if data.get("category") is None:
            return State.CATEGORY
        if not data.get("description"):
            return State.DESCRIPTION
        if not data.get("location_text") and data.get("lat") is None:
            return State.LOCATION
        if not data.get("anonymous") and not data.get("name") and not data.get("callback"):
            return State.NAME
        return None

    @property
    def lang(self) -> str:
        """The session's language (the deployment default until one is decided)."""
        return self.session.language or self.ctx.default_language

    @property
    def data(self) -> dict[str, Any]:
        """The session's data."""
        return self.session.data

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

    def drop_draft(self) -> bool:
        """Forget the half-written submission; True when there was one."""
        had = self.session.state in FLOW_STATES or "kind" in self.data
        for key in DRAFT_KEYS:
            self.data.pop(key, None)
        return had

    def rest(self, *, show_menu: bool) -> None:
        """Come to rest: back to an interrupted question, else a stashed rating, else the menu."""
        self.data.pop("track_purpose", None)
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
