"""The voice hotline end to end: whole calls through the real routes, as Twilio plays them.

A caller files a complaint by keypad and recordings (in Arabic and French), hears the reference read
back and gets it by SMS, then calls again and tracks it; a caller asks for a person; a caller hangs up
mid-way; and every kind of bad input a call brings. Every TwiML document is checked as it arrives.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

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
    assert caller.phone.lstrip("+") in confirm  # read digit by digit
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

    again = Caller(gateway, phone=caller.phone)  # their only open case is told at once
    again.call()
    again.press(LANGUAGE_KEY[language])
    status = again.press("4")
    assert reference_in(status) == reference
    assert document["events"][-1]["at"][:10] in spoken(status)  # the date of the last change
    assert "repeat" in next(status.iter("Gather")).attrib["action"]

    other = Caller(gateway, phone="+212661000777")  # someone else: the reference is asked
    other.call()
    other.press(LANGUAGE_KEY[language])
    other.press("4")
    assert other.last is not None and next(other.last.iter("Gather")).attrib.get("finishOnKey") == "#"
    assert reference_in(other.press(reference)) == reference


def file_by_phone(gateway: Gateway, language: str) -> tuple[Caller, str]:
    """A caller files a complaint by keypad and recordings; the caller and the reference."""
    caller = Caller(gateway)
    to_description(caller, language)
    caller.record(gateway.twilio.add_recording(MP3), 12)
    caller.record(gateway.twilio.add_recording(MP3), 4)
    caller.press("1")
    reference = reference_in(caller.press("1"))
    caller.hang_up()
    return caller, reference


def track_answered(gateway: Gateway, language: str, answer: str) -> tuple[Caller, str, ET.Element]:
    """A case filed by phone and answered; its caller calls again and tracks it (key 4): the caller,
    the reference and what they hear."""
    caller, reference = file_by_phone(gateway, language)
    store = gateway.runtime.store
    store.change_status(reference, "in_progress", "agent")
    store.change_status(reference, "answered", "agent", answer)
    again = Caller(gateway, phone=caller.phone)
    again.call()
    again.press(LANGUAGE_KEY[language])
    return again, reference, again.press("4")


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_the_spoken_summary_is_written_for_the_ear(gateway: Gateway, language: str) -> None:
    """The recordings are "your recorded description", not photos; the number is read digit by digit."""
    caller = Caller(gateway)
    to_description(caller, language)
    caller.record(gateway.twilio.add_recording(MP3), 12)
    caller.record(gateway.twilio.add_recording(MP3), 4)
    summary = caller.press("1")
    words = spoken(summary)
    recorded = {"ar": ("وصفك المسجل", "المكان الذي سجلته"), "fr": ("votre description enregistrée",
                                                                 "le lieu que vous avez enregistré")}[language]
    assert all(phrase in words for phrase in recorded), words
    assert "…" not in words and "Photos" not in words and "الصور" not in words
    digits = "".join(b.tail or "" for b in summary.iter("break"))
    assert caller.phone.lstrip("+") in digits  # the caller's number, one digit after another
    caller.hang_up()


def test_a_caller_rates_and_reopens_an_answered_case_by_keypad(gateway: Gateway) -> None:
    """Tracking their own answered case, the caller rates it 1-5 on the keypad; a low rating offers to
    reopen it, and what is still wrong is said after the beep and goes with the case."""
    again, reference, rating = track_answered(gateway, "fr", "Le lampadaire a été remplacé.")
    store = gateway.runtime.store
    assert reference_in(rating) == reference and "de 1" in spoken(rating)
    assert next(rating.iter("Gather")).attrib["numDigits"] == "1"
    offer = again.press("2")
    assert "Rouvrir" in spoken(offer) and "Hangup" not in again.verbs
    again.press("1")
    assert "Record" in again.verbs
    done = again.record(gateway.twilio.add_recording(MP3), 6)
    assert "rouverte" in spoken(done)
    document = store.case_document(reference)
    assert document is not None and document["status"] == "reopened" and document["rating"] == 2
    assert len([a for a in document["attachments"] if a["kind"] == "audio"]) == 3
    assert any(e["status"] == "reopened" and "enregistrement" in e["note"] for e in document["events"])


def test_a_caller_rates_an_answered_case_well_and_it_is_closed(gateway: Gateway) -> None:
    again, reference, _ = track_answered(gateway, "ar", "تم إصلاح العطب.")
    store = gateway.runtime.store
    again.press("5")
    document = store.case_document(reference)
    assert document is not None and document["rating"] == 5 and document["status"] == "closed"


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
