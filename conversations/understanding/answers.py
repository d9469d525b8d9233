"""Plain answers to the dialogue's questions, read from what citizens write rather than the number
asked for: "oui", "نعم", "wakha" to a yes-or-no question; "la bghitch n3tik smiti" to the name
question; "4/5", "5 étoiles", "ممتاز" as a rating. (A sentence asking for a person or for a case's
status works as a command: `engine._sentence_command`.) The intents come from the classifiers
(`reading`); only a sure reading counts, so an answer the classifiers hesitate on is asked again
rather than guessed.
"""

from __future__ import annotations

import re

from conversations.model import DialogueContext
from conversations.textnorm import fold
from conversations.understanding.reading import Reading, reader
from core.references import to_western_digits

_OUT_OF_FIVE = re.compile(r"(?<!\d)([1-5])\s*(?:/|sur|over|من|على|out of)\s*5(?!\d)")
_STARS = re.compile(r"(?<!\d)([1-5])\s*(?:etoiles?|stars?|نجوم|نجمات|نجمة|njoum|nojoum)")
RATING_WORDS = {
    5: ("excellent", "parfait", "tres bien", "tres satisfait", "super", "top", "very good", "perfect", "great",
        "very satisfied", "ممتاز", "رائع", "جيد جدا", "mzyan bzaf", "mezyan bzaf", "zwin bzaf", "مزيان بزاف",
        "هايل", "جامد جدا", "حلو اوي", "كويس جدا", "tbarkellah"),
    4: ("bien", "satisfait", "good", "satisfied", "جيد", "mzyan", "mezyan", "مزيان", "كويس", "حلو", "zwin"),
    3: ("moyen", "bof", "passable", "average", "ok ok", "so so", "متوسط", "عادي", "nos nos", "نص نص", "ماشي بطال"),
    2: ("pas bien", "pas satisfait", "mauvais", "bad", "not good", "unsatisfied", "سيء", "مش كويس", "ماشي مزيان",
        "machi mzyan", "khayb", "خايب", "وحش"),
    1: ("tres mauvais", "nul", "catastrophique", "horrible", "very bad", "terrible", "awful", "سيء جدا",
        "خايب بزاف", "khayb bzaf", "وحش اوي", "زفت", "مش كويس خالص", "nul nul"),
}
_RATING_BY_WORDS = sorted(((fold(w), n) for n, words in RATING_WORDS.items() for w in words),
                          key=lambda item: len(item[0]), reverse=True)


def yes_or_no(text: str, ctx: DialogueContext) -> str | None:
    """`yes` or `no` for a clear answer to a yes-or-no question, else None."""
    reading = reading_of(text, ctx)
    for answer in ("yes", "no"):
        if reading.is_sure(answer):
            return answer
    return None


def refuses_name(text: str, ctx: DialogueContext) -> bool:
    """Whether the citizen declines to give their name ("je préfère ne pas le dire")."""
    return reading_of(text, ctx).is_sure("refuse_name")


def reading_of(text: str, ctx: DialogueContext) -> Reading:
    """What the deployment's classifiers (its category keywords included) read in `text`."""
    return reader(ctx.category_keywords).read(text)



def rating_in(text: str) -> int | None:
    """A 1-5 rating written as "4/5", "5 étoiles" or in words ("très bien", "ممتاز", "mzyan bzaf")."""
    folded = fold(to_western_digits(text))
    for pattern in (_OUT_OF_FIVE, _STARS):
        found = pattern.search(folded)
        if found:
            return int(found.group(1))
    padded = f" {folded} "
    for words, number in _RATING_BY_WORDS:
        if f" {words} " in padded:
            return number
    return None
