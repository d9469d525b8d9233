"""A menu answered with an option's words instead of its number ("déchets", "النفايات", "Envoyer",
"street lightning"): folded (case, accents, Arabic spelling variants) and matched with rapidfuzz.

A match must be clear: the whole answer close to one label (a typo or two), one label's words all
in the answer ("je veux déposer une plainte"), or the answer's words all in one label ("éclairage",
"l'eau"), and no other label so. A name, a sentence about
something else or a tie is no match, and the question is asked again: a wrong guess would file the
wrong case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from rapidfuzz import fuzz, process

from conversations.textnorm import fold

CLOSE = 86
"""How close (rapidfuzz ratio, 0-100) a whole answer must be to a label to stand for it."""
CLEAR_LEAD = 8
"""How far ahead of the next label the best one must be."""
SHORTEST = 3
"""Answers shorter than this (folded) only match a label exactly."""
_ELISION = re.compile(r"\b[cdjlmnst]'")


def _words(text: str) -> set[str]:
    """The words of folded text, French elisions dropped (`l'eau` is `eau`)."""
    return set(_ELISION.sub("", text).replace("'", " ").split())


def option_for(answer: str, labels: Mapping[str, Iterable[str]]) -> str | None:
    """The key whose label the answer gives (any of its labels: one per language), or None."""
    said = fold(answer)
    if not said:
        return None
    folded = {key: {f for f in map(fold, names) if f} for key, names in labels.items()}
    exact = {key for key, names in folded.items() if said in names}
    if len(exact) == 1:
        return exact.pop()
    if exact or len(said) < SHORTEST:
        return None
    choices = [(label, key) for key, names in folded.items() for label in names]
    ranked = process.extract(said, [label for label, _ in choices], scorer=fuzz.ratio, limit=None)
    best_by_key: dict[str, float] = {}
    for _label, score, index in ranked:
        key = choices[index][1]
        best_by_key[key] = max(best_by_key.get(key, 0.0), score)
    ordered = sorted(best_by_key.items(), key=lambda item: item[1], reverse=True)
    if ordered and ordered[0][1] >= CLOSE and (len(ordered) == 1 or ordered[0][1] - ordered[1][1] >= CLEAR_LEAD):
        return ordered[0][0]
    words = _words(said)
    contained = {key for key, names in folded.items()
                 if any(len(label) >= SHORTEST and _words(label) <= words for label in names)}
    if len(contained) == 1:
        return contained.pop()
    if contained or not all(len(word) >= SHORTEST for word in words):
        return None
    part_of = {key for key, names in folded.items() if any(words <= _words(label) for label in names)}
    return part_of.pop() if len(part_of) == 1 else None
