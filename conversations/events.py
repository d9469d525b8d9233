"""What each system event does: results of effects (case created, found, rated...) and staff news.

Events carry no citizen text, so they never count as misses and never move `updated_at` (the
pause a citizen took is measured from their own last message) — except when a status update starts a
new question at rest (the rating), which is then the conversation's latest turn.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from conversations import prompts, slots
from conversations.fallbacks import lookup, request_agent
from conversations.model import (
    AgentJoined,
    CaseCreated,
    CaseFound,
    CaseNotFound,
    CaseReopened,
    CloseCase,
    ConversationClosed,
    DuplicateFound,
    HandedBack,
    Idle,
    MediaAttached,
    OpenCasesFound,
    PhoneLinked,
    RatingRecorded,
    ReopenRefused,
    ServiceUnavailable,
    State,
    StatusChanged,
)
from conversations.turn import Turn, at_rest
from core.references import display

MEDIA_BURST = timedelta(seconds=60)
"""Files added to a case within this of the last "added" message pass in silence."""

REASONED = frozenset({"answered", "rejected"})
"""Statuses whose note is the administration's reasoned text (repeated when the citizen tracks the case)."""
TOLD_WITH_NOTE = REASONED | {"in_progress"}
"""Statuses whose note, written in the status form "for the citizen", is sent with the news (a
transfer's or a reopening's note stays with staff)."""

REFUSAL_REASONS = frozenset({"window_closed", "not_answered", "not_found"})
GOOD_RATING = 3


def status_name(turn: Turn, status: str) -> str:
    """A status in the session's language."""
    return prompts.status_name(status, turn.lang, turn.ctx)


def on_case_created(turn: Turn, event: CaseCreated) -> None:
    """Give the reference and the administration (or the case now followed); the submission is over."""
    administration = prompts.localized(event.administration, turn.lang, turn.ctx) or turn.t("administration_unknown")
    if event.followed:
        turn.say("case_followed", reference=display(event.followed))
    else:
        turn.say("case_created", reference=display(event.reference), administration=administration)
    turn.data["last_case"] = event.reference
    if turn.session.state == State.SUBMITTING:
        turn.drop_draft()
        turn.rest(show_menu=False)
    elif turn.session.state == State.HANDOFF:  # a person filed it: nothing is left to resume
        turn.drop_draft()
        turn.data["handoff_from"] = State.MENU.value


def on_duplicate_found(turn: Turn, event: DuplicateFound) -> None:
    """The problem was reported nearby already: offer to follow that case, or to file anyway."""
    if turn.session.state != State.SUBMITTING:
        return
    turn.data["duplicate_ref"] = event.reference
    turn.data["duplicate_status"] = event.status
    turn.goto(State.DUPLICATE_OFFER)
    turn.ask()


def on_case_found(turn: Turn, event: CaseFound) -> None:
    """Tell the case's status and the date it last changed, then go back to where the citizen was."""
    line = turn.t(
        "case_status",
        reference=display(event.reference),
        status=status_name(turn, event.status),
        date=event.changed_at.date().isoformat(),
    )
    if event.note and event.status in REASONED:
        line = f"{line}\n{event.note}"
    turn.note(line)
    if event.rateable and turn.session.state in (State.NEW, State.MENU, State.TRACK):
        turn.data.pop("track_purpose", None)
        turn.data.pop("open_cases", None)
        turn.data["rating_ref"] = event.reference
        turn.goto(State.RATE)
        turn.ask()
        return
    _after_lookup(turn)


def on_open_cases_found(turn: Turn, event: OpenCasesFound) -> None:
    """The citizen's open cases: one is told at once, several are listed to pick from, none asks for
    a reference."""
    if turn.session.state != State.TRACK or turn.data.get("track_purpose") != "track":
        return
    if len(event.cases) == 1:
        lookup(turn, event.cases[0].reference)
        return
    turn.data["open_cases"] = [[case.reference, case.status] for case in event.cases]
    turn.ask()


def on_case_not_found(turn: Turn, event: CaseNotFound) -> None:
    """Say no case has that reference, then go back to where the citizen was."""
    turn.note(turn.t("case_not_found", reference=display(event.reference)))
    if turn.session.state == State.ADD_MEDIA:
        turn.data.pop("attach_ref", None)
        turn.rest(show_menu=False)
        return
    _after_lookup(turn)


def on_media_attached(turn: Turn, event: MediaAttached) -> None:
    """Say the files were added to the case (once per burst of photos)."""
    last = turn.data.get("media_ack_at")
    if last and event.at - datetime.fromisoformat(last) < MEDIA_BURST:
        return
    turn.data["media_ack_at"] = event.at.isoformat()
    turn.say("media_added", reference=display(event.reference), count=str(event.count))
    if turn.session.state != State.ADD_MEDIA:
        turn.rest(show_menu=False)



def _after_lookup(turn: Turn) -> None:
    """At rest or tracking: rest. Mid-question: ask the pending question again."""
    state = turn.session.state
    if state in (State.NEW, State.MENU, State.TRACK):
        turn.rest(show_menu=False)
    elif state not in (State.HANDOFF, State.SUBMITTING):
        turn.ask()


def on_status_changed(turn: Turn, event: StatusChanged) -> None:
    """Tell the new status (with the reasoned note), and ask for a rating once answered."""
    reference = display(event.reference)
    status = status_name(turn, event.status)
    if event.status in TOLD_WITH_NOTE and event.note.strip():
        administration = prompts.localized(event.administration, turn.lang, turn.ctx) or turn.t(
            "administration_unknown"
        )
        turn.say(
            "status_changed_note",
            reference=reference,
            status=status,
            administration=administration,
            note=event.note.strip(),
        )
    else:
        turn.say("status_changed", reference=reference, status=status)
    if event.status != "answered" or event.followed:
        return
    turn.data["last_answered"] = event.reference
    if at_rest(turn.session):
        turn.data["rating_ref"] = event.reference
        turn.goto(State.RATE)
        turn.session.updated_at = event.at
        turn.session.misses = 0
        turn.ask()
    else:
        turn.data["pending_rating"] = event.reference


def on_rating_recorded(turn: Turn, event: RatingRecorded) -> None:
    """Thanks and close for 3-5; for 1-2, offer to reopen."""
    if event.rating >= GOOD_RATING:
        turn.do(CloseCase(event.reference))
        turn.say("rating_thanks")
        turn.forget_rating()
        turn.rest(show_menu=False)
        return
    turn.data["reopen_ref"] = event.reference
    turn.goto(State.REOPEN_OFFER)
    turn.ask()


def on_case_reopened(turn: Turn, event: CaseReopened) -> None:
    """Confirm the reopening."""
    turn.say("case_reopened", reference=display(event.reference))
    turn.forget_rating()
    turn.rest(show_menu=False)


def on_reopen_refused(turn: Turn, event: ReopenRefused) -> None:
    """Say why the case cannot be reopened."""
    reason = event.reason if event.reason in REFUSAL_REASONS else "not_found"
    turn.say(f"reopen_{reason}", reference=display(event.reference))
    turn.forget_rating()
    turn.rest(show_menu=False)


def on_service_unavailable(turn: Turn, event: ServiceUnavailable) -> None:
    """Ask to try again later; nothing is lost (a submission goes back to its summary)."""
    turn.say("service_unavailable")
    if turn.session.state == State.SUBMITTING:
        turn.goto(State.CONFIRM)
    elif turn.session.state == State.TRACK:
        turn.ask()


AGENT_KEYS = ("with_agent", "ack_sent", "handoff_from", "reminded_for")
"""What a hand-off keeps in `session.data`; all dropped when the person hands back or closes."""

def on_agent_joined(turn: Turn, event: AgentJoined) -> None:
    """A person took over: keep what was collected, remember where the citizen was, say nothing."""
    if turn.session.state != State.HANDOFF:
        turn.data["handoff_from"] = turn.session.state.value
        turn.goto(State.HANDOFF)
    turn.data["with_agent"] = event.agent
    turn.data["ack_sent"] = True
    turn.data.pop("reminded_for", None)


def on_handed_back(turn: Turn, event: HandedBack) -> None:
    """The bot takes over again at the chosen step, with the draft as the person left it."""
    origin = turn.data.get("handoff_from")
    for key in AGENT_KEYS:
        turn.data.pop(key, None)
    step = event.step if event.step in slots.HANDBACK_STEPS else "menu"
    if step == "resume":
        step = slots.step_of(State(origin)) if origin in set(State) else "menu"
    turn.session.misses = 0
    turn.note(turn.t("agent_handback"))
    if step == "menu":
        turn.drop_draft()
        turn.rest(show_menu=True)
        return
    turn.data.pop("editing", None)
    turn.data["cat_page"] = 0
    turn.draft.guess = None
    turn.goto(slots.question_for_step(step, turn.draft))
    turn.ask()


def on_conversation_closed(turn: Turn, event: ConversationClosed) -> None:
    """The person (or the clock) closed the hand-off: tell the citizen and come to rest."""
    in_handoff = turn.session.state == State.HANDOFF
    for key in AGENT_KEYS:
        turn.data.pop(key, None)
    if not in_handoff:
        return
    turn.drop_draft()
    turn.say("conversation_closed")
    turn.rest(show_menu=False)


def on_idle(turn: Turn, event: Idle) -> None:
    """Silent mid-submission: one reminder with the question, then the queue for a person."""
    session = turn.session
    if session.state not in slots.DRAFTING or session.updated_at is None:
        return
    silent = event.at - session.updated_at
    reminded = turn.data.get("reminded_for") == session.updated_at.isoformat()
    if not reminded:
        if silent >= event.remind_after:
            turn.data["reminded_for"] = session.updated_at.isoformat()
            turn.note(turn.t("stall_reminder"))
            turn.ask()
        return
    if silent >= event.remind_after + event.stall_after:
        turn.data.pop("reminded_for", None)
        request_agent(turn, "stalled")


PHONE_OUTCOMES = frozenset({"linked", "merged", "same", "taken", "opted_out", "invalid"})


def on_phone_linked(turn: Turn, event: PhoneLinked) -> None:
    """Say what became of the shared number, then the question the citizen is at (none in a hand-off)."""
    outcome = event.outcome if event.outcome in PHONE_OUTCOMES else "invalid"
    turn.note(turn.t(f"phone_{outcome}"))
    asked = turn.data.pop("phone_asked", False)
    if not asked and turn.session.state not in (State.HANDOFF, State.SUBMITTING):
        turn.ask()


EVENT_HANDLERS: dict[type, Callable[[Turn, Any], None]] = {
    PhoneLinked: on_phone_linked,
    AgentJoined: on_agent_joined,
    HandedBack: on_handed_back,
    ConversationClosed: on_conversation_closed,
    Idle: on_idle,
    CaseCreated: on_case_created,
    CaseFound: on_case_found,
    CaseNotFound: on_case_not_found,
    OpenCasesFound: on_open_cases_found,
    StatusChanged: on_status_changed,
    DuplicateFound: on_duplicate_found,
    RatingRecorded: on_rating_recorded,
    CaseReopened: on_case_reopened,
    ReopenRefused: on_reopen_refused,
    MediaAttached: on_media_attached,
    ServiceUnavailable: on_service_unavailable,
}
