"""Carrier keywords: STOP ends every message to the citizen, START resumes them.

Carriers and Twilio require these to work as whole-message keywords in any letter case. HELP is the
dialogue's own help (it says how to stop), except for a citizen who has opted out, who is told how to
resume.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Consent(StrEnum):
    """What a keyword asks for."""

    STOP = "stop"
    START = "start"


CARRIER_HELP = ("HELP", "INFO")
"""Carriers require an answer to these even from a citizen who has opted out."""


def is_carrier_help(text: str) -> bool:
    """True when the whole message is HELP or INFO, in any letter case."""
    return text.strip().strip(".!?").upper() in CARRIER_HELP


def keyword_consent(text: str, opt_out: Iterable[str], opt_in: Iterable[str]) -> Consent | None:
    """STOP or START when the whole message is one of the configured keywords."""
    word = text.strip().strip(".!").upper()
    if not word or " " in word:
        return None
    if word in {k.upper() for k in opt_out}:
        return Consent.STOP
    if word in {k.upper() for k in opt_in}:
        return Consent.START
    return None
