"""Catalogs: same keys and placeholders in every language, overrides, and the SMS budget of prompts."""

from __future__ import annotations

import string
from dataclasses import replace
from datetime import timedelta

import pytest

from channels.base import Choice, numbered_text
from channels.sms.segments import segments
from conversations import prompts
from conversations.catalog import CATALOGS, placeholders, template, text
from conversations.engine import fallback_say, fallback_text, step
from conversations.model import Outcome, Say, Session, State, UserMessage
from conversations.textnorm import arabic_letters
from tests.conversations.convo_kit import CTX, DRAFT, REF, T0, draft_session, rendered, session

LANGS = ("ar", "fr", "en")
GATEWAY_KEYS = ("service_busy", "opted_out", "opted_in", "agent_ack")
SAME_EVERYWHERE = {"lang_ar", "lang_fr", "lang_en"}


def test_same_keys_in_every_language() -> None:
    """No language lacks a text another has."""
    assert set(CATALOGS["ar"]) == set(CATALOGS["fr"]) == set(CATALOGS["en"])


@pytest.mark.parametrize("key", sorted(CATALOGS["en"]))
def test_same_placeholders_in_every_language(key: str) -> None:
    """A text's placeholders are the same in each language, so one call renders them all."""
    assert placeholders(CATALOGS["ar"][key]) == placeholders(CATALOGS["fr"][key]) == placeholders(CATALOGS["en"][key])


@pytest.mark.parametrize("lang", LANGS)
def test_texts_are_plain_sms(lang: str) -> None:
    """No markdown or emoji; Arabic texts are written in Arabic."""
    for key, value in CATALOGS[lang].items():
        literal = "".join(part for part, _, _, _ in string.Formatter().parse(value))
        assert literal.strip(), key
        assert not set(literal) & set("*`_~"), key
        assert all(ord(char) < 0x1F000 for char in value), key
        if lang == "ar" and key not in SAME_EVERYWHERE:
            assert arabic_letters(value) > 0, key


def test_gateway_keys_render_in_every_language() -> None:
    """The keys the gateway sends on its own exist and say what they should."""
    for lang in LANGS:
        for key in GATEWAY_KEYS:
            assert text(lang, key, CTX)
        assert "START" in text(lang, "opted_out", CTX)
    assert fallback_text(None, "service_busy", CTX) == CATALOGS["ar"]["service_busy"]
    assert fallback_say("en", "opted_out", CTX) == Say("You will receive no more messages. Reply START to resume.")


def test_overrides_from_configuration_win() -> None:
    """`ctx.texts` replaces a catalog text for one language only."""
    ctx = replace(CTX, texts={"fr": {"greeting": "Bienvenue à la commune de {town}."}})
    assert text("fr", "greeting", ctx, town="Salé") == "Bienvenue à la commune de Salé."
    assert text("en", "greeting", ctx) == CATALOGS["en"]["greeting"]
    outcome = step(Session(), UserMessage("bonjour", T0), ctx)
    assert "Bienvenue à la commune de ." in rendered(outcome)


def test_unknown_language_falls_back_to_default_then_english() -> None:
    """A language without a catalog uses the default language's text."""
    assert template("es", "greeting", CTX) == CATALOGS["ar"]["greeting"]
    with pytest.raises(KeyError):
        template("en", "no_such_key", CTX)


def test_missing_placeholder_renders_empty() -> None:
    """A placeholder without a value leaves a gap, never an error."""
    assert text("en", "case_not_found", CTX) == "There is no case with the reference ."


# --------------------------------------------------------------------------------------------------
# Every prompt, in every language, fits two SMS segments.

LONG = "Les ordures s'accumulent devant l'école primaire depuis trois semaines, ça sent très mauvais " * 20
DATA_VARIANTS = {
    "plain": {},
    "long": {
        "description": LONG,
        "location_text": "Quartier industriel, derrière la grande mosquée, rue des artisans n° 145 " * 3,
        "name": "Mohammed Amine Benabdellah El Idrissi El Alaoui",
    },
    "pin-anon-arabic": {
        "description": "الأزبال متراكمة أمام المدرسة منذ ثلاثة أسابيع والرائحة كريهة جدا " * 10,
        "location_text": "",
        "lat": 34.0,
        "lon": -6.8,
        "anonymous": True,
        "name": "",
    },
    "emoji": {"description": "🚮🚮🚮 " * 40, "location_text": "📍 " * 30},
}


def _sessions() -> list[tuple[str, Session]]:
    """One session per state, language and draft variant."""
    cases: list[tuple[str, Session]] = []
    for lang in LANGS:
        for state in State:
            for variant, extra in DATA_VARIANTS.items():
                if state in (State.CATEGORY, State.DESCRIPTION, State.LOCATION, State.NAME, State.CONFIRM,
                             State.EDIT, State.SUBMITTING):
                    for kind in ("complaint", "observation", "suggestion"):
                        base = draft_session(State.CONFIRM, lang, kind=kind, **extra)
                        base.state = state
                        cases.append((f"{lang}-{state.value}-{variant}-{kind}", base))
                elif variant == "plain":
                    cases.append((f"{lang}-{state.value}", session(state, lang, rating_ref=REF, reopen_ref=REF)))
    return cases


SESSIONS = _sessions()


def _segments(say: Say) -> int:
    """The SMS segments of one reply."""
    return segments(numbered_text(say.text, [Choice(option.key, option.label) for option in say.options]))


@pytest.mark.parametrize(("name", "before"), SESSIONS, ids=[name for name, _ in SESSIONS])
def test_prompt_fits_two_segments(name: str, before: Session) -> None:
    """The question of every state is at most two SMS segments."""
    say = prompts.prompt(before, CTX)
    assert 1 <= _segments(say) <= 2, numbered_text(say.text, [Choice(o.key, o.label) for o in say.options])


def _replies_for(before: Session, inp: str, after: timedelta = timedelta(minutes=1)) -> Outcome:
    """The outcome of one citizen message."""
    return step(before, UserMessage(inp, (before.updated_at or T0) + after), CTX)


REPLY_CASES = [
    (f"{lang}-{label}", before, inp, after)
    for lang in LANGS
    for label, before, inp, after in [
        ("first-message", Session(language=lang), "1", timedelta(0)),
        ("miss-menu", session(State.MENU, lang, misses=2), "x", timedelta(minutes=1)),
        ("miss-category", draft_session(State.CATEGORY, lang, misses=2), "x", timedelta(minutes=1)),
        ("miss-confirm", draft_session(State.CONFIRM, lang, misses=2, description=LONG), "x", timedelta(minutes=1)),
        ("resume-confirm", draft_session(State.CONFIRM, lang, description=LONG), "x", timedelta(hours=2)),
        ("expired", draft_session(State.NAME, lang), "0", timedelta(days=2)),
        ("help-confirm", draft_session(State.CONFIRM, lang, description=LONG), "help", timedelta(minutes=1)),
        ("welcome-back", draft_session(State.NAME, lang, description=LONG), "0", timedelta(hours=2)),
    ]
]


@pytest.mark.parametrize(("name", "before", "inp", "after"), REPLY_CASES, ids=[row[0] for row in REPLY_CASES])
def test_each_reply_message_fits_two_segments(name: str, before: Session, inp: str, after: timedelta) -> None:
    """Prompts with a note before them (sorry, welcome back, expired) still send messages of two segments."""
    outcome = _replies_for(before, inp, after)
    assert outcome.replies
    for say in outcome.replies:
        assert _segments(say) <= 2, say


SUMMARIES = [
    ("en", "x" * 500, 45),
    ("fr", "x" * 500, 45),
    ("ar", "س" * 500, 35),
]


@pytest.mark.parametrize(("lang", "description", "least"), SUMMARIES, ids=[row[0] for row in SUMMARIES])
def test_summary_shortens_a_long_description_but_keeps_most(lang: str, description: str, least: int) -> None:
    """A long description is cut with an ellipsis, keeping as much as two segments allow (at most 60)."""
    say = prompts.confirm(draft_session(State.CONFIRM, lang, description=description), CTX)
    line = say.text.splitlines()[1]
    assert line.endswith("…")
    assert least <= len(line) <= 60
    assert DRAFT["location_text"] in say.text


def test_summary_keeps_a_short_description_whole() -> None:
    """A description that fits is not cut."""
    say = prompts.confirm(draft_session(State.CONFIRM, "en", description="Bins full"), CTX)
    assert "\nBins full\n" in say.text
    assert "…" not in say.text
