"""Questions answered as people answer them, in every language variety: yes and no, a rating in words
or "4/5", declining to give a name, a sentence asking for a person. What the classifiers are unsure
of is asked again; where the citizen's words are the answer (a description), they stay words."""

from __future__ import annotations

import pytest

from conversations.model import CloseCase, RateCase, RequestAgent, State
from conversations.understanding.answers import rating_in
from tests.conversations.convo_kit import REF, Expect, Row, Step, draft_session, run_row, session

S = State
E = Expect
ASKED = (RequestAgent("asked"),)

YES = {"fr": "oui", "ar": "نعم", "en": "yes please", "darija_latin": "wakha", "darija_ar": "واخا", "egyptian": "ايوه"}
NO = {"fr": "non merci", "ar": "لا", "en": "no", "darija_latin": "la", "darija_ar": "لا ماشي", "egyptian": "لأ"}
LANGUAGE = {"fr": "fr", "ar": "ar", "en": "en", "darija_latin": "fr", "darija_ar": "ar", "egyptian": "ar"}

ROWS = []
for variety, word in YES.items():
    lang = LANGUAGE[variety]
    ROWS.append(Row(f"confirm-yes-{variety}", draft_session(S.CONFIRM, lang), (
        Step(word, E(S.SUBMITTING, effects=None)),)))
    ROWS.append(Row(f"reopen-offer-yes-{variety}", session(S.REOPEN_OFFER, lang, rating_ref=REF, reopen_ref=REF), (
        Step(word, E(S.REOPEN_REASON, says=("ask_reopen_reason",))),)))
for variety, word in NO.items():
    lang = LANGUAGE[variety]
    ROWS.append(Row(f"confirm-no-{variety}", draft_session(S.CONFIRM, lang), (Step(word, E(S.EDIT)),)))
    ROWS.append(Row(f"reopen-offer-no-{variety}", session(S.REOPEN_OFFER, lang, rating_ref=REF, reopen_ref=REF), (
        Step(word, E(S.MENU, (CloseCase(REF),), says=("closed_thanks",))),)))

RATED = [("en", "4/5", 4), ("fr", "5 étoiles", 5), ("fr", "très bien", 5), ("ar", "ممتاز", 5),
         ("fr", "mzyan bzaf", 5), ("ar", "خايب بزاف", 1), ("en", "very bad", 1), ("fr", "3 sur 5", 3),
         ("ar", "وحش", 2), ("ar", "٤/٥", 4)]
for lang, written, number in RATED:
    ROWS.append(Row(f"rating-words-{written}", session(S.RATE, lang, rating_ref=REF), (
        Step(written, E(S.RATE, (RateCase(REF, number),), silent=True)),)))
ROWS.append(Row("rating-unclear-asked-again", session(S.RATE, "fr", rating_ref=REF), (
    Step("je ne sais pas quoi dire", E(S.RATE, says=("miss_number",), misses=1)),)))

DECLINED = {"darija_latin": ("fr", "la bghitch n3tik smiti"), "fr": ("fr", "je préfère ne pas donner mon nom"),
            "egyptian": ("ar", "مش عايز أقول اسمي"), "en": ("en", "I'd rather not give my name"),
            "ar": ("ar", "لا أريد ذكر اسمي"), "darija_ar": ("ar", "ما بغيتش نعطيك سميتي")}
for variety, (lang, written) in DECLINED.items():
    ROWS.append(Row(f"name-declined-{variety}", draft_session(S.NAME, lang), (
        Step(written, E(S.CONFIRM, data={"anonymous": True, "name": ""})),)))
ROWS += [
    Row("a-name-stays-a-name", draft_session(S.NAME, "fr"), (
        Step("Karim Benali", E(S.CONFIRM, data={"anonymous": False, "name": "Karim Benali"})),)),
    Row("an-english-name-is-not-smiti", draft_session(S.NAME, "en"), (
        Step("John Smith", E(S.CONFIRM, data={"anonymous": False, "name": "John Smith"})),)),
    Row("a-short-name-stays-a-name", draft_session(S.NAME, "ar"), (
        Step("سعاد", E(S.CONFIRM, data={"anonymous": False, "name": "سعاد"})),)),
]

MENTIONS_A_PERSON = "je veux parler à quelqu'un de la commune car les poubelles débordent"
PERSON = {"fr": ("fr", "je veux parler à quelqu'un"), "en": ("en", "can I talk to a real person please"),
          "egyptian": ("ar", "عايز أكلم حد"), "darija_latin": ("fr", "bghit nhder m3a chi wa7ed"),
          "ar": ("ar", "أريد التحدث مع موظف"), "darija_ar": ("ar", "بغيت نهضر مع شي واحد")}
for variety, (lang, written) in PERSON.items():
    ROWS.append(Row(f"person-from-the-menu-{variety}", session(S.MENU, lang), (
        Step(written, E(S.HANDOFF, ASKED)),)))
ROWS += [
    Row("person-from-the-category-question", draft_session(S.CATEGORY, "en"), (
        Step("I want to speak to a human", E(S.HANDOFF, ASKED)),)),
    Row("person-in-a-description-is-the-description", draft_session(S.DESCRIPTION, "fr"), (
        Step(MENTIONS_A_PERSON, E(S.LOCATION, data={"description": MENTIONS_A_PERSON})),)),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_plain_answers(row: Row) -> None:
    run_row(row)


@pytest.mark.parametrize(("written", "number"), [
    ("4/5", 4), ("4 / 5", 4), ("2 sur 5", 2), ("1 out of 5", 1), ("5 stars", 5), ("3 نجوم", 3), ("45/50", None),
    ("6/5", None), ("pas bien", 2), ("bien", 4), ("mzyan", 4), ("kayn zbel", None), ("", None),
])
def test_rating_in(written: str, number: int | None) -> None:
    assert rating_in(written) == number
