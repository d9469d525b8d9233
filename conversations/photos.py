"""Photos, files and map pins at any step: photo-first reports, additions to a draft, additions to a case.

A photo (or a pin) opens a report when the citizen is at rest: the draft keeps the photos, the pin and
the caption (as the description), and only what is missing is asked. Mid-report, photos and pins are
added to the draft (a pin also answers the "where" question). After filing, "add to my case REF" (or
a WhatsApp reply to one of our messages, taken as a reply to the confirmation) adds photos to a case.

Several photos sent in a row arrive as several messages: they are acknowledged once per burst.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations import commands, language
from conversations.model import AttachMedia, State, UserMessage
from conversations.turn import FLOW_STATES, Turn
from core import references

BURST = timedelta(seconds=60)
"""Photos arriving within this of the last acknowledgement are taken in silence."""
MIN_CAPTION = 3
MAX_PLACE = 300
MAX_DESCRIPTION = 2000

DRAFTING = FLOW_STATES - {State.SUBMITTING}
"""Where photos and pins join the draft."""


def carries_media(message: UserMessage) -> bool:
    """True when the message has photos or files."""
    return bool(message.media_ids) or message.media_count > 0


def carries_audio(message: UserMessage) -> bool:
    """True when the message carries a recording (a voice note, a recorded answer on the phone)."""
    return "audio" in message.media_kinds


RECORDED_ANSWERS = {State.DESCRIPTION: "recorded_description", State.LOCATION: "recorded_location"}
"""Questions a recording answers on its own (the recording is kept with the draft and goes with the case)."""


def take_recording(turn: Turn, state: State) -> None:
    """A recording without words answers the description or the place: the case text says to listen."""
    from conversations.states import advance

    line = turn.t(RECORDED_ANSWERS[state])
    if state == State.DESCRIPTION:
        turn.data["description"] = line
        advance(turn, State.LOCATION)
    else:
        turn.data.update(lat=None, lon=None, location_text=line)
        advance(turn, State.NAME)


def carries_pin(message: UserMessage) -> bool:
    """True when the message is a map pin."""
    return message.lat is not None and message.lon is not None


def is_command(text: str, turn: Turn) -> bool:
    """True when `text` is a global command or a bare reference (the fallbacks' business)."""
    if not text:
        return False
    return commands.parse(text, turn.ctx.languages) is not None or references.parse(text) is not None


def handle(turn: Turn, message: UserMessage, text: str) -> bool:
    """Take a message carrying photos or a pin; False leaves it to the fallbacks and the state's handler."""
    state = turn.session.state
    if is_command(text, turn):
        return False
    if state == State.ADD_MEDIA and not turn.fresh:
        return _to_case(turn, message)
    if state in DRAFTING:
        keep(turn, message, in_location=state == State.LOCATION)
        if text or (state == State.LOCATION and carries_pin(message)):
            return False
        if state in RECORDED_ANSWERS and carries_audio(message):
            take_recording(turn, state)
            return True
        key = "location_received" if carries_pin(message) and not carries_media(message) else "photo_received"
        acknowledge(turn, key, message.at)
        return True
    if state in (State.NEW, State.MENU) or turn.fresh:
        reference = turn.data.get("last_case")
        if message.reply_to and reference and carries_media(message):
            turn.do(AttachMedia(reference, message.media_ids))
            return True
        start_report(turn, message, text)
        return True
    return False


def start_report(turn: Turn, message: UserMessage, text: str, intro: str | None = None) -> None:
    """Open a complaint from a photo or a pin: keep them and the caption, then ask what is missing."""
    from conversations.states import advance

    session = turn.session
    session.misses = 0
    detected = language.detect(text, turn.ctx) if text else None
    if detected:
        turn.set_language(detected)
    elif session.language not in turn.ctx.languages:
        fallback = turn.ctx.default_language
        turn.set_language(fallback if fallback in turn.ctx.languages else turn.ctx.languages[0], decided=False)
    turn.drop_draft()
    turn.data.update(kind="complaint", cat_page=0, prefilled=[])
    keep(turn, message, in_location=False)
    caption = (message.text or "").strip()
    if len("".join(caption.split())) >= MIN_CAPTION:
        turn.data["description"] = caption[:MAX_DESCRIPTION]
        turn.data["prefilled"].append("description")
    if intro:
        turn.note(turn.t(intro))
    turn.note(turn.t("photo_report" if carries_media(message) else "pin_report"))
    turn.data["media_ack_at"] = message.at.isoformat()
    advance(turn, State.CATEGORY)


def keep(turn: Turn, message: UserMessage, *, in_location: bool) -> None:
    """Add the message's photos to the draft, and its pin as the place (unless the LOCATION question,
    whose handler takes the pin itself)."""
    if message.media_ids:
        kept = list(turn.data.get("media") or [])
        kept.extend(i for i in message.media_ids if i not in kept)
        turn.data["media"] = kept
    elif message.media_count:
        turn.data["media_count"] = int(turn.data.get("media_count") or 0) + message.media_count
    if carries_pin(message) and not in_location:
        turn.data.update(lat=message.lat, lon=message.lon, location_text=(message.location_text or "")[:MAX_PLACE])
        prefilled = list(turn.data.get("prefilled") or [])
        if "location" not in prefilled:
            prefilled.append("location")
        turn.data["prefilled"] = prefilled


def acknowledge(turn: Turn, key: str, at: datetime) -> None:
    """Say `key` and ask the current question again, once per burst (later photos pass in silence)."""
    last = turn.data.get("media_ack_at")
    if last and at - datetime.fromisoformat(last) < BURST and key == "photo_received":
        return
    turn.data["media_ack_at"] = at.isoformat()
    turn.note(turn.t(key))
    turn.ask()


def _to_case(turn: Turn, message: UserMessage) -> bool:
    """In the "send the photos for case REF" question: add them to that case."""
    reference = turn.data.get("attach_ref")
    if not reference or not carries_media(message):
        return False
    if message.media_ids:
        turn.do(AttachMedia(reference, message.media_ids))
    return True


def start_adding(turn: Turn, reference: str) -> None:
    """Ask for the photos of `reference` (those sent with the command go at once)."""
    turn.data["attach_ref"] = reference
    turn.data.pop("track_purpose", None)
    turn.goto(State.ADD_MEDIA)
    message = turn.message
    if message is not None and message.media_ids:
        turn.do(AttachMedia(reference, message.media_ids))
        return
    turn.ask()


def prefilled_skip(turn: Turn, state: State) -> State:
    """The next question to ask from `state`, skipping what a photo's caption or a pin already answered."""
    prefilled = set(turn.data.get("prefilled") or ())
    if state == State.DESCRIPTION and "description" in prefilled and turn.data.get("description"):
        state = State.LOCATION
    if state == State.LOCATION and "location" in prefilled and turn.data.get("lat") is not None:
        state = State.NAME
    return state
