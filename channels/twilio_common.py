"""What the Twilio channels (SMS, WhatsApp, voice) share: settings, signatures, REST client, errors.

Not a channel itself: the one place that knows how Twilio signs webhooks, how its REST client reaches
an emulator through `TWILIO_API_BASE`, and which of its errors are worth retrying.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import aiohttp
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.base import (
    ChannelAdapter,
    ChannelSettings,
    FetchedMedia,
    HttpRequest,
    MediaError,
    MediaRef,
    SendError,
    StatusUpdate,
    read_capped,
)

DEFAULT_API_BASE = "https://api.twilio.com"

FINAL_ERROR_CODES = {
    "21211": "invalid 'To' number",
    "21214": "'To' number cannot be reached",
    "21408": "region not enabled",
    "21610": "recipient opted out (STOP)",
    "21612": "'To' number not reachable from this sender",
    "21614": "'To' number is not a mobile number",
    "63016": "outside the WhatsApp 24 hour window: a template is needed",
}
OPTED_OUT_CODES = {"21610"}
SID = re.compile(r"[A-Za-z]{2}[A-Za-z0-9]{1,62}")
"""A Twilio SID (`SM`, `MM`, `CA`... then hex: 34 characters), leniently."""
STATUS = re.compile(r"[a-z][a-z_-]{0,31}")
ERROR_CODE = re.compile(r"[A-Za-z0-9]{1,32}")

T = TypeVar("T")


@dataclass(frozen=True)
class TwilioSettings:
    """Credentials and addresses of one Twilio account, read from the environment."""

    account_sid: str
    auth_token: str
    api_base: str = DEFAULT_API_BASE
    timeout: float = 10.0
    extra_media_hosts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TwilioSettings:
        """`TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_API_BASE` (emulator base URL), and
        `TWILIO_MEDIA_HOSTS` (comma-separated hosts media redirects may also lead to)."""
        extra = tuple(h.strip().lower() for h in env.get("TWILIO_MEDIA_HOSTS", "").split(",") if h.strip())
        return cls(
            account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            api_base=(env.get("TWILIO_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
            extra_media_hosts=extra,
        )

    @property
    def auth_hosts(self) -> frozenset[str]:
        """Hosts that get the account's credentials: the API base and api.twilio.com, nothing else."""
        return frozenset({urlsplit(self.api_base).netloc.lower(), "api.twilio.com"})

    @property
    def media_hosts(self) -> frozenset[str]:
        """Hosts media may be downloaded from: the API base and Twilio's documented media hosts."""
        hosts = {*self.auth_hosts, "media.twiliocdn.com", "mms.twiliocdn.com", *self.extra_media_hosts}
        return frozenset(hosts)


def signed_url(request: HttpRequest, public_url: str | None) -> str:
    """The URL Twilio signed: behind a proxy, `HOTLINE_PUBLIC_URL` plus the path and query."""
    if not public_url:
        return request.url
    parts = urlsplit(request.url)
    path_qs = parts.path + (f"?{parts.query}" if parts.query else "")
    return public_url.rstrip("/") + path_qs


def verify_signature(request: HttpRequest, auth_token: str, public_url: str | None) -> bool:
    """Check `X-Twilio-Signature` with the twilio library's validator (constant-time compare)."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    return bool(validator.validate(signed_url(request, public_url), dict(request.form), signature))


def provider_sid(form: Mapping[str, str], *names: str) -> str | None:
    """The first of the fields `names` that is given, as a Twilio SID; None when none is; `ValueError`
    for one that is not a SID."""
    given = next((form[name] for name in names if form.get(name)), None)
    if given is None:
        return None
    if not SID.fullmatch(given):
        raise ValueError("not a Twilio SID")
    return given


def parse_status_callback(request: HttpRequest) -> StatusUpdate | None:
    """A message status callback (`MessageSid`, `MessageStatus`, `ErrorCode`); None when a field is
    missing or not what Twilio sends (a SID, a lowercase status word, an alphanumeric error code)."""
    form = request.form
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    error_code = form.get("ErrorCode") or None
    try:
        sid = provider_sid(form, "MessageSid", "SmsSid")
    except ValueError:
        return None
    if sid is None or not STATUS.fullmatch(status) or (error_code is not None and not ERROR_CODE.fullmatch(error_code)):
        return None
    return StatusUpdate(sid, status, error_code, opted_out=error_code in OPTED_OUT_CODES)


class _HeaderKeepingHttpClient(TwilioHttpClient):
    """The twilio HTTP client, remembering each thread's last response so `Retry-After` can be read."""

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._local = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> Response:
        """Make the request and keep the response for this thread."""
        self._local.response = None
        response = super().request(*args, **kwargs)
        self._local.response = response
        return response

    def last_headers(self) -> Mapping[str, str]:
        """Headers of this thread's last response."""
        response = getattr(self._local, "response", None)
        return dict(response.headers or {}) if response is not None else {}


class TwilioRest:
    """The twilio REST client pointed at `api_base`, with errors classed as retryable or final."""

    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self._http = _HeaderKeepingHttpClient(timeout=settings.timeout)
        self.client = Client(settings.account_sid, settings.auth_token, http_client=self._http)
        self.client.api.base_url = settings.api_base

    async def call(self, operation: Callable[[Client], T]) -> T:
        """Run a blocking client call off the event loop, translating failures into `SendError`."""
        return await asyncio.to_thread(self._call, operation)

    def _call(self, operation: Callable[[Client], T]) -> T:
        try:
            return operation(self.client)
        except TwilioRestException as exc:
            raise classify_rest_error(exc, self._http.last_headers()) from exc
        except requests.RequestException as exc:
            raise SendError(f"cannot reach Twilio: {type(exc).__name__}", retryable=True) from exc


def classify_rest_error(exc: TwilioRestException, headers: Mapping[str, str]) -> SendError:
    """Connection trouble, 429 and 5xx are retried (honouring `Retry-After`); other 4xx are final."""
    code = str(exc.code) if exc.code is not None else None
    message = f"Twilio {exc.status}" + (f" error {code}" if code else "") + (f": {exc.msg}" if exc.msg else "")
    if code in FINAL_ERROR_CODES:
        return SendError(message, retryable=False, code=code, opted_out=code in OPTED_OUT_CODES)
    if exc.status == 429 or exc.status >= 500:
        return SendError(message, retryable=True, code=code or str(exc.status),
                         retry_after=retry_after_seconds(headers))
    return SendError(message, retryable=False, code=code or str(exc.status))


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` as seconds, from a number or an HTTP date."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


MAX_REDIRECTS = 3


async def fetch_media(settings: TwilioSettings, ref: MediaRef, max_bytes: int) -> FetchedMedia:
    """Download a media file Twilio holds, following its redirects by hand.

    Every hop's host must be one of `settings.media_hosts` (checked before any request is made);
    the account's basic auth goes only to `settings.auth_hosts`, never to a CDN it redirects to. A
    body longer than `max_bytes` is refused as soon as that is known (from `Content-Length`, else
    while reading). 404/410 and 5xx, timeouts and resets are retryable: Twilio's media may lag the
    webhook by a moment."""
    url = ref.url
    timeout = aiohttp.ClientTimeout(total=max(settings.timeout * 6, 30), sock_connect=settings.timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(url).netloc.lower()
            if urlsplit(url).scheme not in ("http", "https") or host not in settings.media_hosts:
                raise MediaError("foreign_host", f"media host {host or url!r} is not a provider host", retryable=False)
            auth = aiohttp.BasicAuth(settings.account_sid, settings.auth_token) if host in settings.auth_hosts else None
            try:
                async with session.get(url, auth=auth, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                        url = urljoin(url, response.headers["Location"])
                        continue
                    if response.status in (404, 410) or response.status == 429 or response.status >= 500:
                        raise MediaError("unavailable", f"media answered {response.status}", retryable=True)
                    if response.status != 200:
                        raise MediaError("not_found", f"media answered {response.status}", retryable=False)
                    body = await read_capped(response, max_bytes)
                    content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
                    return FetchedMedia(body, content_type)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise MediaError("unavailable", f"cannot reach the media host: {type(exc).__name__}",
                                 retryable=True) from exc
    raise MediaError("unavailable", "too many redirects", retryable=False)


class TwilioChannel(ChannelAdapter):
    """What every Twilio channel (SMS, WhatsApp, voice) does alike: built from its settings (which
    carry `twilio`), checks Twilio's signature, reads delivery reports, and reaches the REST API
    through one client made on first use."""

    settings_type: Any
    """The channel's settings class: `from_env(env, region)`, with a `twilio: TwilioSettings` field."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._rest: TwilioRest | None = None

    @classmethod
    def from_settings(cls, settings: ChannelSettings) -> ChannelAdapter:
        """Build from the environment's `TWILIO_*` variables and the deployment's region."""
        return cls(cls.settings_type.from_env(settings.env, settings.region))

    def verify(self, request: HttpRequest, public_url: str | None) -> bool:
        """Twilio's signature over the URL it called (with its query) and the form parameters."""
        return verify_signature(request, self.settings.twilio.auth_token, public_url)

    def parse_status(self, request: HttpRequest) -> StatusUpdate | None:
        """Twilio's message status callback."""
        return parse_status_callback(request)

    @property
    def rest(self) -> TwilioRest:
        """The REST client (blocking calls run off the event loop), made on first use."""
        if self._rest is None:
            self._rest = TwilioRest(self.settings.twilio)
        return self._rest
