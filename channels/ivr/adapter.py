"""Twilio Voice: a caller files or tracks a complaint with the keypad and their voice.

The call runs the same dialogue as every channel. Each TwiML question posts to its own sub-path of
`/webhooks/twilio/voice` (`language`, `input`, `record`, `location`, `contact`, `number`, `repeat`),
carrying in its query what was asked, in which language, and the turn number (the provider message id
is `CallSid:turn:step`, so a repeated request is recognized). This adapter turns keys and recordings
into the dialogue's plain answers (`1`, a reference's digits, a recording as audio media, `agent` for
0 at a menu), and the dialogue's messages into TwiML (`twiml.Renderer`). Sub-steps that only exist on
the phone (star to record the place, keying another number, hearing the reference again) are answered
here without the dialogue. Texts a caller is sent (their reference, status updates) go by SMS.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import yaml
from twilio.twiml.voice_response import VoiceResponse

from channels.base import (
    MAX_ADDRESS,
    MAX_URL,
    Capabilities,
    FetchedMedia,
    HttpRequest,
    InboundMessage,
    MediaRef,
    OutboundMessage,
    Reply,
    SendError,
    SendResult,
    checked,
    clean_text,
    numbered_text,
)
from channels.ivr.call_settings import VoiceSettings
from channels.ivr.twiml import ANONYMOUS_KEY, KEYPAD_STATES, Phrases, Renderer, TurnView
from channels.twilio_common import SID, TwilioChannel, fetch_media
from core.phones import is_mobile, normalize_phone

log = logging.getLogger(__name__)

STEPS = ("language", "input", "record", "location", "contact", "number", "repeat", "status", "recording", "queue",
         "wait")
"""The sub-paths of the voice route: one per kind of question, plus Twilio's callbacks."""
CALL_ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
RECORDING_TYPE = "audio/mpeg"
RECORDING_SUFFIX = ".mp3"
"""Twilio serves a recording as MP3 when `.mp3` is added to its `RecordingUrl`."""
AGENT = "agent"
"""The dialogue's command for a person (the same word in every language)."""
MAX_DIGITS = 20
KEYPAD = frozenset("0123456789*#")
MAX_TURN = 10_000
"""Far more questions than any call asks; the turn and repeat counters our TwiML puts in its URLs
stay below it."""


@dataclass(frozen=True)
class CallRequest:
    """One voice webhook, reduced to what the call needs."""

    step: str
    call_sid: str
    caller: str
    called: str
    digits: str | None = None
    speech: str = ""
    asks: str = ""
    language: str = ""
    turn: int = 0
    repeats: int = 0
    recording_url: str = ""
    recording_duration: int | None = None
    recording_status: str = ""
    call_status: str = ""
    empty: bool = False

    @property
    def ended(self) -> bool:
        """True for a call status callback saying the call is over."""
        return self.call_status in CALL_ENDED

    def view(self, state: str | None = None, language: str | None = None, **changes: int) -> TurnView:
        """A renderer's view of this call at `state`."""
        return TurnView(state=state or self.asks or "new", language=language or self.language,
                        turn=self.turn, repeats=changes.get("repeats", self.repeats),
                        misses=changes.get("misses", 0), max_misses=changes.get("max_misses", 3))


def _int(value: str | None, default: int = 0) -> int:
    """A small count from the query or the form (ASCII digits, below `MAX_TURN`), else `default`."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 5):
        return default
    return int(text) if int(text) < MAX_TURN else default


def _field(form: Mapping[str, str], name: str, limit: int) -> str:
    """A form field cleaned (`clean_text`), stripped and cut to `limit`."""
    return clean_text(form.get(name) or "", limit).strip()


@functools.cache
def _catalogs() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """(voice phrases, dialogue wording) per language, from `texts/*.yaml`."""
    phrases: dict[str, dict[str, str]] = {}
    dialogue: dict[str, dict[str, str]] = {}
    for lang in ("ar", "fr", "en"):
        raw = resources.files("channels.ivr").joinpath("texts", f"{lang}.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(raw) or {}
        phrases[lang] = {str(k): str(v) for k, v in (data.get("voice") or {}).items()}
        dialogue[lang] = {str(k): str(v) for k, v in (data.get("dialogue") or {}).items()}
    return phrases, dialogue


class VoiceChannel(TwilioChannel):
    """One Twilio account's voice numbers."""

    name = "ivr"
    capabilities = Capabilities(synchronous_reply=True, max_text_length=1600, late_replies=False, spoken=True)
    webhook_path = "/webhooks/twilio/voice"
    display_names: ClassVar[Mapping[str, str]] = {"ar": "مكالمة هاتفية", "fr": "Appel", "en": "Phone call"}
    recording_suffix = RECORDING_SUFFIX
    status_path = "/webhooks/twilio/status"
    settings_type = VoiceSettings
    settings: VoiceSettings
    call_steps = STEPS

    def __init__(self, settings: VoiceSettings) -> None:
        super().__init__(settings)
        self.phrases = Phrases(_catalogs()[0])


    def dialogue_texts(self) -> Mapping[str, Mapping[str, str]]:
        """The dialogue's texts worded for the phone ("press 0" rather than "reply AGENT")."""
        return _catalogs()[1]

    def renderer(self, base: str) -> Renderer:
        """The TwiML builder for a call whose voice route is `base`."""
        return Renderer(self.settings, self.phrases, base)

    def parse(self, request: HttpRequest) -> list[InboundMessage]:
        """Voice webhooks are calls, not messages: see `parse_call` and `answer`."""
        return []

    def parse_call(self, request: HttpRequest) -> CallRequest | None:
        """The call webhook `request` is; None on an unknown sub-path, or without what every Twilio
        voice request carries (a `CallSid`, the caller's and our number), or with keys no keypad has."""
        form = request.form
        parts = urlsplit(request.url)
        tail = parts.path.rstrip("/")
        step = "" if tail.endswith(self.webhook_path) else tail.rsplit("/", 1)[-1]
        if step and step not in STEPS:
            return None
        sid = (form.get("CallSid") or "").strip()
        if not SID.fullmatch(sid):
            return None
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        region = self.settings.default_region
        raw_caller = _field(form, "From", 64) or _field(form, "Caller", 64)
        raw_called = _field(form, "To", 64) or _field(form, "Called", 64)
        caller = normalize_phone(raw_caller, region) or raw_caller[:MAX_ADDRESS]
        called = normalize_phone(raw_called, region) or raw_called[:MAX_ADDRESS]
        digits = form["Digits"].strip()[:MAX_DIGITS] if "Digits" in form else None
        if not caller or not called or (digits is not None and not set(digits) <= KEYPAD):
            return None
        duration = form.get("RecordingDuration")
        return CallRequest(
            step=step,
            call_sid=sid,
            caller=caller,
            called=called,
            digits=digits,
            speech=_field(form, "SpeechResult", 2000),
            asks=clean_text(query.get("asks", ""), 32),
            language=clean_text(query.get("lang", ""), 8),
            turn=_int(query.get("n")),
            repeats=_int(query.get("r")),
            recording_url=_field(form, "RecordingUrl", MAX_URL),
            recording_duration=_int(duration, -1) if duration not in (None, "") else None,
            recording_status=_field(form, "RecordingStatus", 32).lower(),
            call_status=_field(form, "CallStatus", 32).lower(),
            empty=query.get("empty") == "1",
        )

    def message(self, call: CallRequest, text: str = "", media: tuple[MediaRef, ...] = ()) -> InboundMessage:
        """A dialogue answer from the caller, identified by call, turn and step."""
        return checked(InboundMessage(
            channel=self.name, sender=call.caller, recipient=call.called,
            provider_message_id=f"{call.call_sid}:{call.turn}:{call.step or 'start'}", text=text, media=media,
        ))

    def recording_ref(self, call: CallRequest) -> MediaRef | None:
        """The recording a `Record` produced, when it is usable: a provider host, and not empty."""
        url = call.recording_url
        if not url or (call.recording_duration is not None and call.recording_duration <= 0):
            return None
        host = urlsplit(url).netloc.lower()
        if urlsplit(url).scheme not in ("http", "https") or host not in self.settings.twilio.media_hosts:
            log.warning("recording on a foreign host refused: %s", host or url)
            return None
        return MediaRef(url + RECORDING_SUFFIX, RECORDING_TYPE)

    def answer(self, call: CallRequest, languages: Sequence[str], base: str) -> InboundMessage | str:
        """The dialogue answer a keypad press or a recording means, or TwiML for a phone-only sub-step."""
        digits = call.digits or ""
        if call.step == "language":
            if digits == "0":
                return self.message(call, AGENT)
            index = int(digits) - 1 if digits.isdigit() and len(digits) == 1 else -1
            if 0 <= index < len(languages):
                return self.message(call, languages[index])
            view = call.view("new", call.language or languages[0], repeats=call.repeats + 1)
            return self.renderer(base).language_menu(languages, view)
        if call.step == "record":
            ref = self.recording_ref(call)
            return self.message(call, media=(ref,) if ref else ())
        if digits == "0" and (call.asks in KEYPAD_STATES | {"name", "track", "location"} or call.step == "number"):
            return self.message(call, AGENT)
        if call.step == "location":
            if digits == "*":
                return self.renderer(base).location_recording(call.view("location"))
            names = self.settings.areas.get(digits.rstrip("#"))
            place = (names.get(call.language) or next(iter(names.values()), "")) if names else ""
            return self.message(call, f"{place} ({digits})" if place else "")
        if call.step == "contact":
            if digits == "1":
                return self.message(call, call.caller if normalize_phone(call.caller, "ZZ") else "")
            if digits == "2":
                return self.renderer(base).ask_number(call.view("name"))
            return self.message(call, "0" if digits == ANONYMOUS_KEY else digits)
        if call.step == "number":
            number = normalize_phone(digits, self.settings.default_region)
            return self.message(call, number or "")
        return self.message(call, call.speech or digits)

    def render_reply(self, texts: Sequence[OutboundMessage]) -> Reply:
        """Plain TwiML that speaks `texts` and hangs up (the call flow uses `renderer` instead)."""
        response = VoiceResponse()
        for message in texts:
            response.say(numbered_text(message.text, message.choices))
        response.hangup()
        return Reply("application/xml", str(response))

    async def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        """Download a recording from Twilio's hosts only, with the account's basic auth."""
        return await fetch_media(self.settings.twilio, ref, max_bytes)

    async def call_back(self, caller: str, ours: str, language: str) -> str:
        """Phone a caller back from our number and put them through to a person; the Call SID."""
        twiml = self.renderer("").call_back(language)
        created = await self.rest.call(lambda client: client.calls.create(to=caller, from_=ours, twiml=twiml))
        return str(created.sid)

    async def send(self, message: OutboundMessage) -> SendResult:
        """A text to a caller (their reference, a status update): an SMS, to mobiles only."""
        if not is_mobile(message.recipient):
            raise SendError("a caller's landline cannot receive texts", retryable=False, code="21614")
        kwargs: dict[str, str] = {
            "to": message.recipient,
            "from_": self.settings.sms_sender or message.sender,
            "body": numbered_text(message.text, message.choices),
        }
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        created = await self.rest.call(lambda client: client.messages.create(**kwargs))
        return SendResult(provider_message_id=created.sid, status=created.status or "queued")
