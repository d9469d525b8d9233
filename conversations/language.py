"""Which language a citizen writes in: script, then word lists, then langdetect, else None.

A whole-message command is a word of one lexicon ("help", "status", "aide", "statut"), so it is
answered in its language. Short messages defeat statistical detectors ("hello" -> fi, Darija in
Latin letters -> tr), so the order is: Arabic script means Arabic; Latin text is scored against
small lexicons of greetings and complaint words for French, English and Moroccan Darija written in
Latin letters (where digits stand for Arabic sounds: 3afak, 7ta, 9a3); only a longer text with no
clear lexicon winner goes to langdetect, seeded and limited to Arabic, French and English. `None`
means "could not tell": the caller keeps the contact's previous language or the deployment default.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from langdetect import DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from conversations.model import DialogueContext
from conversations.textnorm import arabic_letters, fold, latin_letters

DetectorFactory.seed = 0

DARIJA = "darija"
LANGDETECT_MIN_CHARS = 25
LANGDETECT_MIN_PROBABILITY = 0.7


def _bag(words: str) -> frozenset[str]:
    """A set of whitespace-separated words."""
    return frozenset(words.split())


LEXICON: dict[str, frozenset[str]] = {
    "fr": _bag(
        """bonjour bonsoir salut merci plainte plaintes probleme problemes ordures dechets poubelle poubelles
        eclairage lumiere lampadaire route rue trottoir egout quartier reclamation svp stp oui non
        je vous nous une les des est sont pas dans avec pour sur depuis mon mes cette aux qui que
        il elle ce du au et ne rien tres aussi voudrais veux besoin aide madame monsieur
        statut suivi suivre annuler retour conseiller humain accueil precedent"""
    ),
    "en": _bag(
        """hello hi hey thanks thank you please complaint complaints problem problems garbage trash rubbish
        waste street streetlight light lights road water sewage the is are not there my i in on of
        and with since yes have has was been good morning evening want need it this that
        help status track cancel back previous person human operator"""
    ),
    DARIJA: _bag(
        """salam slm salamo salamu kayn kayna kaynin kayen wach wash bzaf bezaf zbel bghit bghina 3afak
        afak mochkil mouchkil mushkil mochkila chi chwiya dyal dial hadi hada hadchi fen chno
        chnou chnu mazal walo lma dow daw tri9 triq zan9a derb khoya khti nta nti ana hna rah raha
        3la m3a nhar lyoum barak choukran chokran shukran safi wakha mzyan bhal 3ndi 3andna ma3ndi
        lah allah inchallah hamdoulah labas ahlan"""
    ),
}

_WORD = re.compile(r"[a-z0-9]+")
_DIGIT_WORD = re.compile(r"^(?=.*[a-z])(?=.*[23579])[a-z23579]+$")
"""Arabic chat alphabet: letters with 2, 3, 5, 7 or 9 inside (3afak, 7ta, wa9t, s2al)."""


def lexicon_scores(text: str) -> dict[str, int]:
    """How many words of `text` each lexicon knows; a digit-letter word counts double for Darija."""
    scores = dict.fromkeys(LEXICON, 0)
    for word in _WORD.findall(fold(text)):
        for lang, words in LEXICON.items():
            if word in words:
                scores[lang] += 1
        if _DIGIT_WORD.match(word) and not word.isdigit():
            scores[DARIJA] += 2
    return scores


@functools.cache
def _factory() -> DetectorFactory:
    """A langdetect factory knowing only Arabic, French and English (loaded on first use)."""
    factory = DetectorFactory()
    profiles = resources.files("langdetect").joinpath("profiles")
    factory.load_json_profile([profiles.joinpath(lang).read_text(encoding="utf-8") for lang in ("ar", "fr", "en")])
    factory.seed = 0
    return factory


def statistical(text: str) -> str | None:
    """langdetect's guess among ar/fr/en for a longer text, when it is confident; else None."""
    if len(text.strip()) < LANGDETECT_MIN_CHARS:
        return None
    detector = _factory().create()
    detector.append(text)
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return None
    return best.lang if best.prob >= LANGDETECT_MIN_PROBABILITY else None


def detect(text: str, ctx: DialogueContext) -> str | None:
    """The language of `text` among `ctx.languages`, or None when the text does not tell."""
    found = _detect(text, ctx)
    return found if found in ctx.languages else None


def _detect(text: str, ctx: DialogueContext) -> str | None:
    """The language of `text` before the deployment's language list is applied."""
    arabic, latin = arabic_letters(text), latin_letters(text)
    if arabic and arabic >= latin:
        return "ar"
    if not latin:
        return None
    scores = lexicon_scores(text)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top > second:
        return ctx.darija_latin_language if best == DARIJA else best
    return statistical(text)
