"""Understanding benchmark: how well the classifiers read citizens, and how many messages a citizen
needs to file a complaint whose first message describes it.

On each labelled set kept apart from the training corpus (`bench/understanding_eval.jsonl` and
`bench/understanding_fresh.jsonl`, never trained on), per language variety: intent accuracy,
category accuracy over reports, and how often a sure reading (margin over `SURE`) is wrong, the
guesses the dialogue acts on without asking. Then a scripted citizen plays the pure dialogue
(`conversations.engine.step`, the packaged deployment) for every complaint of the set: its first
message is the complaint itself, and it answers each question as asked (the category it means, the
place, anonymous, send) until the case is filed. The median count of its messages is printed.
Last, the time to read one message, and to train.

    .venv/bin/python bench/understanding.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conversations.engine import step  # noqa: E402
from conversations.model import CreateCase, Session, State, UserMessage  # noqa: E402
from conversations.understanding.places import place_in  # noqa: E402
from conversations.understanding.reading import SURE, Reader, corpus, reader  # noqa: E402
from core.config import load_config  # noqa: E402
from gateway.runtime import dialogue_context  # noqa: E402

EVAL = ROOT / "bench" / "understanding_eval.jsonl"
FRESH = ROOT / "bench" / "understanding_fresh.jsonl"
"""A second set, written on 2026-12-02 by someone who had seen neither the corpus nor the first set,
after the first set had been looked at while broadening the corpus (see the README)."""
LANGUAGE = {"ar": "ar", "fr": "fr", "en": "en", "darija_latin": "fr", "darija_ar": "ar", "egyptian": "ar"}
MAX_MESSAGES = 20
PLACE_ANSWER = "rue 12, hay salam"
"""What the scripted citizen answers when asked where."""


def accuracy(rows: list[dict]) -> None:
    """Intent and category accuracy per variety, and how often a sure intent is wrong."""
    read = reader()
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for row in rows:
        reading = read.read(row["text"])
        counts = tally[row["variety"]]
        counts[0] += 1
        counts[1] += reading.intent == row["intent"]
        if reading.intent_margin >= SURE:
            counts[4] += 1
            counts[5] += reading.intent != row["intent"]
        if row["category"]:
            counts[2] += 1
            counts[3] += reading.category == row["category"]
    print(f"{'variety':14} {'messages':>8} {'intent':>8} {'category':>9} {'sure':>6} {'sure but wrong':>15}")
    totals = [0] * 6
    for variety in sorted(tally):
        counts = tally[variety]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        _line(variety, counts)
    _line("all", totals)


def _line(name: str, c: list[int]) -> None:
    print(f"{name:14} {c[0]:>8} {c[1] / c[0]:>8.0%} {c[3] / max(c[2], 1):>9.0%} {c[4] / c[0]:>6.0%} "
          f"{c[5] / max(c[4], 1):>15.0%}")


def messages_to_file(rows: list[dict]) -> None:
    """The median number of messages a scripted citizen sends to file each complaint of the set, how
    many cases it filed with a category it did not mean (it never corrects the summary: the guesses
    the dialogue took on its own), and how many were filed with the place of the first message."""
    deployment = load_config(None)
    ctx = dialogue_context(deployment)
    codes = [c.code for c in deployment.categories]
    counts: dict[str, list[int]] = defaultdict(list)
    wrong = placed = 0
    for row in rows:
        if row["intent"] != "complaint":
            continue
        count, draft = _play(ctx, row["text"], LANGUAGE[row["variety"]], row["category"], codes)
        counts[row["variety"]].append(count)
        wrong += draft is not None and draft.category != row["category"]
        placed += draft is not None and draft.location_text != PLACE_ANSWER
    every = [n for ns in counts.values() for n in ns]
    print("\nmessages to file a complaint whose first message describes it (median, worst):")
    for variety in sorted(counts):
        print(f"  {variety:14} {statistics.median(counts[variety]):>4} {max(counts[variety]):>4}")
    print(f"  {'all':14} {statistics.median(every):>4} {max(every):>4}")
    print(f"  filed with a category the citizen did not mean: {wrong} of {len(every)} ({wrong / len(every):.0%})")
    print(f"  filed with the place named in the first message: {placed} of {len(every)} ({placed / len(every):.0%})")


def _play(ctx, first: str, language: str, category: str, codes: list[str]):  # type: ignore[no-untyped-def]
    """Messages the citizen sends until the dialogue files the case (answering as a citizen would),
    and the case filed (None when it was not within `MAX_MESSAGES`)."""
    session = Session(language=language)
    at = datetime(2026, 12, 1, 9, 0)
    text, sent = first, 0
    while sent < MAX_MESSAGES:
        sent += 1
        at += timedelta(seconds=30)
        outcome = step(session, UserMessage(text, at), ctx)
        session = outcome.session
        for effect in outcome.effects:
            if isinstance(effect, CreateCase):
                return sent, effect.draft
        text = _answer(session, codes.index(category) + 1, first, category)
    return sent, None


def _answer(session: Session, category_key: int, description: str, category: str) -> str:
    """What a citizen who means this complaint answers to the question the session is at (to a
    proposed category: yes when it is theirs, else "choose another")."""
    proposed = session.submission.guess if session.submission else None
    return {
        State.MENU: "1",
        State.CATEGORY: str(category_key),
        State.CATEGORY_CHECK: "1" if proposed == category else "2",
        State.DESCRIPTION: description,
        State.LOCATION: PLACE_ANSWER,
        State.NAME: "0",
        State.CONFIRM: "1",
    }.get(session.state, "1")


def speed(rows: list[dict]) -> None:
    """Time to train, and to read one message (each text of the set once: a reader remembers what it read)."""
    started = time.perf_counter()
    trained = Reader(corpus(), {})
    took = time.perf_counter() - started
    texts = list(dict.fromkeys(row["text"] for row in rows))
    started = time.perf_counter()
    for text in texts:
        trained.read(text)
    per = (time.perf_counter() - started) / len(texts)
    started = time.perf_counter()
    for text in texts:
        place_in(text)
    per_place = (time.perf_counter() - started) / len(texts)
    print(f"\ntraining: {took:.2f} s; reading one message: {per * 1000:.3f} ms, finding its place: "
          f"{per_place * 1000:.3f} ms (one core)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    every: list[dict] = []
    for path in (EVAL, FRESH):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        print(f"\n== {path.name} ==")
        accuracy(rows)
        messages_to_file(rows)
        every += rows
    speed(every)


if __name__ == "__main__":
    main()
