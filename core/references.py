"""Case references: 10 digits, random, with a Damm check digit so a mistyped reference is caught.

Digits only, so a caller can key one on a phone keypad; random, so references cannot be enumerated;
the first digit is never 0, so a local phone number (06..., 01...) is never read as a reference.
Damm's check digit catches every single wrong digit and every swap of two adjacent digits.
"""

from __future__ import annotations

import re
import secrets

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

REFERENCE_LENGTH = 10
_SEPARATORS = re.compile(r"[\s\-.\u00a0\u200f\u200e_/]+")
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def to_western_digits(text: str) -> str:
    """Arabic-Indic and Persian digits as ASCII digits (`١` is `1`)."""
    return text.translate(_EASTERN_DIGITS)


def check_digit(digits: str) -> str:
    """The Damm check digit of a string of digits."""
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return str(interim)


def is_valid(digits: str) -> bool:
    """True for a 10-digit reference whose check digit matches."""
    return (
        len(digits) == REFERENCE_LENGTH
        and digits.isascii()
        and digits.isdigit()
        and digits[0] != "0"
        and check_digit(digits) == "0"
    )


def new_reference() -> str:
    """A fresh random reference (the caller retries on the rare collision)."""
    body = str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(8))
    return body + check_digit(body)


def normalize(text: str) -> str | None:
    """The bare 10 digits when `text` looks like a reference (spaces, dashes allowed), else None.

    Returns the digits even when the check digit is wrong, so callers can tell "mistyped" apart from
    "not a reference at all"; use `is_valid` to decide.
    """
    candidate = _SEPARATORS.sub("", to_western_digits(text.strip()))
    candidate = candidate.lstrip("#").rstrip("#")
    if len(candidate) == REFERENCE_LENGTH and candidate.isascii() and candidate.isdigit():
        return candidate
    return None


def parse(text: str) -> str | None:
    """A valid reference from `text`, or None."""
    digits = normalize(text)
    return digits if digits is not None and is_valid(digits) else None


def display(reference: str) -> str:
    """Grouped for reading aloud and on screen: `482 913 0575`."""
    return f"{reference[:3]} {reference[3:6]} {reference[6:]}"
