"""Global command words, in every language and Darija, with case, accents and diacritics ignored."""

from __future__ import annotations

import pytest

from conversations.commands import Command, Parsed, parse
from conversations.prompts import choice

ALL = ("ar", "fr", "en")

WORDS = [
    # (text, expected)
    ("menu", Parsed(Command.MENU)),
    ("MENU", Parsed(Command.MENU)),
    ("/menu", Parsed(Command.MENU)),
    ("القائمة", Parsed(Command.MENU)),
    ("الْقَائِمَة", Parsed(Command.MENU)),
    ("lmenu", Parsed(Command.MENU)),
    ("back", Parsed(Command.BACK)),
    ("Retour", Parsed(Command.BACK)),
    ("رجوع", Parsed(Command.BACK)),
    ("rjo3", Parsed(Command.BACK)),
    ("cancel", Parsed(Command.CANCEL)),
    ("Annuler.", Parsed(Command.CANCEL)),
    ("إلغاء", Parsed(Command.CANCEL)),
    ("الغاء", Parsed(Command.CANCEL)),
    ("lghi", Parsed(Command.CANCEL)),
    ("help", Parsed(Command.HELP)),
    ("AIDE", Parsed(Command.HELP)),
    ("مساعدة", Parsed(Command.HELP)),
    ("3awni", Parsed(Command.HELP)),
    ("agent", Parsed(Command.AGENT)),
    ("person", Parsed(Command.AGENT)),
    ("Conseiller", Parsed(Command.AGENT)),
    ("موظف", Parsed(Command.AGENT)),
    ("ar", Parsed(Command.LANGUAGE, "ar")),
    ("Arabic", Parsed(Command.LANGUAGE, "ar")),
    ("عربية", Parsed(Command.LANGUAGE, "ar")),
    ("العربية", Parsed(Command.LANGUAGE, "ar")),
    ("3arbia", Parsed(Command.LANGUAGE, "ar")),
    ("fr", Parsed(Command.LANGUAGE, "fr")),
    ("Français", Parsed(Command.LANGUAGE, "fr")),
    ("FRANCAIS", Parsed(Command.LANGUAGE, "fr")),
    ("الفرنسية", Parsed(Command.LANGUAGE, "fr")),
    ("en", Parsed(Command.LANGUAGE, "en")),
    ("English", Parsed(Command.LANGUAGE, "en")),
    ("انجليزية", Parsed(Command.LANGUAGE, "en")),
    ("الإنجليزية", Parsed(Command.LANGUAGE, "en")),
    ("reopen", Parsed(Command.REOPEN)),
    ("Rouvrir", Parsed(Command.REOPEN)),
    ("réouvrir", Parsed(Command.REOPEN)),
    ("إعادة فتح", Parsed(Command.REOPEN)),
    ("reopen 482 913 0575", Parsed(Command.REOPEN, "4829130575")),
    ("réouvrir 482-913-0575", Parsed(Command.REOPEN, "4829130575")),
    ("menu please help", None),
    ("the menu is wrong", None),
    ("ارجع لي حقي", None),
    ("1", None),
    ("", None),
    ("reopen it now", None),
]


@pytest.mark.parametrize(("text", "expected"), WORDS, ids=[repr(row[0]) for row in WORDS])
def test_command_words(text: str, expected: Parsed | None) -> None:
    """Whole messages are commands; a command word inside a sentence is not."""
    assert parse(text, ALL) == expected


def test_language_switch_only_to_a_deployed_language() -> None:
    """A deployment without English does not switch to it."""
    assert parse("english", ("ar", "fr")) is None
    assert parse("fr", ("ar", "fr")) == Parsed(Command.LANGUAGE, "fr")


CHOICES = [
    ("1", 5, 1),
    (" 2 ", 5, 2),
    ("3.", 5, 3),
    ("(4)", 5, 4),
    ("٥", 5, 5),
    ("۲", 5, 2),
    ("#1", 5, 1),
    ("6", 5, None),
    ("0", 5, None),
    ("1 2", 5, None),
    ("one", 5, None),
    ("", 5, None),
]


@pytest.mark.parametrize(("text", "high", "expected"), CHOICES, ids=[repr(row[0]) for row in CHOICES])
def test_numbered_choice(text: str, high: int, expected: int | None) -> None:
    """Western, Arabic-Indic and Persian digits, with punctuation around, within range only."""
    assert choice(text, high) == expected
