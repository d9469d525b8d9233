"""Every TwiML document the voice channel builds, under every configuration: it parses, uses only verbs
and attributes Twilio documents, nests as Twilio allows, and posts only to routes of ours."""

from __future__ import annotations

import dataclasses

import pytest

from channels.base import Choice, OutboundMessage
from channels.ivr.adapter import STEPS, VoiceChannel
from channels.ivr.call_settings import VoiceSettings, parse
from channels.ivr.twiml import Renderer, TurnView
from tests.channels.twiml_rules import check, route_checker

PUBLIC = "https://hotline.example"
BASE = PUBLIC + "/webhooks/twilio/voice"
is_route = route_checker(PUBLIC, {"/webhooks/twilio/voice", *(f"/webhooks/twilio/voice/{s}" for s in STEPS)})

PLAIN = parse({}, {}, "MA")
CONFIGURED = parse({
    "audio": {"ar": {"menu": "https://cdn.example/ar/menu.mp3", "goodbye": "https://cdn.example/ar/bye.mp3",
                     **{f"digit_{d}": f"https://cdn.example/ar/{d}.mp3" for d in range(10)}}},
    "areas": {"12": {"ar": "الحي الحسني", "fr": "Hay Hassani"}},
    "speech": {"fr": "fr-FR"},
    "agent": {"dial": "+212522000999", "wait_music": "https://cdn.example/hold.mp3"},
}, {}, "MA")
NO_AGENT = dataclasses.replace(PLAIN, queue="", dial="")


def renderer(settings: VoiceSettings) -> Renderer:
    return VoiceChannel(settings).renderer(BASE)


def said(text: str, *choices: tuple[str, str], asks: str = "", lead: str = "") -> OutboundMessage:
    return OutboundMessage("ivr", "+212612345678", "+212522000111", text,
                           tuple(Choice(k, v) for k, v in choices), asks=asks, lead=lead)


MENU = said("Bienvenue.\nFaites votre choix.", ("1", "Plainte"), ("5", "un conseiller"), ("FR", "Français"),
            asks="menu", lead="Bienvenue.")
CREATED = said("Merci. Votre référence est : 482 913 0575.")
STATES = ["new", "menu", "category", "description", "location", "name", "confirm", "edit", "track", "handoff",
          "submitting", "rate", "reopen_offer", "reopen_reason", "add_media"]


@pytest.mark.parametrize("settings", [PLAIN, CONFIGURED, NO_AGENT], ids=["plain", "configured", "no-agent"])
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("language", ["ar", "fr", "en"])
def test_every_turn_document(settings: VoiceSettings, state: str, language: str) -> None:
    build = renderer(settings)
    for replies in ([MENU], [CREATED], [said("x", asks=state)], []):
        for misses in (0, 3, 4):
            check(build.turn(replies, TurnView(state, language, misses=misses)), is_route)


@pytest.mark.parametrize("settings", [PLAIN, CONFIGURED], ids=["plain", "configured"])
def test_channel_documents(settings: VoiceSettings) -> None:
    build = renderer(settings)
    for repeats in range(6):
        view = TurnView("new", "ar", repeats=repeats)
        check(build.language_menu(["ar", "fr", "en"], view), is_route)
        for step in ("repeat", "contact", "number"):
            check(build.ask_again([CREATED], dataclasses.replace(view, language="fr"), step), is_route)
    for language in ("ar", "fr", "en"):
        view = TurnView("location", language)
        check(build.location_recording(view), is_route)
        check(build.ask_number(view), is_route)
        check(build.wait(language), is_route)
        check(build.after_agent(language), is_route)


def test_what_each_configuration_says() -> None:
    voice = renderer(CONFIGURED)
    played = check(voice.turn([CREATED], TurnView("menu", "ar")), is_route)
    assert [p.text for p in played.iter("Play")][:3] == [f"https://cdn.example/ar/{d}.mp3" for d in "482"]
    menu = check(voice.turn([MENU], TurnView("menu", "ar")), is_route)
    assert "https://cdn.example/ar/menu.mp3" in [p.text for p in menu.iter("Play")]
    speech = check(voice.turn([said("Décrivez.", asks="description")], TurnView("description", "fr")), is_route)
    assert next(speech.iter("Gather")).attrib["input"] == "speech"
    areas = check(voice.turn([said("Où ?", asks="location")], TurnView("location", "fr")), is_route)
    assert next(areas.iter("Gather")).attrib["finishOnKey"] == "#"
    dial = check(voice.turn([said("Un instant.")], TurnView("handoff", "fr")), is_route)
    assert next(dial.iter("Dial")).text == "+212522000999"
    none = check(renderer(NO_AGENT).turn([said("Un instant.")], TurnView("handoff", "fr")), is_route)
    assert [child.tag for child in none][-1] == "Hangup"
    plain = check(renderer(PLAIN).turn([MENU], TurnView("menu", "fr")), is_route)
    text = " ".join("".join(s.itertext()) for s in plain.iter("Say"))
    assert "appuyez sur 1" in text and "Français" not in text  # language codes are not keys
    name = check(renderer(PLAIN).turn([said("Contact ?", ("0", "rester anonyme"), asks="name")],
                                      TurnView("name", "fr")), is_route)
    assert "rester anonyme, appuyez sur 3" in " ".join("".join(s.itertext()) for s in name.iter("Say"))


def test_bad_configuration_is_refused() -> None:
    from channels.ivr.call_settings import VoiceConfigError

    for raw in ({"areas": {"north": {"fr": "Nord"}}}, {"record": {"finish_key": "ab"}}, {"record": {"max_seconds": 0}},
                {"voices": "Polly"}):
        with pytest.raises(VoiceConfigError):
            parse(raw, {}, "MA")


SPOKEN_DIGITS = [  # (what the dialogue says, the digit runs read one by one)
    ("Votre référence est : 482 913 0575.", ["4829130575"]),
    ("Contact : +212612345678.", ["212612345678"]),
    ("Contact : 0612345678.", ["0612345678"]),
    ("Demande 482 913 0575 : en cours, depuis le 2026-12-01.", ["4829130575"]),
    ("Appuyez sur 1.", []),
    ("Composez le 16528.", []),
]


@pytest.mark.parametrize(("words", "runs"), SPOKEN_DIGITS, ids=[w for w, _ in SPOKEN_DIGITS])
def test_long_numbers_are_read_digit_by_digit(words: str, runs: list[str]) -> None:
    """A reference or a phone number read as one number is "six hundred and twelve million...": each
    digit is said after a pause; a date, a key or a short number is said as written."""
    document = check(renderer(PLAIN).turn([said(words)], TurnView("menu", "fr")), is_route)
    breaks = [s for s in document.iter("Say") if list(s.iter("break"))]
    spoken = "".join(digit.tail or "" for s in breaks for digit in s.iter("break"))
    assert spoken == "".join(runs)
    if not runs:
        assert words.rstrip(".") in " ".join("".join(s.itertext()) for s in document.iter("Say"))


@pytest.mark.parametrize("state", ["description", "reopen_reason"])
def test_spoken_answers_are_recorded(state: str) -> None:
    """The description and what is still wrong with a reopened case are said after the beep."""
    document = check(renderer(PLAIN).turn([said("Après le bip.", asks=state)], TurnView(state, "fr")), is_route)
    assert [child.tag for child in document][-2:] == ["Record", "Redirect"]


@pytest.mark.parametrize("state", ["rate", "reopen_offer", "category_check"])
def test_keypad_questions_wait_for_a_key(state: str) -> None:
    """A rating, the reopen offer and a proposed category are answered by one key, not a goodbye."""
    document = check(renderer(PLAIN).turn([said("Notez de 1 à 5.", ("1", "oui"), asks=state)],
                                          TurnView(state, "fr")), is_route)
    gather = next(document.iter("Gather"))
    assert gather.attrib["numDigits"] == "1" and "Hangup" not in [child.tag for child in document]
