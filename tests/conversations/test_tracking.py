"""Tracking without the number: "where is my complaint?" in every language variety lists the
citizen's open cases (latest three) to pick from, tells the only one at once, or asks for a
reference when there is none; a reference still works anywhere; the citizen's own answered case,
not yet rated, is rated (and reopened) right after its status, on every channel, the phone included."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.model import (
    CaseFound,
    CaseReopened,
    ListOpenCases,
    LookupCase,
    OpenCase,
    OpenCasesFound,
    RateCase,
    RatingRecorded,
    ReopenCase,
    State,
    UserMessage,
)
from tests.conversations.convo_kit import MISSING, REF, REF2, T0, Expect, Row, Step, draft_session, run_row, session

S = State
E = Expect
REF3 = "5550001113"
THREE = OpenCasesFound((OpenCase(REF, "in_progress"), OpenCase(REF2, "answered"), OpenCase(REF3, "received")), T0)

ASKED = [  # (variety, the session's language, the sentence)
    ("en", "en", "where is my complaint?"),
    ("fr", "fr", "où en est ma plainte ?"),
    ("ar", "ar", "أين وصلت شكايتي؟"),
    ("darija_ar", "ar", "فين وصلت الشكاية ديالي"),
    ("darija_latin", "fr", "fin wslat chikaya dyali"),
    ("egyptian", "ar", "الشكوى بتاعتي وصلت لفين"),
]

ROWS = [
    Row(f"asked-in-words-{variety}", session(S.MENU, lang), (
        Step(text, E(S.TRACK, (ListOpenCases(),), silent=True)),
        Step(THREE, E(S.TRACK, says=("ask_pick_case",), contains=("1 ", "2 ", "3 "))),
        Step("2", E(S.TRACK, (LookupCase(REF2),), silent=True)),
    ))
    for variety, lang, text in ASKED
]
ROWS += [
    Row("asked-first-thing", session(S.NEW, None), (
        Step("where is my complaint?", E(S.TRACK, effects=None, lang="en")),
        Step(THREE, E(S.TRACK, contains=("482 913 057", "being processed"))),)),
    Row("the-list-shows-reference-and-status", session(S.MENU, "fr"), (
        Step("4", E(S.TRACK, (ListOpenCases(),), silent=True)),
        Step(THREE, E(S.TRACK, contains=(f"1 {REF[:3]} {REF[3:6]} {REF[6:]} (en cours de traitement)",
                                         "3 555 000 1113"))),
        Step("3", E(S.TRACK, (LookupCase(REF3),), silent=True)),
        Step(CaseFound(REF3, "received", T0, T0), E(S.MENU, says=("case_status",), data={"open_cases": MISSING})),
    )),
    Row("a-reference-still-works-from-the-list", session(S.MENU, "en"), (
        Step("4", E(S.TRACK, (ListOpenCases(),), silent=True)),
        Step(THREE, E(S.TRACK)),
        Step(REF3, E(S.TRACK, (LookupCase(REF3),), silent=True)),
    )),
    Row("a-number-beyond-the-list-is-a-miss", session(S.MENU, "en"), (
        Step("4", E(S.TRACK, (ListOpenCases(),), silent=True)),
        Step(THREE, E(S.TRACK)),
        Step("7", E(S.TRACK, misses=1, says=("miss_reference", "ask_pick_case"))),
    )),
    Row("one-open-case-is-told-at-once", session(S.MENU, "fr"), (
        Step("où en est ma plainte ?", E(S.TRACK, (ListOpenCases(),), silent=True)),
        Step(OpenCasesFound((OpenCase(REF, "in_progress"),), T0), E(S.TRACK, (LookupCase(REF),), silent=True)),
        Step(CaseFound(REF, "in_progress", T0, T0), E(S.MENU, says=("case_status",))),
    )),
    Row("no-open-case-asks-for-the-reference", session(S.MENU, "ar"), (
        Step("4", E(S.TRACK, (ListOpenCases(),), silent=True)),
        Step(OpenCasesFound((), T0), E(S.TRACK, says=("ask_reference",))),
    )),
    Row("mid-submission-comes-back-to-the-question", draft_session(S.CATEGORY, "en"), (
        Step("where is my complaint?", E(S.TRACK, (ListOpenCases(),), silent=True, data={"return_to": "category"})),
        Step(OpenCasesFound((OpenCase(REF, "routed"),), T0), E(S.TRACK, (LookupCase(REF),), silent=True)),
        Step(CaseFound(REF, "routed", T0, T0), E(S.CATEGORY, says=("case_status", "ask_category"))),
    )),
    Row("a-description-mentioning-a-complaint-is-a-description", draft_session(S.DESCRIPTION, "en"), (
        Step("where is my complaint? I sent it last week", E(S.LOCATION)),)),
    Row("own-answered-case-is-rated-after-its-status", session(S.MENU, "fr"), (
        Step(REF, E(S.MENU, (LookupCase(REF),), silent=True)),
        Step(CaseFound(REF, "answered", T0, T0, rateable=True),
             E(S.RATE, says=("case_status", "ask_rating"), data={"rating_ref": REF})),
        Step("2", E(S.RATE, (RateCase(REF, 2),), silent=True)),
        Step(RatingRecorded(REF, 2, T0), E(S.REOPEN_OFFER, says=("rating_low",))),
        Step("1", E(S.REOPEN_REASON)),
        Step("Toujours rien", E(S.REOPEN_REASON, (ReopenCase(REF, "Toujours rien"),), silent=True)),
        Step(CaseReopened(REF, T0), E(S.MENU, says=("case_reopened",))),
    )),
    Row("someone-elses-answered-case-is-only-told", session(S.MENU, "fr"), (
        Step(REF, E(S.MENU, (LookupCase(REF),), silent=True)),
        Step(CaseFound(REF, "answered", T0, T0), E(S.MENU, says=("case_status",), not_says=("ask_rating",))),
    )),
    Row("answered-case-mid-submission-keeps-the-question", draft_session(S.NAME, "en"), (
        Step(REF, E(S.NAME, (LookupCase(REF),), silent=True)),
        Step(CaseFound(REF, "answered", T0, T0, rateable=True), E(S.NAME, says=("case_status", "ask_name"))),
    )),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_tracking(row: Row) -> None:
    run_row(row)


def test_a_recorded_reason_reopens_with_the_recording() -> None:
    """On the phone what is still wrong is said after the beep: the recording goes with the reopening."""
    from conversations.engine import step
    from tests.conversations.convo_kit import CTX

    held = session(S.REOPEN_REASON, "fr", reopen_ref=REF)
    spoken = UserMessage("", T0 + timedelta(seconds=5), media_count=1, media_ids=(9,), media_kinds=("audio",))
    outcome = step(held, spoken, CTX)
    (reopen,) = outcome.effects
    assert reopen == ReopenCase(REF, "Motif enregistré : écoutez l'enregistrement joint.", (9,))
