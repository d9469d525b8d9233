"""TwiML for a call, built with the twilio library: prompts as `Say` (or recorded `Play`), questions as
`Gather` or `Record`, transfers as `Enqueue` or `Dial`.

What is spoken comes from the dialogue (already in the caller's language, worded for the phone through
`texts/*.yaml`) and from this channel's own phrases. References are read digit by digit with a pause
after each (phone numbers too), or played from recorded digits where the deployment has them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, Say, VoiceResponse

from channels.base import Choice, OutboundMessage
from channels.ivr.call_settings import VoiceSettings

DIGITS = re.compile(r"(?<![\w-])\+?\d(?: ?\d){5,}(?![\w-])")
"""A run of six digits or more (a reference "482 913 0575", a phone number "+212612345678"), read
digit by digit: read as one number it is "four hundred and eighty-two billion..." (dates are not
matched: "2026-12-01" is said as written)."""
DIGIT_PAUSE = "500ms"
KEYPAD_STATES = frozenset({"new", "menu", "category", "category_check", "confirm", "edit", "rate", "reopen_offer"})
"""Questions answered by one key."""
RECORDED_STATES = frozenset({"description", "reopen_reason"})
"""Questions answered by speaking after the beep: the description, and what is still wrong with a case."""
ANONYMOUS_KEY = "3"
"""On the phone 0 is always "a person"; the name question's "0 anonymous" is keyed 3 instead."""


@dataclass(frozen=True)
class Phrases:
    """The channel's own phrases per language: language -> key -> text."""

    texts: Mapping[str, Mapping[str, str]]
    fallback: str = "en"

    def get(self, lang: str, name: str, **values: str) -> str:
        """A phrase in `lang` (else English) with its placeholders filled."""
        raw = self.texts.get(lang, {}).get(name) or self.texts.get(self.fallback, {}).get(name, "")
        return raw.format(**values) if values else raw


@dataclass(frozen=True)
class TurnView:
    """Where the call stands after a dialogue turn: what the renderer needs besides the words."""

    state: str
    language: str
    misses: int = 0
    max_misses: int = 3
    turn: int = 0
    repeats: int = 0


class Renderer:
    """Builds each TwiML document of a call; action URLs are absolute under `base` (our voice route)."""

    def __init__(self, settings: VoiceSettings, phrases: Phrases, base: str) -> None:
        self.settings = settings
        self.phrases = phrases
        self.base = base.rstrip("/")

    # -- building blocks -------------------------------------------------------------------------

    def url(self, step: str, view: TurnView, **extra: str | int) -> str:
        """The action URL of a step, carrying what was asked, the language and the next turn number."""
        query = {"asks": view.state, "lang": view.language, "n": view.turn + 1, **extra}
        return f"{self.base}/{step}?{urlencode(query)}"

    def say(self, container: TwiML, text: str, lang: str) -> None:
        """Speak `text` in the language's voice; references and phone numbers are read digit by digit, slowly."""
        if not text.strip():
            return
        digits_audio = self.settings.audio.get(lang, {})
        position = 0
        for found in DIGITS.finditer(text):
            before = text[position:found.start()]
            digits = found.group(0).replace(" ", "").lstrip("+")
            if all(f"digit_{d}" in digits_audio for d in digits):
                if before.strip():
                    container.append(self._say(before, lang))
                for digit in digits:
                    container.play(digits_audio[f"digit_{digit}"])
            else:
                spoken = self._say(before, lang)
                for digit in digits:  # a pause before each digit (the library keeps text only after an element)
                    spoken.break_(time=DIGIT_PAUSE)
                    spoken.append(digit)
                container.append(spoken)
            position = found.end()
        rest = text[position:]
        if rest.strip():
            container.append(self._say(rest, lang))

    def _say(self, text: str, lang: str) -> Say:
        voice, language = self.settings.voices.get(lang, ("", ""))
        attributes = {key: value for key, value in (("voice", voice), ("language", language)) if value}
        return Say(" ".join(text.split("\n")).strip(), **attributes)

    def phrase(self, container: TwiML, lang: str, name: str, **values: str) -> None:
        """Speak one of the channel's phrases (played from a recording when the deployment has one)."""
        audio = self.settings.audio.get(lang, {}).get(name)
        if audio:
            container.play(audio)
        else:
            self.say(container, self.phrases.get(lang, name, **values), lang)

    def speak(self, container: TwiML, reply: OutboundMessage, lang: str, state: str) -> None:
        """One dialogue message: its recorded prompt where there is one, else its words and its keys."""
        audio = self.settings.audio.get(lang, {}).get(reply.asks) if reply.asks else None
        if audio:
            self.say(container, reply.lead, lang)
            container.play(audio)
            return
        self.say(container, reply.text, lang)
        for choice in spoken_choices(reply.choices, state):
            self.say(container, self.phrases.get(lang, "press", label=choice.label, key=choice.key), lang)

    def gather(self, view: TurnView, step: str, *, digits: int | None = 1, **extra: str | int) -> Gather:
        """A keypad `Gather` posting to `step`, also on silence (no `Digits` then)."""
        attributes: dict[str, object] = {
            "input": "dtmf", "action": self.url(step, view, **extra), "method": "POST",
            "timeout": self.settings.gather_timeout, "action_on_empty_result": True,
        }
        if digits is not None:
            attributes["num_digits"] = digits
        else:
            attributes["finish_on_key"] = "#"
        return Gather(**attributes)

    def goodbye(self, response: VoiceResponse, lang: str) -> VoiceResponse:
        """End the call politely."""
        self.phrase(response, lang, "goodbye")
        response.hangup()
        return response

    # -- documents -------------------------------------------------------------------------------

    def language_menu(self, languages: Sequence[str], view: TurnView) -> str:
        """The first menu: one line per language, each in its own voice (the default language first)."""
        response = VoiceResponse()
        default = languages[0] if languages else view.language
        if view.repeats > 3:
            return str(self.goodbye(response, default))
        gather = self.gather(view, "language", r=view.repeats)
        if view.repeats:
            self.phrase(gather, default, "not_heard")
        for key, lang in enumerate(languages, 1):
            self.phrase(gather, lang, "language_choice", key=str(key))
        if view.repeats == 3:
            self.phrase(gather, default, "offer_person")
        response.append(gather)
        return str(response)

    def turn(self, replies: Sequence[OutboundMessage], view: TurnView) -> str:
        """The answer to one dialogue turn: what the dialogue said, then the way to answer its question."""
        response = VoiceResponse()
        lang, state = view.language, view.state
        if view.misses > view.max_misses:
            return str(self.goodbye(response, lang))
        asked = any(reply.asks for reply in replies)
        if state == "handoff":
            for reply in replies:
                self.speak(response, reply, lang, state)
            return str(self.transfer(response, view))
        if state in RECORDED_STATES:
            for reply in replies:
                self.speak(response, reply, lang, state)
            return str(self.record_or_speech(response, view, state, self.settings.max_record_seconds))
        if state == "location":
            if self.settings.areas:
                gather = self.gather(view, "location", digits=None)
                for reply in replies:
                    self.speak(gather, reply, lang, state)
                self.phrase(gather, lang, "location_keys")
                response.append(gather)
                return str(response)
            for reply in replies:
                self.speak(response, reply, lang, state)
            self.phrase(response, lang, "location_record")
            return str(self.record(response, view, "location", self.settings.max_location_seconds))
        if state in ("name", "track") or (state in KEYPAD_STATES and asked):
            step, digits = {"name": ("contact", 1), "track": ("input", None)}.get(state, ("input", 1))
            gather = self.gather(view, step, digits=digits)
            for reply in replies:
                self.speak(gather, reply, lang, state)
            response.append(gather)
            return str(response)
        if state in ("new", "menu"):
            gather = self.gather(view, "repeat")
            for reply in replies:
                self.speak(gather, reply, lang, state)
            self.phrase(gather, lang, "hear_again")
            response.append(gather)
            return str(response)
        for reply in replies:
            self.speak(response, reply, lang, state)
        return str(self.goodbye(response, lang))

    def record(self, response: VoiceResponse, view: TurnView, asks: str, seconds: int) -> VoiceResponse:
        """A `Record` of at most `seconds`, ended by the finish key or silence; silence posts too."""
        response.record(
            action=self.url("record", view), method="POST", max_length=seconds,
            finish_on_key=self.settings.finish_key, play_beep=True, timeout=self.settings.silence_seconds,
            trim="trim-silence", recording_status_callback=f"{self.base}/recording",
            recording_status_callback_method="POST", recording_status_callback_event="completed absent failed",
        )
        response.redirect(self.url("record", view, empty=1), method="POST")
        return response

    def record_or_speech(self, response: VoiceResponse, view: TurnView, asks: str, seconds: int) -> VoiceResponse:
        """The description: a recording, or a speech `Gather` where the deployment names a speech language."""
        tag = self.settings.speech.get(view.language)
        if not tag:
            return self.record(response, view, asks, seconds)
        response.append(Gather(input="speech", language=tag, speech_timeout="auto", action=self.url("input", view),
                               method="POST", timeout=self.settings.gather_timeout, action_on_empty_result=True))
        return response

    def transfer(self, response: VoiceResponse, view: TurnView) -> VoiceResponse:
        """Put the caller through: `Dial` the configured number, else `Enqueue` into the call-centre queue."""
        after = self.url("queue", view)
        if self.settings.dial:
            response.dial(self.settings.dial, action=after, method="POST", timeout=30)
        elif self.settings.queue:
            wait = self.settings.wait_url or self.url("wait", view)
            response.enqueue(self.settings.queue, action=after, method="POST", wait_url=wait, wait_url_method="POST")
        else:
            self.phrase(response, view.language, "no_agent")
            response.hangup()
        return response

    def call_back(self, lang: str) -> str:
        """An outbound call from staff to a caller: say who is calling, then put them through to a
        person (`Dial` the configured number, else `Enqueue` into the call-centre queue)."""
        response = VoiceResponse()
        self.phrase(response, lang, "call_back")
        if self.settings.dial:
            response.dial(self.settings.dial, timeout=30)
        elif self.settings.queue:
            response.enqueue(self.settings.queue)
        else:
            self.phrase(response, lang, "goodbye")
        return str(response)

    def wait(self, lang: str) -> str:
        """What a caller waiting in the queue hears (Twilio plays it in a loop)."""
        response = VoiceResponse()
        self.phrase(response, lang, "agent_wait")
        if self.settings.wait_music:
            response.play(self.settings.wait_music)
        else:
            response.pause(length=20)
        return str(response)

    def after_agent(self, lang: str) -> str:
        """The caller came out of the queue or the dialled call: thanks and goodbye."""
        return str(self.goodbye(VoiceResponse(), lang))

    def ask_again(self, replies: Sequence[OutboundMessage], view: TurnView, step: str) -> str:
        """A channel-only keypad question asked again (`repeats` counts), then a person, then goodbye."""
        response = VoiceResponse()
        if view.repeats > 3:
            return str(self.goodbye(response, view.language))
        digits = None if step == "number" else 1
        gather = self.gather(view, step, digits=digits, r=view.repeats)
        if view.repeats:
            self.phrase(gather, view.language, "not_heard")
        for reply in replies:
            self.speak(gather, reply, view.language, view.state)
        if view.repeats == 3:
            self.phrase(gather, view.language, "offer_person")
        response.append(gather)
        return str(response)

    def location_recording(self, view: TurnView) -> str:
        """The caller pressed star at the area-code question: say the place after the beep."""
        response = VoiceResponse()
        self.phrase(response, view.language, "location_record")
        return str(self.record(response, view, "location", self.settings.max_location_seconds))

    def ask_number(self, view: TurnView) -> str:
        """Key in another number to be called back on."""
        response = VoiceResponse()
        gather = self.gather(view, "number", digits=None)
        self.phrase(gather, view.language, "ask_number")
        response.append(gather)
        return str(response)


def spoken_choices(choices: Sequence[Choice], state: str) -> list[Choice]:
    """The choices a caller can key: digits only (language codes are for messages), 0 anonymous as 3."""
    spoken = []
    for choice in choices:
        if not choice.key.isdigit():
            continue
        if state == "name" and choice.key == "0":
            choice = Choice(ANONYMOUS_KEY, choice.label)
        spoken.append(choice)
    return spoken
