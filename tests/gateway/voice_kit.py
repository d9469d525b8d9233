"""A caller on the phone: plays Twilio Voice against the real routes and reads the TwiML answers.

Every document received is checked against Twilio's TwiML rules (`tests.channels.twiml_rules`), with
each action URL required to be a route of the running app.
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from channels.ivr.adapter import STEPS
from tests.channels.twiml_rules import check, route_checker
from tests.fixtures.gateway import PUBLIC_URL, Gateway
from tests.support import random_mobile

VOICE = "/webhooks/twilio/voice"
ROUTES = {VOICE, *(f"{VOICE}/{step}" for step in STEPS)}
is_route = route_checker(PUBLIC_URL, ROUTES)


def spoken(root: ET.Element) -> str:
    """Everything the document says, Say by Say (a reference read slowly comes out as its digits)."""
    return " | ".join("".join(say.itertext()) for say in root.iter("Say"))


def reference_in(root: ET.Element) -> str:
    """The ten digits of a reference read out in the document."""
    found = re.search(r"\d{10}", spoken(root).replace(" ", ""))
    assert found, spoken(root)
    return found.group(0)


@dataclass
class Caller:
    """One phone call from `phone` to the hotline."""

    gateway: Gateway
    phone: str = field(default_factory=lambda: random_mobile())
    call_sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    last: ET.Element | None = None
    documents: list[str] = field(default_factory=list)

    def params(self, **extra: str) -> dict[str, str]:
        """The fields Twilio posts on every voice request."""
        return {"CallSid": self.call_sid, "AccountSid": self.gateway.twilio.account_sid, "From": self.phone,
                "To": self.gateway.number, "Direction": "inbound", "CallStatus": "in-progress", **extra}

    def post(self, path: str, params: dict[str, str]) -> ET.Element:
        """POST signed, expect TwiML, check it."""
        response = self.gateway.post(path, params)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("application/xml")
        self.documents.append(response.text)
        self.last = check(response.text, is_route)
        return self.last

    def call(self) -> ET.Element:
        """The call comes in."""
        return self.post(VOICE, self.params(CallStatus="ringing"))

    def _action(self, tag: str) -> str:
        assert self.last is not None
        element = next(self.last.iter(tag), None)
        assert element is not None, f"no <{tag}> in {ET.tostring(self.last, encoding='unicode')}"
        return element.attrib["action"][len(PUBLIC_URL):]

    def press(self, digits: str | None) -> ET.Element:
        """Key `digits` at the current `Gather` (None: silence, Twilio then posts no `Digits`)."""
        extra = {} if digits is None else {"Digits": digits}
        return self.post(self._action("Gather"), self.params(**extra))

    def record(self, url: str, seconds: int = 7) -> ET.Element:
        """Speak at the current `Record`; Twilio posts the recording's URL and length."""
        sid = "RE" + secrets.token_hex(16)
        return self.post(self._action("Record"), self.params(RecordingUrl=url, RecordingDuration=str(seconds),
                                                            RecordingSid=sid, Digits="#"))

    def hang_up(self) -> None:
        """The call status callback of a finished call."""
        response = self.gateway.post(f"{VOICE}/status", self.params(CallStatus="completed", CallDuration="42"))
        assert response.status_code == 204, response.text

    @property
    def verbs(self) -> list[str]:
        """The top-level verbs of the last document."""
        assert self.last is not None
        return [child.tag for child in self.last]


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64
"""A few frames of MPEG audio: what a recording download returns."""
LANGUAGE_KEY = {"ar": "1", "fr": "2"}
"""The key of each language in the language menu."""


def to_description(caller: Caller, language: str) -> None:
    """Call, choose the language, a complaint, the first category: the description's `Record`."""
    caller.call()
    assert "Gather" in caller.verbs
    caller.press(LANGUAGE_KEY[language])
    caller.press("1")
    caller.press("1")
    assert "Record" in caller.verbs
