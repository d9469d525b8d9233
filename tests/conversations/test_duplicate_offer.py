"""The duplicate offer as a table: a pinned report the store found already reported nearby is offered
that case to follow, or to file anyway; a follower is told of the case's changes and never asked to
rate it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.model import CaseCreated, CaseDraft, CreateCase, DuplicateFound, State, StatusChanged
from core.references import display
from tests.conversations.convo_kit import ADMIN, DRAFT, MISSING, REF, REF2, T0, Expect, Row, Step, run_row, session

E, S = Expect, State
LAT, LON = 33.9716, -6.8498
PINNED = {**DRAFT, "lat": LAT, "lon": LON}


def submitting(lang: str = "fr") -> object:
    """A pinned submission just confirmed (the store is filing it)."""
    return session(S.SUBMITTING, lang, **PINNED)


def draft(lang: str = "fr", **changes: object) -> CaseDraft:
    """The submission as the store takes it."""
    return CaseDraft(kind="complaint", category="lighting", description=PINNED["description"],
                     location_text=PINNED["location_text"], language=lang, anonymous=False, name="Fatima",
                     lat=LAT, lon=LON, **changes)  # type: ignore[arg-type]


FOUND = DuplicateFound(REF2, "in_progress", T0)
OFFERED = E(S.DUPLICATE_OFFER, says=("duplicate_offer",), contains=(display(REF2), "en cours"),
            data={"duplicate_ref": REF2, "description": PINNED["description"]})

ROWS = [
    Row("follow with 1", submitting(), (
        Step(FOUND, OFFERED),
        Step("1", E(S.SUBMITTING, effects=(CreateCase(draft(duplicate_of=REF2)),), data={"duplicate_ref": MISSING})),
        Step(CaseCreated(REF, ADMIN, T0, followed=REF2), E(S.MENU, says=("case_followed",),
                                                           contains=(display(REF2),), absent=(display(REF),))),
    )),
    Row("follow with a yes in words", submitting(), (
        Step(FOUND, OFFERED),
        Step("oui", E(S.SUBMITTING, effects=(CreateCase(draft(duplicate_of=REF2)),))),
    )),
    Row("file anyway with 2", submitting(), (
        Step(FOUND, OFFERED),
        Step("2", E(S.SUBMITTING, effects=(CreateCase(draft(check_duplicates=False)),))),
        Step(CaseCreated(REF, ADMIN, T0), E(S.MENU, says=("case_created",), contains=(display(REF),))),
    )),
    Row("an odd answer is asked again, the draft kept", submitting(), (
        Step(FOUND, OFFERED),
        Step("bof", E(S.DUPLICATE_OFFER, misses=1, says=("duplicate_offer",),
                      data={"description": PINNED["description"]})),
        Step("1", E(S.SUBMITTING, effects=(CreateCase(draft(duplicate_of=REF2)),))),
    )),
    Row("in Arabic", submitting("ar"), (
        Step(FOUND, E(S.DUPLICATE_OFFER, says=("duplicate_offer",), lang="ar")),
        Step("١", E(S.SUBMITTING, effects=(CreateCase(draft("ar", duplicate_of=REF2)),))),
    )),
    Row("a late answer of the store outside a submission changes nothing", session(S.MENU), (
        Step(FOUND, E(S.MENU, silent=True)),
    )),
    Row("a follower is told of an answer and not asked to rate", session(S.MENU), (
        Step(StatusChanged(REF2, "answered", "Le lampadaire est réparé.", ADMIN, T0 + timedelta(days=3),
                           followed=True),
             E(S.MENU, contains=(display(REF2), "Le lampadaire est réparé."), not_says=("ask_rating",),
               data={"rating_ref": MISSING})),
    )),
    Row("the reporter is asked to rate", session(S.MENU), (
        Step(StatusChanged(REF2, "answered", "Le lampadaire est réparé.", ADMIN, T0 + timedelta(days=3)),
             E(S.RATE, says=("ask_rating",))),
    )),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_duplicate_offer(row: Row) -> None:
    run_row(row)
