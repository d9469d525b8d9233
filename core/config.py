"""Deployment configuration: administrations, categories, numbers, deadlines and texts, read from YAML.

`load_config(path)` reads the file named by `HOTLINE_CONFIG` (None: the packaged Moroccan commune
example, `core/defaults/commune-ma.yaml`) and returns a frozen `Deployment`. Every mistake is reported
as a `ConfigError` naming the file and the path inside it (`categories[2].administration`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml

KNOWN_LANGUAGES = ("ar", "fr", "en")
"""Languages the dialogue catalog speaks."""

DEFAULT_PROFILE_NUMBER = "*"
"""The `number` of the profile used when the inbound `To` matches no other profile."""

DEFAULT_OPT_OUT = ("STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "ARRET")
DEFAULT_OPT_IN = ("START", "UNSTOP")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file and the offending key."""


def checked_region(code: str, where: str) -> str:
    """An ISO 3166 region phone numbers can be read in (`MA`, `EG`), upper-cased; `ConfigError`
    naming `where` otherwise."""
    region = code.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"{where}: unknown region {region!r} (an ISO 3166 code such as MA, EG)")
    return region


ADMINISTRATION_KINDS = ("commune", "ministry", "governorate", "local_unit", "agency", "operator", "service")
"""What a body may be (`kind:` in the YAML); only shown to staff."""


@dataclass(frozen=True)
class Service:
    """A unit inside an administration that a case sits with while it is worked on (a commune's
    technical division, a governorate's environment office); cases circulate between them."""

    code: str
    names: dict[str, str]

    def name(self, language: str) -> str:
        """The name in `language`, else any name."""
        return self.names.get(language) or next(iter(self.names.values()), self.code)


@dataclass(frozen=True)
class Administration:
    """A body cases are routed to (a commune, a regie, a ministry), with the services inside it."""

    code: str
    names: dict[str, str]
    services: tuple[Service, ...] = ()
    kind: str = ""

    def name(self, language: str) -> str:
        """The name in `language`, else any name."""
        return self.names.get(language) or next(iter(self.names.values()), self.code)

    def service(self, code: str | None) -> Service | None:
        """The service with this code, or None."""
        return next((s for s in self.services if s.code == code), None)

    @property
    def first_service(self) -> str | None:
        """Where a case lands when nothing names a service: the first one listed (None: no services)."""
        return self.services[0].code if self.services else None


@dataclass(frozen=True)
class Category:
    """What a case is about; routes to an administration (None: a supervisor routes it by hand)."""

    code: str
    names: dict[str, str]
    administration: str | None
    deadline_days: int | None = None
    """Days to answer; None: the deployment's `answer_deadline_days`."""
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Language -> words citizens use for it ("zbel", "poubelles"), taught to the classifier that
    reads a first message (`conversations.understanding`), on top of its corpus."""
    service: str | None = None
    """The service of `administration` a new case lands in (None: its first service)."""
    duplicate_distance_m: int | None = None
    """How near (metres) an open case of this category makes a new pinned report a likely duplicate
    (None: the deployment's `duplicates.distance_m`)."""

    def name(self, language: str) -> str:
        """The name in `language`, else any name."""
        return self.names.get(language) or next(iter(self.names.values()), self.code)


@dataclass(frozen=True)
class Profile:
    """What applies to one of our numbers (the inbound `To`): default administration, languages, texts."""

    number: str
    default_administration: str | None
    languages: tuple[str, ...]
    default_language: str
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True)
class OutboundPolicy:
    """How sending is retried, and paced per sender (messages per second, by channel)."""

    max_attempts: int = 6
    backoff_seconds: tuple[int, ...] = (5, 30, 120, 600, 1800)
    rate_per_second: dict[str, float] = field(default_factory=dict)
    """Channel -> messages per second one sender may send, where the deployment's provider account
    allows another pace than the channel's own (`Capabilities.sender_rate`)."""
    media_rate_per_second: dict[str, float] = field(default_factory=dict)

    def rate(self, channel: str, *, media: bool = False) -> float | None:
        """The deployment's pace for one sender on `channel` (None: the channel's own applies)."""
        if media and channel in self.media_rate_per_second:
            return self.media_rate_per_second[channel]
        return self.rate_per_second.get(channel)

DEFAULT_MEDIA_TYPES = (
    "image/jpeg", "image/png", "image/webp", "image/gif",
    "audio/ogg", "audio/mpeg", "audio/amr", "audio/mp4", "audio/aac",
    "application/pdf",
)  # fmt: skip


@dataclass(frozen=True)
class MediaPolicy:
    """What citizens' files may be, and how their download is retried."""

    max_bytes: int = 16 * 1024 * 1024
    allowed_types: tuple[str, ...] = DEFAULT_MEDIA_TYPES
    attempts: int = 4
    backoff_seconds: tuple[int, ...] = (10, 60, 300)


TEMPLATE_VARIABLES = ("reference", "status", "note", "administration", "text")
"""What a template's numbered variables may be filled with."""


@dataclass(frozen=True)
class Template:
    """An approved message template (Twilio Content API, for WhatsApp): its Content SID and what fills
    its variables `{{1}}`, `{{2}}`..."""

    content_sid: str
    variables: tuple[str, ...] = ()
    label: str = ""
    """What staff see when they choose it (agent templates)."""

    def content_variables(self, values: Mapping[str, str]) -> dict[str, str]:
        """`{"1": ..., "2": ...}` from the notice's values."""
        return {str(n): str(values.get(name, "")) for n, name in enumerate(self.variables, 1)}


@dataclass(frozen=True)
class TemplatePolicy:
    """One channel's templates for messages sent outside its reply window: language -> key ->
    template, the key a status (`in_progress`, `answered`...), `status` for any status without its
    own, or `rating`; keys starting with `agent` are what staff may send."""

    templates: dict[str, dict[str, Template]] = field(default_factory=dict)

    def agent_templates(self, language: str) -> list[tuple[str, Template]]:
        """The templates agents may send once the window has closed: keys starting with `agent`."""
        return sorted((key, t) for key, t in self.templates.get(language, {}).items() if key.startswith("agent"))

    def template(self, language: str, key: str) -> Template | None:
        """The template for `key` in `language` (falling back to `status` for a status key)."""
        table = self.templates.get(language, {})
        if key in table:
            return table[key]
        return table.get("status") if key != "rating" else None


@dataclass(frozen=True)
class Deployment:
    """One deployment's whole configuration."""

    name: str
    administrations: tuple[Administration, ...]
    categories: tuple[Category, ...]
    profiles: tuple[Profile, ...]
    default_region: str = "MA"
    languages: tuple[str, ...] = KNOWN_LANGUAGES
    default_language: str = "ar"
    darija_latin_language: str = "ar"
    routing_deadline_days: int = 15
    answer_deadline_days: int = 60
    reopen_window_days: int = 30
    reminder_days: int = 7
    """Days before the answer is due that the officer holding the case (or, unassigned, the service's
    administration) is reminded."""
    timezone: str = "UTC"
    """The IANA zone the console shows times in (`Africa/Casablanca`, `Africa/Cairo`)."""
    retention_days: int | None = None
    """Days after a case is closed that its personal data, photos and recordings are kept (None: kept;
    the YAML's `retention.closed_days`, e.g. as Morocco's law 09-08 or Egypt's 151/2020 require)."""
    duplicate_distance_m: int = 250
    duplicate_window_days: int = 30
    """A pinned report within `duplicate_distance_m` of an open case of its category filed in the
    last `duplicate_window_days` is offered that case to follow."""
    session_timeout_minutes: int = 1440
    resume_notice_minutes: int = 30
    max_misses: int = 3
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    opt_out_keywords: tuple[str, ...] = DEFAULT_OPT_OUT
    opt_in_keywords: tuple[str, ...] = DEFAULT_OPT_IN
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    media: MediaPolicy = field(default_factory=MediaPolicy)
    templates: dict[str, TemplatePolicy] = field(default_factory=dict)
    """Channel -> its approved templates (channels whose adapter declares `templates`)."""

    def templates_for(self, channel: str) -> TemplatePolicy:
        """The templates of `channel` (none configured: an empty policy)."""
        return self.templates.get(channel) or TemplatePolicy()

    def administration(self, code: str | None) -> Administration | None:
        """The administration with this code, or None."""
        return next((a for a in self.administrations if a.code == code), None)

    def administration_names(self, code: str | None) -> dict[str, str]:
        """The administration's names by language ({} when unknown or None)."""
        found = self.administration(code)
        return dict(found.names) if found is not None else {}

    def landing_service(self, administration: str | None, category: str | None) -> str | None:
        """The service a case of `category` starts in at `administration`: the category's own when it
        belongs there, else the administration's first (None when it has no services)."""
        found = self.administration(administration)
        if found is None:
            return None
        cat = self.category(category)
        if cat is not None and cat.service is not None and found.service(cat.service) is not None:
            return cat.service
        return found.first_service

    def category(self, code: str | None) -> Category | None:
        """The category with this code, or None."""
        return next((c for c in self.categories if c.code == code), None)

    @property
    def default_profile(self) -> Profile:
        """The profile used for numbers no other profile names."""
        return next(p for p in self.profiles if p.number == DEFAULT_PROFILE_NUMBER)

    def profile_for(self, number: str | None) -> Profile:
        """The profile of our number `number` (a `whatsapp:` prefix is ignored), else the default one."""
        wanted = _number_key(number or "")
        for profile in self.profiles:
            if profile.number != DEFAULT_PROFILE_NUMBER and _number_key(profile.number) == wanted:
                return profile
        return self.default_profile


def _number_key(number: str) -> str:
    """A number reduced for comparison: no channel prefix, no spaces or dashes."""
    text = number.strip()
    if ":" in text:
        text = text.split(":", 1)[1]
    return "".join(ch for ch in text if ch not in " -.()")


def default_config_path() -> Path:
    """The packaged example configuration."""
    return Path(str(resources.files("core") / "defaults" / "commune-ma.yaml"))


def load_config(path: str | None = None) -> Deployment:
    """Read and validate a deployment's YAML; None reads the packaged Moroccan commune example."""
    file = Path(path) if path else default_config_path()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    return parse_config(raw, source=str(file))


def parse_config(raw: Any, source: str = "<config>") -> Deployment:
    """Validate an already-parsed YAML document into a `Deployment`."""
    return _Parser(source).deployment(raw)


class _Parser:
    """Turns the YAML tree into dataclasses, naming the path of every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> ConfigError:
        """An error naming the file and the key."""
        return ConfigError(f"{self.source}: {where}: {message}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        """`value` as a mapping (None is empty)."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        return value

    def listing(self, value: Any, where: str) -> list[Any]:
        """`value` as a list (None is empty)."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {type(value).__name__}")
        return value

    def text(self, value: Any, where: str, required: bool = True) -> str:
        """`value` as a non-empty string."""
        if value is None and not required:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            raise self.fail(where, "expected a non-empty string")
        return str(value).strip()

    def positive(self, value: Any, where: str) -> int:
        """`value` as a positive integer."""
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(where, f"expected a positive integer, got {value!r}")
        return value

    def language(self, value: Any, where: str, allowed: tuple[str, ...] = KNOWN_LANGUAGES) -> str:
        """`value` as one of the allowed language codes."""
        code = self.text(value, where)
        if code not in allowed:
            raise self.fail(where, f"unknown language {code!r} (allowed: {', '.join(allowed)})")
        return code

    def names(self, value: Any, where: str, languages: tuple[str, ...]) -> dict[str, str]:
        """A language -> name mapping covering every deployment language."""
        table = self.mapping(value, where)
        names = {self.language(k, f"{where}.{k}"): self.text(v, f"{where}.{k}") for k, v in table.items()}
        missing = [lang for lang in languages if lang not in names]
        if missing:
            raise self.fail(where, f"missing names for {', '.join(missing)}")
        return names

    def texts(self, value: Any, where: str, languages: tuple[str, ...]) -> dict[str, dict[str, str]]:
        """Text overrides: language -> key -> text."""
        table = self.mapping(value, where)
        result: dict[str, dict[str, str]] = {}
        for lang, entries in table.items():
            code = self.language(lang, f"{where}.{lang}", languages)
            inner = self.mapping(entries, f"{where}.{lang}")
            result[code] = {str(k): self.text(v, f"{where}.{lang}.{k}") for k, v in inner.items()}
        return result

    def keywords(self, value: Any, where: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """Upper-cased keywords."""
        if value is None:
            return default
        return tuple(self.text(v, f"{where}[{i}]").upper() for i, v in enumerate(self.listing(value, where)))

    def deployment(self, raw: Any) -> Deployment:
        """The whole document."""
        top = self.mapping(raw, "(top level)")
        name = self.text(top.get("name"), "name")
        try:
            region = checked_region(self.text(top.get("default_region", "MA"), "default_region"), "default_region")
        except ConfigError as exc:
            raise ConfigError(f"{self.source}: {exc}") from None
        langs = tuple(
            self.language(v, f"languages[{i}]")
            for i, v in enumerate(self.listing(top.get("languages", list(KNOWN_LANGUAGES)), "languages"))
        )
        if not langs:
            raise self.fail("languages", "at least one language is needed")
        default_language = self.language(top.get("default_language", langs[0]), "default_language", langs)
        darija = self.language(top.get("darija_latin_language", default_language), "darija_latin_language", langs)

        deadlines = self.mapping(top.get("deadlines"), "deadlines")
        session = self.mapping(top.get("session"), "session")
        administrations = self.administrations(top.get("administrations"), langs)
        admin_codes = {a.code for a in administrations}
        answer_days = self.positive(deadlines.get("answer_days", 60), "deadlines.answer_days")
        reminder_days = self.positive(deadlines.get("reminder_days", min(7, answer_days)), "deadlines.reminder_days")
        if reminder_days > answer_days:
            raise self.fail("deadlines.reminder_days", f"a reminder {reminder_days} days before a {answer_days}-day "
                                                       "deadline would come before the case")
        zone = self.timezone(top.get("timezone", "UTC"))
        duplicates = self.mapping(top.get("duplicates"), "duplicates")
        retention = self.mapping(top.get("retention"), "retention")
        categories = self.categories(top.get("categories"), langs, administrations)
        texts = self.texts(top.get("texts"), "texts", langs)
        profiles = self.profiles(top.get("profiles"), langs, default_language, admin_codes)
        outbound = self.outbound(top.get("outbound"))
        media = self.media(top.get("media"))
        templates = {str(channel): self.template_policy(table, f"templates.{channel}", langs)
                     for channel, table in self.mapping(top.get("templates"), "templates").items()}
        return Deployment(
            name=name,
            default_region=region,
            languages=langs,
            default_language=default_language,
            darija_latin_language=darija,
            administrations=administrations,
            categories=categories,
            profiles=profiles,
            routing_deadline_days=self.positive(deadlines.get("routing_days", 15), "deadlines.routing_days"),
            answer_deadline_days=answer_days,
            reminder_days=reminder_days,
            timezone=zone,
            retention_days=None if retention.get("closed_days") is None
            else self.positive(retention.get("closed_days"), "retention.closed_days"),
            duplicate_distance_m=self.positive(duplicates.get("distance_m", 250), "duplicates.distance_m"),
            duplicate_window_days=self.positive(duplicates.get("window_days", 30), "duplicates.window_days"),
            reopen_window_days=self.positive(deadlines.get("reopen_window_days", 30), "deadlines.reopen_window_days"),
            session_timeout_minutes=self.positive(session.get("timeout_minutes", 1440), "session.timeout_minutes"),
            resume_notice_minutes=self.positive(
                session.get("resume_notice_minutes", 30), "session.resume_notice_minutes"
            ),
            max_misses=self.positive(session.get("max_misses", 3), "session.max_misses"),
            texts=texts,
            opt_out_keywords=self.keywords(top.get("opt_out_keywords"), "opt_out_keywords", DEFAULT_OPT_OUT),
            opt_in_keywords=self.keywords(top.get("opt_in_keywords"), "opt_in_keywords", DEFAULT_OPT_IN),
            outbound=outbound,
            media=media,
            templates=templates,
        )

    def administrations(self, value: Any, langs: tuple[str, ...]) -> tuple[Administration, ...]:
        """The `administrations` list."""
        items = self.listing(value, "administrations")
        if not items:
            raise self.fail("administrations", "at least one administration is needed")
        result: list[Administration] = []
        for i, item in enumerate(items):
            where = f"administrations[{i}]"
            entry = self.mapping(item, where)
            code = self.text(entry.get("code"), f"{where}.code")
            if any(a.code == code for a in result):
                raise self.fail(f"{where}.code", f"duplicate administration code {code!r}")
            kind = self.text(entry.get("kind"), f"{where}.kind", required=False)
            if kind and kind not in ADMINISTRATION_KINDS:
                raise self.fail(f"{where}.kind", f"unknown kind {kind!r} (known: {', '.join(ADMINISTRATION_KINDS)})")
            result.append(Administration(code=code, names=self.names(entry.get("names"), f"{where}.names", langs),
                                         services=self.services(entry.get("services"), f"{where}.services", langs),
                                         kind=kind))
        return tuple(result)

    def services(self, value: Any, where: str, langs: tuple[str, ...]) -> tuple[Service, ...]:
        """An administration's `services` list (codes unique within it)."""
        result: list[Service] = []
        for i, item in enumerate(self.listing(value, where)):
            entry = self.mapping(item, f"{where}[{i}]")
            code = self.text(entry.get("code"), f"{where}[{i}].code")
            if len(code) > 64:
                raise self.fail(f"{where}[{i}].code", "at most 64 characters")
            if any(s.code == code for s in result):
                raise self.fail(f"{where}[{i}].code", f"duplicate service code {code!r}")
            result.append(Service(code, self.names(entry.get("names"), f"{where}[{i}].names", langs)))
        return tuple(result)

    def timezone(self, value: Any) -> str:
        """An IANA time zone name the console can show times in."""
        name = self.text(value, "timezone")
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise self.fail("timezone", f"unknown time zone {name!r} (an IANA name such as Africa/Casablanca)") from exc
        return name

    def categories(self, value: Any, langs: tuple[str, ...],
                   administrations: tuple[Administration, ...]) -> tuple[Category, ...]:
        """The `categories` list; every administration (and service) named must exist."""
        admins = {a.code: a for a in administrations}
        items = self.listing(value, "categories")
        if not items:
            raise self.fail("categories", "at least one category is needed")
        result: list[Category] = []
        for i, item in enumerate(items):
            where = f"categories[{i}]"
            entry = self.mapping(item, where)
            code = self.text(entry.get("code"), f"{where}.code")
            if any(c.code == code for c in result):
                raise self.fail(f"{where}.code", f"duplicate category code {code!r}")
            admin = entry.get("administration")
            if admin is not None:
                admin = self.text(admin, f"{where}.administration")
                if admin not in admins:
                    raise self.fail(
                        f"{where}.administration",
                        f"unknown administration {admin!r} (known: {', '.join(sorted(admins))})",
                    )
            service = entry.get("service")
            if service is not None:
                service = self.text(service, f"{where}.service")
                known = admins[admin].services if admin is not None else ()
                if not any(s.code == service for s in known):
                    raise self.fail(f"{where}.service", f"unknown service {service!r} of {admin!r} "
                                                        f"(known: {', '.join(s.code for s in known) or 'none'})")
            days = entry.get("deadline_days")
            keywords = {
                self.language(lang, f"{where}.keywords.{lang}", langs): tuple(
                    self.text(word, f"{where}.keywords.{lang}[{n}]")
                    for n, word in enumerate(self.listing(words, f"{where}.keywords.{lang}")))
                for lang, words in self.mapping(entry.get("keywords"), f"{where}.keywords").items()
            }
            result.append(
                Category(
                    code=code,
                    names=self.names(entry.get("names"), f"{where}.names", langs),
                    administration=admin,
                    deadline_days=None if days is None else self.positive(days, f"{where}.deadline_days"),
                    keywords=keywords,
                    service=service,
                    duplicate_distance_m=None if entry.get("duplicate_distance_m") is None else self.positive(
                        entry.get("duplicate_distance_m"), f"{where}.duplicate_distance_m"),
                )
            )
        return tuple(result)

    def profiles(
        self, value: Any, langs: tuple[str, ...], default_language: str, admins: set[str]
    ) -> tuple[Profile, ...]:
        """The `profiles` list, with a default profile (`number: "*"`) added when none is given."""
        result: list[Profile] = []
        for i, item in enumerate(self.listing(value, "profiles")):
            where = f"profiles[{i}]"
            entry = self.mapping(item, where)
            number = self.text(entry.get("number"), f"{where}.number")
            if any(_number_key(p.number) == _number_key(number) for p in result):
                raise self.fail(f"{where}.number", f"duplicate profile number {number!r}")
            admin = entry.get("default_administration")
            if admin is not None:
                admin = self.text(admin, f"{where}.default_administration")
                if admin not in admins:
                    raise self.fail(
                        f"{where}.default_administration",
                        f"unknown administration {admin!r} (known: {', '.join(sorted(admins))})",
                    )
            p_langs = (
                tuple(
                    self.language(v, f"{where}.languages[{j}]", langs)
                    for j, v in enumerate(self.listing(entry.get("languages", list(langs)), f"{where}.languages"))
                )
                or langs
            )
            p_default = self.language(
                entry.get("default_language", default_language if default_language in p_langs else p_langs[0]),
                f"{where}.default_language",
                p_langs,
            )
            result.append(
                Profile(
                    number=number,
                    name=self.text(entry.get("name"), f"{where}.name", required=False),
                    default_administration=admin,
                    languages=p_langs,
                    default_language=p_default,
                    texts=self.texts(entry.get("texts"), f"{where}.texts", p_langs),
                )
            )
        if not any(p.number == DEFAULT_PROFILE_NUMBER for p in result):
            result.append(
                Profile(
                    number=DEFAULT_PROFILE_NUMBER,
                    default_administration=None,
                    languages=langs,
                    default_language=default_language,
                )
            )
        return tuple(result)

    def outbound(self, value: Any) -> OutboundPolicy:
        """The `outbound` retry policy."""
        entry = self.mapping(value, "outbound")
        backoff = self.listing(entry.get("backoff_seconds", [5, 30, 120, 600, 1800]), "outbound.backoff_seconds")
        return OutboundPolicy(
            max_attempts=self.positive(entry.get("max_attempts", 6), "outbound.max_attempts"),
            backoff_seconds=tuple(self.positive(v, f"outbound.backoff_seconds[{i}]") for i, v in enumerate(backoff)),
            rate_per_second=self.rates(entry.get("rate_per_second"), "outbound.rate_per_second"),
            media_rate_per_second=self.rates(entry.get("media_rate_per_second"), "outbound.media_rate_per_second"),
        )

    def rates(self, value: Any, where: str) -> dict[str, float]:
        """Channel -> messages per second (positive numbers)."""
        rates: dict[str, float] = {}
        for channel, rate in self.mapping(value, where).items():
            if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
                raise self.fail(f"{where}.{channel}", f"expected a positive number, got {rate!r}")
            rates[str(channel)] = float(rate)
        return rates

    def media(self, value: Any) -> MediaPolicy:
        """The `media` section: size cap (MB), type allowlist, download attempts and their spacing."""
        entry = self.mapping(value, "media")
        max_mb = entry.get("max_mb", 16)
        if isinstance(max_mb, bool) or not isinstance(max_mb, int | float) or max_mb <= 0:
            raise self.fail("media.max_mb", f"expected a positive number, got {max_mb!r}")
        types = tuple(
            self.text(v, f"media.allowed_types[{i}]").lower()
            for i, v in enumerate(self.listing(entry.get("allowed_types", list(DEFAULT_MEDIA_TYPES)),
                                               "media.allowed_types"))
        )
        for i, kind in enumerate(types):
            if "/" not in kind:
                raise self.fail(f"media.allowed_types[{i}]", f"expected a content type (image/jpeg), got {kind!r}")
        backoff = self.listing(entry.get("retry_seconds", [10, 60, 300]), "media.retry_seconds")
        return MediaPolicy(
            max_bytes=int(max_mb * 1024 * 1024),
            allowed_types=types,
            attempts=self.positive(entry.get("download_attempts", 4), "media.download_attempts"),
            backoff_seconds=tuple(self.positive(v, f"media.retry_seconds[{i}]") for i, v in enumerate(backoff))
            or (10,),
        )

    def template_policy(self, value: Any, where_all: str, langs: tuple[str, ...]) -> TemplatePolicy:
        """One channel's entry of `templates`: per language, a template per status (or `status`,
        `rating`, `agent...`)."""
        templates: dict[str, dict[str, Template]] = {}
        for lang, table in self.mapping(value, where_all).items():
            code = self.language(lang, f"{where_all}.{lang}", langs)
            templates[code] = {}
            for key, item in self.mapping(table, f"{where_all}.{lang}").items():
                where = f"{where_all}.{lang}.{key}"
                spec = self.mapping(item, where)
                sid = self.text(spec.get("content_sid"), f"{where}.content_sid")
                if not sid.startswith("HX"):
                    raise self.fail(f"{where}.content_sid", f"expected a Content SID (HX...), got {sid!r}")
                variables = tuple(
                    self.text(v, f"{where}.variables[{i}]")
                    for i, v in enumerate(self.listing(spec.get("variables"), f"{where}.variables"))
                )
                for i, name in enumerate(variables):
                    if name not in TEMPLATE_VARIABLES:
                        raise self.fail(f"{where}.variables[{i}]",
                                        f"unknown variable {name!r} (known: {', '.join(TEMPLATE_VARIABLES)})")
                label = self.text(spec.get("label"), f"{where}.label", required=False)
                templates[code][str(key)] = Template(sid, variables, label)
        return TemplatePolicy(templates)
