"""Photo reports as tables: photo-first reports, photos and pins at any step, additions to a case."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from conversations.model import (
    AttachMedia,
    CaseCreated,
    CaseDraft,
    CaseNotFound,
    CreateCase,
    MediaAttached,
    Session,
    SetLanguage,
    State,
    UserMessage,
)
from core.references import display
from tests.conversations.convo_kit import (
    ADMIN,
    BAD_REF,
    MISSING,
    REF,
    T0,
    Expect,
    Row,
    Step,
    draft_session,
    run_row,
    session,
)

S = State
E = Expect
SHOWN = display(REF)


def shot(*ids: int, caption: str = "", lat: float | None = None, lon: float | None = None, place: str = "",
         reply_to: str | None = None):
    """A WhatsApp message carrying photos (store ids), a caption, and maybe a pin."""
    return lambda at: UserMessage(caption, at, media_count=len(ids), media_ids=ids, lat=lat, lon=lon,
                                  location_text=place, reply_to=reply_to)


def pin(lat: float, lon: float, place: str = ""):
    return lambda at: UserMessage("", at, lat=lat, lon=lon, location_text=place)


ROWS = [
    Row("photo-with-caption-then-pin-asks-only-what-is-missing", Session(), (
        Step(shot(11, caption="Les poubelles débordent depuis une semaine"),
             E(S.CATEGORY, (SetLanguage("fr"),), says=("greeting", "photo_report", "ask_category"), lang="fr",
               data={"media": [11], "description": "Les poubelles débordent depuis une semaine"})),
        Step(pin(33.92, -6.91, "Hay Riad"), E(S.CATEGORY, says=("location_received", "ask_category"),
                                               data={"lat": 33.92, "lon": -6.91, "location_text": "Hay Riad"})),
        Step("1", E(S.NAME, says=("ask_name",), data={"category": "waste"})),
        Step("0", E(S.CONFIRM, contains=("Les poubelles débordent", "Lieu : Hay Riad",
                                         "Photos et fichiers : 1", "1 Envoyer"))),
        Step("1", E(S.SUBMITTING, (CreateCase(CaseDraft(
            "complaint", "waste", "Les poubelles débordent depuis une semaine", "Hay Riad", "fr", True, "",
            33.92, -6.91, (11,))),), silent=True)),
        Step(CaseCreated(REF, ADMIN, T0), E(S.MENU, says=("case_created",),
                                            data={"media": MISSING, "last_case": REF})),
    )),
    Row("photo-and-pin-in-one-message-without-caption-asks-description", session(S.MENU, "en"), (
        Step(shot(5, lat=30.0, lon=-9.5), E(S.CATEGORY, says=("photo_report",),
                                            data={"media": [5], "lat": 30.0})),
        Step("1", E(S.DESCRIPTION, contains=("Describe your complaint",))),
        Step("Garbage everywhere", E(S.NAME)),
    )),
    Row("pin-first-then-photo-burst-is-acknowledged-once", session(S.MENU, "en"), (
        Step(pin(34.0, -6.8, "Agdal"), E(S.CATEGORY, says=("pin_report", "ask_category"))),
        Step(shot(1), E(S.CATEGORY, says=("photo_received", "ask_category"), data={"media": [1]}),
             after=timedelta(minutes=2)),
        *[Step(shot(n), E(S.CATEGORY, silent=True), after=timedelta(seconds=3)) for n in range(2, 11)],
        Step("1", E(S.DESCRIPTION, data={"media": list(range(1, 11))})),
    )),
    Row("photos-at-any-step-join-the-draft", draft_session(S.NAME, "fr"), (
        Step(shot(7), E(S.NAME, says=("photo_received", "ask_name"), misses=0, data={"media": [7]})),
        Step(shot(8, caption="Karim"), E(S.CONFIRM, contains=("Nom : Karim", "Photos et fichiers : 2"))),
        Step(pin(33.5, -7.6), E(S.CONFIRM, says=("location_received",), contains=("1 Envoyer",),
                                 data={"lat": 33.5})),
    )),
    Row("pin-answers-the-location-question-with-its-label", draft_session(S.LOCATION, "fr"), (
        Step(pin(33.5, -7.6, "Marché central"), E(S.NAME, data={"location_text": "Marché central", "lat": 33.5})),
    )),
    Row("photo-with-caption-answers-the-description-question", draft_session(S.DESCRIPTION, "fr"), (
        Step(shot(3, caption="Trou profond dans la chaussée"),
             E(S.LOCATION, data={"description": "Trou profond dans la chaussée", "media": [3]})),
    )),
    Row("add-to-my-case-with-reference-and-photos", session(S.MENU, "en"), (
        Step(shot(21, 22, caption=f"add to my case {SHOWN}"),
             E(S.ADD_MEDIA, (AttachMedia(REF, (21, 22)),), silent=True, data={"attach_ref": REF})),
        Step(MediaAttached(REF, 2, T0 + timedelta(minutes=1)), E(S.ADD_MEDIA, says=("media_added",),
                                                                contains=(SHOWN, "(2)"))),
        Step(shot(23), E(S.ADD_MEDIA, (AttachMedia(REF, (23,)),))),
        Step(MediaAttached(REF, 1, T0 + timedelta(minutes=1, seconds=20)), E(S.ADD_MEDIA, silent=True)),
        Step("menu", E(S.MENU, data={"attach_ref": MISSING})),
    )),
    Row("add-to-my-case-then-photos", session(S.MENU, "fr"), (
        Step(f"ajouter au dossier {REF}", E(S.ADD_MEDIA, says=("ask_add_media",), contains=(SHOWN,))),
        Step("bonjour", E(S.ADD_MEDIA, says=("miss_media",), misses=1)),
        Step(shot(31), E(S.ADD_MEDIA, (AttachMedia(REF, (31,)),))),
    )),
    Row("add-to-my-case-without-reference-asks-which", session(S.MENU, "ar"), (
        Step("أضف إلى شكايتي", E(S.TRACK, says=("ask_attach_reference",))),
        Step(REF, E(S.ADD_MEDIA, says=("ask_add_media",))),
        Step(shot(41), E(S.ADD_MEDIA, (AttachMedia(REF, (41,)),))),
        Step(CaseNotFound(REF, T0), E(S.MENU, says=("case_not_found",), data={"attach_ref": MISSING})),
    )),
    Row("add-to-my-case-mistyped-reference", session(S.MENU, "en"), (
        Step(f"add to my case {BAD_REF}", E(S.MENU, says=("reference_mistyped",))),
    )),
    Row("add-to-my-case-defaults-to-the-last-case-filed", session(S.MENU, "en", last_case=REF), (
        Step("add photos", E(S.ADD_MEDIA, contains=(SHOWN,))),
    )),
    Row("reply-to-our-message-with-photos-adds-to-the-last-case", session(S.MENU, "en", last_case=REF), (
        Step(shot(51, reply_to="SM123"), E(S.MENU, (AttachMedia(REF, (51,)),))),
        Step(MediaAttached(REF, 1, T0 + timedelta(minutes=1)), E(S.MENU, says=("media_added",))),
    )),
    Row("photo-at-rest-without-reply-starts-a-new-report", session(S.MENU, "en", last_case=REF), (
        Step(shot(61), E(S.CATEGORY, says=("photo_report",), data={"media": [61], "last_case": REF})),
    )),
    Row("photo-after-an-expired-draft-starts-a-new-report", draft_session(S.NAME, "fr", media=[1]), (
        Step(shot(2), E(S.CATEGORY, says=("expired", "photo_report"), data={"media": [2]}),
             after=timedelta(days=2)),
    )),
    Row("photo-in-a-side-question-is-received-and-the-question-asked-again", session(S.RATE, "en", rating_ref=REF), (
        Step(shot(71), E(S.RATE, says=("photo_received", "ask_rating"))),
    )),
    Row("back-from-add-media-goes-to-the-menu", session(S.ADD_MEDIA, "en", attach_ref=REF), (
        Step("back", E(S.MENU, data={"attach_ref": MISSING})),
    )),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_photos(row: Row) -> None:
    run_row(row)


def test_burst_window_is_measured_from_the_citizen_clock() -> None:
    """A photo a minute and more after the last acknowledgement is acknowledged again."""
    row = Row("slow-photos", draft_session(S.LOCATION, "en"), (
        Step(shot(1), E(S.LOCATION, says=("photo_received",))),
        Step(shot(2), E(S.LOCATION, says=("photo_received",)), after=timedelta(seconds=61)),
    ))
    run_row(row)
    assert isinstance(T0, datetime)
