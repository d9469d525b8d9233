"""Property-based fuzzing of every channel parser (Hypothesis, derandomized so every run tests the same
examples): arbitrary forms, URLs, bytes and JSON, and real payloads with any field replaced by anything.

The contract: a parser raises nothing but its documented refusal (`ValueError` from `parse`; None from
`parse_status` and `parse_call`), and every message it gives has a sender, fields no longer than the
store keeps, and no control characters or lone surrogates anywhere.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.base import (
    MAX_ADDRESS,
    MAX_JSON_DEPTH,
    MAX_PROVIDER_ID,
    MAX_TEXT,
    HttpRequest,
    InboundMessage,
    clean_text,
    load_json,
)
from channels.ivr.adapter import STEPS, VoiceChannel
from channels.ivr.call_settings import parse as voice_settings
from channels.sms.adapter import SmsChannel, SmsSettings
from channels.telegram.adapter import TelegramChannel
from channels.twilio_common import SID, TwilioSettings, parse_status_callback
from channels.whatsapp.adapter import WhatsAppChannel, WhatsAppSettings
from tests import telegram_updates as u
from tests.support import ACCOUNT_SID, channel_settings, inbound_sms, inbound_whatsapp, status_callback

FUZZ = settings(derandomize=True, max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
SECRET = "fuzz-secret"
TWILIO = TwilioSettings(ACCOUNT_SID, "token")
SMS = SmsChannel(SmsSettings(TWILIO, sender="+212522000111", default_region="MA"))
WHATSAPP = WhatsAppChannel(WhatsAppSettings(TWILIO, sender="+212522000111", default_region="MA"))
VOICE = VoiceChannel(voice_settings({"areas": {"12": {"fr": "Hay Hassani"}}}, {}, "MA"))
TELEGRAM = TelegramChannel.from_settings(channel_settings({"TELEGRAM_BOT_TOKEN": "7000000001:token",
                                                           "TELEGRAM_WEBHOOK_SECRET": SECRET}))
BASE = "https://hotline.example/webhooks/twilio/voice"

CHARACTERS = st.one_of(st.characters(), st.characters(codec=None, categories=["Cs"]),
                       st.sampled_from("\x00\x07\x08\x0b\x0c\r\n\t\x1b\x7f\ufffe\uffff"))
TEXT = st.text(CHARACTERS, max_size=40)
PLAUSIBLE = st.sampled_from(["", " ", "0", "1", "*", "#", "12#", "+212612345678", "0612345678", "whatsapp:",
                             "whatsapp:+212612345678", "SM" + "a" * 32, "CA" + "b" * 32, str(2**64), "-1", "1e999",
                             "nan", "91", "image/jpeg", "https://api.twilio.com/x", "A" * 40, "١", "²"])
VALUE = st.one_of(TEXT, PLAUSIBLE)
TWILIO_KEYS = ["From", "To", "Body", "MessageSid", "SmsSid", "SmsMessageSid", "WaId", "NumMedia", "MediaUrl0",
               "MediaContentType0", "Latitude", "Longitude", "Label", "Address", "ProfileName", "ButtonPayload",
               "ButtonText", "OriginalRepliedMessageSid", "Forwarded", "MessageStatus", "SmsStatus", "ErrorCode",
               "CallSid", "Caller", "Called", "Digits", "SpeechResult", "RecordingUrl", "RecordingDuration",
               "RecordingStatus", "CallStatus"]
CHANGES = st.dictionaries(st.one_of(st.sampled_from(TWILIO_KEYS), TEXT), VALUE, max_size=8)
REAL_FORMS = [
    inbound_sms("+212612345678", "+212522000111", "Bonjour", "SM" + "c" * 32),
    inbound_whatsapp("+212612345678", "+212522000111", "Salam", media=(("https://api.twilio.com/m", "image/jpeg"),),
                     Latitude="34.02", Longitude="-6.84"),
    status_callback("SM" + "d" * 32, "failed", "+212612345678", "+212522000111", "30003"),
    {"CallSid": "CA" + "e" * 32, "From": "+212612345678", "To": "+212522000111", "Digits": "1",
     "CallStatus": "in-progress"},
]
FORMS = st.one_of(CHANGES, st.builds(lambda base, changes: {**base, **changes}, st.sampled_from(REAL_FORMS), CHANGES))

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
MENU = [("1", "Plainte"), ("2", "Observation")]
REAL_UPDATES = [
    u.text(51234567, "Bonjour"), u.text(51234567, "/start track_4829130575"), u.photo(51234567, "P", "Poubelle"),
    u.document(51234567, "D"), u.voice(51234567, "V"), u.location(51234567, 34.02, -6.84),
    u.venue(51234567, 34.02, -6.84, "Marché", "Av. V"), u.contact(51234567, "212612345678"),
    u.press(51234567, SECRET, "1", MENU), u.message(51234567, key="edited_message", text="x"),
    u.message(51234567, text="re", reply_to_message={"message_id": 3, "date": 1, "chat": u.private_chat(51234567),
                                                      "text": "q"}),
]


def assert_clean(message: InboundMessage) -> None:
    """What every adapter promises of a message it hands on."""
    assert message.sender and len(message.sender) <= MAX_ADDRESS
    assert message.recipient and len(message.recipient) <= MAX_ADDRESS
    assert message.provider_message_id is None or 0 < len(message.provider_message_id) <= MAX_PROVIDER_ID
    assert len(message.text) <= MAX_TEXT
    shared = message.shared_contact
    texts = [message.sender, message.recipient, message.provider_message_id or "", message.text, message.sender_name,
             message.button_payload or "", message.reply_to or "", message.location.text if message.location else "",
             *(part for ref in message.media for part in (ref.url, ref.content_type)),
             *(part for pair in message.button_choices or () for part in pair),
             *((shared.phone, shared.name) if shared else ())]
    assert not [text for text in texts if UNSAFE.search(text)], message
    if message.location is not None and message.location.lat is not None:
        assert abs(message.location.lat) <= 90 and message.location.lon is not None
        assert abs(message.location.lon) <= 180


def twilio_request(form: dict[str, str], path: str = "/webhooks/twilio/sms") -> HttpRequest:
    return HttpRequest("https://hotline.example" + path, "POST", {}, form)


@FUZZ
@given(FORMS)
def test_sms_forms(form: dict[str, str]) -> None:
    try:
        found = SMS.parse(twilio_request(form))
    except ValueError:
        return
    for message in found:
        assert_clean(message)


@FUZZ
@given(FORMS)
def test_whatsapp_forms(form: dict[str, str]) -> None:
    try:
        found = WHATSAPP.parse(twilio_request(form, "/webhooks/twilio/whatsapp"))
    except ValueError:
        return
    for message in found:
        assert_clean(message)
        assert len(message.media) <= 10


@FUZZ
@given(FORMS)
def test_status_callbacks(form: dict[str, str]) -> None:
    update = parse_status_callback(twilio_request(form, "/webhooks/twilio/status"))
    if update is not None:
        assert SID.fullmatch(update.provider_message_id)
        assert re.fullmatch(r"[a-z][a-z_-]{0,31}", update.status)
        assert update.error_code is None or re.fullmatch(r"[A-Za-z0-9]{1,32}", update.error_code)


@FUZZ
@given(st.sampled_from(["", *STEPS, "admin", "input/x"]), st.one_of(TEXT, st.sampled_from([
    "asks=menu&lang=fr&n=1", f"n={2**64}&r=-5", "asks=location&lang=ar", "asks=name&empty=1"])), FORMS)
def test_voice_calls(step: str, query: str, form: dict[str, str]) -> None:
    url = BASE + (f"/{step}" if step else "") + (f"?{query}" if query else "")
    call = VOICE.parse_call(HttpRequest(url, "POST", {}, form))
    if call is None:
        return
    assert call.caller and len(call.caller) <= MAX_ADDRESS and not UNSAFE.search(call.caller)
    assert call.called and len(call.called) <= MAX_ADDRESS
    assert not UNSAFE.search(call.speech + call.recording_url + call.asks + call.language)
    answer = VOICE.answer(call, ["ar", "fr", "en"], BASE)
    if isinstance(answer, str):
        assert ET.fromstring(answer).tag == "Response"
    else:
        assert_clean(answer)


def telegram_request(body: bytes) -> HttpRequest:
    return HttpRequest("https://hotline.example/webhooks/telegram", "POST", {}, {}, body)


def telegram_outcome(body: bytes) -> None:
    """Parse and acknowledge `body`: a refusal, or clean messages; the acknowledgement never fails."""
    incoming = telegram_request(body)
    assert TELEGRAM.acknowledge(incoming, []).status == 200
    try:
        found = TELEGRAM.parse(incoming)
    except ValueError:
        return
    for message in found:
        assert_clean(message)


@FUZZ
@given(st.binary(max_size=200))
def test_telegram_bytes(body: bytes) -> None:
    telegram_outcome(body)


@FUZZ
@given(JSON_VALUES, st.sampled_from(["message", "edited_message", "callback_query", "poll"]),
       st.one_of(st.integers(min_value=-(2**70), max_value=2**70), JSON_VALUES))
def test_telegram_shapes(value: Any, kind: str, update_id: Any) -> None:
    telegram_outcome(json.dumps({"update_id": update_id, kind: value}).encode())


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place inside `value` (dict keys and list indexes) that holds a value."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def replaced(update: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of `update` with the value at `path` replaced."""
    changed = copy.deepcopy(update)
    holder: Any = changed
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return changed


MUTATED = st.sampled_from(REAL_UPDATES).flatmap(
    lambda update: st.builds(replaced, st.just(update), st.sampled_from(list(paths(update))), JSON_VALUES))


@FUZZ
@given(MUTATED)
def test_telegram_real_updates_with_any_field_replaced(update: dict[str, Any]) -> None:
    telegram_outcome(json.dumps(update).encode())


@FUZZ
@given(TEXT, st.integers(min_value=0, max_value=50))
def test_clean_text(text: str, limit: int) -> None:
    cleaned = clean_text(text, limit)
    assert not UNSAFE.search(cleaned) and len(cleaned) <= limit
    assert clean_text(cleaned) == cleaned


@FUZZ
@given(st.one_of(st.binary(max_size=100), JSON_VALUES.map(lambda value: json.dumps(value).encode()),
                 st.integers(min_value=1, max_value=200).map(lambda depth: b"[" * depth + b"]" * depth)))
def test_load_json(raw: bytes) -> None:
    try:
        value = load_json(raw)
    except ValueError:
        return
    depth, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            depth = max(depth, level + 1)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    assert depth <= MAX_JSON_DEPTH
