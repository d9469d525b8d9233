"""What each system event does: results of effects (case created, found, rated...) and staff news.

Events carry no citizen text, so they never count as misses and never move `updated_at` (the
pause a citizen took is measured from their own last message) — except when a status update starts a
new question at rest (the rating), which is then the conversation's latest turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conversations import prompts
from conversations.model import (
    CaseCreated,
    CaseFound,
    CaseNotFound,
    CaseReopened,
    CloseCase,
    RatingRecorded,
    ReopenRefused,
    ServiceUnavailable,
    State,
    StatusChanged,
)
from conversations.turn import Turn, at_rest
from core.references import display

REASONED = frozenset({"answered", "rejected"})
"""Statuses whose note (the administration's reasoned text) is sent to the citizen."""

REFUSAL_REASONS = frozenset({"window_closed", "not_answered", "not_found"})
GOOD_RATING = 3


def status_name(turn: Turn, status: str) -> str:
    """A status in the session's language (the raw code for a status the catalog does not know)."""
    try:
        return turn.t(f"status_{status}")
    except KeyError:
        return status.replace("_", " ")


def on_case_created(turn: Turn, event: CaseCreated) -> None:
    """Give the reference and the administration; the submission is over."""
    administration = prompts.localized(event.administration, turn.lang, turn.ctx) or turn.t("administration_unknown")
    turn.say("case_created", reference=display(event.reference), administration=administration)
    if turn.session.state == State.SUBMITTING:
        turn.drop_draft()
        turn.rest(show_menu=False)


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
    _after_lookup(turn)


def on_case_not_found(turn: Turn, event: CaseNotFound) -> None:
    """Say no case has that reference, then go back to where the citizen was."""
    turn.note(turn.t("case_not_found", reference=display(event.reference)))
    _after_lookup(turn)


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
    if event.status in REASONED and event.note.strip():
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
    if event.status != "answered":
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


EVENT_HANDLERS: dict[type, Callable[[Turn, Any], None]] = {
    CaseCreated: on_case_created,
    CaseFound: on_case_found,
    CaseNotFound: on_case_not_found,
    StatusChanged: on_status_changed,
    RatingRecorded: on_rating_recorded,
    CaseReopened: on_case_reopened,
    ReopenRefused: on_reopen_refused,
    ServiceUnavailable: on_service_unavailable,
}
