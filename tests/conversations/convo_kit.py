"""Shared test kit for dialogue tables: the example deployment, scripted steps, and one runner.

A row is a session before and a script of steps; each step is an input (a citizen's text, a built
`UserMessage`, or a system event) and what must hold after it: the state, the effects (exactly),
catalog texts and literal strings that must (or must not) appear in the replies as an SMS shows them.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import MISSING as MISSING_FIELD
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from channels.base import Choice, numbered_text
from conversations.catalog import template
from conversations.engine import step
from conversations.model import (
    CategoryOption,
    DialogueContext,
    Effect,
    Input,
    Outcome,
    Session,
    State,
    Submission,
    UserMessage,
)
from core.references import check_digit, display

T0 = datetime(2026, 3, 2, 9, 0, 0)

CATEGORIES = (
    ("waste", "النفايات", "Déchets", "Waste collection"),
    ("lighting", "الإنارة العمومية", "Éclairage public", "Public lighting"),
    ("roads", "الطرق", "Voirie", "Roads"),
    ("water", "الماء والتطهير", "Eau et assainissement", "Water and sanitation"),
    ("green", "المساحات الخضراء", "Espaces verts", "Green spaces"),
    ("markets", "الأسواق", "Marchés", "Markets"),
    ("civil", "الحالة المدنية والوثائق", "État civil et documents", "Civil status and documents"),
    ("planning", "التعمير", "Urbanisme", "Urban planning"),
    ("other", "أخرى", "Autre", "Other"),
)

CTX = DialogueContext(
    categories=tuple(CategoryOption(code, {"ar": ar, "fr": fr, "en": en}) for code, ar, fr, en in CATEGORIES)
)
CTX_DARIJA_FR = DialogueContext(categories=CTX.categories, darija_latin_language="fr")
CTX_MANY = DialogueContext(
    categories=tuple(CategoryOption(f"c{n}", {"en": f"Topic {n}", "fr": f"Thème {n}"}) for n in range(1, 13)),
    default_language="en",
)

REF = "482913057" + check_digit("482913057")
REF2 = "731500264" + check_digit("731500264")
BAD_REF = REF[:-1] + str((int(REF[-1]) + 1) % 10)
ADMIN = {"ar": "جماعة الرباط", "fr": "Commune de Rabat", "en": "Rabat commune"}

DRAFT = {
    "kind": "complaint",
    "category": "lighting",
    "description": "Le lampadaire est éteint depuis deux semaines",
    "location_text": "Rue 5, Hay Salam",
    "anonymous": False,
    "name": "Fatima",
}


SUBMISSION_FIELDS = {f.name: f for f in fields(Submission)}


def session(state: State = State.MENU, lang: str | None = "fr", misses: int = 0, **data: Any) -> Session:
    """A session as the gateway would load it, last touched at T0; keys naming a `Submission` field
    go to its submission (one is made when any is given)."""
    drafted = {key: data.pop(key) for key in list(data) if key in SUBMISSION_FIELDS}
    submission = Submission(**drafted) if drafted else None
    return Session(state=state, language=lang, data=dict(data), misses=misses, updated_at=T0, submission=submission)


def observed(session: Session, key: str) -> tuple[bool, Any]:
    """Whether the session holds `key` and its value: a `Submission` field (set when the session has a
    submission and the field is not at its default; `kind` whenever there is a submission), else a
    key of `session.data`."""
    if key not in SUBMISSION_FIELDS:
        return key in session.data, session.data.get(key)
    submission = session.submission
    if submission is None:
        return False, None
    value = getattr(submission, key)
    spec = SUBMISSION_FIELDS[key]
    default = spec.default_factory() if spec.default_factory is not MISSING_FIELD else spec.default
    return key == "kind" or value != default, value


def draft_session(state: State, lang: str = "fr", **extra: Any) -> Session:
    """A session mid-submission with every answer up to `state` given."""
    order = ["kind", "category", "description", "location_text", "name"]
    upto = {
        State.CATEGORY: 1,
        State.DESCRIPTION: 2,
        State.LOCATION: 3,
        State.NAME: 4,
        State.CONFIRM: 5,
        State.EDIT: 5,
        State.SUBMITTING: 5,
    }[state]
    data = {key: DRAFT[key] for key in order[:upto]}
    if upto == 5:
        data["anonymous"] = False
    if state == State.CATEGORY:
        data["cat_page"] = 0
    data.update(extra)
    return session(state, lang, **data)


def pin(lat: float, lon: float, label: str = "") -> Callable[[datetime], UserMessage]:
    """A location pin message."""
    return lambda at: UserMessage("", at, lat=lat, lon=lon, location_text=label)


def photo(count: int = 1, caption: str = "") -> Callable[[datetime], UserMessage]:
    """A message carrying photos."""
    return lambda at: UserMessage(caption, at, media_count=count)


def button(payload: str) -> Callable[[datetime], UserMessage]:
    """A button press."""
    return lambda at: UserMessage("", at, button=payload)


@dataclass(frozen=True)
class Expect:
    """What must hold after one step."""

    state: State | None = None
    effects: tuple[Effect, ...] | None = ()
    """Exactly these effects (None: not checked)."""
    says: tuple[str, ...] = ()
    """Catalog keys whose fixed wording (in `lang`) appears in the replies."""
    not_says: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    silent: bool = False
    lang: str | None = None
    misses: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    """Keys of `session.data` or fields of its submission with their expected value (`MISSING` for
    absent keys; see `observed`)."""
    replies: int | None = None


MISSING = object()


@dataclass(frozen=True)
class Step:
    """One input and what must hold after it; `after` is the citizen's pause before it."""

    inp: str | Input | Callable[[datetime], Input]
    expect: Expect
    after: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class Row:
    """A table row: a session before and a script of steps."""

    id: str
    before: Session
    steps: tuple[Step, ...]
    ctx: DialogueContext = CTX


def rendered(outcome: Outcome) -> str:
    """All replies as an SMS shows them, one blank line between messages."""
    return "\n\n".join(
        numbered_text(say.text, [Choice(option.key, option.label) for option in say.options])
        for say in outcome.replies
    )


def fixed_parts(lang: str, key: str, ctx: DialogueContext) -> list[str]:
    """The literal pieces of a catalog text between its placeholders (the ones long enough to tell)."""
    return [
        literal.strip()
        for literal, _, _, _ in string.Formatter().parse(template(lang, key, ctx))
        if len(literal.strip()) >= 3
    ]


def run_row(row: Row) -> None:
    """Play the row's script and check every step's expectations."""
    current, clock = row.before, row.before.updated_at or T0
    for number, item in enumerate(row.steps, 1):
        clock = clock + item.after
        inp = item.inp
        if isinstance(inp, str):
            inp = UserMessage(inp, clock)
        elif callable(inp):
            inp = inp(clock)
        before_json = current.to_json()
        outcome = step(current, inp, row.ctx)
        assert current.to_json() == before_json, "step changed the caller's session"
        _check(row, number, item, outcome)
        current = outcome.session


def _check(row: Row, number: int, item: Step, outcome: Outcome) -> None:
    """Compare one outcome with its expectations."""
    where = f"{row.id} step {number} ({item.inp!r})"
    text = rendered(outcome)
    expect = item.expect
    lang = outcome.session.language or row.ctx.default_language
    if expect.state is not None:
        assert outcome.session.state == expect.state, f"{where}: state {outcome.session.state}\n{text}"
    if expect.effects is not None:
        assert outcome.effects == expect.effects, f"{where}: effects {outcome.effects}"
    if expect.silent:
        assert outcome.replies == (), f"{where}: expected silence, got\n{text}"
    for key in expect.says:
        for part in fixed_parts(expect.lang or lang, key, row.ctx):
            assert part in text, f"{where}: {key!r} ({part!r}) not in\n{text}"
    for key in expect.not_says:
        parts = fixed_parts(expect.lang or lang, key, row.ctx)
        assert not all(part in text for part in parts), f"{where}: {key!r} unexpectedly in\n{text}"
    for literal in expect.contains:
        assert literal in text, f"{where}: {literal!r} not in\n{text}"
    for literal in expect.absent:
        assert literal not in text, f"{where}: {literal!r} unexpectedly in\n{text}"
    if expect.lang is not None:
        assert outcome.session.language == expect.lang, f"{where}: language {outcome.session.language}"
    if expect.misses is not None:
        assert outcome.session.misses == expect.misses, f"{where}: misses {outcome.session.misses}"
    if expect.replies is not None:
        assert len(outcome.replies) == expect.replies, f"{where}: {len(outcome.replies)} replies\n{text}"
    for key, value in expect.data.items():
        present, held = observed(outcome.session, key)
        if value is MISSING:
            assert not present, f"{where}: {key!r} still set ({held!r})"
        else:
            assert held == value, f"{where}: {key!r} = {held!r}"


__all__ = ["ADMIN", "BAD_REF", "CTX", "MISSING", "REF", "REF2", "T0", "Expect", "Row", "Step", "display"]
