"""`hotline check-config`: validate the YAML and the environment and say what is missing, before anything
starts. A missing webhook secret or public URL otherwise shows up only as providers' requests refused with
403 in production, long after the deploy; this names each gap with its fix in one command.

Errors (exit 1) stop a deployment from working; warnings (exit 0, printed) are choices to make knowingly.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from channels.base import ChannelSettings
from channels.registry import REGISTRY
from core.config import DEFAULT_PROFILE_NUMBER, ConfigError, Deployment
from core.phones import normalize_phone, strip_channel_prefix
from gateway.settings import Settings

ERROR, WARNING, OK = "error", "warning", "ok"


@dataclass(frozen=True)
class Finding:
    """One thing checked: its level, what it is about, what was found and how to fix it."""

    level: str
    subject: str
    message: str
    fix: str = ""

    def line(self) -> str:
        """The finding as the one line an operator reads."""
        text = f"{self.level:<7} {self.subject}: {self.message}"
        return f"{text}; {self.fix}" if self.fix else text


@dataclass(frozen=True)
class Provider:
    """A provider account's environment variables: those that only work together, the ones that need
    them, their expected shapes, and the addresses of ours they name (the profiles' numbers match them).
    The adapters read these names in their `from_env`; listed here once so the check names each gap."""

    label: str
    together: tuple[str, ...]
    needing: tuple[str, ...] = ()
    shapes: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    senders: Callable[[Mapping[str, str]], tuple[str, ...]] = lambda env: ()


PROVIDERS = (
    Provider(
        "Twilio (SMS, WhatsApp, voice)",
        ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"),
        needing=("TWILIO_SMS_FROM", "TWILIO_WHATSAPP_FROM"),
        shapes={"TWILIO_ACCOUNT_SID": (r"AC[0-9a-fA-F]{32}", "AC followed by 32 hexadecimal digits")},
        senders=lambda env: tuple(env[name] for name in ("TWILIO_SMS_FROM", "TWILIO_WHATSAPP_FROM") if env.get(name)),
    ),
    Provider(
        "Telegram bot",
        ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"),
        shapes={
            "TELEGRAM_BOT_TOKEN": (r"\d+:[A-Za-z0-9_-]{20,}", "BOT_ID:SECRET, as BotFather gives it"),
            "TELEGRAM_WEBHOOK_SECRET": (r"[A-Za-z0-9_-]{1,256}", "1 to 256 of A-Z a-z 0-9 _ -"),
        },
        senders=lambda env: (env["TELEGRAM_BOT_TOKEN"].partition(":")[0],) if env.get("TELEGRAM_BOT_TOKEN") else (),
    ),
    Provider(
        "Messenger Page",
        ("MESSENGER_PAGE_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN"),
    ),
)


def check_config(settings: Settings, *, connect: bool = False, as_json: bool = False) -> int:
    """Run every check, print the findings (one line each, or one JSON object), and return the exit code:
    1 when any finding is an error, else 0."""
    findings = findings_for(settings, connect=connect)
    errors = sum(f.level == ERROR for f in findings)
    warnings = sum(f.level == WARNING for f in findings)
    if as_json:
        print(json.dumps({"ready": not errors, "errors": errors, "warnings": warnings,
                          "findings": [asdict(f) for f in findings]}, ensure_ascii=False))
    else:
        for finding in findings:
            print(finding.line())
        verdict = "not ready" if errors else "ready"
        print(f"{verdict}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
    return 1 if errors else 0


def findings_for(settings: Settings, *, connect: bool = False) -> list[Finding]:
    """Every finding, in the order an operator fixes them: configuration, stores, channels, the way in."""
    env = settings.env
    findings: list[Finding] = []
    deployment = _deployment(settings, findings)
    configured = _providers(env, findings)
    production = bool(configured or settings.public_url)
    if deployment is not None:
        _channels(settings, deployment, findings)
        if configured:
            _profiles(deployment, env, configured, findings)
    if production and not settings.config_path:
        findings.append(Finding(WARNING, "HOTLINE_CONFIG", "not set: the packaged example (a Moroccan commune) is "
                                "in force", "set it to your deployment's YAML"))
    _database(settings.database_url, production, connect, findings)
    _redis(settings.redis_url, connect, findings)
    _media(settings.media_dir, findings)
    _public_url(settings.public_url, configured, findings)
    _proxies_and_sign_in(env, settings.public_url, findings)
    return findings


def _deployment(settings: Settings, findings: list[Finding]) -> Deployment | None:
    from gateway.runtime import load_deployment

    subject = "HOTLINE_CONFIG"
    try:
        deployment = load_deployment(settings)
    except ConfigError as exc:
        findings.append(Finding(ERROR, subject, str(exc), "correct the file (or HOTLINE_DEFAULT_REGION)"))
        return None
    profiles = [p for p in deployment.profiles if p.number != DEFAULT_PROFILE_NUMBER]
    findings.append(Finding(OK, subject, f"{settings.config_path or 'packaged example'} loads: "
                            f"{len(deployment.administrations)} administrations, {len(deployment.categories)} "
                            f"categories, {len(profiles)} numbered profiles, region {deployment.default_region}"))
    return deployment


def _providers(env: Mapping[str, str], findings: list[Finding]) -> list[Provider]:
    """The providers whose credentials are complete; half-configured ones and malformed values are errors."""
    complete, broken = [], False
    for provider in PROVIDERS:
        given = [name for name in provider.together if env.get(name)]
        missing = [name for name in provider.together if not env.get(name)]
        dependent = [name for name in provider.needing if env.get(name)]
        if not given and not dependent:
            continue
        if missing:
            broken = True
            findings.append(Finding(ERROR, provider.label, f"half-configured: {', '.join(given + dependent)} set "
                                    f"but {', '.join(missing)} missing", f"set {', '.join(missing)} too, or unset "
                                    f"{', '.join(given + dependent)}"))
            continue
        malformed = [(name, shape) for name, (pattern, shape) in provider.shapes.items()
                     if not re.fullmatch(pattern, env.get(name, ""))]
        broken = broken or bool(malformed)
        for name, shape in malformed:
            findings.append(Finding(ERROR, name, "does not look right", f"expected {shape}"))
        if not malformed:
            names = ", ".join((*provider.together, *dependent))
            findings.append(Finding(OK, provider.label, f"configured ({names})"))
            complete.append(provider)
    if not complete and not broken:
        findings.append(Finding(WARNING, "channels", "no provider is configured: only `hotline demo`, the API and "
                                "Open311 can file cases", "set a provider's credentials (README: Configuration)"))
    return complete


def _channels(settings: Settings, deployment: Deployment, findings: list[Finding]) -> None:
    """Build every registered adapter as the gateway will, so a bad channel file or value fails here."""
    channel_settings = ChannelSettings(settings.env, deployment.default_region, settings.public_url)
    for name in REGISTRY.names():
        try:
            REGISTRY.adapter_class(name).from_settings(channel_settings)
        except Exception as exc:  # whatever stops the gateway building it is the finding
            findings.append(Finding(ERROR, f"channel {name}", f"cannot be built: {exc}", "correct its settings"))


def _address_key(address: str, region: str) -> str:
    bare = strip_channel_prefix(address).strip()
    return normalize_phone(bare, region) or "".join(ch for ch in bare if ch not in " -.()")


def _profiles(deployment: Deployment, env: Mapping[str, str], configured: list[Provider],
              findings: list[Finding]) -> None:
    """A profile is chosen by the number a citizen wrote to; one that matches none of our senders is
    only reached if it is another number of the account, which the operator should know."""
    region = deployment.default_region
    senders = [sender for provider in configured for sender in provider.senders(env)]
    ours = {_address_key(sender, region) for sender in senders}
    for profile in deployment.profiles:
        if profile.number == DEFAULT_PROFILE_NUMBER or _address_key(profile.number, region) in ours:
            continue
        findings.append(Finding(
            WARNING, f"profile {profile.number}",
            f"matches no configured sender ({', '.join(senders) or 'none set'})",
            "set the provider's sender (e.g. TWILIO_SMS_FROM) to it, or make sure it is a number of the account "
            "whose webhook points here"))


def _database(url: str, production: bool, connect: bool, findings: list[Finding]) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from core.db import normalize_url

    subject = "HOTLINE_DATABASE_URL"
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError as exc:
        findings.append(Finding(ERROR, subject, f"does not parse: {exc}", "give sqlite:///PATH or "
                                "postgresql://USER:PASSWORD@HOST:5432/NAME (password URL-encoded)"))
        return
    backend = parsed.get_backend_name()
    shown = parsed.render_as_string(hide_password=True)
    if backend not in ("sqlite", "postgresql"):
        findings.append(Finding(ERROR, subject, f"{backend} is not supported", "use PostgreSQL (or SQLite)"))
        return
    if backend == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            findings.append(Finding(ERROR, subject, "an in-memory SQLite database is not shared between the "
                                    "gateway and its worker", "give a file: sqlite:///var/hotline.db"))
            return
        if not _writable(Path(database).parent):
            findings.append(Finding(ERROR, subject, f"{Path(database).parent} is not writable by this user",
                                    "give a directory the service user may write"))
            return
        if production:
            findings.append(Finding(WARNING, subject, "SQLite serves one machine only",
                                    "use PostgreSQL for several gateway machines"))
        if connect and not Path(database).exists():
            findings.append(Finding(ERROR, subject, f"no database at {database}", "run `hotline migrate`"))
            return
    if connect:
        _database_answers(normalize_url(url), shown, findings)
    else:
        findings.append(Finding(OK, subject, f"{shown} parses (--connect also checks it answers and is migrated)"))


def _database_answers(url: str, shown: str, findings: list[Finding]) -> None:
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import SQLAlchemyError

    from core.db import alembic_config, current_revision, make_engine

    subject = "HOTLINE_DATABASE_URL"
    engine = make_engine(url)
    try:
        current = current_revision(engine)
    except (SQLAlchemyError, OSError) as exc:
        findings.append(Finding(ERROR, subject, f"{shown} does not answer: {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else ''}", "start the database or correct "
                                "the URL and its credentials"))
        return
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if current == head:
        findings.append(Finding(OK, subject, f"{shown} answers, schema at the newest revision ({head})"))
    elif current is None:
        findings.append(Finding(ERROR, subject, f"{shown} answers but has no schema", "run `hotline migrate`"))
    elif current in {revision.revision for revision in script.walk_revisions()}:
        findings.append(Finding(ERROR, subject, f"schema at {current}, the newest is {head}", "run `hotline migrate`"))
    else:
        findings.append(Finding(ERROR, subject, f"schema at {current}, which this version does not know",
                                "deploy the version that migrated it (or newer)"))


def _redis(url: str, connect: bool, findings: list[Finding]) -> None:
    import redis

    subject = "HOTLINE_REDIS_URL"
    try:
        pool = redis.ConnectionPool.from_url(url)
    except ValueError as exc:
        findings.append(Finding(ERROR, subject, f"does not parse: {exc}", "give redis://HOST:6379/0"))
        return
    if not connect:
        findings.append(Finding(OK, subject, "parses (--connect also checks it answers)"))
        return
    client = redis.Redis(connection_pool=pool, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        findings.append(Finding(ERROR, subject, f"does not answer PING: {exc}", "start Redis or correct the URL"))
    else:
        findings.append(Finding(OK, subject, "answers PING"))
    finally:
        pool.disconnect()


def _writable(directory: Path) -> bool:
    """Whether `directory` is writable, or can be created under its nearest existing ancestor."""
    for candidate in (directory.resolve(), *directory.resolve().parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)
    return False


def _media(media_dir: str, findings: list[Finding]) -> None:
    subject = "HOTLINE_MEDIA_DIR"
    path = Path(media_dir)
    if path.exists() and not path.is_dir():
        findings.append(Finding(ERROR, subject, f"{path} is not a directory", "point it at a directory"))
    elif not _writable(path):
        findings.append(Finding(ERROR, subject, f"{path} is not writable by this user", "give the service user a "
                                "directory it may write (shared by every gateway and worker)"))
    else:
        findings.append(Finding(OK, subject, f"{path} writable"))


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _public_url(public_url: str | None, configured: list[Provider], findings: list[Finding]) -> None:
    """Twilio signs the URL it called, which a proxy hides; callbacks and webhook registration need it."""
    subject = "HOTLINE_PUBLIC_URL"
    if not public_url:
        if configured:
            findings.append(Finding(ERROR, subject, "not set while a provider is configured: behind a proxy Twilio "
                                    "signatures cannot be checked, delivery reports are not requested, and webhooks "
                                    "cannot be registered", "set it to the https:// URL providers call"))
        return
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        findings.append(Finding(ERROR, subject, f"{public_url!r} is not a URL", "give https://HOST"))
    elif parts.query or parts.fragment:
        findings.append(Finding(ERROR, subject, "has a query or fragment", "give the base URL only"))
    elif parts.scheme != "https":
        level = WARNING if _loopback(parts.hostname) else ERROR
        findings.append(Finding(level, subject, f"{public_url} is not https: providers call HTTPS only",
                                "terminate TLS at the proxy and give its https:// URL"))
    else:
        findings.append(Finding(OK, subject, f"{public_url}"))


def _proxies_and_sign_in(env: Mapping[str, str], public_url: str | None, findings: list[Finding]) -> None:
    """The console's sign-in throttling counts attempts per client address, which only the proxy knows."""
    from gateway.staff.console.auth import LoginPolicy

    subject = "HOTLINE_TRUSTED_PROXIES"
    proxies = [part.strip() for part in (env.get(subject) or "").split(",") if part.strip()]
    bad = []
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            bad.append(proxy)
    if bad:
        findings.append(Finding(ERROR, subject, f"not addresses or networks: {', '.join(bad)}",
                                "give addresses or CIDR networks, comma-separated"))
    elif not proxies and public_url and public_url.startswith("https://"):
        findings.append(Finding(WARNING, subject, "not set behind an https proxy: every client shares the proxy's "
                                "address, so one flood of wrong passwords throttles everyone's sign-in",
                                "set it to the proxy's address or network"))
    try:
        LoginPolicy.from_env({key: value for key, value in env.items() if key != subject})
    except ValueError as exc:
        findings.append(Finding(ERROR, "HOTLINE_LOGIN_ATTEMPTS / HOTLINE_LOGIN_WINDOW_MINUTES",
                                f"not a number: {exc}", "give whole attempts and minutes"))
