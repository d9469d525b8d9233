"""The question each state asks, as a `Say` with its numbered options, kept within two SMS segments.

Lengths are checked without knowing the channel, so conservatively: a text made only of characters of
the GSM-7 basic table (letters, digits, common punctuation, the accented letters GSM-7 has) may use two
GSM-7 segments (306 characters); any other text is counted as UCS-2, two segments being 134 UTF-16
code units. Options count as the
numbered lines an SMS shows (`1 Label`).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from conversations import slots
from conversations.catalog import text
from conversations.model import CategoryOption, DialogueContext, Option, Say, Session, State, Submission
from conversations.textnorm import fold
from core.references import display

GSM_BUDGET = 306
UCS2_BUDGET = 134
_GSM_SAFE = frozenset(
    string.ascii_letters + string.digits + " \n!\"#%&'()*+,-./:;<=>?@$_" + "£¥èéùìòÇØøÅåÆæßÉÄÖÑÜäöñüà§¿¡"
)
"""Characters of the GSM-7 basic table (not all of them: a text of these surely is GSM-7)."""

KINDS = ("complaint", "observation", "suggestion")
STATUSES = ("received", "routed", "in_progress", "answered", "rejected", "closed", "reopened")
MORE_KEY = "9"
PAGE_SIZE = 8
MAX_SINGLE_PAGE = 9
DESCRIPTION_PREVIEW = 60
PLACE_PREVIEW = 30
NAME_PREVIEW = 24
CATEGORY_PREVIEW = 30
SPOKEN_PREVIEW = 400
"""On the phone the summary is heard, not sent: said in full up to this (a spoken description is a
recording, a place typed on the keypad an area name)."""


def rendered(say: Say) -> str:
    """The say as an SMS shows it: text, then one numbered line per option."""
    lines = [say.text] if say.text else []
    lines.extend(f"{option.key} {option.label}" for option in say.options)
    return "\n".join(lines)


def fits(say: Say) -> bool:
    """True when the rendered say surely fits two SMS segments."""
    body = rendered(say)
    if set(body) <= _GSM_SAFE:
        return len(body) <= GSM_BUDGET
    return len(body.encode("utf-16-le")) // 2 <= UCS2_BUDGET


def merge(lines: Sequence[str], say: Say) -> list[Say]:
    """`lines` put before the say's text, in one message when it fits, else as a message of its own."""
    if not lines:
        return [say]
    lead = "\n".join([*lines, say.lead] if say.lead else lines) if say.asks else ""
    joined = Say("\n".join([*lines, say.text] if say.text else lines), say.options, say.request,
                 asks=say.asks, lead=lead)
    if fits(joined) or not (say.text or say.options):
        return [joined]
    return [Say("\n".join(lines)), say]


def shorten(value: str, limit: int) -> str:
    """`value` on one line, cut to `limit` characters with an ellipsis when longer."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 1)].rstrip() + "…"


def localized(names: Mapping[str, str], lang: str, ctx: DialogueContext) -> str:
    """A name in `lang`, else in the default language, else in any language given."""
    for candidate in (lang, ctx.default_language, *ctx.languages):
        if names.get(candidate):
            return names[candidate]
    return next((name for name in names.values() if name), "")


def choice(value: str, high: int, low: int = 1) -> int | None:
    """The number `value` is (Western or Arabic-Indic digits, punctuation around ignored) within range."""
    folded = fold(value)
    if folded.isascii() and folded.isdigit() and low <= int(folded) <= high:
        return int(folded)
    return None


def language_options(lang: str, ctx: DialogueContext) -> tuple[Option, ...]:
    """One option per other language of the deployment: `FR Français`."""
    return tuple(Option(other.upper(), text(other, f"lang_{other}", ctx)) for other in ctx.languages if other != lang)


def menu(lang: str, ctx: DialogueContext) -> Say:
    """The main menu: three kinds of submission, tracking, a person, and the other languages."""
    keys = ("opt_complaint", "opt_observation", "opt_suggestion", "opt_track", "opt_agent")
    options = tuple(Option(str(number), text(lang, key, ctx)) for number, key in enumerate(keys, 1))
    return Say(text(lang, "menu_intro", ctx), options + language_options(lang, ctx))


def category_pages(lang: str, ctx: DialogueContext) -> list[tuple[CategoryOption, ...]]:
    """The categories split into pages that fit two segments (one page when nine or fewer fit)."""
    every = ctx.categories
    if len(every) <= MAX_SINGLE_PAGE and fits(_category_say(lang, ctx, every, more=False)):
        return [tuple(every)]
    pages: list[tuple[CategoryOption, ...]] = []
    rest = list(every)
    while rest:
        size = min(PAGE_SIZE, len(rest))
        while size > 1 and not fits(_category_say(lang, ctx, rest[:size], more=True)):
            size -= 1
        pages.append(tuple(rest[:size]))
        rest = rest[size:]
    return pages


def _category_say(lang: str, ctx: DialogueContext, page: Sequence[CategoryOption], *, more: bool) -> Say:
    """One page of categories, with a `9 More` option when there are other pages."""
    options = [Option(str(number), localized(item.names, lang, ctx)) for number, item in enumerate(page, 1)]
    if more:
        options.append(Option(MORE_KEY, text(lang, "opt_more", ctx)))
    return Say(text(lang, "ask_category", ctx), tuple(options))


def current_page(session: Session, ctx: DialogueContext) -> tuple[tuple[CategoryOption, ...], bool]:
    """The page of categories the session shows, and whether there are more pages."""
    pages = category_pages(_lang(session, ctx), ctx) or [()]
    index = int(session.data.get("cat_page", 0)) % len(pages)
    return pages[index], len(pages) > 1


def status_name(status: str, lang: str, ctx: DialogueContext) -> str:
    """A status in `lang` (the raw code, spaced, for a status the catalog does not know)."""
    try:
        return text(lang, f"status_{status}", ctx)
    except KeyError:
        return status.replace("_", " ")


def category_name(code: str, lang: str, ctx: DialogueContext) -> str:
    """A category's name in `lang` (its code when the deployment no longer has it)."""
    for item in ctx.categories:
        if item.code == code:
            return localized(item.names, lang, ctx)
    return code


def confirm(session: Session, ctx: DialogueContext) -> Say:
    """The summary of the draft with `1 Send 2 Change`, shortened until it fits two segments."""
    lang, draft = _lang(session, ctx), _draft(session)
    options = (Option("1", text(lang, "opt_send", ctx)), Option("2", text(lang, "opt_change", ctx)))
    place = draft.location_text or (text(lang, "location_pin", ctx) if draft.lat is not None else "")
    name = text(lang, "anonymous", ctx) if draft.anonymous else draft.name or draft.callback
    description_limit, place_limit = (SPOKEN_PREVIEW, SPOKEN_PREVIEW) if ctx.spoken else (DESCRIPTION_PREVIEW,
                                                                                         PLACE_PREVIEW)
    said = {"description": draft.description, "location": place}
    recorded = {slot: text(lang, f"summary_recorded_{slot}", ctx) for slot in draft.recorded if slot in said}
    media_line = "\n" + text(lang, "summary_media", ctx, count=str(draft.photos)) if draft.photos else ""
    while True:
        say = Say(
            text(
                lang,
                "confirm_summary",
                ctx,
                kind=text(lang, f"kind_{draft.kind}", ctx),
                category=shorten(category_name(draft.category or "", lang, ctx), CATEGORY_PREVIEW),
                description=recorded.get("description") or shorten(said["description"], description_limit),
                place=recorded.get("location") or shorten(place, place_limit),
                name=shorten(name, NAME_PREVIEW),
            )
            + media_line,
            options,
        )
        if fits(say) or description_limit <= 12 or ctx.spoken:
            return say
        description_limit -= 4
        place_limit = max(place_limit - 2, 10)


PromptBuilder = Callable[[Session, DialogueContext], Say]


def _lang(session: Session, ctx: DialogueContext) -> str:
    """The session's language, or the deployment default."""
    return session.language or ctx.default_language


def _draft(session: Session) -> Submission:
    """The session's submission (an empty one when there is none: a question asked out of turn)."""
    return session.submission or Submission()


def _simple(key: str, *option_keys: str) -> PromptBuilder:
    """A prompt of one catalog text and numbered options from catalog keys."""

    def build(session: Session, ctx: DialogueContext) -> Say:
        lang = _lang(session, ctx)
        options = tuple(Option(str(n), text(lang, okey, ctx)) for n, okey in enumerate(option_keys, 1))
        return Say(text(lang, key, ctx, reference=_ref(session)), options)

    return build


def _ref(session: Session) -> str:
    """The display form of the reference the session is rating or reopening."""
    ref = session.data.get("reopen_ref") or session.data.get("rating_ref") or ""
    return display(ref) if ref else ""


def _menu_prompt(session: Session, ctx: DialogueContext) -> Say:
    """The main menu."""
    return menu(_lang(session, ctx), ctx)


def _category_prompt(session: Session, ctx: DialogueContext) -> Say:
    """The current page of categories."""
    page, more = current_page(session, ctx)
    return _category_say(_lang(session, ctx), ctx, page, more=more)


def _description_prompt(session: Session, ctx: DialogueContext) -> Say:
    """Ask for the description, naming the kind of submission."""
    lang = _lang(session, ctx)
    your_kind = text(lang, f"your_{_draft(session).kind}", ctx)
    return Say(text(lang, "ask_description", ctx, your_kind=your_kind))


def _category_check_prompt(session: Session, ctx: DialogueContext) -> Say:
    """The category read from the description, proposed in one line: 1 yes, 2 choose another."""
    lang = _lang(session, ctx)
    category = category_name(_draft(session).guess or "", lang, ctx)
    options = (Option("1", text(lang, "opt_category_yes", ctx)), Option("2", text(lang, "opt_category_other", ctx)))
    return Say(text(lang, "ask_category_check", ctx, category=category), options)


def _edit_prompt(session: Session, ctx: DialogueContext) -> Say:
    """Which part of the submission to change: one line per editable slot, in table order."""
    lang = _lang(session, ctx)
    options = tuple(Option(str(n), text(lang, slot.edit_option, ctx)) for n, slot in enumerate(slots.EDITABLE, 1))
    return Say(text(lang, "ask_edit", ctx), options)


def _name_prompt(session: Session, ctx: DialogueContext) -> Say:
    """Ask for a name, with `0` to stay anonymous."""
    lang = _lang(session, ctx)
    return Say(text(lang, "ask_name", ctx), (Option("0", text(lang, "opt_anonymous", ctx)),),
               request=("contact", text(lang, "btn_share_phone", ctx)))


def _location_prompt(session: Session, ctx: DialogueContext) -> Say:
    """Ask where, with a button to send a pin where the channel has one."""
    lang = _lang(session, ctx)
    return Say(text(lang, "ask_location", ctx), request=("location", text(lang, "btn_share_location", ctx)))


def _track_prompt(session: Session, ctx: DialogueContext) -> Say:
    """Ask for a reference (to track, to reopen, or to add photos to); to track, the citizen's open
    cases are listed to pick from when there are some."""
    lang, purpose = _lang(session, ctx), session.data.get("track_purpose")
    listed = session.data.get("open_cases") if purpose == "track" else None
    if listed:
        options = tuple(
            Option(str(n), text(lang, "case_choice", ctx, reference=display(ref),
                                status=status_name(status, lang, ctx)))
            for n, (ref, status) in enumerate(listed, 1)
        )
        return Say(text(lang, "ask_pick_case", ctx), options)
    key = {"reopen": "ask_reopen_reference", "attach": "ask_attach_reference"}.get(purpose or "", "ask_reference")
    return Say(text(lang, key, ctx))


def _duplicate_prompt(session: Session, ctx: DialogueContext) -> Say:
    """The case already reported nearby: follow it, or file anyway."""
    lang = _lang(session, ctx)
    ref = session.data.get("duplicate_ref") or ""
    status = status_name(str(session.data.get("duplicate_status") or "routed"), lang, ctx)
    options = (Option("1", text(lang, "opt_follow", ctx)), Option("2", text(lang, "opt_file_anyway", ctx)))
    return Say(text(lang, "duplicate_offer", ctx, reference=display(ref) if ref else "", status=status), options)


def _add_media_prompt(session: Session, ctx: DialogueContext) -> Say:
    """Ask for the photos of the case named."""
    ref = session.data.get("attach_ref") or ""
    return Say(text(_lang(session, ctx), "ask_add_media", ctx, reference=display(ref) if ref else ""))


PROMPTS = {
    State.NEW: _menu_prompt,
    State.MENU: _menu_prompt,
    State.CATEGORY: _category_prompt,
    State.CATEGORY_CHECK: _category_check_prompt,
    State.DESCRIPTION: _description_prompt,
    State.LOCATION: _location_prompt,
    State.NAME: _name_prompt,
    State.CONFIRM: confirm,
    State.EDIT: _edit_prompt,
    State.SUBMITTING: _simple("submitting"),
    State.TRACK: _track_prompt,
    State.HANDOFF: _simple("agent_requested"),
    State.RATE: _simple("ask_rating"),
    State.REOPEN_OFFER: _simple("rating_low", "opt_reopen", "opt_no"),
    State.REOPEN_REASON: _simple("ask_reopen_reason"),
    State.ADD_MEDIA: _add_media_prompt,
    State.DUPLICATE_OFFER: _duplicate_prompt,
}


def prompt(session: Session, ctx: DialogueContext) -> Say:
    """The question the session's state asks, in the session's language."""
    return replace(PROMPTS[session.state](session, ctx), asks=session.state.value)


def miss_hint(session: Session, ctx: DialogueContext) -> str:
    """A short line telling what a valid answer to the current question looks like."""
    lang = _lang(session, ctx)
    state = session.state
    slot = slots.BY_QUESTION.get(state)
    if slot is not None and slot.hint != "miss_number":
        return text(lang, slot.hint, ctx)
    if state == State.REOPEN_REASON:
        return text(lang, "miss_text", ctx)
    if state == State.TRACK:
        return text(lang, "miss_reference", ctx)
    if state == State.ADD_MEDIA:
        return text(lang, "miss_media", ctx)
    numbered = [option.key for option in prompt(session, ctx).options if option.key.isdigit()]
    if state == State.RATE:
        numbered = ["1", "5"]
    if not numbered:
        return text(lang, "miss_text", ctx)
    return text(lang, "miss_number", ctx, first=numbered[0], last=numbered[-1])
