"""The dialogue's data: sessions, what comes in (citizen messages and system events), what goes out.

Everything here is plain data. `conversations.engine.step` maps (session, input, context) to an
`Outcome`; the gateway saves the session, applies the effects and feeds their results back in as
events (`CaseCreated`, `CaseFound`, ...), so the dialogue itself never touches a network or a disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

SESSION_VERSION = 2
"""2: the half-written submission is a typed `Submission`; a version-1 session's loose keys are lifted
into one (`Submission.lifted`), so a deploy does not lose drafts citizens are writing."""


class State(StrEnum):
    """Where a conversation stands: what the last question asked."""

    NEW = "new"
    MENU = "menu"
    CATEGORY = "category"
    CATEGORY_CHECK = "category_check"
    DESCRIPTION = "description"
    LOCATION = "location"
    NAME = "name"
    CONFIRM = "confirm"
    EDIT = "edit"
    SUBMITTING = "submitting"
    TRACK = "track"
    HANDOFF = "handoff"
    RATE = "rate"
    REOPEN_OFFER = "reopen_offer"
    REOPEN_REASON = "reopen_reason"
    ADD_MEDIA = "add_media"
    DUPLICATE_OFFER = "duplicate_offer"


AT_REST = frozenset({State.NEW, State.MENU})
"""States where nothing is half-done: a status update may start a rating question here."""


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars)."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


@dataclass
class Submission:
    """What the citizen has said so far about the case they are submitting: the draft, filled slot
    by slot (`conversations.slots` says in which order, and which are required)."""

    kind: str = "complaint"
    category: str | None = None
    description: str = ""
    location_text: str = ""
    lat: float | None = None
    lon: float | None = None
    name: str = ""
    anonymous: bool = False
    callback: str = ""
    """A phone number the citizen gave to be called back on (instead of a name)."""
    media: list[int] = field(default_factory=list)
    """The store's ids of the photos and files kept with the draft (recordings included)."""
    media_count: int = 0
    """Files a channel announced without store ids (counted in the summary, nothing to attach)."""
    recorded: list[str] = field(default_factory=list)
    """Slots answered by a recording rather than words (`description`, `place`): the summary says
    "your recorded description" instead of quoting a text."""
    recordings: int = 0
    """How many of `media` are recordings (answers spoken on the phone, voice notes), not photos."""
    guess: str | None = None
    """A category read from the description, proposed to the citizen and not yet confirmed."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "kind": self.kind, "category": self.category, "description": self.description,
            "location_text": self.location_text, "lat": self.lat, "lon": self.lon, "name": self.name,
            "anonymous": self.anonymous, "callback": self.callback, "media": list(self.media),
            "media_count": self.media_count, "recorded": list(self.recorded), "recordings": self.recordings,
            "guess": self.guess,
        }

    def copy(self) -> Submission:
        """A private copy (its lists are not shared)."""
        return replace(self, media=list(self.media), recorded=list(self.recorded))

    @property
    def photos(self) -> int:
        """How many photos and files the citizen sent (recordings are answers, not counted)."""
        return max(len(self.media) - self.recordings, 0) + self.media_count

    @classmethod
    def from_json(cls, raw: Any) -> Submission | None:
        """A submission from its stored form (None for anything that is not one); wrong-typed fields
        take their defaults rather than break the conversation."""
        if not isinstance(raw, dict):
            return None
        return cls(
            kind=_text(raw.get("kind")) or "complaint",
            category=_text(raw.get("category")) or None,
            description=_text(raw.get("description")),
            location_text=_text(raw.get("location_text")),
            lat=_number(raw.get("lat")),
            lon=_number(raw.get("lon")),
            name=_text(raw.get("name")),
            anonymous=raw.get("anonymous") is True,
            callback=_text(raw.get("callback")),
            media=[i for i in raw.get("media") or () if isinstance(i, int) and not isinstance(i, bool)]
            if isinstance(raw.get("media"), list) else [],
            media_count=_count(raw.get("media_count")),
            recorded=[s for s in raw.get("recorded") or () if isinstance(s, str)]
            if isinstance(raw.get("recorded"), list) else [],
            recordings=_count(raw.get("recordings")),
            guess=_text(raw.get("guess")) or None,
        )

    @classmethod
    def lifted(cls, data: dict[str, Any]) -> Submission | None:
        """The draft a version-1 session kept as loose keys of its `data` (removed from it)."""
        if "kind" not in data:
            return None
        raw = {key: data.pop(key, None) for key in V1_DRAFT_KEYS}
        return cls.from_json(raw)


V1_DRAFT_KEYS = ("kind", "category", "description", "location_text", "lat", "lon", "name", "callback", "anonymous",
                 "media", "media_count", "prefilled")


def _text(value: Any) -> str:
    """`value` when it is a string, else ""."""
    return value if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    """`value` as a float when it is a number, else None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: Any) -> int:
    """`value` when it is a non-negative int, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


@dataclass
class Session:
    """One citizen's conversation on one channel, stored as JSON in Redis."""

    state: State = State.NEW
    flow: str = "complaint"
    version: int = SESSION_VERSION
    language: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    misses: int = 0
    updated_at: datetime | None = None
    submission: Submission | None = None
    """The case being submitted, when there is one."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (its `data` is shared, not copied: serialize it before changing the session)."""
        return {
            "state": self.state.value,
            "flow": self.flow,
            "version": self.version,
            "language": self.language,
            "data": self.data,
            "misses": self.misses,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "submission": self.submission.to_json() if self.submission else None,
        }

    def copy(self) -> Session:
        """A private copy: `data` holds only JSON values, which `copy_json` copies far faster than
        `copy.deepcopy` (every message's turn works on a copy)."""
        return Session(self.state, self.flow, self.version, self.language, copy_json(self.data), self.misses,
                       self.updated_at, self.submission.copy() if self.submission else None)

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> Session:
        """A session from its stored form; an unknown version or state starts afresh (version 1 is
        lifted to this one)."""
        if not raw or raw.get("version") not in (1, SESSION_VERSION):
            return cls()
        try:
            state = State(raw.get("state", State.NEW))
        except ValueError:
            return cls(language=raw.get("language"))
        updated = raw.get("updated_at")
        data = dict(raw.get("data") or {})
        submission = Submission.lifted(data) if raw.get("version") == 1 else Submission.from_json(raw.get("submission"))
        return cls(
            state=state,
            flow=raw.get("flow", "complaint"),
            language=raw.get("language"),
            data=data,
            misses=int(raw.get("misses") or 0),
            updated_at=datetime.fromisoformat(updated) if updated else None,
            submission=submission,
        )


@dataclass(frozen=True)
class UserMessage:
    """What the citizen sent, as the dialogue needs it (the gateway maps `InboundMessage` to this)."""

    text: str
    at: datetime
    button: str | None = None
    media_count: int = 0
    lat: float | None = None
    lon: float | None = None
    location_text: str = ""
    sender_name: str = ""
    media_ids: tuple[int, ...] = ()
    """The store's ids of the attachments this message carried (opaque to the dialogue)."""
    reply_to: str | None = None
    """Set when the citizen used the channel's "reply" on one of our messages."""
    media_kinds: tuple[str, ...] = ()
    """The kind of each file the message carried (`photo`, `audio`, `document`), as the channel announced."""
    button_choices: tuple[tuple[str, str], ...] | None = None
    """The (key, label) choices shown with the button pressed, when the channel tells (Telegram): a
    press on a question no longer asked (or forged: empty) is refused politely."""
    shared_phone: str | None = None
    """A phone contact the citizen shared: E.164, or "" when the number is not valid."""
    shared_name: str = ""
    shared_own: bool = False
    """True when the shared contact is the citizen's own (not someone else's card)."""
    edited: bool = False
    """The citizen edited an earlier message: acknowledged, never taken as an answer."""
    language_hint: str = ""
    """The language the citizen's app is set to, when the channel tells: used for a first message
    whose words do not tell the language."""


@dataclass(frozen=True)
class CaseCreated:
    """The case store created the submitted case."""

    reference: str
    administration: dict[str, str]
    at: datetime
    followed: str | None = None
    """The case the citizen now follows: theirs was filed as its duplicate."""


@dataclass(frozen=True)
class DuplicateFound:
    """The problem submitted was already reported nearby (an open case of the same category): nothing
    was filed; the citizen chooses to follow that case or to file theirs anyway."""

    reference: str
    status: str
    at: datetime


@dataclass(frozen=True)
class CaseFound:
    """A tracked case, as the citizen may see it."""

    reference: str
    status: str
    changed_at: datetime
    at: datetime
    note: str = ""
    rateable: bool = False
    """The citizen's own case, answered and not yet rated: the rating question follows."""


@dataclass(frozen=True)
class OpenCase:
    """One of the citizen's cases still open (or answered and waiting for their word), as listed to them."""

    reference: str
    status: str


@dataclass(frozen=True)
class OpenCasesFound:
    """The citizen's open cases, latest first (empty when they have none)."""

    cases: tuple[OpenCase, ...]
    at: datetime


@dataclass(frozen=True)
class CaseNotFound:
    """No case has this reference (or it is not the citizen's to see)."""

    reference: str
    at: datetime


@dataclass(frozen=True)
class StatusChanged:
    """Staff changed a case's status; the citizen is told on their channel."""

    reference: str
    status: str
    note: str
    administration: dict[str, str]
    at: datetime
    followed: bool = False
    """The citizen follows this case (theirs was its duplicate): told, never asked to rate it."""


@dataclass(frozen=True)
class RatingRecorded:
    """The citizen's rating was stored."""

    reference: str
    rating: int
    at: datetime


@dataclass(frozen=True)
class CaseReopened:
    """The case was reopened for the administration."""

    reference: str
    at: datetime


@dataclass(frozen=True)
class ReopenRefused:
    """The case cannot be reopened; `reason` is `window_closed`, `not_answered` or `not_found`."""

    reference: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class MediaAttached:
    """Photos (or other files) were added to an existing case; its administration is told."""

    reference: str
    count: int
    at: datetime


@dataclass(frozen=True)
class ServiceUnavailable:
    """An effect could not be applied (store down); the citizen is told to try again, nothing is lost."""

    at: datetime


@dataclass(frozen=True)
class AgentJoined:
    """A person took the conversation over: the bot stays silent until `HandedBack` or `ConversationClosed`."""

    agent: str
    at: datetime


@dataclass(frozen=True)
class HandedBack:
    """The person gave the conversation back to the bot at `step` (one of `slots.HANDBACK_STEPS`)."""

    step: str
    at: datetime


@dataclass(frozen=True)
class ConversationClosed:
    """The conversation with a person is over (closed by them, or left waiting or abandoned)."""

    reason: str
    at: datetime


@dataclass(frozen=True)
class PhoneLinked:
    """What became of a shared phone number: `linked` (now the contact's), `merged` (the same person's
    earlier contact on SMS/WhatsApp was joined with this one), `same` (already theirs), `taken` (another
    account of this channel has it: nothing changed), `invalid`."""

    outcome: str
    at: datetime


@dataclass(frozen=True)
class Idle:
    """A clock tick for a silent conversation: mid-submission, remind once after `remind_after`,
    then, after `stall_after` more, put it in the queue for a person."""

    at: datetime
    remind_after: timedelta
    stall_after: timedelta


Event = (
    CaseCreated
    | DuplicateFound
    | CaseFound
    | CaseNotFound
    | OpenCasesFound
    | StatusChanged
    | RatingRecorded
    | CaseReopened
    | ReopenRefused
    | ServiceUnavailable
    | AgentJoined
    | HandedBack
    | ConversationClosed
    | PhoneLinked
    | Idle
)
Input = UserMessage | Event


@dataclass(frozen=True)
class CaseDraft:
    """What the citizen said about the case, ready to be filed."""

    kind: str
    category: str
    description: str
    location_text: str
    language: str
    anonymous: bool
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    attachment_ids: tuple[int, ...] = ()
    callback: str = ""
    """A phone number the citizen gave to be called back on (instead of a name)."""
    duplicate_of: str | None = None
    """The case the citizen chose to follow: theirs is filed as its duplicate."""
    check_duplicates: bool = True
    """False once the citizen chose to file theirs although it was reported nearby."""


@dataclass(frozen=True)
class CreateCase:
    """File the case; answer with `CaseCreated`, or `DuplicateFound` (nothing filed) when a pinned
    problem was already reported nearby and the draft still checks for duplicates."""

    draft: CaseDraft


@dataclass(frozen=True)
class LookupCase:
    """Find a case's status; answer with `CaseFound` or `CaseNotFound`."""

    reference: str


@dataclass(frozen=True)
class ListOpenCases:
    """List the contact's open cases, latest first, at most `limit`; answer with `OpenCasesFound`."""

    limit: int = 3


@dataclass(frozen=True)
class RateCase:
    """Store a rating 1-5; answer with `RatingRecorded`."""

    reference: str
    rating: int


@dataclass(frozen=True)
class ReopenCase:
    """Reopen with what is still wrong; answer with `CaseReopened` or `ReopenRefused`."""

    reference: str
    reason: str
    attachment_ids: tuple[int, ...] = ()
    """The recording that says what is still wrong (on the phone), added to the case once reopened."""


@dataclass(frozen=True)
class AttachMedia:
    """Add attachments to the citizen's own case; answer with `MediaAttached` or `CaseNotFound`."""

    reference: str
    attachment_ids: tuple[int, ...]


@dataclass(frozen=True)
class CloseCase:
    """The citizen is content (or declined to reopen): close the answered case. No answer event."""

    reference: str


@dataclass(frozen=True)
class RequestAgent:
    """Put the conversation in the queue for a person; `reason` is `asked`, `misunderstood`, `stalled`."""

    reason: str


@dataclass(frozen=True)
class SetLanguage:
    """Remember the citizen's language on their contact. No answer event."""

    language: str


@dataclass(frozen=True)
class LinkPhone:
    """Make the shared phone number the contact's (joining an earlier contact with it); answer with
    `PhoneLinked`."""

    phone: str


Effect = (
    CreateCase | LookupCase | ListOpenCases | RateCase | ReopenCase | AttachMedia | CloseCase | RequestAgent
    | SetLanguage | LinkPhone
)


@dataclass(frozen=True)
class Option:
    """A choice offered with a prompt: a button, or a numbered line on SMS and voice."""

    key: str
    label: str


@dataclass(frozen=True)
class Say:
    """One message to the citizen, already in their language."""

    text: str
    options: tuple[Option, ...] = ()
    request: tuple[str, str] | None = None
    """(`location` or `contact`, button label): a channel with such buttons asks with one (Telegram)."""
    asks: str = ""
    """The state whose question this message asks (empty for a plain statement), so a renderer may
    present the question its own way (a recorded prompt, a keypad menu)."""
    lead: str = ""
    """The lines put before the question in `text` (empty when the message is only the question)."""


@dataclass(frozen=True)
class Outcome:
    """The result of one step."""

    session: Session
    replies: tuple[Say, ...] = ()
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class CategoryOption:
    """A category the citizen can choose, with its names per language."""

    code: str
    names: dict[str, str]
    keywords: tuple[str, ...] = ()
    """Words citizens use for it, in any language (the deployment's `keywords`)."""


@dataclass(frozen=True)
class DialogueContext:
    """What the dialogue needs to know of the deployment; built once from configuration."""

    categories: tuple[CategoryOption, ...]
    languages: tuple[str, ...] = ("ar", "fr", "en")
    default_language: str = "ar"
    darija_latin_language: str = "ar"
    session_timeout: timedelta = timedelta(hours=24)
    resume_notice_after: timedelta = timedelta(minutes=30)
    max_misses: int = 3
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    """Overrides of catalog texts from configuration: language -> key -> text."""
    spoken: bool = False
    """The channel's prompts are heard, not read (a phone call): the summary is said in full, not cut
    to fit two SMS."""

    @property
    def category_keywords(self) -> dict[str, tuple[str, ...]]:
        """Category code -> the deployment's words for it, for the classifier (`understanding.reader`)."""
        return {c.code: c.keywords for c in self.categories if c.keywords}
