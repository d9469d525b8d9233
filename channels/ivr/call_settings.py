"""The voice channel's settings: Twilio account, voices, recorded prompts, area codes, agents.

Read from the environment (`TWILIO_*`, `TWILIO_SMS_FROM` for the texts a caller is sent,
`HOTLINE_IVR_QUEUE`, `HOTLINE_IVR_DIAL`) and from an optional YAML file named by `HOTLINE_IVR_CONFIG`:

    voices:            # Twilio TTS per language (defaults: Polly.Zeina ar-XA, Polly.Lea fr-FR, Polly.Joanna en-US)
      ar: {voice: Polly.Zeina, language: ar-XA}
    audio:             # recorded prompts per language (how a deployment speaks Darija): key -> URL
      ar: {menu: https://cdn.example/ar/menu.mp3, digit_0: https://cdn.example/ar/0.mp3}
    areas:             # keyed area codes for the location question: code -> names per language
      "12": {ar: الحي الحسني, fr: Hay Hassani}
    speech:            # description by speech recognition where Twilio supports the language: tag per language
      fr: fr-FR
    agent: {queue: hotline, wait_url: "", wait_music: "", dial: ""}
    record: {max_seconds: 120, location_max_seconds: 20, finish_key: "#", silence_seconds: 5}
    gather_timeout: 6

Audio keys are the dialogue's question states (`menu`, `category`, `description`, `location`, `name`,
`confirm`, `edit`, `track`), the voice phrases of `texts/*.yaml` (`goodbye`, `hear_again`...) and
`digit_0`..`digit_9` for reading references.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from channels.twilio_common import TwilioSettings

DEFAULT_VOICES: dict[str, tuple[str, str]] = {
    "ar": ("Polly.Zeina", "ar-XA"),
    "fr": ("Polly.Lea", "fr-FR"),
    "en": ("Polly.Joanna", "en-US"),
}


class VoiceConfigError(ValueError):
    """The voice configuration file is invalid; the message names the key."""


@dataclass(frozen=True)
class VoiceSettings:
    """Everything the voice channel needs to answer a call."""

    twilio: TwilioSettings
    default_region: str
    sms_sender: str = ""
    voices: Mapping[str, tuple[str, str]] = field(default_factory=lambda: dict(DEFAULT_VOICES))
    audio: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    areas: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    speech: Mapping[str, str] = field(default_factory=dict)
    queue: str = "hotline"
    wait_url: str = ""
    wait_music: str = ""
    dial: str = ""
    max_record_seconds: int = 120
    max_location_seconds: int = 20
    finish_key: str = "#"
    silence_seconds: int = 5
    gather_timeout: int = 6

    @classmethod
    def from_env(cls, env: Mapping[str, str], region: str) -> VoiceSettings:
        """Build from the environment and the optional `HOTLINE_IVR_CONFIG` file."""
        path = env.get("HOTLINE_IVR_CONFIG")
        raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8")) if path else {}
        return parse(raw or {}, env, region)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise VoiceConfigError(f"{where}: expected a mapping")
    return value


def _seconds(value: Any, where: str, default: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3600:
        raise VoiceConfigError(f"{where}: expected whole seconds between 1 and 3600")
    return value


def parse(raw: Mapping[str, Any], env: Mapping[str, str], region: str) -> VoiceSettings:
    """Settings from a parsed YAML document and the environment."""
    top = _mapping(raw, "(top level)")
    voices = dict(DEFAULT_VOICES)
    for lang, entry in _mapping(top.get("voices"), "voices").items():
        entry = _mapping(entry, f"voices.{lang}")
        voices[str(lang)] = (str(entry.get("voice", "")), str(entry.get("language", "")))
    audio = {str(lang): {str(k): str(v) for k, v in _mapping(keys, f"audio.{lang}").items()}
             for lang, keys in _mapping(top.get("audio"), "audio").items()}
    areas: dict[str, dict[str, str]] = {}
    for code, names in _mapping(top.get("areas"), "areas").items():
        if not str(code).isdigit():
            raise VoiceConfigError(f"areas.{code}: an area code is digits only")
        areas[str(code)] = {str(k): str(v) for k, v in _mapping(names, f"areas.{code}").items()}
    agent = _mapping(top.get("agent"), "agent")
    record = _mapping(top.get("record"), "record")
    finish = str(record.get("finish_key", "#"))
    if finish not in ("#", "*") and not (len(finish) == 1 and finish.isdigit()):
        raise VoiceConfigError("record.finish_key: one key of the keypad")
    return VoiceSettings(
        twilio=TwilioSettings.from_env(env),
        sms_sender=env.get("TWILIO_SMS_FROM", ""),
        default_region=region,
        voices=voices,
        audio=audio,
        areas=areas,
        speech={str(k): str(v) for k, v in _mapping(top.get("speech"), "speech").items()},
        queue=env.get("HOTLINE_IVR_QUEUE") or str(agent.get("queue") or "hotline"),
        wait_url=str(agent.get("wait_url") or ""),
        wait_music=str(agent.get("wait_music") or ""),
        dial=env.get("HOTLINE_IVR_DIAL") or str(agent.get("dial") or ""),
        max_record_seconds=_seconds(record.get("max_seconds"), "record.max_seconds", 120),
        max_location_seconds=_seconds(record.get("location_max_seconds"), "record.location_max_seconds", 20),
        finish_key=finish,
        silence_seconds=_seconds(record.get("silence_seconds"), "record.silence_seconds", 5),
        gather_timeout=_seconds(top.get("gather_timeout"), "gather_timeout", 6),
    )
