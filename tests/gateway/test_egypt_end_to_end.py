"""The Egypt profile (`core/defaults/egypt-shakwa.yaml`) through the same end-to-end dialogues as the
Moroccan commune: a gateway started with HOTLINE_CONFIG pointing at it, on both SQL stores, a real
Redis, a worker and the Twilio emulator. Citizens write in Egyptian Arabic, Franco-Arab and English to
the two WhatsApp numbers and call 16528: the case filed in the right category and routed to its body
and service, status changes pushed back from the number written to, the rating, the reopening and
tracking; the decree's rule at the name question (0 hides name and number from the administration's
staff); the Egyptian texts of the profile are what the citizen reads; Egyptian numbers kept in E.164."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from core import references
from gateway.settings import Settings
from tests.emulators.twilio import TwilioEmulator
from tests.fixtures.database import DatabaseFactory
from tests.fixtures.gateway import Gateway, gateway_settings, start_gateway
from tests.gateway.conftest import Hotline, reference_in, say_text, set_status, staff_token
from tests.gateway.voice_kit import MP3, Caller, spoken, to_description
from tests.gateway.voice_kit import reference_in as spoken_reference
from tests.gateway.whatsapp_kit import WhatsAppCitizen
from tests.support import random_mobile

CONFIG = str(resources.files("core") / "defaults" / "egypt-shakwa.yaml")
RAW: dict[str, Any] = yaml.safe_load(Path(CONFIG).read_text(encoding="utf-8"))
FIRST, SECOND = "+201555516528", "+201555525444"
"""The two WhatsApp numbers (01555516528, 01555525444), in E.164."""
HOTLINE = "16528"
SERVICE = {entry["code"]: entry.get("service") for entry in RAW["categories"]}
"""Category -> the service of its administration a new case lands in, as the YAML says."""


@pytest.fixture(scope="module")
def gateway(database_factory: DatabaseFactory, redis_url: str, twilio: TwilioEmulator) -> Iterator[Gateway]:
    """A gateway on the Egyptian deployment (its own database, per backend), answering on WhatsApp
    from 01555516528 by default; the `hotline` CLI of these tests runs with the same environment."""
    base = gateway_settings(database_factory.new(), redis_url, twilio)
    settings = Settings.from_env({**base.env, "HOTLINE_CONFIG": CONFIG, "TWILIO_SMS_FROM": FIRST,
                                  "TWILIO_WHATSAPP_FROM": f"whatsapp:{FIRST}"})
    running = dataclasses.replace(start_gateway(settings, twilio), number=FIRST)
    assert running.runtime.deployment.default_region == "EG"
    yield running
    running.stop()


def egyptian(gateway: Gateway, number: str = FIRST) -> WhatsAppCitizen:
    """A citizen on WhatsApp from a fresh Egyptian mobile, writing to one of our numbers."""
    return WhatsAppCitizen(dataclasses.replace(gateway, number=number), random_mobile("+2010"))


def on(gateway: Gateway, number: str) -> Gateway:
    """The gateway as seen through one of its numbers (`say_text` renders that profile's texts)."""
    return dataclasses.replace(gateway, number=number)


def whatsapp_inbox(gateway: Gateway, citizen: WhatsAppCitizen, count: int) -> list[Any]:
    """Run jobs until the emulator has `count` WhatsApp messages for the citizen; return them."""
    gateway.run_jobs(until=lambda: len(gateway.twilio.sent_to(f"whatsapp:{citizen.phone}")) >= count)
    return gateway.twilio.sent_to(f"whatsapp:{citizen.phone}")


def case_json(hotline: Hotline, reference: str) -> dict[str, Any]:
    """`hotline case show REF --json`."""
    code, out, err = hotline("case", "show", reference, "--json")
    assert code == 0, err
    return json.loads(out)


def as_officer(gateway: Gateway, token: str, reference: str) -> requests.Response:
    """`GET /api/v1/cases/{ref}` with an officer's token."""
    return requests.get(f"{gateway.url}/api/v1/cases/{reference}", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)


def officer(hotline: Hotline, administration: str) -> str:
    """A token of a new officer bound to `administration`."""
    return staff_token(hotline, f"officer-{secrets.token_hex(3)}", "officer", administration)


@dataclass(frozen=True)
class Dialogue:
    label: str
    number: str
    language: str
    messages: list[str]
    kind: str
    category: str
    description: str
    location: str
    name: str | None
    note: str
    answer: str
    still_wrong: str


DIALOGUES = [
    Dialogue(
        "egyptian-arabic", FIRST, "ar",
        ["السلام عليكم، عندي شكوى", "1", "1", "الزبالة مترمية في الشارع ومحدش بيشيلها من أسبوع",
         "شارع التحرير، الدقي", "محمد عبد الله", "1"],
        "complaint", "waste", "الزبالة مترمية في الشارع ومحدش بيشيلها من أسبوع", "شارع التحرير، الدقي",
        "محمد عبد الله", "العربية طالعة النهارده", "تم رفع المخلفات يوم الاتنين.", "لسه الزبالة موجودة قدام المدرسة",
    ),
    Dialogue(
        "franco-arab", SECOND, "ar",
        ["salam 3alekom", "1", "2", "el mayya ma2to3a men 3 ayam", "share3 faisal, el haram", "0", "1"],
        "complaint", "water", "el mayya ma2to3a men 3 ayam", "share3 faisal, el haram", None,
        "فريق الصيانة في الطريق", "تم إصلاح الماسورة.", "lessa el mayya ma2to3a",
    ),
    Dialogue(
        "english", FIRST, "en",
        ["Hello, I want to report a problem", "2", "5", "The street light on our corner has been off for a week",
         "Corniche road, Alexandria", "Sarah Hassan", "1"],
        "observation", "lighting", "The street light on our corner has been off for a week",
        "Corniche road, Alexandria", "Sarah Hassan", "Team sent", "The lamp was replaced on Tuesday.",
        "It went off again after two days",
    ),
]


@pytest.mark.parametrize("dialogue", DIALOGUES, ids=lambda d: d.label)
def test_complaint_from_first_message_to_reopened_case(gateway: Gateway, hotline: Hotline,
                                                       dialogue: Dialogue) -> None:
    """The Moroccan SMS dialogue, played on Egypt's WhatsApp numbers: filed, routed to the category's
    body and service, told of each change from the number written to, rated low, reopened, tracked."""
    citizen = egyptian(gateway, dialogue.number)
    seen = on(gateway, dialogue.number)
    lang = dialogue.language
    answers = [citizen.send(message) for message in dialogue.messages]
    assert all(answers), "every message gets an answer"
    assert any(say_text(seen, lang, "ask_name") in reply for reply in answers[-3]), "the Egyptian name question"
    reference = reference_in(answers[-1])
    administration_code = gateway.runtime.deployment.category(dialogue.category).administration
    assert administration_code

    case = case_json(hotline, references.display(reference))
    assert case["reference"] == reference
    assert (case["status"], case["kind"], case["category"]) == ("routed", dialogue.kind, dialogue.category)
    assert case["administration"] == administration_code
    assert case["service"] == SERVICE[dialogue.category]
    assert (case["language"], case["origin_channel"]) == (lang, "whatsapp")
    assert case["anonymous"] is (dialogue.name is None)
    assert case["contact"]["phone"] == citizen.phone and case["contact"]["phone"].startswith("+20")
    assert case["contact"]["name"] == (dialogue.name or "Citoyen"), "else the WhatsApp profile name, kept for staff"
    assert case["location"] == {"lat": None, "lon": None, "text": dialogue.location}
    assert case["description"] == dialogue.description
    assert case["attachments"] == [] and case["rating"] is None
    assert [(e["kind"], e["status"], e["actor"]) for e in case["events"]] == [
        ("created", "received", "citizen"), ("status", "routed", "system")]

    token = officer(hotline, administration_code)
    response = set_status(gateway, token, reference, "in_progress", dialogue.note)
    assert response.status_code == 200, response.text
    (told,) = whatsapp_inbox(gateway, citizen, 1)
    shown = references.display(reference)
    assert told.sender == f"whatsapp:{dialogue.number}", "answered from the number the citizen wrote to"
    assert told.body.startswith(say_text(seen, lang, "status_changed", reference=shown,
                                         status=say_text(seen, lang, "status_in_progress")))
    assert told.body.endswith(dialogue.note)

    assert set_status(gateway, token, reference, "answered", dialogue.answer).status_code == 200
    later = "\n".join(m.body for m in whatsapp_inbox(gateway, citizen, 2)[1:])
    assert shown in later and dialogue.answer in later
    assert say_text(seen, lang, "ask_rating", reference=shown) in later

    assert any(say_text(seen, lang, "rating_low") in reply for reply in citizen.send("2"))
    assert any(say_text(seen, lang, "ask_reopen_reason", reference=shown) in r for r in citizen.send("1"))
    reopened = citizen.send(dialogue.still_wrong)
    assert any(say_text(seen, lang, "case_reopened", reference=shown) in reply for reply in reopened)

    case = case_json(hotline, reference)
    assert (case["status"], case["rating"]) == ("reopened", 2)
    assert ("status", "reopened", "citizen", dialogue.still_wrong) in [
        (e["kind"], e["status"], e["actor"], e["note"]) for e in case["events"]]
    assert ("status", "answered", dialogue.answer) in [(e["kind"], e["status"], e["note"]) for e in case["events"]]

    tracked = citizen.send(shown.replace(" ", "-"))
    assert any(shown in reply and say_text(seen, lang, "status_reopened") in reply for reply in tracked)


def test_good_rating_closes_the_case(gateway: Gateway, hotline: Hotline) -> None:
    citizen = egyptian(gateway)
    for message in ["أهلا", "1", "6", "في حفرة كبيرة قدام المدرسة", "شارع الهرم", "0"]:
        citizen.send(message)
    reference = reference_in(citizen.send("1"))
    assert case_json(hotline, reference)["category"] == "roads"
    for status, note in (("in_progress", "المعاينة بكرة"), ("answered", "تم ردم الحفرة")):
        code, _, err = hotline("case", "set-status", reference, status, "--note", note)
        assert code == 0, err
    whatsapp_inbox(gateway, citizen, 2)
    assert any(say_text(gateway, "ar", "rating_thanks") in reply for reply in citizen.send("5"))
    case = case_json(hotline, reference)
    assert (case["status"], case["rating"]) == ("closed", 5)


FIRST_MESSAGES = [
    # (first message, our number, what the citizen still answers, category, language, place)
    ("في زبالة متكومة قدام البيت في شارع التحرير من أسبوع", FIRST, ["0", "1"], "waste", "ar", "قدام البيت"),
    ("fi kom zebala kbir odam el madrasa men esbo3", SECOND, ["share3 el ta7rir, el dokki", "0", "1"], "waste",
     "ar", "share3 el ta7rir, el dokki"),
    ("Uncollected garbage is piling up near the school for ten days", FIRST, ["0", "1"], "waste", "en",
     "near the school"),
    ("المية مقطوعة في شارع فيصل من امبارح", SECOND, ["0", "1"], "water", "ar", "شارع فيصل"),
    ("المجاري طافحة في الشارع عندنا من يومين", FIRST, ["عزبة النخل", "0", "1"], "sewage", "ar", "عزبة النخل"),
]


@pytest.mark.parametrize(("first", "number", "rest", "category", "language", "place"), FIRST_MESSAGES,
                         ids=[f"{row[3]}-{row[4]}-{n}" for n, row in enumerate(FIRST_MESSAGES)])
def test_a_complaint_described_in_its_first_message_is_filed_without_retyping(
        gateway: Gateway, hotline: Hotline, first: str, number: str, rest: list[str], category: str,
        language: str, place: str) -> None:
    """The first WhatsApp message says the problem: it is the description, its category is understood
    and routed to its body and service, the place it names is the place."""
    citizen = egyptian(gateway, number)
    answers = [citizen.send(first)] + [citizen.send(message) for message in rest]
    assert any(say_text(on(gateway, number), language, "ask_name") in reply for reply in answers[-3])
    case = case_json(hotline, reference_in(answers[-1]))
    assert (case["description"], case["category"], case["kind"]) == (first, category, "complaint")
    assert case["administration"] == gateway.runtime.deployment.category(category).administration
    assert case["service"] == SERVICE[category]
    assert case["language"] == language
    assert case["location"]["text"] == place and case["anonymous"] is True


NAME_ANSWERS = [("0", None), ("محمد عبد الله", "محمد عبد الله"), ("Mona Adel", "Mona Adel")]


@pytest.mark.parametrize(("answer", "name"), NAME_ANSWERS)
def test_the_citizen_chooses_what_the_administration_sees(gateway: Gateway, hotline: Hotline, answer: str,
                                                           name: str | None) -> None:
    """The decree's rule: the name question says the citizen chooses and that 0 keeps name and number
    from the administration; a case filed with 0 is anonymous and its body's officer sees neither,
    a named one shows both. An officer of another body is told there is no such case."""
    citizen = egyptian(gateway)
    asked = "\n".join(citizen.send("في زبالة متكومة قدام البيت في شارع التحرير من أسبوع"))
    assert say_text(gateway, "ar", "ask_name") in asked
    assert f"0 {say_text(gateway, 'ar', 'opt_anonymous')}" in asked
    assert "ما اسمك؟" not in asked, "the Egyptian wording, not the catalog's"
    summary = "\n".join(citizen.send(answer))
    assert (say_text(gateway, "ar", "anonymous") if name is None else name) in summary
    reference = reference_in(citizen.send("1"))

    record = gateway.runtime.store.get_case(reference)
    assert record is not None and record.anonymous is (name is None)
    assert record.administration_code == "cairo-cleaning"
    seen = as_officer(gateway, officer(hotline, "cairo-cleaning"), reference)
    assert seen.status_code == 200, seen.text
    document = seen.json()
    assert document["anonymous"] is (name is None)
    if name is None:
        assert document["contact"] == {"phone": None, "telegram_user_id": None, "name": None, "addresses": {}}
    else:
        assert (document["contact"]["name"], document["contact"]["phone"]) == (name, citizen.phone)
    assert as_officer(gateway, officer(hotline, "hcww"), reference).status_code == 404, "not even that it exists"


def test_tracking_by_reference_at_any_step(gateway: Gateway) -> None:
    citizen = egyptian(gateway)
    for message in ["أهلا", "1", "5", "عمود النور واقع", "شارع جسر السويس", "0"]:
        citizen.send(message)
    reference = reference_in(citizen.send("1"))
    other = egyptian(gateway, SECOND)
    other.send("أهلا")
    other.send("1")
    joined = "\n".join(other.send(f" {reference[:3]}-{reference[3:6]}-{reference[6:]} "))
    assert references.display(reference) in joined
    assert say_text(on(gateway, SECOND), "ar", "status_routed") in joined
    wrong = reference[:-1] + str((int(reference[-1]) + 1) % 10)
    assert citizen.send(wrong) != [], "a mistyped reference still gets an answer"


@pytest.mark.parametrize("sentence", ["عايز أكلم حد", "ممكن أكلم موظف لو سمحت", "can I talk to a real person please"])
def test_a_sentence_asking_for_a_person_puts_the_conversation_in_the_queue(gateway: Gateway, sentence: str) -> None:
    citizen = egyptian(gateway)
    citizen.send("أهلا")
    assert citizen.send(sentence), "the citizen is told a person will answer"
    store = gateway.runtime.store
    contact = store.find_contact(citizen.phone)
    assert contact is not None
    waiting = store.open_conversation("whatsapp", contact.id)
    assert waiting is not None and waiting[1] == "needs_person"


def test_a_call_to_16528_asks_for_the_ear_and_keeps_a_keyed_number_in_e164(gateway: Gateway) -> None:
    """The hotline's profile words the contact question for the phone (1 this number, 2 another, 3 hide
    both); a number keyed in the Egyptian way (01...) is kept as +20..."""
    caller = Caller(on(gateway, HOTLINE), phone=random_mobile("+2011"))
    to_description(caller, "ar")
    caller.record(gateway.twilio.add_recording(MP3), 10)
    asked = spoken(caller.record(gateway.twilio.add_recording(MP3), 4))
    seen = on(gateway, HOTLINE)
    assert say_text(seen, "ar", "ask_name") in asked
    assert say_text(seen, "ar", "opt_anonymous") in asked and "3" in asked
    caller.press("2")
    summary = spoken(caller.press("01012345678"))
    assert "1012345678" in summary.replace(" ", "")
    reference = spoken_reference(caller.press("1"))
    caller.hang_up()
    document = gateway.runtime.store.case_document(reference)
    assert document is not None and document["origin_channel"] == "ivr" and document["anonymous"] is False
    assert any(e["note"] == "callback: +201012345678" for e in document["events"])


def test_a_number_written_at_the_name_question_is_kept_in_e164(gateway: Gateway, hotline: Hotline) -> None:
    citizen = egyptian(gateway)
    citizen.send("في زبالة متكومة قدام البيت في شارع التحرير من أسبوع")
    citizen.send("01012345678")
    reference = reference_in(citizen.send("1"))
    notes = [e["note"] for e in case_json(hotline, reference)["events"]]
    assert "callback: +201012345678" in notes, notes
