"""Whole SMS dialogues in ar, fr and en through the real webhook route, Twilio-signed, with a real
Redis, both SQL stores, a worker, and the twilio client sending to the local emulator: the case filed,
status changes pushed back, the rating, the reopening, and tracking by reference."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import pytest

from core import references
from tests.fixtures.gateway import Gateway
from tests.gateway.conftest import Hotline, reference_in, say_text, set_status, staff_token


@dataclass(frozen=True)
class Dialogue:
    language: str
    messages: list[str]
    kind: str
    category: str
    description: str
    location: str
    name: str | None
    answer: str
    still_wrong: str


DIALOGUES = [
    Dialogue(
        "fr",
        ["Bonjour, j'ai une plainte", "1", "1", "Les ordures ne sont pas ramassées depuis une semaine",
         "Rue 12, Hay Riad", "Karim Benali", "1"],
        "complaint", "waste", "Les ordures ne sont pas ramassées depuis une semaine", "Rue 12, Hay Riad",
        "Karim Benali", "La collecte reprend lundi.", "Toujours rien devant l'école",
    ),
    Dialogue(
        "ar",
        ["السلام عليكم، عندي شكاية", "١", "٢", "الإنارة العمومية معطلة في الزنقة منذ أسبوع", "حي الرياض قرب المسجد",
         "0", "١"],
        "complaint", "lighting", "الإنارة العمومية معطلة في الزنقة منذ أسبوع", "حي الرياض قرب المسجد", None,
        "تم إصلاح الأعمدة يوم الاثنين.", "ما زالت الإنارة معطلة",
    ),
    Dialogue(
        "en",
        ["Hello, I want to report a problem", "2", "3", "There is a deep hole in the road near the school",
         "Avenue Hassan II", "John Smith", "1"],
        "observation", "roads", "There is a deep hole in the road near the school", "Avenue Hassan II",
        "John Smith", "The hole was filled on Tuesday.", "The hole is back after the rain",
    ),
]


def wait_inbox(gateway: Gateway, phone: str, count: int) -> list[str]:
    """Run jobs until the emulator has `count` messages for `phone`; return them."""
    gateway.run_jobs(until=lambda: len(gateway.twilio.sent_to(phone)) >= count)
    return [m.body for m in gateway.twilio.sent_to(phone)]


@pytest.mark.parametrize("dialogue", DIALOGUES, ids=lambda d: d.language)
def test_complaint_from_first_text_to_reopened_case(gateway: Gateway, hotline: Hotline, dialogue: Dialogue) -> None:
    citizen = gateway.citizen()
    lang = dialogue.language
    answers = [citizen.say(message) for message in dialogue.messages]
    assert all(answers), "every message gets an answer"
    reference = reference_in(answers[-1])
    administration_code = gateway.runtime.deployment.category(dialogue.category).administration
    assert administration_code

    code, out, err = hotline("case", "show", references.display(reference), "--json")
    assert code == 0, err
    case = json.loads(out)
    assert case["reference"] == reference
    assert case["status"] == "routed"
    assert case["category"] == dialogue.category
    assert case["administration"] == administration_code
    assert case["service"] == gateway.runtime.deployment.landing_service(administration_code, dialogue.category)
    assert case["service"] is not None and case["assignee"] is None, "in a service, held by nobody yet"
    assert case["language"] == lang
    assert case["origin_channel"] == "sms"
    assert case["anonymous"] is (dialogue.name is None)
    assert case["contact"]["phone"] == citizen.phone
    assert case["contact"]["name"] == dialogue.name
    assert case["location"] == {"lat": None, "lon": None, "text": dialogue.location}
    assert case["description"] == dialogue.description
    assert case["attachments"] == [] and case["rating"] is None
    assert [(e["kind"], e["status"], e["actor"]) for e in case["events"]] == [
        ("created", "received", "citizen"), ("status", "routed", "system")]
    assert case["kind"] == dialogue.kind

    token = staff_token(hotline, f"officer-{secrets.token_hex(3)}", "officer", administration_code)
    response = set_status(gateway, token, reference, "in_progress", "Équipe envoyée")
    assert response.status_code == 200, response.text
    inbox = wait_inbox(gateway, citizen.phone, 1)
    shown = references.display(reference)
    (told,) = inbox  # the note written "for the citizen" goes with "in progress" too
    assert told.startswith(say_text(gateway, lang, "status_changed", reference=shown,
                                    status=say_text(gateway, lang, "status_in_progress")))
    assert told.endswith("Équipe envoyée")

    assert set_status(gateway, token, reference, "answered", dialogue.answer).status_code == 200
    inbox = wait_inbox(gateway, citizen.phone, 2)
    told = "\n".join(inbox[1:])
    assert shown in told and dialogue.answer in told
    assert say_text(gateway, lang, "ask_rating", reference=shown) in told

    low = citizen.say("2")
    assert any(say_text(gateway, lang, "rating_low") in reply for reply in low)
    assert any(say_text(gateway, lang, "ask_reopen_reason", reference=shown) in r for r in citizen.say("1"))
    reopened = citizen.say(dialogue.still_wrong)
    assert any(say_text(gateway, lang, "case_reopened", reference=shown) in reply for reply in reopened)

    case = json.loads(hotline("case", "show", reference, "--json")[1])
    assert case["status"] == "reopened"
    assert case["rating"] == 2
    assert ("status", "reopened", "citizen", dialogue.still_wrong) in [
        (e["kind"], e["status"], e["actor"], e["note"]) for e in case["events"]]
    assert ("status", "answered", dialogue.answer) in [(e["kind"], e["status"], e["note"]) for e in case["events"]]

    tracked = citizen.say(shown.replace(" ", "-"))
    assert any(shown in reply and say_text(gateway, lang, "status_reopened") in reply for reply in tracked)


def test_good_rating_closes_the_case(gateway: Gateway, hotline: Hotline) -> None:
    citizen = gateway.citizen()
    for message in ["Bonjour", "1", "5", "Arrosage des arbres", "Parc Al Amal", "0"]:
        citizen.say(message)
    reference = reference_in(citizen.say("1"))
    code, _, err = hotline("case", "set-status", reference, "in_progress", "--note", "pris en charge")
    assert code == 0, err
    code, out, err = hotline("case", "set-status", reference, "answered", "--note", "Arrosage programmé")
    assert code == 0, err
    assert out.strip() == f"{references.display(reference)}: in_progress -> answered"
    wait_inbox(gateway, citizen.phone, 2)
    thanks = citizen.say("5")
    assert any(say_text(gateway, "fr", "rating_thanks") in reply for reply in thanks)
    case = json.loads(hotline("case", "show", reference, "--json")[1])
    assert (case["status"], case["rating"]) == ("closed", 5)


def test_cli_refuses_bad_references_and_transitions(gateway: Gateway, hotline: Hotline) -> None:
    code, _, err = hotline("case", "show", "1234567890")
    assert code == 1 and "not a valid case reference" in err
    citizen = gateway.citizen()
    for message in ["Hello", "1", "3", "Broken pavement", "Main street", "0"]:
        citizen.say(message)
    reference = reference_in(citizen.say("1"))
    code, _, err = hotline("case", "set-status", reference, "closed", "--note", "x")
    assert code == 1 and "cannot become closed" in err
    code, _, err = hotline("case", "set-status", reference, "answered", "--note", "")
    assert code == 1
    code, out, _ = hotline("case", "show", reference)
    assert code == 0 and references.display(reference) in out and "Broken pavement" in out


def test_tracking_by_reference_at_any_step(gateway: Gateway) -> None:
    citizen = gateway.citizen()
    for message in ["Bonjour", "1", "3", "Nid de poule", "Avenue Mohammed V", "0"]:
        citizen.say(message)
    reference = reference_in(citizen.say("1"))
    other = gateway.citizen()
    other.say("Bonjour")
    other.say("1")
    replies = other.say(f" {reference[:3]}-{reference[3:6]}-{reference[6:]} ")
    joined = "\n".join(replies)
    assert references.display(reference) in joined
    assert say_text(gateway, "fr", "status_routed") in joined
    wrong = reference[:-1] + str((int(reference[-1]) + 1) % 10)
    assert citizen.say(wrong) != [], "a mistyped reference still gets an answer"


@pytest.mark.parametrize(("first", "category", "place"), [
    ("Les poubelles débordent rue Ibn Sina depuis cinq jours", "waste", "rue Ibn Sina"),
    ("الزبالة متكومة في الشارع بقالها أسبوع", "waste", ""),
    ("The street light in front of my house has been off for a week", "lighting", "in front of my house"),
    ("kayn zbel bzaf f derb dyalna", "waste", "derb dyalna"),
])
def test_a_complaint_described_in_its_first_text_is_filed_without_retyping(
        gateway: Gateway, hotline: Hotline, first: str, category: str, place: str) -> None:
    """The first SMS says the problem: it is the description, its category is understood, the place it
    names is the place, and the citizen answers only what is missing: their name and the summary (3
    messages), and the place when the text does not name one (4; it was 7)."""
    citizen = gateway.citizen()
    messages = (first, "0", "1") if place else (first, "rue 12, hay salam", "0", "1")
    answers = [citizen.say(message) for message in messages]
    reference = reference_in(answers[-1])
    case = json.loads(hotline("case", "show", reference, "--json")[1])
    assert (case["description"], case["category"], case["kind"]) == (first, category, "complaint")
    assert case["location"]["text"] == (place or "rue 12, hay salam") and case["anonymous"] is True


def test_where_is_my_complaint_without_the_number(gateway: Gateway) -> None:
    """A citizen who asks where their complaint is is told its status (one open case), or picks from
    their open cases (several), without typing a reference."""
    citizen = gateway.citizen()
    first = reference_in([citizen.say(m) for m in ("Les poubelles débordent rue Ibn Sina depuis cinq jours", "0",
                                                   "1")][-1])
    told = "\n".join(citizen.say("où en est ma plainte ?"))
    assert references.display(first) in told and say_text(gateway, "fr", "status_routed") in told
    second = reference_in([citizen.say(m) for m in
                           ("Le lampadaire est éteint devant l'école Al Amal depuis hier", "0", "1")][-1])
    listed = "\n".join(citizen.say("où en est ma plainte ?"))
    assert f"1 {references.display(second)}" in listed and f"2 {references.display(first)}" in listed
    picked = "\n".join(citizen.say("2"))
    assert references.display(first) in picked and references.display(second) not in picked


@pytest.mark.parametrize("sentence", ["je veux parler à quelqu'un", "can I talk to a real person please",
                                      "عايز أكلم حد"])
def test_a_sentence_asking_for_a_person_puts_the_conversation_in_the_queue(gateway: Gateway, sentence: str) -> None:
    citizen = gateway.citizen()
    citizen.say("Bonjour")
    assert citizen.say(sentence), "the citizen is told a person will answer"
    store = gateway.runtime.store
    contact = store.find_contact(citizen.phone)
    assert contact is not None
    waiting = store.open_conversation("sms", contact.id)
    assert waiting is not None and waiting[1] == "needs_person"
