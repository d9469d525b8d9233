"""Egypt's deployment profile (`core/defaults/egypt-shakwa.yaml`): it loads; its bodies, services and
categories hang together (garbage accumulation first); its numbers select their profiles as providers
send them; its texts override only catalog keys, with the same placeholders, keep the SMS budget, and
say the decree's rule at the name question; its keywords teach the classifier Egyptian words."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from channels.base import Choice, numbered_text
from channels.sms.segments import segments
from conversations import prompts
from conversations.catalog import CATALOGS, placeholders
from conversations.model import Say, Session, State
from conversations.textnorm import arabic_letters, latin_letters
from conversations.understanding.answers import reading_of
from core.config import DEFAULT_PROFILE_NUMBER, Deployment, load_config
from gateway.runtime import dialogue_context
from tests.conversations.convo_kit import draft_session

PATH = Path(str(resources.files("core") / "defaults" / "egypt-shakwa.yaml"))
RAW: dict[str, Any] = yaml.safe_load(PATH.read_text(encoding="utf-8"))
LANGUAGES = ("ar", "en")
KINDS = ("ministry", "governorate", "local_unit", "agency")
WHATSAPP = ("+201555516528", "+201555525444")
HOTLINE = "16528"
TEXT_PROFILES = (*WHATSAPP, DEFAULT_PROFILE_NUMBER)
"""The profiles answered in writing (WhatsApp, and SMS, Telegram, Messenger on any other number)."""
IVR_WORDED = {
    lang: set((yaml.safe_load(resources.files("channels.ivr").joinpath("texts", f"{lang}.yaml")
                              .read_text(encoding="utf-8")) or {}).get("dialogue") or {})
    for lang in LANGUAGES
}
"""Keys the phone words for the ear: a deployment-wide override of one would be heard on 16528."""


@pytest.fixture(scope="module")
def egypt() -> Deployment:
    """The Egyptian deployment, parsed."""
    return load_config(str(PATH))


def raw_administrations() -> dict[str, dict[str, Any]]:
    """The YAML's administrations by code (new keys read as written, whatever the parser knows)."""
    return {entry["code"]: entry for entry in RAW["administrations"]}


def all_names(node: Any, where: str = "") -> list[tuple[str, dict[str, str]]]:
    """Every `names:` mapping in the document, with where it is."""
    found: list[tuple[str, dict[str, str]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "names":
                found.append((where, value))
            else:
                found.extend(all_names(value, f"{where}.{key}"))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(all_names(item, f"{where}[{index}]"))
    return found


def overrides() -> list[tuple[str, str, str, str]]:
    """(where, language, key, text) of every text override: deployment-wide, then per profile."""
    rows = [("texts", lang, key, value) for lang, table in (RAW.get("texts") or {}).items()
            for key, value in table.items()]
    for profile in RAW["profiles"]:
        for lang, table in (profile.get("texts") or {}).items():
            rows.extend((f"profile {profile['number']}", lang, key, value) for key, value in table.items())
    return rows


def rendered(say: Say) -> str:
    """A prompt as an SMS or WhatsApp message shows it (numbered options under the question)."""
    return numbered_text(say.text, [Choice(option.key, option.label) for option in say.options])


def test_it_loads_with_egypts_region_languages_zone_and_deadlines(egypt: Deployment) -> None:
    assert egypt.name == "منظومة الشكاوى الحكومية الموحدة (مصر)"
    assert egypt.default_region == "EG"
    assert egypt.languages == LANGUAGES
    assert egypt.default_language == "ar" and egypt.darija_latin_language == "ar"
    assert RAW["timezone"] == "Africa/Cairo"
    assert getattr(egypt, "timezone", "Africa/Cairo") == "Africa/Cairo"
    assert (egypt.routing_deadline_days, egypt.answer_deadline_days, egypt.reopen_window_days) == (3, 15, 30)
    assert egypt.category("waste").deadline_days == 7
    assert "CANCEL" not in egypt.opt_out_keywords and "STOP" in egypt.opt_out_keywords
    assert egypt.templates_for("whatsapp").templates == {}, "no Content SID is invented"


@pytest.mark.parametrize(("where", "names"), all_names(RAW), ids=[where for where, _ in all_names(RAW)])
def test_every_name_is_given_in_arabic_and_english(where: str, names: dict[str, str]) -> None:
    assert set(names) == set(LANGUAGES), where
    assert arabic_letters(names["ar"]) > 0 and latin_letters(names["en"]) > 0, where


def test_a_modest_set_of_bodies_of_every_kind(egypt: Deployment) -> None:
    raw = raw_administrations()
    assert 10 <= len(raw) <= 15
    assert [a.code for a in egypt.administrations] == list(raw)
    kinds = [entry["kind"] for entry in raw.values()]
    assert set(kinds) == set(KINDS)
    assert {kind: kinds.count(kind) >= 2 for kind in KINDS} == dict.fromkeys(KINDS, True)
    names = {code: entry["names"]["ar"] for code, entry in raw.items()}
    assert names["gov-cairo"] == "محافظة القاهرة" and names["hcww"] == "الشركة القابضة لمياه الشرب والصرف الصحي"
    for administration in egypt.administrations:
        assert getattr(administration, "kind", raw[administration.code]["kind"]) == raw[administration.code]["kind"]


@pytest.mark.parametrize("code", list(raw_administrations()))
def test_services_are_two_to_four_with_codes_unique_in_their_administration(egypt: Deployment, code: str) -> None:
    services = raw_administrations()[code]["services"]
    codes = [service["code"] for service in services]
    assert 2 <= len(codes) <= 4
    assert len(set(codes)) == len(codes), f"duplicate service code in {code}"
    parsed = getattr(egypt.administration(code), "services", None)
    if parsed is not None:
        assert [service.code for service in parsed] == codes


def test_garbage_accumulation_is_the_first_category(egypt: Deployment) -> None:
    first = egypt.categories[0]
    assert first.code == "waste" and RAW["categories"][0]["code"] == "waste"
    assert first.names == {"ar": "تراكم القمامة", "en": "Garbage piling up"}
    assert first.administration == "cairo-cleaning"
    assert egypt.categories[-1].code == "other" and egypt.categories[-1].administration is None


CATEGORY_ROWS = [(entry["code"], entry.get("administration"), entry.get("service")) for entry in RAW["categories"]]


@pytest.mark.parametrize(("code", "administration", "service"), CATEGORY_ROWS, ids=[row[0] for row in CATEGORY_ROWS])
def test_each_category_routes_to_an_existing_body_and_one_of_its_services(
        egypt: Deployment, code: str, administration: str | None, service: str | None) -> None:
    category = egypt.category(code)
    assert category is not None and category.administration == administration
    if administration is None:
        assert code == "other" and service is None, "only `other` is left for the staff to route"
        return
    assert egypt.administration(administration) is not None
    assert service is not None, "every routed category names the service its cases land in"
    assert service in [s["code"] for s in raw_administrations()[administration]["services"]]
    if hasattr(egypt, "landing_service"):
        assert egypt.landing_service(administration, code) == service


@pytest.mark.parametrize(("code", "administration", "service"), [r for r in CATEGORY_ROWS if r[1]],
                         ids=[row[0] for row in CATEGORY_ROWS if row[1]])
def test_each_routed_category_has_egyptian_and_franco_arab_and_english_keywords(
        egypt: Deployment, code: str, administration: str, service: str) -> None:
    keywords = egypt.category(code).keywords
    assert set(keywords) == set(LANGUAGES)
    arabic = [word for word in keywords["ar"] if arabic_letters(word)]
    franco = [word for word in keywords["ar"] if latin_letters(word) and not arabic_letters(word)]
    assert len(arabic) >= 3 and franco, "Egyptian words in Arabic letters and in Franco-Arab, under `ar`"
    assert all(latin_letters(word) and not arabic_letters(word) for word in keywords["en"])


def test_category_names_are_short_for_sms_menus(egypt: Deployment) -> None:
    for category in egypt.categories:
        assert all(len(name) <= 20 for name in category.names.values()), category.code


@pytest.mark.parametrize(("to", "number"), [
    ("whatsapp:+201555516528", "+201555516528"),   # WhatsApp `To`, as Twilio sends it
    ("+201555516528", "+201555516528"),
    ("whatsapp:+201555525444", "+201555525444"),
    ("+201555525444", "+201555525444"),
    ("+20 155 552 5444", "+201555525444"),          # spaces are ignored
    ("16528", "16528"),                             # the hotline short code, as dialled
    ("+201000000000", DEFAULT_PROFILE_NUMBER),       # any other number
    ("", DEFAULT_PROFILE_NUMBER),
])
def test_numbers_select_their_profiles_as_providers_send_them(egypt: Deployment, to: str, number: str) -> None:
    profile = egypt.profile_for(to)
    assert profile.number == number
    assert profile.default_language == "ar" and profile.languages == LANGUAGES


def test_each_number_has_a_named_profile(egypt: Deployment) -> None:
    named = {p.number: p.name for p in egypt.profiles if p.number != DEFAULT_PROFILE_NUMBER}
    assert set(named) == {HOTLINE, *WHATSAPP}
    assert all(named.values())
    assert "16528" in named[HOTLINE] and "01555516528" in named[WHATSAPP[0]] and "01555525444" in named[WHATSAPP[1]]


@pytest.mark.parametrize(("where", "lang", "key", "value"), overrides(),
                         ids=[f"{w}-{lang}-{key}" for w, lang, key, _ in overrides()])
def test_every_override_is_a_catalog_key_with_its_placeholders(where: str, lang: str, key: str, value: str) -> None:
    assert lang in LANGUAGES
    assert key in CATALOGS[lang], f"{where}: {key!r} is not a dialogue text"
    assert placeholders(value) == placeholders(CATALOGS[lang][key]), f"{where}: {key}"
    assert value != CATALOGS[lang][key], f"{where}: {key} overrides nothing"
    if lang == "ar":
        assert arabic_letters(value) > 0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_deployment_wide_texts_leave_the_phones_wording_alone(lang: str) -> None:
    """A key the phone words for the ear is overridden only in the 16528 profile, never for everyone."""
    assert not set((RAW.get("texts") or {}).get(lang, {})) & IVR_WORDED[lang]


def test_complaint_is_a_shakwa_in_egyptian_arabic(egypt: Deployment) -> None:
    """The catalog's Moroccan "شكاية" is "شكوى" in Egypt."""
    ctx = dialogue_context(egypt, egypt.profile_for(WHATSAPP[0]))
    assert prompts.text("ar", "opt_complaint", ctx) == "شكوى"
    assert "شكاية" not in "".join(ctx.texts["ar"].values())


# The decree's rule: the citizen chooses whether the administration sees their name and number; 0 keeps
# both from it. (0 at the name question files anonymously: `conversations.states.on_name`.)
DECREE = {
    "ar": ("اسم", "رقم", "الجهة", "0"),
    "en": ("name", "number", "administration", "0"),
}


@pytest.mark.parametrize("number", TEXT_PROFILES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_name_question_says_the_citizen_chooses_and_0_keeps_both(egypt: Deployment, number: str,
                                                                      lang: str) -> None:
    ctx = dialogue_context(egypt, egypt.profile_for(number))
    texts = ctx.texts[lang]
    assert all(word in texts["ask_name"] for word in DECREE[lang]), texts["ask_name"]
    assert texts["ask_name"] != CATALOGS[lang]["ask_name"]
    assert texts["opt_anonymous"] != CATALOGS[lang]["opt_anonymous"]
    assert texts["anonymous"] != CATALOGS[lang]["anonymous"]
    shown = rendered(prompts.prompt(draft_session(State.NAME, lang), ctx))
    assert shown == f"{texts['ask_name']}\n0 {texts['opt_anonymous']}"
    assert segments(shown) <= 2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_hotline_asks_it_for_the_ear_with_its_own_keys(egypt: Deployment, lang: str) -> None:
    """On 16528 the caller keys 1 (this number) or 2 (another); the anonymous choice is keyed 3 and
    spoken from `opt_anonymous`: nothing tells a caller to "send 0"."""
    texts = dialogue_context(egypt, egypt.profile_for(HOTLINE)).texts[lang]
    assert "1" in texts["ask_name"] and "2" in texts["ask_name"] and "0" not in texts["ask_name"]
    assert DECREE[lang][1] in texts["ask_name"] and DECREE[lang][2] in texts["ask_name"]
    assert DECREE[lang][2] in texts["opt_anonymous"] and texts["anonymous"]
    assert "16528" in texts["greeting"]


def _states(lang: str) -> list[tuple[str, Session]]:
    """A session in every state a citizen is asked something in, mid-complaint where it has one."""
    rows: list[tuple[str, Session]] = []
    for state in State:
        if state in (State.CATEGORY, State.DESCRIPTION, State.LOCATION, State.NAME, State.CONFIRM, State.EDIT,
                     State.SUBMITTING):
            rows.append((state.value, draft_session(state, lang)))
        else:
            rows.append((state.value, Session(state=state, language=lang,
                                              data={"rating_ref": "4829130575", "reopen_ref": "4829130575"})))
    return rows


@pytest.mark.parametrize("number", TEXT_PROFILES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_question_still_fits_two_sms_segments(egypt: Deployment, number: str, lang: str) -> None:
    ctx = dialogue_context(egypt, egypt.profile_for(number))
    for name, session in _states(lang):
        shown = rendered(prompts.prompt(session, ctx))
        assert 1 <= segments(shown) <= 2, f"{name}: {shown!r}"


FIRST_MESSAGES = [
    ("في زبالة متكومة قدام البيت في شارع التحرير من أسبوع", "waste"),
    ("الزبالة مالية الشارع ومحدش بيشيلها", "waste"),
    ("fi kom zebala kbir odam el madrasa men esbo3", "waste"),
    ("Uncollected garbage is piling up near the school for ten days", "waste"),
    ("المية مقطوعة عندنا في فيصل من امبارح", "water"),
    ("المجاري طافحة في الشارع عندنا من يومين", "sewage"),
    ("الكهربا قاطعة في العمارة من الصبح", "electricity"),
    ("el kahraba 2at3a fel 3omara men el sob7", "electricity"),
    ("عمود النور قدام البيت مطفي من أسبوع", "lighting"),
    ("في حفرة كبيرة في نص الشارع", "roads"),
    ("الفرن مش بيدي العيش بالكارت", "supply"),
    ("المستشفى مفيهاش دكتور بالليل", "health"),
    ("زحمة المرور في الدائري مش طبيعية والميكروباصات واقفة صف تاني", "traffic"),
    ("الجار بيبني دور زيادة من غير رخصة", "urbanism"),
]


@pytest.mark.parametrize(("message", "category"), FIRST_MESSAGES)
def test_egyptian_first_messages_read_as_their_category(egypt: Deployment, message: str, category: str) -> None:
    reading = reading_of(message, dialogue_context(egypt, egypt.profile_for(WHATSAPP[0])))
    assert (reading.intent, reading.category) == ("complaint", category)
