"""The submission flow as one table of slots: what a case needs, in the order it is asked.

Each slot says which question asks it, whether a case needs it, what "back" returns to from its
question, how the edit menu offers it, what a recording stands for when it answers it, and how a
miss is hinted. The dialogue asks only the empty required slots, in table order, then the summary
(`next_question`); everything that needs the order (going back, the edit menu, a person handing
back, a recorded answer, the questions that expire) reads it from here.

How each slot is filled is its question's handler (`states.on_<question>`); photos and pins fill
theirs at any step (`photos`), and a first message that describes a problem fills the kind, the
description, a sure category and the place it names (`states.start_report`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conversations.model import State, Submission


@dataclass(frozen=True)
class Slot:
    """One thing a case needs (or may have)."""

    name: str
    """Also the step a person may hand back at (`HANDBACK_STEPS`)."""
    question: State | None
    """The question that asks it (None: filled only by what the citizen sends, as photos)."""
    required: bool
    filled: Callable[[Submission], bool]
    back: State | None = None
    """Where "back" goes from its question (MENU: leave the submission)."""
    edit_option: str = ""
    """The catalog key of its line in the edit menu ("" when it is not edited from there)."""
    recording: str = ""
    """The catalog key of the text a recording stands for when it answers the question."""
    hint: str = "miss_number"
    """The catalog key of the line telling what a valid answer looks like."""
    free_text: bool = False
    """Whatever the citizen writes is the answer (a description may well mention "a person")."""
    check: State | None = None
    """The question asked instead while a guess waits for the citizen's yes ("Is this about Waste?")."""


SLOTS: tuple[Slot, ...] = (
    Slot("kind", State.MENU, required=True, filled=lambda s: bool(s.kind)),
    Slot("category", State.CATEGORY, required=True, filled=lambda s: s.category is not None,
         back=State.MENU, edit_option="opt_edit_category", check=State.CATEGORY_CHECK),
    Slot("description", State.DESCRIPTION, required=True, filled=lambda s: bool(s.description),
         back=State.CATEGORY, edit_option="opt_edit_description", recording="recorded_description",
         hint="miss_text", free_text=True),
    Slot("location", State.LOCATION, required=True, filled=lambda s: bool(s.location_text) or s.lat is not None,
         back=State.DESCRIPTION, edit_option="opt_edit_location", recording="recorded_location",
         hint="miss_text", free_text=True),
    Slot("photos", None, required=False, filled=lambda s: s.photos > 0),
    Slot("name", State.NAME, required=True, filled=lambda s: s.anonymous or bool(s.name) or bool(s.callback),
         back=State.LOCATION, edit_option="opt_edit_name", hint="miss_name", free_text=True),
)

BY_QUESTION: dict[State, Slot] = {
    question: slot for slot in SLOTS for question in (slot.question, slot.check) if question not in (None, State.MENU)
}
"""The slot each question of the submission asks (the menu asks the kind, but is not in the submission)."""

EDITABLE: tuple[Slot, ...] = tuple(slot for slot in SLOTS if slot.edit_option)
"""The edit menu's lines, in table order."""

LAST_QUESTION = [slot.question for slot in SLOTS if slot.question is not None][-1]

BACK: dict[State, State] = {
    **{state: slot.back for state, slot in BY_QUESTION.items() if slot.back is not None},
    State.CATEGORY_CHECK: State.MENU,
    State.CONFIRM: LAST_QUESTION,
    State.EDIT: State.CONFIRM,
}
"""The question "back" returns to, from each question of the submission and from the summary."""

FLOW_STATES = frozenset({*BY_QUESTION, State.CONFIRM, State.EDIT, State.DUPLICATE_OFFER, State.SUBMITTING})
"""States in the middle of a submission: they expire, and a pause earns a welcome-back."""

DRAFTING = FLOW_STATES - {State.SUBMITTING}
"""Where the citizen is still writing the submission: photos and pins join it, silence is reminded."""

FREE_TEXT = frozenset(state for state, slot in BY_QUESTION.items() if slot.free_text)

HANDBACK_STEPS = ("menu", "resume", *(slot.name for slot in SLOTS if slot.question in BY_QUESTION), "confirm")
"""Where a person may hand back: the menu, where the citizen was, a question of the submission, or
the summary (which asks first what is still missing)."""

STEP_QUESTIONS: dict[str, State] = {slot.name: slot.question for slot in SLOTS if slot.question in BY_QUESTION}


def missing(submission: Submission) -> Slot | None:
    """The first required slot still empty, in table order (None when the case can be filed)."""
    return next((slot for slot in SLOTS if slot.required and not slot.filled(submission)), None)


def next_question(submission: Submission) -> State:
    """The question to ask now: the first empty required slot's, else the summary."""
    slot = missing(submission)
    if slot is None or slot.question is None:
        return State.CONFIRM
    return slot.check if slot.check is not None and submission.guess else slot.question


def question_for_step(step: str, submission: Submission) -> State:
    """The question a person handing back at `step` (a slot's name, or `confirm`) returns the citizen
    to: that slot's, or the summary once nothing required is missing."""
    return STEP_QUESTIONS.get(step) or next_question(submission)


def step_of(state: State) -> str:
    """The hand-back step of a question of the submission (`resume` goes back there); "menu" elsewhere."""
    if state in (State.CONFIRM, State.EDIT):
        return "confirm"
    slot = BY_QUESTION.get(state)
    return slot.name if slot is not None else "menu"
