"""What the public reads of a case over Open311: status, service, dates, place and the reasoned answer.

No contact, name, phone number or email is ever part of it (`core.store.public_cases` does not read
them). Status is the spec's two: `open` while the administration still owes an answer
(`core.lifecycle.OPEN_STATUSES`), `closed` once a reasoned answer or rejection is given ("it has been
resolved" for the reporter: they are told, may rate it, and a reopening makes it `open` again).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.config import Deployment
from core.lifecycle import OPEN_STATUSES, STATUSES
from core.store.public_cases import PublicCase, PublicEvent
from gateway.open311.services import name_in

OPEN = "open"
CLOSED = "closed"


def open311_status(status: str) -> str:
    """`open` or `closed`, the spec's statuses, for one of the lifecycle's."""
    return OPEN if status in OPEN_STATUSES else CLOSED


def statuses_of(wanted: set[str]) -> frozenset[str]:
    """The lifecycle statuses a set of the spec's (`open`, `closed`) covers."""
    return frozenset(s for s in STATUSES if open311_status(s) in wanted)


def w3(moment: datetime | None) -> str | None:
    """A time as the spec writes it (W3C date and time, UTC: `2010-01-01T00:00:00Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def request_item(case: PublicCase, deployment: Deployment, language: str) -> dict[str, Any]:
    """One case as a GeoReport service request, fields in the spec's order. `status_notes` is the
    reasoned answer while the case is closed; `expected_datetime` the answer's due date while open."""
    category = deployment.category(case.category_code)
    administration = deployment.administration(case.administration_code)
    status = open311_status(case.status)
    return {
        "service_request_id": case.reference,
        "status": status,
        "status_notes": (case.answer or None) if status == CLOSED else None,
        "service_name": name_in(category.names, language, deployment, category.code) if category else
        case.category_code,
        "service_code": case.category_code,
        "description": case.description or None,
        "agency_responsible": name_in(administration.names, language, deployment, administration.code)
        if administration else None,
        "service_notice": None,
        "requested_datetime": w3(case.created_at),
        "updated_datetime": w3(case.updated_at),
        "expected_datetime": w3(case.answer_due_at) if status == OPEN else None,
        "address": case.location_text or None,
        "lat": case.lat,
        "long": case.lon,
    }


def update_item(event: PublicEvent) -> dict[str, Any]:
    """One status change as FixMyStreet's service request update (`request_update`)."""
    return {
        "update_id": str(event.event_id),
        "service_request_id": event.reference,
        "status": open311_status(event.status),
        "updated_datetime": w3(event.at),
        "description": event.note,
    }
