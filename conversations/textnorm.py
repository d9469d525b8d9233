"""Folding citizen text for matching: case, accents, Arabic diacritics and letter variants ignored."""

from __future__ import annotations

import re
import unicodedata

from core.references import to_western_digits

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_EDGE_PUNCTUATION = " \t\r\n.,;:!?¿¡؟،؛\"'«»()[]*#/-_…"
_SPACES = re.compile(r"\s+")
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile("[a-zA-Z\u00c0-\u024f]")


def fold(text: str) -> str:
    """Lower-cased, accent- and diacritic-free, single-spaced, edge punctuation stripped."""
    text = _ARABIC_MARKS.sub("", to_western_digits(text)).translate(_ARABIC_VARIANTS)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    # NFKD splits Arabic hamza forms too; recompose what is left so Arabic letters stay whole.
    plain = unicodedata.normalize("NFC", plain).translate(_ARABIC_VARIANTS)
    return _SPACES.sub(" ", plain).strip(_EDGE_PUNCTUATION)


def arabic_letters(text: str) -> int:
    """How many Arabic-script letters `text` has."""
    return len(_ARABIC_LETTER.findall(text))


def latin_letters(text: str) -> int:
    """How many Latin letters `text` has."""
    return len(_LATIN_LETTER.findall(text))
