"""Table tests of the hand-off events: a person takes over, hands back at a chosen step or closes,
and the clock's `Idle` ticks that remind a silent citizen once and then queue them for a person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from conversations.model import AgentJoined, ConversationClosed, HandedBack, Idle, Input, RequestAgent, State
from tests.conversations.convo_kit import MISSING, T0, Row, Step, draft_session, run_row, session
from tests.conversations.convo_kit import Expect as E

S = State
REMIND = timedelta(minutes=10)
STALL = timedelta(minutes=10)


def idle() -> Callable[[datetime], Input]:
    """A clock tick at the step's time."""
    return lambda at: Idle(at, REMIND, STALL)


def joined(agent: str = "amina") -> Callable[[datetime], Input]:
    """A person takes over at the step's time."""
    return lambda at: AgentJoined(agent, at)


def back(step: str) -> Callable[[datetime], Input]:
    """The person hands back at `step`."""
    return lambda at: HandedBack(step, at)


def closed(reason: str = "closed_by_agent") -> Callable[[datetime], Input]:
    """The hand-off is closed."""
    return lambda at: ConversationClosed(reason, at)


ROWS = [
    Row("idle-reminds-once-then-queues", draft_session(S.LOCATION, "fr"), (
        Step(idle(), E(S.LOCATION, silent=True), after=timedelta(minutes=5)),
        Step(idle(), E(S.LOCATION, says=("stall_reminder", "ask_location"),
                       data={"reminded_for": T0.isoformat()}), after=timedelta(minutes=6)),
        Step(idle(), E(S.LOCATION, silent=True), after=timedelta(minutes=2)),
        Step(idle(), E(S.HANDOFF, (RequestAgent("stalled"),), says=("agent_requested",),
                       data={"handoff_from": "location", "reminded_for": MISSING}), after=timedelta(minutes=9)),
        Step(idle(), E(S.HANDOFF, silent=True), after=timedelta(minutes=30)),
    )),
    Row("idle-answer-after-reminder-starts-the-clock-again", draft_session(S.DESCRIPTION, "en"), (
        Step(idle(), E(S.DESCRIPTION, says=("stall_reminder",)), after=timedelta(minutes=11)),
        Step("The street lamp is broken", E(S.LOCATION), after=timedelta(minutes=1)),
        Step(idle(), E(S.LOCATION, silent=True), after=timedelta(minutes=9)),
        Step(idle(), E(S.LOCATION, says=("stall_reminder", "ask_location")), after=timedelta(minutes=2)),
    )),
    Row("idle-at-rest-or-submitting-is-quiet", session(S.MENU, "ar"), (
        Step(idle(), E(S.MENU, silent=True), after=timedelta(hours=3)),
    )),
    Row("idle-while-submitting-is-quiet", draft_session(S.SUBMITTING, "ar"), (
        Step(idle(), E(S.SUBMITTING, silent=True), after=timedelta(hours=3)),
    )),
    Row("agent-joins-mid-flow-silently-and-keeps-the-draft", draft_session(S.NAME, "fr"), (
        Step(joined(), E(S.HANDOFF, silent=True, data={
            "with_agent": "amina", "handoff_from": "name",
            "description": "Le lampadaire est éteint depuis deux semaines",
        })),
        Step("Bonjour ? menu", E(S.HANDOFF, silent=True)),
        Step("menu", E(S.HANDOFF, silent=True)),
        Step("agent", E(S.HANDOFF, silent=True)),
    )),
    Row("agent-joins-a-waiting-handoff", session(S.HANDOFF, "en", ack_sent=True, handoff_from="menu"), (
        Step(joined("omar"), E(S.HANDOFF, silent=True, data={"with_agent": "omar", "handoff_from": "menu"})),
    )),
    Row("handback-resume-asks-the-pending-question", draft_session(S.LOCATION, "fr"), (
        Step(joined(), E(S.HANDOFF, silent=True)),
        Step(back("resume"), E(S.LOCATION, says=("agent_handback", "ask_location"),
                               data={"with_agent": MISSING, "handoff_from": MISSING, "ack_sent": MISSING})),
        Step("Rue 5", E(S.NAME)),
    )),
    Row("handback-at-confirm-with-a-complete-draft", draft_session(S.CONFIRM, "en"), (
        Step(joined(), E(S.HANDOFF)),
        Step(back("confirm"), E(S.CONFIRM, says=("agent_handback",))),
    )),
    Row("handback-at-confirm-with-gaps-asks-the-first-gap", draft_session(S.DESCRIPTION, "en"), (
        Step(joined(), E(S.HANDOFF)),
        Step(back("confirm"), E(S.DESCRIPTION, says=("agent_handback", "ask_description"))),
    )),
    Row("handback-at-a-chosen-step", draft_session(S.CONFIRM, "ar"), (
        Step(joined(), E(S.HANDOFF)),
        Step(back("location"), E(S.LOCATION, says=("agent_handback", "ask_location"))),
    )),
    Row("handback-to-menu-drops-the-draft", draft_session(S.CONFIRM, "fr"), (
        Step(joined(), E(S.HANDOFF)),
        Step(back("menu"), E(S.MENU, says=("agent_handback", "menu_intro"), data={"kind": MISSING})),
    )),
    Row("handback-resume-from-menu-shows-the-menu", session(S.HANDOFF, "en", handoff_from="menu"), (
        Step(joined(), E(S.HANDOFF)),
        Step(back("resume"), E(S.MENU, says=("menu_intro",))),
    )),
    Row("handback-at-category-starts-a-complaint", session(S.HANDOFF, "fr"), (
        Step(joined(), E(S.HANDOFF)),
        Step(back("category"), E(S.CATEGORY, says=("ask_category",), data={"kind": "complaint"})),
    )),
    Row("handback-unknown-step-is-the-menu", session(S.HANDOFF, "en"), (
        Step(joined(), E(S.HANDOFF)),
        Step(back("nowhere"), E(S.MENU, says=("menu_intro",))),
    )),
    Row("closed-tells-the-citizen-and-rests", draft_session(S.NAME, "fr"), (
        Step(joined(), E(S.HANDOFF)),
        Step(closed(), E(S.MENU, says=("conversation_closed",), data={"with_agent": MISSING, "kind": MISSING})),
    )),
    Row("closed-while-waiting", session(S.HANDOFF, "ar", ack_sent=True), (
        Step(closed("waiting_too_long"), E(S.MENU, says=("conversation_closed",))),
    )),
    Row("closed-after-the-citizen-left-the-handoff-is-quiet", session(S.CATEGORY, "en", kind="complaint"), (
        Step(closed("abandoned"), E(S.CATEGORY, silent=True)),
    )),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_handoff_events(row: Row) -> None:
    run_row(row)


def test_a_case_filed_by_the_person_drops_the_draft() -> None:
    from conversations.model import CaseCreated
    from tests.conversations.convo_kit import ADMIN, REF

    run_row(Row("filed-by-agent", draft_session(S.CONFIRM, "fr"), (
        Step(joined(), E(S.HANDOFF)),
        Step(lambda at: CaseCreated(REF, ADMIN, at), E(S.HANDOFF, contains=("482 913",),
                                                        data={"kind": MISSING, "handoff_from": "menu"})),
        Step(back("resume"), E(S.MENU, says=("agent_handback", "menu_intro"))),
    )))
