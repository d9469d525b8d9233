"""The classifiers: a message's features and scores are exactly scikit-learn's (the one-message path
only skips its sparse-matrix overhead), readings are deterministic, and a deployment's keywords teach
a category."""

from __future__ import annotations

import numpy as np
import pytest

from conversations.textnorm import fold
from conversations.understanding.reading import REPORT_INTENTS, Reader, corpus, reader

TEXTS = [
    "Les poubelles débordent rue Ibn Sina depuis cinq jours",
    "الزبالة متكومة في الشارع بقالها أسبوع",
    "kayn zbel bzaf f derb dyalna",
    "where is my complaint?",
    "عايز أكلم حد",
    "x",
    "😀😀",
    "Bonjour " * 300,
]


@pytest.mark.parametrize("text", TEXTS + [example.text for example in corpus()[::97]])
def test_the_one_message_path_scores_as_scikit_learn_does(text: str) -> None:
    trained = reader()
    folded = fold(text)
    expected = trained.vectorizer.transform([folded])
    columns, values = trained.features(folded)
    np.testing.assert_allclose(values, expected[0, columns].toarray()[0], atol=1e-12)
    assert set(columns) == set(expected.indices)
    for model in (trained.intents, trained.categories):
        ours = model.coef_[:, columns] @ values + model.intercept_
        np.testing.assert_allclose(ours, model.decision_function(expected)[0], atol=1e-9)


def test_readings_are_deterministic() -> None:
    first, second = Reader(corpus(), {}), Reader(corpus(), {})
    for text in TEXTS:
        assert first.read(text) == second.read(text)


def test_a_report_has_a_category_and_other_intents_none() -> None:
    trained = reader()
    complaint = trained.read(TEXTS[0])
    assert complaint.intent in REPORT_INTENTS and complaint.category == "waste" and complaint.category_margin > 0
    assert trained.read("where is my complaint?").category is None
    assert trained.read("   ").intent == "none"


def test_keywords_teach_a_category() -> None:
    taught = reader({"hammam": ("hammam", "الحمام", "douche publique")})
    assert taught.read("le hammam du quartier est fermé depuis un mois").category == "hammam"
