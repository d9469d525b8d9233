"""`POST requests`: the spec's form-encoded fields read into a `Submission`, then filed as a case like any
other (`CaseStore.create_case`, origin channel `open311`).

The reporter's `phone` finds or makes their contact by that number (the citizen they already are on SMS
or WhatsApp), so status changes reach them by SMS; without a phone their `email` does, and is only ever
shown to staff; with neither the case is anonymous (a name alone is not kept: it is no one's contact).
`media_url`s (several, as FixMyStreet sends them) are kept as notes on the case for staff: they point at
the client's own servers, which the gateway does not download from (it fetches media from its
providers' hosts only).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from multidict import MultiMapping

from core.phones import normalize_phone
from core.records import CaseRecord
from core.store.case_store import CaseStore
from core.store.transactions import PHONE
from gateway.open311.queries import Refusal
from gateway.open311.services import jurisdiction_of, language_for

ORIGIN = "open311"
"""The `origin_channel` of cases filed over Open311."""
EMAIL = "email"
"""The address kind of a reporter's email."""
MAX_DESCRIPTION = 4000
"""The spec's limit on a description."""
MAX_ADDRESS = 500
MAX_NAME = 100
MAX_MEDIA = 10
MAX_URL = 480
"""A media URL fits in one case note."""
MAX_EMAIL = 64
"""What the store keeps of an address."""
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}")


@dataclass(frozen=True)
class Submission:
    """A service request as posted, checked: what the case is filed with."""

    service_code: str
    description: str
    language: str
    lat: float | None
    lon: float | None
    address: str
    name: str
    phone: str | None
    email: str | None
    media_urls: tuple[str, ...]


def clean(text: str, limit: int, name: str) -> str:
    """A field without control characters (line breaks and tabs kept), refused when past `limit`."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) > limit:
        raise Refusal(400, f"{name} is longer than {limit:,} characters")
    return text


def coordinate(form: MultiMapping[str], name: str, bound: float) -> float | None:
    """`lat` or `long` as a number within [-bound, bound], or None when not given."""
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Refusal(400, f"{name} is not a number") from None
    if not math.isfinite(value) or not -bound <= value <= bound:
        raise Refusal(400, f"{name} is out of range (-{bound:g} to {bound:g})")
    return value


def media_urls(form: MultiMapping[str]) -> tuple[str, ...]:
    """Every `media_url` (repeated, or FixMyStreet's `media_url[]`): http(s) URLs only."""
    urls = [value.strip() for key in ("media_url", "media_url[]") for value in form.getall(key, []) if value.strip()]
    if len(urls) > MAX_MEDIA:
        raise Refusal(400, f"at most {MAX_MEDIA} media_url may be sent")
    for url in urls:
        parts = urlsplit(url)
        if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.netloc or _CONTROL.search(url):
            raise Refusal(400, "media_url is not an http or https URL")
    return tuple(urls)


def read_submission(form: MultiMapping[str], store: CaseStore) -> Submission:
    """The posted fields, checked in the spec's order of errors: jurisdiction, service, place, the rest."""
    deployment = store.deployment
    jurisdiction = form.get("jurisdiction_id", "").strip()
    if jurisdiction and jurisdiction != jurisdiction_of(deployment):
        raise Refusal(404, f"jurisdiction_id {jurisdiction[:64]!r} not found")
    code = form.get("service_code", "").strip()
    if not code:
        raise Refusal(400, "service_code was not provided")
    if deployment.category(code) is None:
        raise Refusal(404, f"service_code {code[:64]!r} not found")
    lat, lon = coordinate(form, "lat", 90), coordinate(form, "long", 180)
    if (lat is None) != (lon is None):
        raise Refusal(400, "lat and long must be sent together")
    address = clean(form.get("address_string", ""), MAX_ADDRESS, "address_string")
    if lat is None and not address:
        raise Refusal(400, "a location is required: lat and long, or address_string")
    raw_phone = form.get("phone", "").strip()
    phone = normalize_phone(raw_phone, deployment.default_region) if raw_phone else None
    if raw_phone and phone is None:
        raise Refusal(400, "phone is not a phone number")
    email = form.get("email", "").strip() or None
    if email is not None and (len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email)):
        raise Refusal(400, "email is not an email address")
    name = " ".join(part for part in (clean(form.get("first_name", ""), MAX_NAME, "first_name"),
                                      clean(form.get("last_name", ""), MAX_NAME, "last_name")) if part)
    return Submission(
        service_code=code,
        description=clean(form.get("description", ""), MAX_DESCRIPTION, "description"),
        language=language_for(deployment, form.get("locale", "")),
        lat=lat, lon=lon, address=address, name=name, phone=phone, email=email, media_urls=media_urls(form),
    )


def file_submission(store: CaseStore, submission: Submission, client: str, now: datetime) -> CaseRecord:
    """File the case (its reporter's contact found or made by phone, else email) and keep its media URLs
    as notes for staff; `client` (the API key's name) is the notes' actor."""
    contact = None
    if submission.phone:
        contact = store.get_or_create_contact(submission.phone, PHONE, submission.name)
    elif submission.email:
        contact = store.get_or_create_contact(submission.email, EMAIL, submission.name)
    case = store.create_case(
        category=submission.service_code, description=submission.description, language=submission.language,
        contact_id=contact.id if contact else None, origin_channel=ORIGIN, location_text=submission.address,
        anonymous=contact is None, name=submission.name, lat=submission.lat, lon=submission.lon, now=now,
    )
    actor = f"{ORIGIN}:{client}"
    if submission.phone and submission.email:
        store.add_case_note(case.id, f"email: {submission.email}", actor, now)
    for url in submission.media_urls:
        store.add_case_note(case.id, f"media_url: {url}", actor, now)
    return case
