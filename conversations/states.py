"""What each state does with a citizen's message: one handler per question.

A handler validates the answer, stores it and moves on, or calls `miss` to ask again. `start` is the
entry point (first message, or a fresh start after a long silence).
"""

from __future__ import annotations

import dataclasses

from conversations import commands, fallbacks, photos, prompts, slots
from conversations.commands import Command
from conversations.model import CaseDraft, CloseCase, CreateCase, RateCase, ReopenCase, RequestAgent, Say, State
from conversations.prompts import KINDS, choice
from conversations.textnorm import fold
from conversations.turn import Turn
from conversations.understanding import answers
from conversations.understanding.places import place_in
from conversations.understanding.reading import LIKELY, REPORT_INTENTS, SURE
from core import references

MAX_DESCRIPTION = 2000
MAX_PLACE = 300
MAX_NAME = 80
MIN_DESCRIPTION = 3
MIN_PLACE = 2
MIN_PHONE = 8
MAX_PHONE = 15
MIN_REPORT_WORDS = 3
"""A first message shorter than this is a greeting or a menu answer, not a description."""

ANONYMOUS_WORDS = commands.phrases(
    "anonymous|anonyme|anon|anonymously|no name|sans nom|مجهول|مجهول الهوية|بدون اسم|بلا اسم|بلا سمية"
    "|bla smiya|bla smia"
)


def start(turn: Turn, text: str, intro: str = "greeting") -> None:
    """A first message: decide the language, then track, run a command, or greet with the menu."""
    turn.session.misses = 0
    turn.session.state = State.NEW
    parsed = commands.parse(text, turn.ctx.languages) if text else None
    if parsed is not None and parsed.command == Command.LANGUAGE and parsed.argument:
        turn.set_language(parsed.argument)
        parsed = None
    else:
        turn.decide_language(turn.message.text if turn.message is not None and turn.message.text else text)
    if intro != "greeting":
        turn.note(turn.t(intro))
    if parsed is not None and parsed.command not in (Command.MENU, Command.BACK, Command.CANCEL):
        fallbacks.COMMANDS[parsed.command](turn, parsed)
        return
    reference = references.parse(text) if text else None
    if reference is not None:
        fallbacks.lookup(turn, reference)
        return
    if intro == "greeting":
        turn.note(turn.t("greeting"))
    if not start_report(turn, text):
        turn.rest(show_menu=True)


def start_report(turn: Turn, text: str) -> bool:
    """A message that describes a problem ("les poubelles débordent rue 5 depuis une semaine") starts
    the submission with it as the description, and the place it names as the place. A sure category
    is taken (shown, and changed from the summary if wrong); a likely one is proposed in one line to
    confirm; otherwise the category menu comes next. False for anything else, or what the classifiers
    are not sure is a report."""
    body = (turn.message.text if turn.message else text).strip()
    if len(body.split()) < MIN_REPORT_WORDS:
        return False
    reading = answers.reading_of(body, turn.ctx)
    if reading.intent not in REPORT_INTENTS or reading.intent_margin < SURE:
        return False
    draft = turn.start_draft(reading.intent)
    draft.description = body[:MAX_DESCRIPTION]
    draft.location_text = place_in(body)[:MAX_PLACE]
    turn.session.state = State.MENU
    turn.note(turn.t("description_kept"))
    known = {option.code: option for option in turn.ctx.categories}
    if reading.category in known and reading.category_margin >= SURE:
        draft.category = reading.category
        name = known[reading.category].names.get(turn.lang) or reading.category
        turn.note(turn.t("category_understood", category=name))
    elif reading.category in known and reading.category_margin >= LIKELY:
        draft.guess = reading.category
    advance(turn)
    return True


def miss(turn: Turn, hint: str | None = None) -> None:
    """An answer that does not fit: ask again with the valid choices (after a pause, welcome back)."""
    message = turn.message
    if turn.fresh:
        start(turn, message.text if message else "")
        return
    turn.missed = True
    if message is not None and message.media_count and not message.text.strip():
        turn.note(turn.t("photo_received"))
    elif turn.resuming:
        turn.note(turn.t("resume"))
    else:
        turn.session.misses += 1
        turn.note(hint or prompts.miss_hint(turn.session, turn.ctx))
        if turn.session.misses >= turn.ctx.max_misses:
            turn.note(turn.t("offer_agent"))
            if turn.session.misses == turn.ctx.max_misses:
                turn.do(RequestAgent("misunderstood"))
    turn.ask()


def advance(turn: Turn) -> None:
    """Ask the next empty required slot's question (`slots.next_question`), else the summary; while
    editing, straight back to the summary."""
    editing = turn.data.pop("editing", False)
    turn.goto(State.CONFIRM if editing else slots.next_question(turn.draft))
    turn.ask()


def on_menu(turn: Turn, text: str) -> None:
    """1-3 start a submission of that kind, 4 tracks a case, 5 asks for a person."""
    number = choice(text, 5)
    if number is not None and number <= len(KINDS):
        turn.start_draft(KINDS[number - 1])
        advance(turn)
    elif number == 4:
        fallbacks.start_tracking(turn)
    elif number == 5:
        fallbacks.request_agent(turn, "asked")
    elif turn.fresh or not start_report(turn, text):  # after a long silence, `miss` starts afresh
        miss(turn, _mistyped(turn, text))


def on_category(turn: Turn, text: str) -> None:
    """A category from the page shown, or `9` for the next page."""
    page, more = prompts.current_page(turn.session, turn.ctx)
    number = choice(text, 9)
    if number is not None and number <= len(page):
        turn.draft.category = page[number - 1].code
        turn.draft.guess = None
        turn.data.pop("cat_page", None)
        advance(turn)
    elif more and text and fold(text) == prompts.MORE_KEY:
        turn.data["cat_page"] = int(turn.data.get("cat_page", 0)) + 1
        turn.ask()
    else:
        miss(turn)


def on_category_check(turn: Turn, text: str) -> None:
    """1 (or yes) takes the category proposed; 2 (or no) shows the menu of categories."""
    number = yes_or_no_key(turn, text)
    draft = turn.draft
    if number == 1 and draft.guess:
        draft.category, draft.guess = draft.guess, None
        advance(turn)
    elif number == 2 or not draft.guess:
        draft.guess = None
        turn.data["cat_page"] = 0
        turn.goto(State.CATEGORY)
        turn.ask()
    else:
        miss(turn)


def on_description(turn: Turn, text: str) -> None:
    """Free text of at least three characters, kept up to 2000."""
    body = (turn.message.text if turn.message else text).strip()
    if len("".join(body.split())) < MIN_DESCRIPTION:
        miss(turn)
        return
    turn.draft.description = body[:MAX_DESCRIPTION]
    turn.draft.recorded = [name for name in turn.draft.recorded if name != "description"]
    advance(turn)


def on_location(turn: Turn, text: str) -> None:
    """A map pin, or the place in words."""
    message, draft = turn.message, turn.draft
    if message is not None and message.lat is not None and message.lon is not None:
        draft.lat, draft.lon = message.lat, message.lon
        draft.location_text = (message.location_text or text)[:MAX_PLACE]
    elif len("".join(text.split())) >= MIN_PLACE:
        draft.lat = draft.lon = None
        draft.location_text = text.strip()[:MAX_PLACE]
    else:
        miss(turn)
        return
    draft.recorded = [name for name in draft.recorded if name != "location"]
    advance(turn)


def on_name(turn: Turn, text: str) -> None:
    """A name, or 0 (or "anonymous" in any language, or declining to give one) to stay anonymous."""
    draft = turn.draft
    if choice(text, 0, low=0) == 0 or fold(text) in ANONYMOUS_WORDS or answers.refuses_name(text, turn.ctx):
        draft.anonymous, draft.name, draft.callback = True, "", ""
    elif callback_number(text):
        draft.anonymous, draft.name, draft.callback = False, "", callback_number(text)
    elif any(char.isalpha() for char in text):
        draft.anonymous, draft.name = False, " ".join(text.split())[:MAX_NAME]
    else:
        miss(turn)
        return
    advance(turn)


def callback_number(text: str) -> str:
    """`text` as a phone number to call back (`+` and 8 to 15 digits, spaces and dashes allowed), or ""."""
    compact = "".join(references.to_western_digits(text).replace("-", " ").split())
    digits = compact[1:] if compact.startswith("+") else compact
    return compact if digits.isascii() and digits.isdigit() and MIN_PHONE <= len(digits) <= MAX_PHONE else ""


def on_confirm(turn: Turn, text: str) -> None:
    """1 (or yes) files the submission, 2 (or no) opens the edit menu."""
    number = yes_or_no_key(turn, text)
    if number == 1:
        if slots.missing(turn.draft) is not None:
            advance(turn)
            return
        turn.do(CreateCase(_draft(turn)))
        turn.goto(State.SUBMITTING)
    elif number == 2:
        turn.goto(State.EDIT)
        turn.ask()
    else:
        miss(turn)


def on_duplicate_offer(turn: Turn, text: str) -> None:
    """1 (or yes) follows the case already reported nearby, 2 (or no) files the citizen's own."""
    number = yes_or_no_key(turn, text)
    reference = turn.data.get("duplicate_ref")
    if number is None or not reference:
        miss(turn)
        return
    draft = _draft(turn)
    turn.do(CreateCase(dataclasses.replace(draft, duplicate_of=reference) if number == 1
                       else dataclasses.replace(draft, check_duplicates=False)))
    turn.data.pop("duplicate_ref", None)
    turn.data.pop("duplicate_status", None)
    turn.goto(State.SUBMITTING)


YES_NO = {"yes": 1, "no": 2}
"""A plain yes or no to a question whose options are 1 (go ahead) and 2 (do not)."""


def yes_or_no_key(turn: Turn, text: str) -> int | None:
    """1 or 2 for a question whose options are 1 (go ahead) and 2 (do not): the key, or a plain yes or
    no in words ("oui", "wakha", "لا")."""
    return choice(text, 2) or YES_NO.get(answers.yes_or_no(text, turn.ctx) or "")


def on_edit(turn: Turn, text: str) -> None:
    """Which part to change; after it, straight back to the summary."""
    number = choice(text, len(slots.EDITABLE))
    question = slots.EDITABLE[number - 1].question if number is not None else None
    if question is None:
        miss(turn)
        return
    turn.data["editing"] = True
    turn.data["cat_page"] = 0
    turn.draft.guess = None
    turn.goto(question)
    turn.ask()


def on_submitting(turn: Turn, text: str) -> None:
    """The case is being filed: say so."""
    turn.ask()


def on_track(turn: Turn, text: str) -> None:
    """A case picked from the citizen's open ones, or a reference, to look up (or to reopen, or to add
    photos to, when that is what was asked)."""
    listed = turn.data.get("open_cases") or []
    number = choice(text, len(listed)) if listed else None
    reference = listed[number - 1][0] if number is not None else references.parse(text)
    if reference is None:
        miss(turn, _mistyped(turn, text))
    elif turn.data.get("track_purpose") == "reopen":
        turn.data.pop("track_purpose", None)
        fallbacks.start_reopen(turn, reference)
    elif turn.data.get("track_purpose") == "attach":
        photos.start_adding(turn, reference)
    else:
        fallbacks.lookup(turn, reference)


def on_rate(turn: Turn, text: str) -> None:
    """A rating from 1 to 5, as a number, "4/5" or in words."""
    number = choice(text, 5) or answers.rating_in(text)
    reference = turn.data.get("rating_ref")
    if number is None or not reference:
        miss(turn)
        return
    turn.do(RateCase(reference, number))


def on_reopen_offer(turn: Turn, text: str) -> None:
    """1 (or yes) reopens the case (asks what is wrong), 2 (or no) closes it."""
    number = yes_or_no_key(turn, text)
    reference = turn.data.get("reopen_ref") or turn.data.get("rating_ref")
    if number == 1 and reference:
        fallbacks.start_reopen(turn, reference, offered=True)
    elif number == 2 and reference:
        turn.do(CloseCase(reference))
        turn.say("closed_thanks", reference=references.display(reference))
        turn.forget_rating()
        turn.rest(show_menu=False)
    else:
        miss(turn)


def on_reopen_reason(turn: Turn, text: str) -> None:
    """What is still wrong, sent with the reopen request (a recording on the phone, attached to the case)."""
    message = turn.message
    body = (message.text if message else text).strip()
    reference = turn.data.get("reopen_ref")
    recorded = message is not None and not body and photos.carries_audio(message) and bool(message.media_ids)
    if recorded and reference:
        turn.do(ReopenCase(reference, turn.t("recorded_reason"), message.media_ids))
        return
    if len("".join(body.split())) < MIN_DESCRIPTION or not reference:
        miss(turn)
        return
    turn.do(ReopenCase(reference, body[:MAX_DESCRIPTION]))


def on_add_media(turn: Turn, text: str) -> None:
    """Waiting for the photos of a case: anything else asks again (MENU leaves)."""
    miss(turn)


def on_handoff(turn: Turn, text: str) -> None:
    """A person is to answer: acknowledge the first message only, "menu" brings the bot back.
    Once a person has taken the conversation over, the bot says nothing until they hand back."""
    if turn.data.get("with_agent"):
        return
    parsed = commands.parse(text, turn.ctx.languages) if text else None
    if parsed is not None and parsed.command == Command.MENU:
        turn.data.pop("ack_sent", None)
        turn.rest(show_menu=True)
    elif turn.fresh:
        turn.data.pop("ack_sent", None)
        start(turn, text)
    elif not turn.data.get("ack_sent"):
        turn.data["ack_sent"] = True
        turn.emit(Say(turn.t("agent_ack")))


def _mistyped(turn: Turn, text: str) -> str | None:
    """The "mistyped reference" line when `text` is ten digits with a wrong check digit."""
    digits = references.normalize(text) if text else None
    if digits is None or references.is_valid(digits):
        return None
    return turn.t("reference_mistyped", reference=references.display(digits))


def _draft(turn: Turn) -> CaseDraft:
    """The submission as the case store takes it."""
    draft = turn.draft
    return CaseDraft(
        kind=draft.kind,
        category=draft.category or "",
        description=draft.description,
        location_text=draft.location_text,
        language=turn.lang,
        anonymous=draft.anonymous,
        name="" if draft.anonymous else draft.name,
        lat=draft.lat,
        lon=draft.lon,
        attachment_ids=tuple(draft.media),
        callback="" if draft.anonymous else draft.callback,
    )
