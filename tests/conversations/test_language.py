"""Language detection: script, lexicons (with Darija in Latin letters), langdetect, else unknown."""

from __future__ import annotations

import pytest

from conversations import language
from conversations.model import DialogueContext
from tests.conversations.convo_kit import CTX, CTX_DARIJA_FR

CTX_AR_FR = DialogueContext(categories=(), languages=("ar", "fr"))

DETECT = [
    # (text, context, expected)
    ("السلام عليكم", CTX, "ar"),
    ("سلام، كاين الزبل بزاف", CTX, "ar"),
    ("مرحبا hello", CTX, "ar"),
    ("bonjour", CTX, "fr"),
    ("Salut", CTX, "fr"),
    ("merci", CTX, "fr"),
    ("J'ai une plainte", CTX, "fr"),
    ("hello", CTX, "en"),
    ("Hi", CTX, "en"),
    ("I have a complaint", CTX, "en"),
    ("garbage not collected", CTX, "en"),
    ("salam kayn mochkil f zbel", CTX, "ar"),
    ("3afak", CTX, "ar"),
    ("wach kayn chi wahed", CTX, "ar"),
    ("bghit n9dem chikaya", CTX, "ar"),
    ("salam kayn mochkil f zbel", CTX_DARIJA_FR, "fr"),
    ("wa7ed l7aja", CTX_DARIJA_FR, "fr"),
    ("Le camion passe rarement chez nous, c'est sale partout", CTX, "fr"),
    ("Streetlights broken near the school for weeks now", CTX, "en"),
    ("hello", CTX_AR_FR, None),
    ("1", CTX, None),
    ("4829130575", CTX, None),
    ("ok", CTX, None),
    ("", CTX, None),
    ("👍", CTX, None),
]


@pytest.mark.parametrize(("text", "ctx", "expected"), DETECT, ids=[f"{row[0]!r}-{row[2]}" for row in DETECT])
def test_detect(text: str, ctx: DialogueContext, expected: str | None) -> None:
    """Each text is detected as the table says."""
    assert language.detect(text, ctx) == expected


STATISTICAL = [
    ("Les lampadaires de notre quartier restent éteints toute la nuit", "fr"),
    ("The water pipe near the market has been leaking since Monday", "en"),
    ("court", None),
]


@pytest.mark.parametrize(("text", "expected"), STATISTICAL)
def test_statistical_fallback_only_for_longer_text(text: str, expected: str | None) -> None:
    """langdetect answers for longer text, limited to ar/fr/en; a short text gets no guess."""
    assert language.statistical(text) == expected


def test_statistical_is_deterministic() -> None:
    """The seeded detector gives the same answer every time."""
    text = "Camion poubelle jamais passé depuis lundi dernier"
    assert len({language.statistical(text) for _ in range(5)}) == 1


def test_lexicon_scores_digit_words_as_darija() -> None:
    """Letters mixed with 3, 7, 9 mark the Arabic chat alphabet."""
    scores = language.lexicon_scores("wa7ed 3la l9ahwa")
    assert scores[language.DARIJA] >= 4
    assert scores["fr"] == scores["en"] == 0
