"""What works at every step: the global commands and a bare case reference.

Like the fallbacks of a `ConversationHandler`: tried before the current state's handler, so "menu",
"رجوع", "annuler", "aide", "agent", "FR" or a reference number always do the same thing.
"""

from __future__ import annotations

from collections.abc import Callable

from conversations import commands, slots
from conversations.commands import Command, Parsed
from conversations.model import ListOpenCases, LookupCase, RequestAgent, Say, State
from conversations.turn import Turn
from core import references


def handle(turn: Turn, text: str) -> bool:
    """Run the command or reference lookup `text` is; False when it is neither."""
    parsed = commands.parse(text, turn.ctx.languages) if text else None
    if parsed is not None:
        COMMANDS[parsed.command](turn, parsed)
        return True
    reference = references.parse(text) if text else None
    if reference is not None and turn.session.state != State.TRACK:
        lookup(turn, reference)
        return True
    return False


def lookup(turn: Turn, reference: str) -> None:
    """Ask for a case's status; the answer comes back as `CaseFound` or `CaseNotFound`."""
    if turn.session.state == State.NEW:
        turn.goto(State.MENU)
    turn.do(LookupCase(reference))


def request_agent(turn: Turn, reason: str = "asked") -> None:
    """Queue the conversation for a person and stay quiet until they hand back."""
    turn.do(RequestAgent(reason))
    turn.data["ack_sent"] = False
    if turn.session.state != State.HANDOFF:
        turn.data["handoff_from"] = turn.session.state.value
    turn.goto(State.HANDOFF)
    turn.say("agent_requested")


def _menu(turn: Turn, _: Parsed) -> None:
    """Leave whatever is half-done (saying so) and show the menu."""
    turn.data.pop("return_to", None)
    turn.data.pop("attach_ref", None)
    if turn.drop_draft():
        turn.note(turn.t("cancelled"))
    turn.rest(show_menu=True)


def _cancel(turn: Turn, _: Parsed) -> None:
    """Drop the draft or side question, say so, and show the menu."""
    turn.data.pop("return_to", None)
    turn.data.pop("attach_ref", None)
    turn.drop_draft()
    turn.note(turn.t("cancelled"))
    turn.rest(show_menu=True)


def _back(turn: Turn, _: Parsed) -> None:
    """Go to the previous question (the edit menu while editing); at the start, re-ask."""
    state, data = turn.session.state, turn.data
    if state in slots.BY_QUESTION and data.get("editing"):
        data.pop("editing", None)
        turn.goto(State.EDIT)
    elif state == State.CATEGORY and int(data.get("cat_page", 0)) > 0:
        data["cat_page"] = int(data["cat_page"]) - 1
    elif slots.BACK.get(state) == State.MENU:
        turn.drop_draft()
        turn.rest(show_menu=True)
        return
    elif state in (State.TRACK, State.ADD_MEDIA):
        turn.data.pop("attach_ref", None)
        turn.rest(show_menu=True)
        return
    elif state == State.REOPEN_REASON and data.get("offered_reopen"):
        turn.goto(State.REOPEN_OFFER)
    elif state in slots.BACK:
        turn.goto(slots.BACK[state])
    turn.ask()


def _help(turn: Turn, _: Parsed) -> None:
    """Explain the commands, then ask the current question again with its choices."""
    if turn.session.state == State.NEW:
        turn.goto(State.MENU)
    turn.say("help")
    turn.ask()


def _agent(turn: Turn, _: Parsed) -> None:
    """Hand the conversation to a person."""
    request_agent(turn, "asked")


def _language(turn: Turn, parsed: Parsed) -> None:
    """Switch language and ask the current question again in it; with no language named, offer them."""
    if parsed.argument is None:
        from conversations import prompts

        turn.emit(Say(turn.t("ask_language"), prompts.language_options(turn.lang, turn.ctx)))
        return
    turn.set_language(parsed.argument)
    if turn.session.state == State.NEW:
        turn.goto(State.MENU)
    turn.ask()


def _reopen(turn: Turn, parsed: Parsed) -> None:
    """Reopen a case: the one named, else the last answered one, else ask which."""
    data = turn.data
    if parsed.argument is not None and not references.is_valid(parsed.argument):
        turn.note(turn.t("reference_mistyped", reference=references.display(parsed.argument)))
        if turn.session.state == State.NEW:
            turn.goto(State.MENU)
        turn.ask()
        return
    reference = parsed.argument or data.get("rating_ref") or data.get("last_answered")
    if turn.session.state in slots.DRAFTING:
        data["return_to"] = turn.session.state.value
    if reference:
        start_reopen(turn, reference)
    else:
        data["track_purpose"] = "reopen"
        turn.goto(State.TRACK)
        turn.ask()


def _add_media(turn: Turn, parsed: Parsed) -> None:
    """Add photos to a case: the one named, else the last one filed here, else ask which."""
    from conversations import photos

    if parsed.argument is not None and not references.is_valid(parsed.argument):
        turn.note(turn.t("reference_mistyped", reference=references.display(parsed.argument)))
        if turn.session.state == State.NEW:
            turn.goto(State.MENU)
        turn.ask()
        return
    if turn.session.state in slots.DRAFTING:
        turn.data["return_to"] = turn.session.state.value
    reference = parsed.argument or turn.data.get("last_case")
    if reference:
        photos.start_adding(turn, reference)
    else:
        turn.data["track_purpose"] = "attach"
        turn.goto(State.TRACK)
        turn.ask()


def start_reopen(turn: Turn, reference: str, *, offered: bool = False) -> None:
    """Ask what is still wrong with `reference`."""
    turn.data["reopen_ref"] = reference
    turn.data["offered_reopen"] = offered
    turn.goto(State.REOPEN_REASON)
    turn.ask()


def _track(turn: Turn, _: Parsed) -> None:
    """Track a case (coming back to a half-done question afterwards)."""
    start_tracking(turn)


def start_tracking(turn: Turn) -> None:
    """"Where is my complaint?": the citizen's open cases are looked up (`OpenCasesFound` lists them
    to pick from, or tells the one); a reference works too."""
    if turn.session.state in slots.DRAFTING:
        turn.data["return_to"] = turn.session.state.value
    turn.data["track_purpose"] = "track"
    turn.data.pop("open_cases", None)
    turn.goto(State.TRACK)
    turn.do(ListOpenCases())


COMMANDS: dict[Command, Callable[[Turn, Parsed], None]] = {
    Command.MENU: _menu,
    Command.CANCEL: _cancel,
    Command.BACK: _back,
    Command.HELP: _help,
    Command.AGENT: _agent,
    Command.LANGUAGE: _language,
    Command.REOPEN: _reopen,
    Command.ADD_MEDIA: _add_media,
    Command.TRACK: _track,
}
