"""The voice channel against hostile webhooks, as rows: what `parse_call` makes of each form (after the
signature), and that every call it accepts can be answered without an error."""

from __future__ import annotations

from typing import Any

import pytest

from channels.base import HttpRequest
from channels.ivr.adapter import STEPS, CallRequest, VoiceChannel
from channels.ivr.call_settings import parse

CHANNEL = VoiceChannel(parse({}, {}, "MA"))
BASE = "https://hotline.example/webhooks/twilio/voice"
CALL = {"CallSid": "CA" + "a" * 32, "AccountSid": "AC" + "0" * 32, "From": "+212612345678", "To": "+212522000111",
        "CallStatus": "in-progress"}


def parsed(step: str = "", query: str = "", **fields: str | None) -> CallRequest | None:
    """What the channel makes of a call webhook to `step` with `query`, the row's fields changed."""
    form = {key: value for key, value in {**CALL, **fields}.items() if value is not None}
    url = BASE + (f"/{step}" if step else "") + (f"?{query}" if query else "")
    return CHANNEL.parse_call(HttpRequest(url, "POST", {}, form))


REFUSED = [
    ("no caller", {"From": None}),
    ("an empty caller", {"From": ""}),
    ("a caller of control characters only", {"From": "\x00\x07"}),
    ("an empty number called", {"To": "", "Called": ""}),
    ("no CallSid", {"CallSid": None}),
    ("a CallSid with odd characters", {"CallSid": "CA'; --"}),
    ("a CallSid past 64 characters", {"CallSid": "CA" + "a" * 100}),
    ("keys no keypad has", {"Digits": "²"}),
    ("keys in Arabic-Indic digits", {"Digits": "١"}),
    ("keys with a NUL", {"Digits": "1\x00"}),
]


@pytest.mark.parametrize("step", ["", *STEPS])
@pytest.mark.parametrize(("label", "fields"), REFUSED, ids=[row[0] for row in REFUSED])
def test_calls_without_what_twilio_always_sends_are_refused(step: str, label: str, fields: dict[str, Any]) -> None:
    assert parsed(step, **fields) is None


def test_an_unknown_sub_path_is_refused() -> None:
    assert parsed("admin") is None


CLEANED = [
    ("counters past 64 bits in the query are ignored", "input", f"n={2**64}&r=-1&asks=menu&lang=fr", {},
     {"turn": 0, "repeats": 0}),
    ("speech with control characters", "input", "asks=description&lang=fr&n=2",
     {"SpeechResult": "Zbel\x00\x1b hna\r\n"}, {"speech": "Zbel hna"}),
    ("a recording URL with a NUL", "recording", "", {"RecordingUrl": "https://api.twilio.com/x\x00.wav",
                                                     "RecordingStatus": "COMPLETED"},
     {"recording_url": "https://api.twilio.com/x.wav", "recording_status": "completed"}),
    ("a recording length past 64 bits", "record", "", {"RecordingDuration": str(2**64)},
     {"recording_duration": -1}),
    ("a caller withheld by the network", "", "", {"From": "anonymous"}, {"caller": "anonymous"}),
    ("Caller and Called when From and To are missing", "", "", {"From": None, "To": None,
                                                             "Caller": "+212612345678", "Called": "+212522000111"},
     {"caller": "+212612345678", "called": "+212522000111"}),
]


@pytest.mark.parametrize(("label", "step", "query", "fields", "expected"), CLEANED, ids=[row[0] for row in CLEANED])
def test_what_gets_through_is_cleaned(label: str, step: str, query: str, fields: dict[str, str],
                                      expected: dict[str, Any]) -> None:
    call = parsed(step, query, **fields)
    assert call is not None
    for name, value in expected.items():
        assert getattr(call, name) == value, name
    CHANNEL.answer(call, ["ar", "fr", "en"], BASE)
