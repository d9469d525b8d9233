"""Dialogue paths Telegram brings (pure, as tables): keyboard presses checked against the question
asked, shared phone contacts, edited messages, /status and /lang, reply-keyboard option lines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from conversations import prompts
from conversations.model import (
    LinkPhone,
    ListOpenCases,
    LookupCase,
    OpenCasesFound,
    PhoneLinked,
    SetLanguage,
    State,
    UserMessage,
)
from tests.conversations.convo_kit import (
    CTX,
    REF,
    T0,
    Expect,
    Row,
    Step,
    draft_session,
    run_row,
    session,
)

S = State
E = Expect


def keyboard_of(state: State, lang: str = "fr", **data: object) -> tuple[tuple[str, str], ...]:
    """The (key, label) pairs of the question `state` asks, as its inline keyboard shows them."""
    return tuple((o.key, o.label) for o in prompts.prompt(session(state, lang, **data), CTX).options)


def press(key: str, offered: tuple[tuple[str, str], ...]) -> Callable[[datetime], UserMessage]:
    """A press on `key` of a keyboard offering `offered`."""
    return lambda at: UserMessage("", at, button=key, button_choices=offered)


def shared(phone: str, own: bool = True, name: str = "Amina Benali") -> Callable[[datetime], UserMessage]:
    """A shared phone contact."""
    return lambda at: UserMessage("", at, shared_phone=phone, shared_name=name, shared_own=own)


def edited(text: str) -> Callable[[datetime], UserMessage]:
    """An edit of an earlier message."""
    return lambda at: UserMessage(text, at, edited=True)


def app_in(language: str, text: str) -> Callable[[datetime], UserMessage]:
    """A message from an app set to `language` (Telegram's `language_code`)."""
    return lambda at: UserMessage(text, at, language_hint=language)


MENU_KEYS = keyboard_of(S.MENU)
ROWS = [
    Row("/start from a French app is answered in French", session(S.NEW, None), (
        Step(app_in("fr", "menu"), E(S.MENU, (SetLanguage("fr"),), lang="fr", says=("greeting", "menu_intro"))),)),
    Row("/start from an English app is answered in English", session(S.NEW, None), (
        Step(app_in("en", "menu"), E(S.MENU, (SetLanguage("en"),), lang="en", contains=("Welcome",))),)),
    Row("the words tell over the app's language", session(S.NEW, None), (
        Step(app_in("fr", "السلام عليكم"), E(S.MENU, (SetLanguage("ar"),), lang="ar")),)),
    Row("an app language the deployment lacks is the default", session(S.NEW, None), (
        Step(app_in("de", "menu"), E(S.MENU, (SetLanguage("ar"),), lang="ar")),)),
    Row("a language already kept wins over the app's", session(S.NEW, "en"), (
        Step(app_in("fr", "menu"), E(S.MENU, lang="en")),)),
    Row("help alone is answered in English", session(S.NEW, None), (
        Step("help", E(S.MENU, (SetLanguage("en"),), lang="en", says=("help", "menu_intro"))),)),
    Row("status alone is answered in English", session(S.NEW, None), (
        Step("status", E(S.TRACK, (SetLanguage("en"), ListOpenCases()), lang="en")),)),
    Row("aide alone is answered in French", session(S.NEW, None), (
        Step("aide", E(S.MENU, (SetLanguage("fr"),), lang="fr", says=("help", "menu_intro"))),)),
    Row("press on the current menu", session(S.MENU), (
        Step(press("1", MENU_KEYS), E(S.CATEGORY, says=("ask_category",))),)),
    Row("stale press: menu buttons while describing", draft_session(S.DESCRIPTION), (
        Step(press("1", MENU_KEYS), E(S.DESCRIPTION, says=("button_stale",), misses=0)),)),
    Row("stale press: confirm buttons after the menu came back", session(S.MENU), (
        Step(press("1", keyboard_of(S.CONFIRM)), E(S.MENU, says=("button_stale", "menu_intro"))),)),
    Row("forged press (no signed button)", session(S.MENU), (
        Step(press("1", ()), E(S.MENU, says=("button_stale",))),)),
    Row("press before any session", session(S.NEW, None), (
        Step(press("1", MENU_KEYS), E(S.MENU, says=("button_stale", "menu_intro"))),)),
    Row("a language button works at any step", draft_session(S.DESCRIPTION), (
        Step(press("EN", (("AR", "العربية"), ("EN", "English"))), E(S.DESCRIPTION, (SetLanguage("en"),), lang="en")),)),
    Row("edited message ignored politely", draft_session(S.DESCRIPTION), (
        Step(edited("Lampadaire"), E(S.DESCRIPTION, says=("edit_ignored",), replies=1)),)),
    Row("own contact at the name question answers it", draft_session(S.NAME), (
        Step(shared("+212612345678"), E(S.CONFIRM, (LinkPhone("+212612345678"),), data={"name": "Amina Benali"})),
        Step(lambda at: PhoneLinked("merged", at), E(S.CONFIRM, says=("phone_merged",), not_says=("ask_name",))),
    )),
    Row("own contact elsewhere: linked, then the question again", draft_session(S.DESCRIPTION), (
        Step(shared("+212612345678"), E(S.DESCRIPTION, (LinkPhone("+212612345678"),), replies=0)),
        Step(lambda at: PhoneLinked("linked", at), E(S.DESCRIPTION, says=("phone_linked",))),
    )),
    Row("someone else's contact is declined", draft_session(S.LOCATION), (
        Step(shared("+212612345679", own=False), E(S.LOCATION, says=("contact_not_yours", "ask_location"))),)),
    Row("taken and opted-out numbers are explained", session(S.MENU), (
        Step(lambda at: PhoneLinked("taken", at), E(S.MENU, says=("phone_taken",))),
        Step(lambda at: PhoneLinked("opted_out", at), E(S.MENU, says=("phone_opted_out",))),
    )),
    Row("/status mid-submission asks for a reference, then comes back", draft_session(S.LOCATION), (
        Step("track", E(S.TRACK, (ListOpenCases(),), silent=True, data={"return_to": "location"})),
        Step(OpenCasesFound((), T0), E(S.TRACK, says=("ask_reference",))),
        Step(REF, E(S.TRACK, (LookupCase(REF),))),
    )),
    Row("/lang offers the languages without leaving the question", draft_session(S.LOCATION), (
        Step("language", E(S.LOCATION, says=("ask_language",), contains=("AR العربية", "EN English"))),)),
    Row("a reply-keyboard option line counts as its key", draft_session(S.NAME), (
        Step("0 Rester anonyme", E(S.CONFIRM, data={"anonymous": True})),)),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_telegram_paths(row: Row) -> None:
    run_row(row)


def test_location_and_name_questions_carry_requests() -> None:
    location = prompts.prompt(session(S.LOCATION), CTX)
    name = prompts.prompt(session(S.NAME), CTX)
    assert location.request is not None and location.request[0] == "location"
    assert name.request is not None and name.request[0] == "contact"
    assert prompts.merge(["Note"], location)[0].request == location.request
