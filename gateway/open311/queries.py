"""The GET parameters of service requests and their updates, read as the spec defines them.

`start_date`/`end_date` are W3C times with a timezone and span at most 90 days (the most recent 90 when
neither is given); `service_request_id`, `service_code` and `status` are comma-separated lists (or
repeated parameters); at most 1,000 requests are answered. A parameter that cannot be read is a
`Refusal` (the spec's 400), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from multidict import MultiMapping

from core import references
from core.store.public_cases import CaseQuery
from gateway.open311.published import CLOSED, OPEN, statuses_of

MAX_SPAN = timedelta(days=90)
MAX_REQUESTS = 1000
MAX_PARAMETER = 20_000
"""Longer than 1,000 references with their commas: a longer parameter is refused unread."""


class Refusal(Exception):
    """A request the spec says to refuse: its HTTP status and a description for the client."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass(frozen=True)
class Span:
    """A time range, both ends included."""

    start: datetime
    end: datetime


def listed(query: MultiMapping[str], name: str) -> list[str]:
    """A parameter's comma-separated values, over every time it is given; [] when absent or empty."""
    given = query.getall(name, [])
    if sum(len(value) for value in given) > MAX_PARAMETER:
        raise Refusal(400, f"{name} is too long")
    return [part.strip() for value in given for part in value.split(",") if part.strip()]


def parse_time(name: str, text: str) -> datetime:
    """A W3C date and time with its timezone (`2010-01-01T00:00:00Z`, `...-08:00`)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Refusal(400, f"{name} is not a date and time (W3C format, e.g. 2010-01-01T00:00:00Z)") from None
    if "T" not in text or moment.tzinfo is None:
        raise Refusal(400, f"{name} needs a time and a timezone (e.g. 2010-01-01T00:00:00Z)")
    return moment.astimezone(UTC)


def span_of(query: MultiMapping[str], now: datetime) -> Span:
    """The range `start_date`/`end_date` ask for: the most recent 90 days by default, 90 days from the
    one end given, refused when longer than 90 days or reversed."""
    start_text, end_text = query.get("start_date", "").strip(), query.get("end_date", "").strip()
    start = parse_time("start_date", start_text) if start_text else None
    end = parse_time("end_date", end_text) if end_text else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Refusal(400, "end_date is before start_date")
    if end - start > MAX_SPAN:
        raise Refusal(400, "start_date and end_date may not span more than 90 days")
    return Span(start, end)


def request_query(query: MultiMapping[str], origin_channel: str, now: datetime) -> CaseQuery:
    """What `GET requests` asks for: the listed `service_request_id`s (overriding everything else), or
    the requests of `service_code` in `status` requested in the date range, newest first."""
    ids = listed(query, "service_request_id")
    if ids:
        if len(ids) > MAX_REQUESTS:
            raise Refusal(400, f"at most {MAX_REQUESTS} service_request_id may be asked for at once")
        found = [references.parse(value) for value in ids]
        wrong = [value for value, reference in zip(ids, found, strict=True) if reference is None]
        if wrong:
            raise Refusal(400, f"service_request_id {wrong[0][:20]!r} is not a request id of ours")
        return CaseQuery(origin_channel, references=[r for r in found if r is not None], limit=MAX_REQUESTS)
    statuses = set(listed(query, "status"))
    if statuses - {OPEN, CLOSED}:
        raise Refusal(400, "status is open, closed, or both (comma-separated)")
    span = span_of(query, now)
    return CaseQuery(
        origin_channel, categories=listed(query, "service_code"), statuses=statuses_of(statuses) if statuses else None,
        created_from=span.start, created_to=span.end, limit=MAX_REQUESTS,
    )
