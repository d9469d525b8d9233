"""Photos, files and map pins at any step: photo-first reports, additions to a draft, additions to a case.

A photo (or a pin) opens a report when the citizen is at rest: the draft keeps the photos, the pin and
the caption (as the description), and only what is missing is asked. Mid-report, photos and pins are
added to the draft (a pin also answers the "where" question). After filing, "add to my case REF" (or
a WhatsApp reply to one of our messages, taken as a reply to the confirmation) adds photos to a case.

Several photos sent in a row arrive as several messages: they are acknowledged once per burst.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations import commands, slots
from conversations.model import AttachMedia, State, UserMessage
from conversations.turn import Turn
from core import references

BURST = timedelta(seconds=60)
"""Photos arriving within this of the last acknowledgement are taken in silence."""
MIN_CAPTION = 3
MAX_PLACE = 300
MAX_DESCRIPTION = 2000

def carries_media(message: UserMessage) -> bool:
    """True when the message has photos or files."""
    return bool(message.media_ids) or message.media_count > 0


def carries_audio(message: UserMessage) -> bool:
    """True when the message carries a recording (a voice note, a recorded answer on the phone)."""
    return "audio" in message.media_kinds


def recorded_slot(state: State) -> slots.Slot | None:
    """The slot a recording answers on its own at question `state` (the recording is kept with the
    draft and goes with the case), if any."""
    slot = slots.BY_QUESTION.get(state)
    return slot if slot is not None and slot.recording else None


def take_recording(turn: Turn, slot: slots.Slot) -> None:
    """A recording without words answers the description or the place: the case text says to listen."""
    from conversations.states import advance

    draft, line = turn.draft, turn.t(slot.recording)
    if slot.name == "description":
        draft.description = line
    else:
        draft.lat = draft.lon = None
        draft.location_text = line
    draft.recorded = [*(name for name in draft.recorded if name != slot.name), slot.name]
    advance(turn)


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
    if state in slots.DRAFTING:
        keep(turn, message, in_location=state == State.LOCATION)
        if text or (state == State.LOCATION and carries_pin(message)):
            return False
        recorded = recorded_slot(state)
        if recorded is not None and carries_audio(message):
            take_recording(turn, recorded)
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

    turn.session.misses = 0
    turn.decide_language(text)
    draft = turn.start_draft("complaint")
    keep(turn, message, in_location=False)
    caption = (message.text or "").strip()
    if len("".join(caption.split())) >= MIN_CAPTION:
        draft.description = caption[:MAX_DESCRIPTION]
    if intro:
        turn.note(turn.t(intro))
    turn.note(turn.t("photo_report" if carries_media(message) else "pin_report"))
    turn.data["media_ack_at"] = message.at.isoformat()
    advance(turn)


def keep(turn: Turn, message: UserMessage, *, in_location: bool) -> None:
    """Add the message's photos to the draft (recordings counted apart), and its pin as the place
    (unless the LOCATION question, whose handler takes the pin itself)."""
    draft = turn.draft
    if message.media_ids:
        new = [i for i in message.media_ids if i not in draft.media]
        draft.media.extend(new)
        if carries_audio(message):
            draft.recordings += len(new)
    elif message.media_count:
        draft.media_count += message.media_count
    if carries_pin(message) and not in_location:
        draft.lat, draft.lon = message.lat, message.lon
        draft.location_text = (message.location_text or "")[:MAX_PLACE]


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
