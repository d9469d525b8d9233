"""What a citizen's message says, read by two small classifiers over character n-grams: its intent
(complaint, track, agent, yes, no...) and, for a report, its category, each with a confidence.

Trained at first use from the corpus kept beside this module (`corpus.jsonl`: several hundred
messages per language variety, Arabic, French, English, Darija in both scripts, Egyptian Arabic),
plus the words a deployment gives per category (`keywords` in its YAML). Character n-grams within
words (`TfidfVectorizer(analyzer="char_wb")`, one vectorizer for both) carry spelling variants,
Arabizi and missing accents; linear support-vector models score every label, and how far the best
stands ahead of the next (`margin`) says whether a guess is sure. No download, no randomness, about
a second to train and under a millisecond a message.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from conversations.textnorm import fold

REPORT_INTENTS = ("complaint", "observation", "suggestion")
"""Intents whose messages describe something, and so have a category."""
SURE = 0.5
"""A margin over which a guess is acted on without asking."""
LIKELY = 0.3
"""A margin over which a category is proposed to the citizen in one line to confirm (below it, the
menu is shown: a wrong proposal costs a message, a wrong category misroutes a case)."""
KEYWORD_WEIGHT = 10.0
"""How much one of the deployment's keywords counts against one corpus message: a few words must
hold their own against the corpus's hundred messages per category."""


@dataclass(frozen=True)
class Reading:
    """The classifiers' best guesses, and how far each stands ahead of the next label (the higher,
    the surer; above `SURE` a guess is taken)."""

    intent: str
    intent_margin: float
    category: str | None = None
    category_margin: float = 0.0

    def is_sure(self, intent: str) -> bool:
        """Whether the message is `intent`, `SURE`ly ahead of any other."""
        return self.intent == intent and self.intent_margin >= SURE


@dataclass(frozen=True)
class Example:
    """One labelled message of the corpus."""

    text: str
    variety: str
    intent: str
    category: str | None


def corpus() -> list[Example]:
    """The packaged training corpus."""
    raw = resources.files("conversations.understanding").joinpath("corpus.jsonl").read_text(encoding="utf-8")
    return [Example(**json.loads(line)) for line in raw.splitlines() if line.strip()]


class Reader:
    """The two trained classifiers over one vectorizer; build one with `reader(keywords)`."""

    def __init__(self, examples: Sequence[Example], keywords: Mapping[str, Sequence[str]]) -> None:
        texts = [fold(e.text) for e in examples]
        extra = [(fold(word), code) for code, words in keywords.items() for word in words if fold(word)]
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        features = self.vectorizer.fit_transform(texts + [text for text, _ in extra])
        self.intents = LinearSVC(C=0.5, random_state=0).fit(features[:len(texts)], [e.intent for e in examples])
        reports = [i for i, e in enumerate(examples) if e.intent in REPORT_INTENTS and e.category]
        rows = reports + list(range(len(texts), len(texts) + len(extra)))
        labels = [examples[i].category for i in reports] + [code for _, code in extra]
        weights = [1.0] * len(reports) + [KEYWORD_WEIGHT] * len(extra)
        self.categories = LinearSVC(C=0.5, random_state=0).fit(features[rows], labels, sample_weight=weights)
        self._analyze = self.vectorizer.build_analyzer()
        self._vocabulary = self.vectorizer.vocabulary_
        self._idf = self.vectorizer.idf_
        self.read = functools.lru_cache(maxsize=512)(self._read)
        """One reading per text: a turn asks several questions of the same message."""

    def features(self, folded: str) -> tuple[np.ndarray, np.ndarray]:
        """The message's TF-IDF vector as (columns, values), exactly what `vectorizer.transform` gives
        (sublinear tf, idf, l2 norm), computed for one short text without the sparse-matrix machinery
        that makes `transform` of a single message cost a millisecond."""
        counts = Counter(column for gram in self._analyze(folded)
                         if (column := self._vocabulary.get(gram)) is not None)
        columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self._idf[columns]
        norm = np.sqrt(values @ values)
        return columns, values / norm if norm else values

    def _read(self, text: str) -> Reading:
        """The intent and, for a report, the category of one message."""
        folded = fold(text)
        if not folded:
            return Reading("none", 0.0)
        features = self.features(folded)
        intent, margin = _best(self.intents, features)
        if intent not in REPORT_INTENTS:
            return Reading(intent, margin)
        category, category_margin = _best(self.categories, features)
        return Reading(intent, margin, category, category_margin)


def _best(model: LinearSVC, features: tuple[np.ndarray, np.ndarray]) -> tuple[str, float]:
    """The best label and how far its score stands ahead of the next one's (the model's
    `decision_function`, on the message's nonzero columns only)."""
    columns, values = features
    scores = model.coef_[:, columns] @ values + model.intercept_
    order = scores.argsort()[::-1]
    return str(model.classes_[order[0]]), float(scores[order[0]] - scores[order[1]])


@functools.cache
def _reader(keywords: tuple[tuple[str, tuple[str, ...]], ...]) -> Reader:
    return Reader(corpus(), dict(keywords))


def reader(keywords: Mapping[str, Sequence[str]] | None = None) -> Reader:
    """The classifiers for a deployment's category keywords (code -> words), trained once per process."""
    frozen = tuple(sorted((code, tuple(words)) for code, words in (keywords or {}).items()))
    return _reader(frozen)
