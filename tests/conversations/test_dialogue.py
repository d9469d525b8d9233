"""The dialogue as tables: each row is a session before and a script of (input, expectations)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.model import (
    CaseCreated,
    CaseDraft,
    CaseFound,
    CaseNotFound,
    CaseReopened,
    CloseCase,
    CreateCase,
    ListOpenCases,
    LookupCase,
    OpenCasesFound,
    RateCase,
    RatingRecorded,
    ReopenCase,
    ReopenRefused,
    RequestAgent,
    ServiceUnavailable,
    Session,
    SetLanguage,
    State,
    StatusChanged,
)
from core.references import display
from tests.conversations.convo_kit import (
    ADMIN,
    BAD_REF,
    CTX_DARIJA_FR,
    CTX_MANY,
    DRAFT,
    MISSING,
    REF,
    REF2,
    T0,
    Expect,
    Row,
    Step,
    button,
    draft_session,
    photo,
    pin,
    run_row,
    session,
)

S = State
DARIJA_AR = "سلام، كاين الزبل بزاف فالحومة ديالنا"
E = Expect
SHOWN = display(REF)
ASKED = (RequestAgent("asked"),)
MISUNDERSTOOD = (RequestAgent("misunderstood"),)

# --------------------------------------------------------------------------------------------------
# Full dialogues, one per language, from the first message to the reference.

FULL = [
    Row(
        "full-fr",
        Session(),
        (
            Step("Bonjour", E(S.MENU, (SetLanguage("fr"),), says=("greeting", "menu_intro"),
                              contains=("1 Plainte", "4 Suivre une demande", "AR العربية", "EN English"), lang="fr")),
            Step("1", E(S.CATEGORY, says=("ask_category",), contains=("1 Déchets", "2 Éclairage public", "9 Autre"),
                        data={"kind": "complaint"})),
            Step("2", E(S.DESCRIPTION, contains=("Décrivez votre plainte",), data={"category": "lighting"})),
            Step("Le lampadaire est éteint depuis deux semaines", E(S.LOCATION, says=("ask_location",))),
            Step("Rue 5, Hay Salam", E(S.NAME, says=("ask_name",), contains=("0 Rester anonyme",))),
            Step("Fatima", E(S.CONFIRM, contains=("Plainte - Éclairage public", "Lieu : Rue 5, Hay Salam",
                                                  "Nom : Fatima", "1 Envoyer", "2 Modifier"))),
            Step("1", E(S.SUBMITTING, (CreateCase(CaseDraft("complaint", "lighting",
                        "Le lampadaire est éteint depuis deux semaines", "Rue 5, Hay Salam", "fr", False, "Fatima")),),
                        silent=True)),
            Step(CaseCreated(REF, ADMIN, T0), E(S.MENU, says=("case_created",),
                 contains=(SHOWN, "Commune de Rabat"), data={"kind": MISSING, "description": MISSING})),
        ),
    ),
    Row(
        "full-en-observation-pin-anonymous",
        Session(),
        (
            Step("hello", E(S.MENU, (SetLanguage("en"),), says=("greeting",), contains=("2 Observation",))),
            Step("2", E(S.CATEGORY, contains=("1 Waste collection", "9 Other"), data={"kind": "observation"})),
            Step(" 5 ", E(S.DESCRIPTION, contains=("Describe your observation",))),
            Step("The park benches are broken", E(S.LOCATION)),
            Step(pin(34.02, -6.83, "Hay Riad park"), E(S.NAME, data={"lat": 34.02, "lon": -6.83,
                                                                  "location_text": "Hay Riad park"})),
            Step("anonymous", E(S.CONFIRM, contains=("Observation - Green spaces", "Name: anonymous", "1 Send"))),
            Step("1.", E(S.SUBMITTING, (CreateCase(CaseDraft("observation", "green", "The park benches are broken",
                          "Hay Riad park", "en", True, "", 34.02, -6.83)),), silent=True)),
            Step(CaseCreated(REF, {"fr": "Commune de Rabat"}, T0), E(S.MENU, contains=(SHOWN, "Commune de Rabat"))),
        ),
    ),
    Row(
        "full-ar-suggestion-eastern-digits",
        Session(),
        (
            Step("السلام عليكم", E(S.MENU, (SetLanguage("ar"),), says=("greeting",),
                                   contains=("1 شكاية", "3 اقتراح", "FR Français", "EN English"), lang="ar")),
            Step("٣", E(S.CATEGORY, contains=("1 النفايات", "9 أخرى"), data={"kind": "suggestion"})),
            Step("٤", E(S.DESCRIPTION, contains=("اكتب اقتراحك",), data={"category": "water"})),
            Step("نقترح إضافة نقاط ماء في السوق", E(S.LOCATION)),
            Step("سوق الأحد", E(S.NAME)),
            Step("مجهول", E(S.CONFIRM, contains=("اقتراح - الماء والتطهير", "الاسم: بدون اسم", "1 إرسال"))),
            Step("١", E(S.SUBMITTING, (CreateCase(CaseDraft("suggestion", "water", "نقترح إضافة نقاط ماء في السوق",
                                                             "سوق الأحد", "ar", True)),), silent=True)),
            Step(CaseCreated(REF, ADMIN, T0), E(S.MENU, says=("case_created",), contains=(SHOWN, "جماعة الرباط"))),
        ),
    ),
    Row(
        "darija-arabic-letters",
        session(S.NEW, None),
        (Step(DARIJA_AR, E(S.LOCATION, (SetLanguage("ar"),), lang="ar", says=("greeting", "description_kept"),
                           data={"category": "waste", "description": DARIJA_AR, "kind": "complaint"})),),
    ),
    Row(
        "darija-latin-default-ar",
        session(S.NEW, "fr"),
        (Step("salam kayn mochkil f zbel", E(S.LOCATION, (SetLanguage("ar"),), lang="ar",
                                             says=("greeting", "description_kept"), data={"category": "waste"})),),
    ),
    Row(
        "darija-latin-configured-fr",
        session(S.NEW, None),
        (Step("3afak bghit nchki", E(S.MENU, (SetLanguage("fr"),), lang="fr", says=("greeting",))),),
        CTX_DARIJA_FR,
    ),
    Row(
        "unknown-language-keeps-previous",
        session(S.NEW, "en"),
        (Step("ok", E(S.MENU, (), lang="en", says=("greeting", "menu_intro"))),),
    ),
    Row(
        "unknown-language-no-previous-uses-default",
        Session(),
        (Step("?", E(S.MENU, (SetLanguage("ar"),), lang="ar", says=("greeting",))),),
    ),
    Row(
        "first-message-language-word",
        Session(),
        (Step("Français", E(S.MENU, (SetLanguage("fr"),), lang="fr", says=("greeting", "menu_intro"))),),
    ),
    Row(
        "first-message-reference-tracks",
        Session(),
        (
            Step(f"  {REF[:3]}-{REF[3:6]}-{REF[6:]} ", E(S.MENU, (SetLanguage("ar"), LookupCase(REF)), silent=True)),
            Step(CaseFound(REF, "in_progress", T0 - timedelta(days=3), T0), E(S.MENU, says=("case_status",),
                 contains=(SHOWN, "قيد المعالجة", "2026-02-27"), not_says=("menu_intro",))),
        ),
    ),
    Row(
        "first-message-photo-only-starts-a-report",
        Session(),
        (Step(photo(1), E(S.CATEGORY, (SetLanguage("ar"),), says=("greeting", "photo_report", "ask_category"))),),
    ),
    Row(
        "buttons-carry-choices",
        session(S.MENU, "en"),
        (Step(button("1"), E(S.CATEGORY)), Step(button("FR"), E(S.CATEGORY, (SetLanguage("fr"),), lang="fr"))),
    ),
]

# --------------------------------------------------------------------------------------------------
# Language switch mid-flow: the current question again, in the new language.

SWITCH = [
    Row(f"switch-{word}-at-{state.value}", draft_session(state, start), (
        Step(word, E(state, (SetLanguage(target),), lang=target, says=(key,))),
    ))
    for word, start, target, state, key in [
        ("EN", "fr", "en", S.DESCRIPTION, "ask_description"),
        ("english", "ar", "en", S.LOCATION, "ask_location"),
        ("الإنجليزية", "fr", "en", S.NAME, "ask_name"),
        ("العربية", "fr", "ar", S.CATEGORY, "ask_category"),
        ("3arbia", "en", "ar", S.LOCATION, "ask_location"),
        ("Français", "ar", "fr", S.CONFIRM, "confirm_summary"),
        ("francais", "en", "fr", S.EDIT, "ask_edit"),
        ("FR", "ar", "fr", S.DESCRIPTION, "ask_description"),
    ]
] + [
    Row("switch-keeps-draft-and-finishes", draft_session(S.NAME, "fr"), (
        Step("ar", E(S.NAME, (SetLanguage("ar"),), lang="ar")),
        Step("0", E(S.CONFIRM, contains=("شكاية - الإنارة العمومية", "Rue 5, Hay Salam"))),
        Step("1", E(S.SUBMITTING, (CreateCase(CaseDraft("complaint", "lighting", DRAFT["description"],
                                                        DRAFT["location_text"], "ar", True)),))),
    )),
]

# --------------------------------------------------------------------------------------------------
# Commands in every language, at several steps.

MENU_WORDS = {"en": ["menu", "MENU"], "fr": ["Menu", "menu principal"], "ar": ["القائمة", "القائمة الرئيسية", "lmenu"]}
CANCEL_WORDS = {"en": ["cancel", "Cancel!"], "fr": ["annuler", "ANNULER"], "ar": ["إلغاء", "الغاء", "lghi"]}
HELP_WORDS = {"en": ["help", "Help?"], "fr": ["aide", "Aide"], "ar": ["مساعدة", "3awni"]}
AGENT_WORDS = {"en": ["agent", "person"], "fr": ["conseiller", "Personne"], "ar": ["موظف", "مُوَظَّف"]}
FLOW_PROMPTS = {
    S.CATEGORY: "ask_category",
    S.DESCRIPTION: "ask_description",
    S.LOCATION: "ask_location",
    S.NAME: "ask_name",
    S.CONFIRM: "confirm_summary",
    S.EDIT: "ask_edit",
}

COMMANDS = []
for lang in ("en", "fr", "ar"):
    for state in (S.CATEGORY, S.DESCRIPTION, S.NAME, S.CONFIRM):
        for word in MENU_WORDS[lang]:
            COMMANDS.append(Row(f"menu-{lang}-{word}-at-{state.value}", draft_session(state, lang), (
                Step(word, E(S.MENU, says=("cancelled", "menu_intro"), data={"kind": MISSING, "category": MISSING})),
            )))
        for word in CANCEL_WORDS[lang]:
            COMMANDS.append(Row(f"cancel-{lang}-{word}-at-{state.value}", draft_session(state, lang), (
                Step(word, E(S.MENU, says=("cancelled", "menu_intro"), data={"kind": MISSING, "name": MISSING})),
                Step("1", E(S.CATEGORY, data={"kind": "complaint", "category": MISSING})),
            )))
        for word in HELP_WORDS[lang]:
            COMMANDS.append(Row(f"help-{lang}-{word}-at-{state.value}", draft_session(state, lang, misses=0), (
                Step(word, E(
                    state, says=("help", FLOW_PROMPTS[state]), contains=("STOP",), data={"kind": "complaint"})),
            )))
        for word in AGENT_WORDS[lang]:
            COMMANDS.append(Row(f"agent-{lang}-{word}-at-{state.value}", draft_session(state, lang), (
                Step(word, E(S.HANDOFF, ASKED, says=("agent_requested",))),
            )))
    for word in HELP_WORDS[lang]:
        COMMANDS.append(Row(f"help-{lang}-{word}-at-menu", session(S.MENU, lang), (
            Step(word, E(S.MENU, says=("help", "menu_intro"))),
        )))
        COMMANDS.append(Row(f"help-{lang}-{word}-at-track", session(S.TRACK, lang, track_purpose="track"), (
            Step(word, E(S.TRACK, says=("help", "ask_reference"))),
        )))
    for word in AGENT_WORDS[lang]:
        COMMANDS.append(Row(f"agent-{lang}-{word}-at-menu", session(S.MENU, lang), (
            Step(word, E(S.HANDOFF, ASKED, says=("agent_requested",))),
        )))
    for word in CANCEL_WORDS[lang]:
        COMMANDS.append(Row(f"cancel-{lang}-{word}-at-rate", session(S.RATE, lang, rating_ref=REF), (
            Step(word, E(S.MENU, says=("cancelled", "menu_intro"), effects=())),
        )))

COMMANDS += [
    Row("menu-at-menu-has-no-cancel-note", session(S.MENU, "en"), (
        Step("menu", E(S.MENU, says=("menu_intro",), not_says=("cancelled",))),
    )),
    Row("menu-option-5-agent", session(S.MENU, "fr"), (Step("5", E(S.HANDOFF, ASKED, says=("agent_requested",))),)),
    Row("menu-option-4-track", session(S.MENU, "fr"), (
        Step("4", E(S.TRACK, (ListOpenCases(),), silent=True)),
        Step(OpenCasesFound((), T0), E(S.TRACK, says=("ask_reference",))),
    )),
    Row("submitting-says-wait", draft_session(S.SUBMITTING, "en"), (
        Step("hello?", E(S.SUBMITTING, says=("submitting",))),
    )),
]

# --------------------------------------------------------------------------------------------------
# Back from each step.

BACK = [
    Row(f"back-{word}-from-{state.value}", draft_session(state, lang, **extra), (
        Step(word, E(target, says=(key,), data=data)),
    ))
    for word, lang, state, extra, target, key, data in [
        ("back", "en", S.CATEGORY, {}, S.MENU, "menu_intro", {"kind": MISSING}),
        ("retour", "fr", S.DESCRIPTION, {}, S.CATEGORY, "ask_category", {"kind": "complaint"}),
        ("رجوع", "ar", S.LOCATION, {}, S.DESCRIPTION, "ask_description", {}),
        ("rjo3", "ar", S.NAME, {}, S.LOCATION, "ask_location", {}),
        ("Back", "en", S.CONFIRM, {}, S.NAME, "ask_name", {}),
        ("retour", "fr", S.EDIT, {}, S.CONFIRM, "confirm_summary", {}),
        ("back", "en", S.NAME, {"editing": True}, S.EDIT, "ask_edit", {"editing": MISSING}),
        ("BACK", "en", S.CATEGORY, {"cat_page": 1}, S.CATEGORY, "ask_category", {"cat_page": 0}),
    ]
] + [
    Row("back-from-track", session(S.TRACK, "fr", track_purpose="track"), (
        Step("retour", E(S.MENU, says=("menu_intro",), data={"track_purpose": MISSING})),
    )),
    Row("back-from-reopen-reason-to-offer", session(S.REOPEN_REASON, "en", reopen_ref=REF, offered_reopen=True), (
        Step("back", E(S.REOPEN_OFFER, says=("rating_low",), contains=("1 Reopen the case", "2 No, thanks"))),
    )),
    Row("back-at-menu-shows-menu", session(S.MENU, "ar"), (Step("رجوع", E(S.MENU, says=("menu_intro",))),)),
]

# --------------------------------------------------------------------------------------------------
# Reference tracking: at any step, valid, mistyped, not found.

TRACKING = [
    Row(f"reference-at-{state.value}", draft_session(state, "fr") if state in FLOW_PROMPTS else session(state, "fr",
        rating_ref=REF2), (
        Step(f"{REF[:3]} {REF[3:6]} {REF[6:]}", E(state, (LookupCase(REF),), silent=True, data={"kind": kind})),
        Step(CaseFound(REF, "routed", T0, T0), E(state, says=("case_status", key), contains=(SHOWN, "transmise"))),
    ))
    for state, key, kind in [
        (S.CATEGORY, "ask_category", "complaint"),
        (S.DESCRIPTION, "ask_description", "complaint"),
        (S.LOCATION, "ask_location", "complaint"),
        (S.NAME, "ask_name", "complaint"),
        (S.CONFIRM, "confirm_summary", "complaint"),
        (S.EDIT, "ask_edit", "complaint"),
        (S.RATE, "ask_rating", None),
    ]
] + [
    Row("reference-at-menu", session(S.MENU, "en"), (
        Step(REF, E(S.MENU, (LookupCase(REF),), silent=True)),
        Step(CaseNotFound(REF, T0), E(S.MENU, says=("case_not_found",), contains=(SHOWN,), not_says=("menu_intro",))),
    )),
    Row("track-valid-eastern-digits", session(S.TRACK, "ar", track_purpose="track"), (
        Step("٤٨٢ ٩١٣ " + "".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in REF[6:]), E(S.TRACK, (LookupCase(REF),), silent=True)),
        Step(CaseFound(REF, "answered", T0, T0, note="Le lampadaire a été réparé."),
             E(S.MENU, contains=(SHOWN, "تمت الإجابة عنه", "2026-03-02", "Le lampadaire a été réparé."),
               data={"track_purpose": MISSING})),
    )),
    Row("track-mistyped-stays", session(S.TRACK, "en", track_purpose="track"), (
        Step(f"{BAD_REF[:3]}-{BAD_REF[3:6]}-{BAD_REF[6:]}", E(S.TRACK, says=("reference_mistyped",),
             contains=(display(BAD_REF),), misses=1)),
        Step(REF, E(S.TRACK, (LookupCase(REF),), misses=0)),
        Step(CaseNotFound(REF, T0), E(S.MENU, says=("case_not_found",))),
    )),
    Row("mistyped-at-menu", session(S.MENU, "fr"), (
        Step(BAD_REF, E(S.MENU, says=("reference_mistyped", "menu_intro"), misses=1)),
    )),
    Row("track-not-a-reference", session(S.TRACK, "fr", track_purpose="track"), (
        Step("je ne sais pas", E(S.TRACK, says=("miss_reference", "ask_reference"), misses=1)),
    )),
    Row("reference-as-description-is-tracking", draft_session(S.DESCRIPTION, "en"), (
        Step(REF, E(S.DESCRIPTION, (LookupCase(REF),), data={"description": MISSING})),
    )),
    Row("ten-digit-phone-number-is-a-description", draft_session(S.DESCRIPTION, "fr"), (
        Step("0612345678", E(S.LOCATION, data={"description": "0612345678"})),
    )),
]

# --------------------------------------------------------------------------------------------------
# Unexpected replies at every step; three in a row offer a person (and nothing else).

UNEXPECTED = {
    S.MENU: ("7", "miss_number", "menu_intro"),
    S.CATEGORY: ("garbage", "miss_number", "ask_category"),
    S.DESCRIPTION: ("ok", "miss_text", "ask_description"),
    S.LOCATION: ("x", "miss_text", "ask_location"),
    S.NAME: ("123", "miss_name", "ask_name"),
    S.CONFIRM: ("purple", "miss_number", "confirm_summary"),
    S.EDIT: ("5", "miss_number", "ask_edit"),
    S.TRACK: ("my case", "miss_reference", "ask_reference"),
    S.RATE: ("6", "miss_number", "ask_rating"),
    S.REOPEN_OFFER: ("maybe", "miss_number", "rating_low"),
    S.REOPEN_REASON: ("no", "miss_text", "ask_reopen_reason"),
}


def _at(state: State, lang: str, misses: int = 0) -> Session:
    """A session waiting at `state`."""
    if state in FLOW_PROMPTS:
        return draft_session(state, lang, misses=misses)
    extra = {"track_purpose": "track"} if state == S.TRACK else {"rating_ref": REF, "reopen_ref": REF}
    return session(state, lang, misses=misses, **extra)


MISSES = []
for state, (bad, hint, prompt) in UNEXPECTED.items():
    for lang in ("ar", "fr", "en"):
        MISSES.append(Row(f"miss-{lang}-at-{state.value}", _at(state, lang), (
            Step(bad, E(state, says=(hint, prompt), not_says=("offer_agent",), misses=1)),
            Step(bad, E(state, says=(hint,), not_says=("offer_agent",), misses=2)),
            Step(bad, E(state, MISUNDERSTOOD, says=(hint, prompt, "offer_agent"), misses=3)),
        )))
MISSES += [
    Row("miss-range-menu", session(S.MENU, "en"), (Step("9", E(S.MENU, contains=("from 1 to 5",))),)),
    Row("miss-range-category", draft_session(S.CATEGORY, "en"), (Step("0", E(S.CATEGORY, contains=("from 1 to 9",))),)),
    Row("miss-range-confirm", draft_session(S.CONFIRM, "fr"), (Step("3", E(S.CONFIRM, contains=("de 1 à 2",))),)),
    Row("miss-range-rate", _at(S.RATE, "en"), (Step("0", E(S.RATE, contains=("from 1 to 5",))),)),
    Row("valid-answer-resets-misses", session(S.MENU, "fr", misses=2), (Step("1", E(S.CATEGORY, misses=0)),)),
    Row("fourth-miss-still-offers", session(S.MENU, "en", misses=3), (
        Step("x", E(S.MENU, (), says=("offer_agent",), misses=4)),
        Step("agent", E(S.HANDOFF, ASKED)),
    )),
    Row("description-too-short-then-ok", draft_session(S.DESCRIPTION, "en"), (
        Step("  a b ", E(S.DESCRIPTION, says=("miss_text",), misses=1)),
        Step("abc", E(S.LOCATION, data={"description": "abc"}, misses=0)),
    )),
    Row("description-truncated-at-2000", draft_session(S.DESCRIPTION, "en"), (
        Step("x" * 2500, E(S.LOCATION, data={"description": "x" * 2000})),
    )),
    Row("photo-only-at-description-is-not-a-miss", draft_session(S.DESCRIPTION, "fr"), (
        Step(photo(2), E(S.DESCRIPTION, says=("photo_received", "ask_description"), misses=0)),
    )),
    Row("name-zero-with-punctuation-is-anonymous", draft_session(S.NAME, "ar"), (
        Step(" ٠. ", E(S.CONFIRM, data={"anonymous": True, "name": ""})),
    )),
    Row("name-anonyme-word", draft_session(S.NAME, "fr"), (Step("Anonyme", E(S.CONFIRM, data={"anonymous": True})),)),
    Row("name-arabic-without-name", draft_session(S.NAME, "ar"), (
        Step("بدون اسم", E(S.CONFIRM, data={"anonymous": True})),
    )),
]

# --------------------------------------------------------------------------------------------------
# Edit from the summary, category pages, long descriptions.

EDITS = [
    Row("edit-description", draft_session(S.CONFIRM, "fr"), (
        Step("2", E(S.EDIT, says=("ask_edit",), contains=("1 Thème", "4 Nom"))),
        Step("2", E(S.DESCRIPTION, data={"editing": True})),
        Step("Poteau tombé sur le trottoir", E(S.CONFIRM, contains=("Poteau tombé sur le trottoir",),
                                                data={"editing": MISSING})),
    )),
    Row("edit-category", draft_session(S.CONFIRM, "en"), (
        Step("2", E(S.EDIT)),
        Step("1", E(S.CATEGORY)),
        Step("3", E(S.CONFIRM, contains=("Complaint - Roads",), data={"category": "roads"})),
    )),
    Row("edit-place-with-pin-then-name", draft_session(S.CONFIRM, "en"), (
        Step("2", E(S.EDIT)),
        Step("3", E(S.LOCATION)),
        Step(pin(33.5, -7.6), E(S.CONFIRM, contains=("Place: map pin",), data={"lat": 33.5, "location_text": ""})),
        Step("2", E(S.EDIT)),
        Step("4", E(S.NAME)),
        Step("Karim Benali", E(S.CONFIRM, contains=("Name: Karim Benali",), data={"anonymous": False})),
    )),
    Row("long-description-shortened-in-summary", draft_session(S.CONFIRM, "en", description="word " * 300), (
        Step("help", E(S.CONFIRM, contains=("…",), absent=("word " * 40,))),
    )),
    Row("category-pages", session(S.MENU, "en"), (
        Step("1", E(S.CATEGORY, contains=("1 Topic 1", "8 Topic 8", "9 More"), absent=("Topic 9",))),
        Step("9", E(S.CATEGORY, contains=("1 Topic 9", "4 Topic 12"), absent=("Topic 8",), data={"cat_page": 1})),
        Step("2", E(S.DESCRIPTION, data={"category": "c10"})),
    ), CTX_MANY),
    Row("category-pages-wrap", session(S.CATEGORY, "en", kind="complaint", cat_page=1), (
        Step("9", E(S.CATEGORY, contains=("1 Topic 1",), data={"cat_page": 2})),
        Step("1", E(S.DESCRIPTION, data={"category": "c1"})),
    ), CTX_MANY),
    Row("category-name-falls-back-to-other-language", session(S.MENU, "ar"), (
        Step("1", E(S.CATEGORY, contains=("1 Topic 1",))),
    ), CTX_MANY),
]

# --------------------------------------------------------------------------------------------------
# Resume after a pause, and expiry after the session timeout.

RESUME = [
    Row("resume-valid-answer-welcomed", draft_session(S.DESCRIPTION, "fr"), (
        Step("Poubelles débordent", E(S.LOCATION, says=("welcome_back", "ask_location"), misses=0),
             after=timedelta(hours=2)),
    )),
    Row("resume-invalid-answer-reasks-not-a-miss", draft_session(S.CONFIRM, "en", misses=1), (
        Step("hello again", E(S.CONFIRM, says=("resume", "confirm_summary"), not_says=("miss_number",), misses=1),
             after=timedelta(hours=3)),
        Step("1", E(S.SUBMITTING, effects=None)),
    )),
    Row("no-resume-notice-within-30-minutes", draft_session(S.LOCATION, "en"), (
        Step("Main street", E(S.NAME, not_says=("welcome_back",)), after=timedelta(minutes=20)),
    )),
    Row("expired-after-timeout", draft_session(S.LOCATION, "fr"), (
        Step("Rue 5", E(S.MENU, (SetLanguage("fr"),), says=("expired", "menu_intro"), data={"kind": MISSING}),
             after=timedelta(hours=25)),
    )),
    Row("expired-then-reference", draft_session(S.NAME, "fr"), (
        Step(REF, E(S.MENU, (LookupCase(REF),), says=("expired",), data={"kind": MISSING}), after=timedelta(days=3)),
    )),
    Row("expired-then-language-command", draft_session(S.CONFIRM, "fr"), (
        Step("English", E(S.MENU, (SetLanguage("en"),), says=("expired", "menu_intro"), lang="en"),
             after=timedelta(hours=30)),
    )),
    Row("menu-after-a-while-greets-again", session(S.MENU, "ar"), (
        Step("Bonjour, les poubelles débordent rue Ibn Sina depuis cinq jours", E(S.NAME, (SetLanguage("fr"),),
             says=("greeting", "description_kept", "category_understood", "ask_name"), lang="fr", misses=0,
             data={"description": "Bonjour, les poubelles débordent rue Ibn Sina depuis cinq jours"}),
             after=timedelta(hours=5)),
    )),
    Row("menu-after-a-while-accepts-choice", session(S.MENU, "ar"), (
        Step("2", E(S.CATEGORY, data={"kind": "observation"}), after=timedelta(days=2)),
    )),
    Row("handoff-after-timeout-bot-back", session(S.HANDOFF, "fr", ack_sent=True), (
        Step("salut", E(S.MENU, (SetLanguage("fr"),), says=("greeting",)), after=timedelta(hours=30)),
    )),
]

# --------------------------------------------------------------------------------------------------
# Status changes from staff, ratings, reopening.

STATUS_NAMES = {
    "received": ("reçue", "تم التوصل به", "received"),
    "routed": ("transmise à l'administration compétente", "أحيل على الإدارة المختصة", "sent to the competent"),
    "in_progress": ("en cours de traitement", "قيد المعالجة", "being processed"),
    "answered": ("réponse envoyée", "تمت الإجابة عنه", "answered"),
    "rejected": ("rejetée", "مرفوض", "rejected"),
    "closed": ("clôturée", "مغلق", "closed"),
    "reopened": ("rouverte", "أعيد فتحه", "reopened"),
}
NOTE = "Hors compétence : adressez-vous à l'ONEE."
TOLD_WITH_NOTE = ("answered", "rejected", "in_progress")
"""The status form's note "for the citizen" goes with these (issue 11: it was dropped on in_progress)."""

STATUS = []
for status, names in STATUS_NAMES.items():
    for lang, name in zip(("fr", "ar", "en"), names, strict=True):
        rated = status == "answered"
        STATUS.append(Row(f"status-{status}-{lang}", session(S.MENU, lang), (
            Step(StatusChanged(REF, status, NOTE, ADMIN, T0 + timedelta(days=1)), E(
                S.RATE if rated else S.MENU,
                contains=(SHOWN, name) + ((NOTE, ADMIN[lang]) if status in TOLD_WITH_NOTE else ()),
                absent=() if status in TOLD_WITH_NOTE else (NOTE,),
                says=("ask_rating",) if rated else (),
                not_says=() if rated else ("ask_rating",),
                data={"rating_ref": REF} if rated else {"rating_ref": MISSING},
            )),
        )))

STATUS += [
    Row("answered-mid-flow-stashes-rating", draft_session(S.DESCRIPTION, "en"), (
        Step(StatusChanged(REF2, "answered", "Fixed.", ADMIN, T0), E(S.DESCRIPTION, contains=(display(REF2), "Fixed."),
             not_says=("ask_rating",), data={"pending_rating": REF2})),
        Step("Streetlight out", E(S.LOCATION, not_says=("welcome_back",))),
        Step("Main street", E(S.NAME)),
        Step("0", E(S.CONFIRM)),
        Step("1", E(S.SUBMITTING, effects=None)),
        Step(CaseCreated(REF, ADMIN, T0), E(S.RATE, says=("case_created", "ask_rating"), contains=(display(REF2),),
             data={"rating_ref": REF2, "pending_rating": MISSING})),
        Step("5", E(S.RATE, (RateCase(REF2, 5),), silent=True)),
        Step(RatingRecorded(REF2, 5, T0), E(S.MENU, (CloseCase(REF2),), says=("rating_thanks",))),
    )),
    Row("answered-mid-flow-then-cancel-asks-rating", draft_session(S.NAME, "fr"), (
        Step(StatusChanged(REF2, "answered", "", ADMIN, T0), E(S.NAME, data={"pending_rating": REF2})),
        Step("annuler", E(S.RATE, says=("cancelled", "ask_rating"))),
    )),
    Row("answered-event-does-not-move-the-clock-mid-flow", draft_session(S.DESCRIPTION, "en"), (
        Step(StatusChanged(REF2, "answered", "", ADMIN, T0 + timedelta(hours=20)), E(S.DESCRIPTION)),
        Step("Bins overflowing", E(S.RATE, says=("expired", "ask_rating")), after=timedelta(hours=26)),
    )),
    Row("answered-while-rating-another", session(S.RATE, "en", rating_ref=REF), (
        Step(StatusChanged(REF2, "answered", "", ADMIN, T0),
             E(S.RATE, data={"pending_rating": REF2, "rating_ref": REF})),
        Step("4", E(S.RATE, (RateCase(REF, 4),))),
        Step(RatingRecorded(REF, 4, T0), E(S.RATE, (CloseCase(REF),), says=("rating_thanks", "ask_rating"),
             contains=(display(REF2),), data={"rating_ref": REF2})),
    )),
    Row("status-in-handoff-stays-handoff", session(S.HANDOFF, "fr", ack_sent=True), (
        Step(StatusChanged(REF, "in_progress", "", ADMIN, T0), E(S.HANDOFF, contains=("en cours de traitement",))),
    )),
]

RATINGS = []
for rating in (1, 2, 3, 4, 5):
    good = rating >= 3
    RATINGS.append(Row(f"rating-{rating}", session(S.RATE, "en", rating_ref=REF), (
        Step(f" {rating} ", E(S.RATE, (RateCase(REF, rating),), silent=True)),
        Step(RatingRecorded(REF, rating, T0), E(
            S.MENU if good else S.REOPEN_OFFER,
            (CloseCase(REF),) if good else (),
            says=("rating_thanks",) if good else ("rating_low",),
            contains=() if good else ("1 Reopen the case", "2 No, thanks"),
        )),
    )))

RATINGS += [
    Row("rating-arabic-digit", session(S.RATE, "ar", rating_ref=REF), (Step("٢", E(S.RATE, (RateCase(REF, 2),))),)),
    Row("low-rating-reopen-accepted", session(S.REOPEN_OFFER, "fr", rating_ref=REF, reopen_ref=REF), (
        Step("1", E(S.REOPEN_REASON, says=("ask_reopen_reason",), contains=(SHOWN,))),
        Step("Toujours des ordures devant l'école", E(S.REOPEN_REASON,
             (ReopenCase(REF, "Toujours des ordures devant l'école"),), silent=True)),
        Step(CaseReopened(REF, T0), E(S.MENU, says=("case_reopened",), contains=(SHOWN,),
             data={"rating_ref": MISSING, "reopen_ref": MISSING})),
    )),
    Row("low-rating-reopen-declined", session(S.REOPEN_OFFER, "ar", rating_ref=REF, reopen_ref=REF), (
        Step("2", E(S.MENU, (CloseCase(REF),), says=("closed_thanks",), contains=(SHOWN,))),
    )),
    Row("reopen-reason-too-short", session(S.REOPEN_REASON, "en", reopen_ref=REF), (
        Step("no", E(S.REOPEN_REASON, says=("miss_text",), misses=1)),
    )),
] + [
    Row(f"reopen-refused-{reason}-{lang}", session(S.REOPEN_REASON, lang, reopen_ref=REF), (
        Step("Le problème continue", E(S.REOPEN_REASON, (ReopenCase(REF, "Le problème continue"),))),
        Step(ReopenRefused(REF, reason, T0), E(S.MENU, says=(f"reopen_{reason}",), contains=(SHOWN,))),
    ))
    for reason in ("window_closed", "not_answered", "not_found")
    for lang in ("fr", "ar", "en")
] + [
    Row("reopen-word-with-reference", session(S.MENU, "en"), (
        Step(f"reopen {SHOWN}", E(S.REOPEN_REASON, says=("ask_reopen_reason",), data={"reopen_ref": REF})),
    )),
    Row("reopen-word-with-mistyped-reference", session(S.MENU, "en"), (
        Step(f"reopen {BAD_REF}", E(S.MENU, says=("reference_mistyped",))),
    )),
    Row("reopen-word-uses-last-answered", session(S.MENU, "fr", last_answered=REF2), (
        Step("Réouvrir", E(S.REOPEN_REASON, contains=(display(REF2),), data={"reopen_ref": REF2})),
    )),
    Row("reopen-word-without-any-reference-asks", session(S.MENU, "ar"), (
        Step("إعادة فتح", E(S.TRACK, says=("ask_reopen_reference",))),
        Step(REF, E(S.REOPEN_REASON, (), says=("ask_reopen_reason",), data={"reopen_ref": REF})),
        Step("ما زالت الأزبال في الشارع", E(S.REOPEN_REASON, (ReopenCase(REF, "ما زالت الأزبال في الشارع"),))),
    )),
    Row("reopen-mid-flow-returns-to-question", draft_session(S.LOCATION, "en", last_answered=REF2), (
        Step("reopen", E(S.REOPEN_REASON, data={"return_to": "location", "kind": "complaint"})),
        Step("Still dark at night", E(S.REOPEN_REASON, (ReopenCase(REF2, "Still dark at night"),))),
        Step(CaseReopened(REF2, T0), E(S.LOCATION, says=("case_reopened", "ask_location"))),
    )),
]

# --------------------------------------------------------------------------------------------------
# Service trouble and the person's turn.

SERVICE = [
    Row("service-unavailable-while-submitting", draft_session(S.SUBMITTING, "fr"), (
        Step(ServiceUnavailable(T0), E(S.CONFIRM, says=("service_unavailable",), data={"kind": "complaint"})),
        Step("1", E(S.SUBMITTING, effects=None)),
    )),
    Row("service-unavailable-at-menu", session(S.MENU, "ar"), (
        Step(ServiceUnavailable(T0), E(S.MENU, says=("service_unavailable",))),
    )),
    Row("service-unavailable-while-rating", session(S.RATE, "en", rating_ref=REF), (
        Step("3", E(S.RATE, (RateCase(REF, 3),))),
        Step(ServiceUnavailable(T0), E(S.RATE, says=("service_unavailable",))),
        Step("3", E(S.RATE, (RateCase(REF, 3),))),
    )),
    Row("handoff-quiet", session(S.MENU, "fr"), (
        Step("agent", E(S.HANDOFF, ASKED, says=("agent_requested",))),
        Step("Bonjour, vous êtes là ?", E(S.HANDOFF, says=("agent_ack",), replies=1, data={"ack_sent": True})),
        Step("Allô ?", E(S.HANDOFF, silent=True)),
        Step("aide", E(S.HANDOFF, silent=True)),
        Step(REF, E(S.HANDOFF, silent=True)),
        Step("menu", E(S.MENU, says=("menu_intro",), data={"ack_sent": MISSING})),
        Step("1", E(S.CATEGORY)),
    )),
    Row("handoff-after-three-misses-is-chosen", session(S.MENU, "en", misses=2), (
        Step("what", E(S.MENU, MISUNDERSTOOD, says=("offer_agent",), misses=3)),
        Step("AGENT", E(S.HANDOFF, ASKED, misses=0)),
    )),
]

ROWS = FULL + SWITCH + COMMANDS + BACK + TRACKING + MISSES + EDITS + RESUME + STATUS + RATINGS + SERVICE


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_dialogue(row: Row) -> None:
    """Every row plays as its table says."""
    run_row(row)


def test_row_ids_are_unique() -> None:
    """Two rows with one id would hide one of them."""
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids))
