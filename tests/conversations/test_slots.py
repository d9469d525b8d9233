"""The slot table: the next question for each shape of draft, what "back" returns to, the hand-back
steps, and the typed draft's storage (a version-1 session's loose keys are lifted, wrong types are
dropped rather than break a conversation)."""

from __future__ import annotations

import pytest

from conversations import slots
from conversations.model import Session, State, Submission

S = State
FULL = {"category": "waste", "description": "Poubelles", "location_text": "Rue 5", "name": "Fatima"}

NEXT = [  # (what the draft holds, the question asked next)
    ({}, S.CATEGORY),
    ({"description": "Poubelles"}, S.CATEGORY),
    ({"description": "Poubelles", "guess": "waste"}, S.CATEGORY_CHECK),
    ({"category": "waste"}, S.DESCRIPTION),
    ({"category": "waste", "guess": "roads"}, S.DESCRIPTION),
    ({"category": "waste", "location_text": "Rue 5"}, S.DESCRIPTION),
    ({"category": "waste", "description": "Poubelles"}, S.LOCATION),
    ({"category": "waste", "description": "Poubelles", "lat": 33.9, "lon": -6.9}, S.NAME),
    ({"category": "waste", "description": "Poubelles", "location_text": "Rue 5"}, S.NAME),
    ({**FULL, "name": ""}, S.NAME),
    ({**FULL, "name": "", "anonymous": True}, S.CONFIRM),
    ({**FULL, "name": "", "callback": "+212612345678"}, S.CONFIRM),
    (FULL, S.CONFIRM),
    ({**FULL, "media": [1, 2]}, S.CONFIRM),
]


@pytest.mark.parametrize(("held", "question"), NEXT, ids=[f"next-{n}" for n in range(len(NEXT))])
def test_only_the_empty_required_slots_are_asked_in_table_order(held: dict, question: State) -> None:
    assert slots.next_question(Submission(**held)) == question


def test_photos_are_optional_and_recordings_are_not_photos() -> None:
    assert slots.missing(Submission(**FULL)) is None
    assert Submission(media=[1, 2, 3], recordings=2).photos == 1
    assert Submission(media_count=2).photos == 2


BACK = [
    (S.CATEGORY, S.MENU),
    (S.CATEGORY_CHECK, S.MENU),
    (S.DESCRIPTION, S.CATEGORY),
    (S.LOCATION, S.DESCRIPTION),
    (S.NAME, S.LOCATION),
    (S.CONFIRM, S.NAME),
    (S.EDIT, S.CONFIRM),
]


@pytest.mark.parametrize(("state", "previous"), BACK, ids=[state.value for state, _ in BACK])
def test_back_returns_to_the_previous_slot(state: State, previous: State) -> None:
    assert slots.BACK[state] == previous


def test_the_table_gives_the_edit_menu_the_hand_back_steps_and_the_expiring_questions() -> None:
    assert [slot.question for slot in slots.EDITABLE] == [S.CATEGORY, S.DESCRIPTION, S.LOCATION, S.NAME]
    assert slots.HANDBACK_STEPS == ("menu", "resume", "category", "description", "location", "name", "confirm")
    assert {S.CATEGORY, S.CATEGORY_CHECK, S.DESCRIPTION, S.LOCATION, S.NAME, S.CONFIRM,
            S.EDIT, S.DUPLICATE_OFFER, S.SUBMITTING} == slots.FLOW_STATES
    assert {S.DESCRIPTION, S.LOCATION, S.NAME} == slots.FREE_TEXT
    assert slots.step_of(S.CATEGORY_CHECK) == "category"
    assert slots.step_of(S.EDIT) == "confirm"
    assert slots.step_of(S.TRACK) == "menu"


def test_hand_back_at_the_summary_asks_first_what_is_missing() -> None:
    assert slots.question_for_step("confirm", Submission(**FULL)) == S.CONFIRM
    assert slots.question_for_step("confirm", Submission(category="waste")) == S.DESCRIPTION
    assert slots.question_for_step("location", Submission(**FULL)) == S.LOCATION


def test_a_session_keeps_its_submission_through_json() -> None:
    held = Session(S.NAME, language="fr", submission=Submission(**{**FULL, "name": ""}, media=[4], recordings=1,
                                                                recorded=["description"]))
    again = Session.from_json(held.to_json())
    assert again.submission == held.submission
    assert again.copy().submission is not again.submission


def test_a_version_one_session_is_lifted_into_a_submission() -> None:
    raw = {"version": 1, "state": "location", "language": "ar", "misses": 0, "updated_at": None,
           "data": {"kind": "suggestion", "category": "water", "description": "الماء", "media": [7],
                    "prefilled": ["description"], "cat_page": 0, "last_case": "1234567890"}}
    lifted = Session.from_json(raw)
    assert lifted.state == S.LOCATION
    assert lifted.submission == Submission(kind="suggestion", category="water", description="الماء", media=[7])
    assert lifted.data == {"cat_page": 0, "last_case": "1234567890"}


WRONG = [
    {"kind": 5, "category": ["x"], "description": None, "lat": "33", "media": "1,2", "anonymous": "yes"},
    {"media": [1, "2", True, 3.5], "recorded": "description", "recordings": -1, "media_count": True},
]


@pytest.mark.parametrize("raw", WRONG, ids=["wrong-types", "wrong-items"])
def test_wrong_typed_fields_take_their_defaults(raw: dict) -> None:
    submission = Submission.from_json(raw)
    assert submission is not None
    assert submission.kind == "complaint" and submission.category is None and submission.lat is None
    assert submission.media in ([], [1]) and submission.recordings == 0 and submission.anonymous is False
    assert Submission.from_json("not a dict") is None
