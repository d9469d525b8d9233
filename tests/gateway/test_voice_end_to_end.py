"""The voice hotline end to end: whole calls through the real routes, as Twilio plays them.

A caller files a complaint by keypad and recordings (in Arabic and French), hears the reference read
back and gets it by SMS, then calls again and tracks it; a caller asks for a person; a caller hangs up
mid-way; and every kind of bad input a call brings. Every TwiML document is checked as it arrives.
"""

from __future__ import annotations

import pytest

from core import references
from tests.fixtures.gateway import Gateway
from tests.gateway.voice_kit import LANGUAGE_KEY, MP3, Caller, reference_in, spoken, to_description

"""The language menu: the deployment's default (ar) first."""


def conversation_of(gateway: Gateway, phone: str) -> tuple[str, str, dict]:
    """(status, reason, collected) of the caller's open conversation."""
    store = gateway.runtime.store
    contact_id = store.contact_id_for("ivr", phone)
    assert contact_id is not None
    opened = store.open_conversation("ivr", contact_id)
    assert opened is not None, "no open conversation"
    found = store.collected(opened[0])
    assert found is not None
    return found


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_a_complaint_by_phone_then_tracking_it(gateway: Gateway, language: str) -> None:
    caller = Caller(gateway)
    to_description(caller, language)
    first = gateway.twilio.add_recording(MP3)
    caller.record(first, 12)
    assert "Record" in caller.verbs  # the place, recorded (no area codes configured)
    caller.record(gateway.twilio.add_recording(MP3), 4)
    assert "Gather" in caller.verbs  # the contact: 1 this number, 2 another, 3 anonymous
    caller.press("1")
    confirm = spoken(caller.last)
    assert caller.phone in confirm
    done = caller.press("1")
    reference = reference_in(done)
    assert references.is_valid(reference)
    say = next(done.iter("Say"), None)
    assert say is not None and say.attrib["voice"] == {"ar": "Polly.Zeina", "fr": "Polly.Lea"}[language]
    assert any(element.tag == "break" for element in done.iter())  # read slowly, digit by digit
    assert reference_in(caller.press("1")) == reference  # press 1 to hear it again
    caller.hang_up()

    gateway.run_jobs(until=lambda: bool(gateway.twilio.sent_to(caller.phone)))
    texted = [m.body for m in gateway.twilio.sent_to(caller.phone)]
    assert any(references.display(reference) in body for body in texted), texted
    document = gateway.runtime.store.case_document(reference)
    assert document is not None
    assert document["origin_channel"] == "ivr" and document["language"] == language
    audio = [a for a in document["attachments"] if a["kind"] == "audio"]
    assert len(audio) == 2 and all(a["status"] == "stored" and a["content_type"] == "audio/mpeg" for a in audio)
    assert any(e["note"] == f"callback: {caller.phone}" for e in document["events"])

    again = Caller(gateway, phone=caller.phone)
    again.call()
    again.press(LANGUAGE_KEY[language])
    again.press("4")
    assert again.last is not None and next(again.last.iter("Gather")).attrib.get("finishOnKey") == "#"
    status = again.press(reference)
    assert reference_in(status) == reference
    assert document["events"][-1]["at"][:10] in spoken(status)  # the date of the last change
    assert "repeat" in next(status.iter("Gather")).attrib["action"]


def test_pressing_zero_puts_the_caller_through_with_what_was_collected(gateway: Gateway) -> None:
    caller = Caller(gateway)
    to_description(caller, "fr")
    caller.record(gateway.twilio.add_recording(MP3), 9)
    caller.record(gateway.twilio.add_recording(MP3), 3)
    caller.press("0")
    assert caller.verbs[-1] == "Enqueue"
    assert next(caller.last.iter("Enqueue")).text == "hotline"
    status, reason, collected = conversation_of(gateway, caller.phone)
    assert status == "needs_person" and reason == "asked"
    assert collected["language"] == "fr" and collected["kind"] == "complaint" and collected["category"]
    assert len(collected["recordings"]) == 2 and collected["step"] == "name"
    wait = caller.post("/webhooks/twilio/voice/wait?lang=fr", caller.params())
    assert "conseiller" in spoken(wait)


def test_a_caller_hanging_up_mid_complaint_leaves_an_abandoned_conversation(gateway: Gateway) -> None:
    caller = Caller(gateway)
    to_description(caller, "ar")
    caller.record(gateway.twilio.add_recording(MP3), 9)
    caller.hang_up()
    status, reason, collected = conversation_of(gateway, caller.phone)
    assert (status, reason) == ("needs_person", "abandoned")
    assert collected["step"] == "location" and collected["language"] == "ar" and len(collected["recordings"]) == 1
    assert gateway.runtime.store.contact_id_for("ivr", caller.phone) is not None
    fresh = caller.call()  # the next call starts afresh, with the language menu
    assert "language" in next(fresh.iter("Gather")).attrib["action"]


def test_bad_keys_and_silence_repeat_then_offer_a_person_then_end(gateway: Gateway) -> None:
    caller = Caller(gateway)
    caller.call()
    caller.press("7")  # no such language
    assert "language" in next(caller.last.iter("Gather")).attrib["action"]
    caller.press("2")
    menu = spoken(caller.last)
    for key in ("9", "*", "#"):
        again = caller.press(key)
        assert "Désolé" in spoken(again)
        assert menu.split(" | ")[-1] in spoken(again)
    third = spoken(caller.last)
    assert "appuyez sur zéro" in third  # after the third miss, a person is offered
    caller.press(None)
    assert caller.verbs[-1] == "Hangup"


def test_silence_is_a_miss_and_a_key_then_works(gateway: Gateway) -> None:
    caller = Caller(gateway)
    caller.call()
    caller.press(LANGUAGE_KEY["fr"])
    assert "Désolé" in spoken(caller.press(None))
    caller.press("1")
    assert "Gather" in caller.verbs and "input" in next(caller.last.iter("Gather")).attrib["action"]


def test_recordings_on_a_foreign_host_or_empty_are_asked_again(gateway: Gateway) -> None:
    caller = Caller(gateway)
    to_description(caller, "fr")
    caller.record("https://evil.example/2010-04-01/Accounts/AC1/Recordings/RE1", 10)
    assert "Record" in caller.verbs and "rien entendu" in spoken(caller.last)
    caller.record(gateway.twilio.add_recording(MP3), 0)
    assert "Record" in caller.verbs and "rien entendu" in spoken(caller.last)
    silent = caller.post(next(caller.last.iter("Redirect")).text[len("https://hotline.commune.example"):],
                         caller.params())
    assert "Record" in [child.tag for child in silent]
    store = gateway.runtime.store
    contact_id = store.contact_id_for("ivr", caller.phone)
    assert store.pending_attachment_by_source("https://evil.example/2010-04-01/Accounts/AC1/Recordings/RE1.mp3") is None
    assert contact_id is not None


def test_a_mistyped_reference_is_caught_and_asked_again(gateway: Gateway) -> None:
    caller = Caller(gateway)
    caller.call()
    caller.press(LANGUAGE_KEY["fr"])
    caller.press("4")
    good = references.new_reference()
    typo = good[:-1] + str((int(good[-1]) + 1) % 10)
    answer = caller.press(typo)
    assert "mal saisi" in spoken(answer)
    assert "input" in next(answer.iter("Gather")).attrib["action"]
    unknown = caller.press(good)
    assert "Aucune demande" in spoken(unknown)


def test_unsigned_and_odd_voice_requests(gateway: Gateway) -> None:
    caller = Caller(gateway)
    forged = gateway.post("/webhooks/twilio/voice", caller.params(), signature="bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403
    no_call = gateway.post("/webhooks/twilio/voice/input", {"From": caller.phone})
    assert no_call.status_code == 400
    recording = gateway.post("/webhooks/twilio/voice/recording",
                             caller.params(RecordingUrl="https://api.twilio.com/x", RecordingStatus="completed"))
    assert recording.status_code == 204
