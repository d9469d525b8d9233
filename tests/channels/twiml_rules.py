"""What Twilio documents of voice TwiML, as data: the verbs we use, their attributes, what nests where.

From Twilio's TwiML reference (<Say>, <Play>, <Gather>, <Record>, <Enqueue>, <Dial>, <Redirect>,
<Hangup>, <Pause>) and its SSML support inside <Say> (<break>). `check(xml, routes)` raises
AssertionError on anything else, and on an action URL that is not one of `routes`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import urlsplit

ATTRIBUTES: dict[str, set[str]] = {
    "Response": set(),
    "Say": {"voice", "language", "loop"},
    "break": {"strength", "time"},
    "Play": {"loop", "digits"},
    "Pause": {"length"},
    "Gather": {"action", "method", "timeout", "finishOnKey", "numDigits", "input", "language", "speechTimeout",
               "actionOnEmptyResult", "hints", "partialResultCallback", "profanityFilter", "speechModel"},
    "Record": {"action", "method", "timeout", "finishOnKey", "maxLength", "playBeep", "trim",
               "recordingStatusCallback", "recordingStatusCallbackMethod", "recordingStatusCallbackEvent",
               "transcribe", "transcribeCallback"},
    "Enqueue": {"action", "method", "waitUrl", "waitUrlMethod", "workflowSid"},
    "Dial": {"action", "method", "timeout", "callerId", "hangupOnStar", "timeLimit", "record"},
    "Redirect": {"method"},
    "Hangup": set(),
}
CHILDREN: dict[str, set[str]] = {
    "Response": {"Say", "Play", "Pause", "Gather", "Record", "Enqueue", "Dial", "Redirect", "Hangup"},
    "Gather": {"Say", "Play", "Pause"},
    "Say": {"break"},
}
TEXT_REQUIRED = {"Play", "Redirect", "Enqueue", "Dial"}
URL_ATTRIBUTES = {"action", "waitUrl", "recordingStatusCallback"}
FINAL = {"Hangup", "Redirect", "Enqueue", "Dial"}
"""Verbs after which nothing else in the document runs (so nothing may follow them)."""


def check(xml: str, is_route: Callable[[str], bool]) -> ET.Element:
    """Parse and check one TwiML document; the root element."""
    root = ET.fromstring(xml)
    assert root.tag == "Response", xml
    _check(root, is_route)
    verbs = [child.tag for child in root]
    for position, verb in enumerate(verbs[:-1]):
        assert verb not in FINAL, f"{verb} is followed by {verbs[position + 1:]} in {xml}"
    assert verbs, f"an empty document ends the call in silence: {xml}"
    return root


def _check(element: ET.Element, is_route: Callable[[str], bool]) -> None:
    tag = element.tag
    assert tag in ATTRIBUTES, f"verb <{tag}> is not one we know Twilio documents"
    unknown = set(element.attrib) - ATTRIBUTES[tag]
    assert not unknown, f"<{tag}> has undocumented attributes {unknown}"
    for child in element:
        assert child.tag in CHILDREN.get(tag, set()), f"<{child.tag}> may not nest in <{tag}>"
        _check(child, is_route)
    if tag in TEXT_REQUIRED:
        assert (element.text or "").strip(), f"<{tag}> needs its noun"
    if tag == "Say":
        assert "".join(element.itertext()).strip(), "an empty <Say>"
    for name in URL_ATTRIBUTES & set(element.attrib):
        assert is_route(element.attrib[name]), f"<{tag} {name}> is not a route of ours: {element.attrib[name]}"
    if tag == "Redirect":
        assert is_route(element.text or ""), f"<Redirect> to {element.text} is not a route of ours"
    if tag == "Gather" and "numDigits" in element.attrib:
        assert 1 <= int(element.attrib["numDigits"]) <= 20
    if tag == "Record":
        assert int(element.attrib["maxLength"]) > 0 and element.attrib.get("finishOnKey")


def route_checker(public_url: str, paths: set[str]) -> Callable[[str], bool]:
    """True for an absolute URL under `public_url` whose path is one of `paths`."""

    def is_route(url: str) -> bool:
        parts = urlsplit(url)
        return url.startswith(public_url.rstrip("/") + "/") and parts.path in paths

    return is_route
