"""Channel-neutral additions for callers (and voice notes): a recording answers the description or the
place, a phone number answers "who are you", and every question says which question it is."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conversations import engine
from conversations.catalog import text
from conversations.model import CreateCase, Say, State, UserMessage
from conversations.prompts import merge
from tests.conversations.convo_kit import CTX, T0, draft_session, observed


def recording(*kinds: str) -> UserMessage:
    """A message carrying files of these kinds and no words."""
    return UserMessage("", T0, media_count=len(kinds), media_ids=tuple(range(1, len(kinds) + 1)), media_kinds=kinds)


@dataclass(frozen=True)
class Row:
    label: str
    state: State
    message: UserMessage
    then: State
    data: dict


ROWS = [
    Row("recording describes", State.DESCRIPTION, recording("audio"), State.LOCATION,
        {"description": text("fr", "recorded_description", CTX), "media": [1]}),
    Row("recording places", State.LOCATION, recording("audio"), State.NAME,
        {"location_text": text("fr", "recorded_location", CTX), "lat": None}),
    Row("photo does not describe", State.DESCRIPTION, recording("photo"), State.DESCRIPTION, {"media": [1]}),
    Row("recording with words: the words", State.DESCRIPTION,
        UserMessage("Le lampadaire est cassé", T0, media_count=1, media_ids=(1,), media_kinds=("audio",)),
        State.LOCATION, {"description": "Le lampadaire est cassé"}),
    Row("phone number as contact", State.NAME, UserMessage("+212 612-345-678", T0), State.CONFIRM,
        {"callback": "+212612345678", "name": "", "anonymous": False}),
    Row("local number as contact", State.NAME, UserMessage("0612345678", T0), State.CONFIRM,
        {"callback": "0612345678"}),
    Row("short digits are not a number", State.NAME, UserMessage("1234", T0), State.NAME, {}),
    Row("0 is still anonymous", State.NAME, UserMessage("0", T0), State.CONFIRM, {"anonymous": True}),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.label)
def test_recorded_and_phone_answers(row: Row) -> None:
    start = draft_session(row.state)
    if start.submission is not None:
        start.submission.name = ""
    outcome = engine.step(start, row.message, CTX)
    assert outcome.session.state == row.then
    for key, value in row.data.items():
        assert observed(outcome.session, key)[1] == value, key


def test_a_callback_number_goes_with_the_case() -> None:
    start = draft_session(State.CONFIRM, name="", callback="+212612345678")
    outcome = engine.step(start, UserMessage("1", T0), CTX)
    created = [e for e in outcome.effects if isinstance(e, CreateCase)]
    assert created and created[0].draft.callback == "+212612345678"


@pytest.mark.parametrize("state", [State.CATEGORY, State.DESCRIPTION, State.NAME, State.CONFIRM, State.EDIT])
def test_a_question_says_which_it_is_and_what_came_before(state: State) -> None:
    outcome = engine.step(draft_session(state), UserMessage("?!", T0), CTX)
    last = outcome.replies[-1]
    assert last.asks == state.value
    assert last.lead and last.text.startswith(last.lead)


def test_merging_keeps_the_question() -> None:
    merged = merge(["Annulé."], Say("Choisissez :", asks="menu"))
    assert merged[0].asks == "menu" and merged[0].lead == "Annulé."
    assert merge(["a"], Say("b"))[0].lead == ""
