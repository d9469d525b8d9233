"""Menus answered with words: an option's label in any language, with typos and without accents, is
its key; a name, an unrelated sentence or an unclear answer is not (the question comes again)."""

from __future__ import annotations

import pytest

from conversations.model import State
from conversations.understanding.labels import option_for
from tests.conversations.convo_kit import Expect, Row, Step, draft_session, run_row, session

S = State
E = Expect

ROWS = [
    Row("menu-by-label-fr", session(S.MENU, "fr"), (Step("Plainte", E(S.CATEGORY, data={"kind": "complaint"})),)),
    Row("menu-by-sentence-fr", session(S.MENU, "fr"), (
        Step("je voudrais faire une suggestion", E(S.CATEGORY, data={"kind": "suggestion"})),)),
    Row("menu-by-label-in-another-language", session(S.MENU, "fr"), (
        Step("Observation", E(S.CATEGORY, data={"kind": "observation"})),)),
    Row("category-label-fr-without-accents", draft_session(S.CATEGORY, "fr"), (
        Step("dechets", E(S.DESCRIPTION, data={"category": "waste"})),)),
    Row("category-label-ar-in-a-french-dialogue", draft_session(S.CATEGORY, "fr"), (
        Step("النفايات", E(S.DESCRIPTION, data={"category": "waste"})),)),
    Row("category-label-ar-spelling-variant", draft_session(S.CATEGORY, "ar"), (
        Step("الانارة العمومية", E(S.DESCRIPTION, data={"category": "lighting"})),)),
    Row("category-label-en-with-a-typo", draft_session(S.CATEGORY, "en"), (
        Step("Public lightning", E(S.DESCRIPTION, data={"category": "lighting"})),)),
    Row("category-one-word-of-a-label", draft_session(S.CATEGORY, "fr"), (
        Step("l'eau", E(S.DESCRIPTION, data={"category": "water"})),)),
    Row("category-unclear-is-asked-again", draft_session(S.CATEGORY, "fr"), (
        Step("je sais pas", E(S.CATEGORY, says=("miss_number",), misses=1)),)),
    Row("confirm-by-label", draft_session(S.CONFIRM, "fr"), (Step("envoyer", E(S.SUBMITTING, effects=None)),)),
    Row("confirm-by-label-ar", draft_session(S.CONFIRM, "ar"), (Step("إرسال", E(S.SUBMITTING, effects=None)),)),
    Row("edit-by-label", draft_session(S.CONFIRM, "fr"), (
        Step("modifier", E(S.EDIT)),
        Step("Lieu", E(S.LOCATION)),
    )),
    Row("a-name-is-a-name-not-an-option", draft_session(S.NAME, "fr"), (
        Step("Rachida Alaoui", E(S.CONFIRM, data={"name": "Rachida Alaoui", "anonymous": False})),)),
    Row("anonymous-by-label", draft_session(S.NAME, "en"), (
        Step("stay anonymous", E(S.CONFIRM, data={"anonymous": True})),)),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_label_answers(row: Row) -> None:
    run_row(row)


LABELS = {"1": ["Déchets", "النفايات", "Waste"], "2": ["Éclairage public", "الإنارة العمومية", "Street lighting"],
          "4": ["Eau et assainissement", "الماء والتطهير", "Water and sanitation"], "9": ["Autre", "أخرى", "Other"]}


@pytest.mark.parametrize(("answer", "key"), [
    ("DÉCHETS", "1"), ("dechet", "1"), ("النفايات.", "1"), ("street lightning", "2"), ("eclairage", "2"),
    ("water", "4"), ("autre", "9"),
    ("", None), ("ok", None), ("Rachid", None), ("les poubelles débordent rue 5", None), ("et", None),
    ("eau eclairage", None),
])
def test_option_for(answer: str, key: str | None) -> None:
    assert option_for(answer, LABELS) == key
