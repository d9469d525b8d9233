"""One problem reported by many people is one problem: finding the case a pinned report duplicates,
filing a report as a duplicate (closed as such, its photos and words added to the original, its
reporter following the original), staff marking and unmarking duplicates, and suggestions for reports
with a place written in words.

A duplicate is never counted as a case of its own in the statistics (`core.store.tallies`), and every
status change of the original is told to each follower (`NoticesMixin.follower_notices`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from rapidfuzz import fuzz
from sqlalchemy.engine import Connection

from core import lifecycle
from core.db import attachments, case_events, cases
from core.lifecycle import InvalidTransition
from core.records import CaseRecord
from core.store.cases import CasesMixin, case_from_row, event_values
from core.store.transactions import utcnow

EARTH_RADIUS_M = 6_371_000.0
PLACE_LIKENESS = 85
"""How alike (rapidfuzz token-set ratio, 0-100) two places written in words must be to suggest one
case as the other's duplicate."""


def distance_m(lat: float, lon: float, other_lat: float, other_lon: float) -> float:
    """Metres between two points on the Earth (haversine)."""
    phi, other_phi = math.radians(lat), math.radians(other_lat)
    half = (math.sin((other_phi - phi) / 2) ** 2
            + math.cos(phi) * math.cos(other_phi) * math.sin(math.radians(other_lon - lon) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(half)))


class DuplicatesMixin(CasesMixin):
    """Duplicate detection and linking of the case store."""

    def duplicate_distance(self, category: str) -> int:
        """Metres within which an open case of `category` makes a pinned report its likely duplicate."""
        found = self.deployment.category(category)
        return (found.duplicate_distance_m if found and found.duplicate_distance_m
                else self.deployment.duplicate_distance_m)

    def _candidates(self, category: str, now: datetime, exclude: int | None = None) -> sa.Select:
        query = sa.select(cases).where(
            cases.c.category_code == category, cases.c.status.in_(sorted(lifecycle.OPEN_STATUSES)),
            cases.c.duplicate_of_id.is_(None),
            cases.c.created_at >= now - timedelta(days=self.deployment.duplicate_window_days))
        return query.where(cases.c.id != exclude) if exclude is not None else query

    def nearby_case(self, category: str, lat: float, lon: float, now: datetime | None = None) -> CaseRecord | None:
        """The nearest open case of `category` filed in the window within the category's distance of
        (`lat`, `lon`), or None."""
        now = now or utcnow()
        within = self.duplicate_distance(category)
        spread_lat = within / 111_320.0
        spread_lon = within / (111_320.0 * max(0.01, math.cos(math.radians(lat))))
        query = self._candidates(category, now).where(
            cases.c.lat.between(lat - spread_lat, lat + spread_lat),
            cases.c.lon.between(lon - spread_lon, lon + spread_lon))
        with self.read() as conn:
            found = [case_from_row(row) for row in conn.execute(query)]
        near = [(distance_m(lat, lon, c.lat, c.lon), c.id, c) for c in found if c.lat is not None and c.lon is not None]
        near = [item for item in near if item[0] <= within]
        return min(near, key=lambda item: (item[0], item[1]))[2] if near else None

    def duplicate_suggestions(self, reference: str, now: datetime | None = None, limit: int = 5) -> list[CaseRecord]:
        """Open cases of the same category, filed in the window, that the case may duplicate: near it
        when both are pinned (twice the category's distance), else with a place written alike. Shown
        to staff, never merged by themselves."""
        now = now or utcnow()
        case = self.get_case(reference)
        if case is None or case.duplicate_of_id is not None:
            return []
        with self.read() as conn:
            found = [case_from_row(row) for row in conn.execute(
                self._candidates(case.category_code, now, exclude=case.id).order_by(cases.c.created_at.desc())
                .limit(500))]
        scored: list[tuple[float, CaseRecord]] = []
        for other in found:
            if None not in (case.lat, case.lon, other.lat, other.lon):
                metres = distance_m(case.lat, case.lon, other.lat, other.lon)  # type: ignore[arg-type]
                if metres <= 2 * self.duplicate_distance(case.category_code):
                    scored.append((metres, other))
            elif case.location_text.strip() and other.location_text.strip():
                likeness = fuzz.token_set_ratio(case.location_text.lower(), other.location_text.lower())
                if likeness >= PLACE_LIKENESS:
                    scored.append((10_000.0 + (100 - likeness), other))
        return [other for _, other in sorted(scored, key=lambda item: (item[0], -item[1].id))[:limit]]

    def mark_duplicate(self, reference: str, original: str, actor: str, now: datetime | None = None) -> CaseRecord:
        """File `reference` as the duplicate of `original`: closed as such (event `duplicate`, the
        original as its target), its photos moved to the original and its words added there as a note,
        its reporter (and those who followed it) now following the original. Marking it again changes
        nothing; `InvalidTransition` for a case that would duplicate itself or no case."""
        now = now or utcnow()
        with self.write() as conn:
            case = self._locked(conn, reference)
            target = self._locked(conn, original)
            if target.duplicate_of_id is not None:
                root = self._case_where(conn, cases.c.id == target.duplicate_of_id, lock=True)
                target = root if root is not None else target
            if target.id == case.id:
                raise InvalidTransition("a case cannot duplicate itself", "self_duplicate")
            if case.duplicate_of_id == target.id:
                return case
            self._join(conn, case, target, actor, now)
            return self._case_where(conn, cases.c.id == case.id) or case

    def _join(self, conn: Connection, case: CaseRecord, target: CaseRecord, actor: str, now: datetime) -> None:
        conn.execute(sa.update(cases).where(cases.c.duplicate_of_id == case.id).values(duplicate_of_id=target.id))
        conn.execute(sa.update(cases).where(cases.c.id == case.id).values(
            duplicate_of_id=target.id, status=lifecycle.CLOSED, closed_at=now, updated_at=now))
        conn.execute(sa.update(attachments).where(attachments.c.case_id == case.id).values(case_id=target.id))
        conn.execute(sa.insert(case_events), [
            event_values(case.id, "duplicate", lifecycle.CLOSED, actor, "", now, case.administration_code,
                         target.reference),
            event_values(target.id, "duplicate_added", None, actor, case.description, now,
                         target.administration_code, case.reference),
        ])

    def unmark_duplicate(self, reference: str, actor: str, now: datetime | None = None) -> CaseRecord:
        """Take a case out of its original: open again (routed, or received when it has no
        administration), its own reporter no longer following the original. Its photos stay with the
        original, where staff saw them. `InvalidTransition` for a case that is no duplicate."""
        now = now or utcnow()
        with self.write() as conn:
            case = self._locked(conn, reference)
            if case.duplicate_of_id is None:
                raise InvalidTransition("the case is not a duplicate", "not_duplicate")
            status = lifecycle.ROUTED if case.administration_code else lifecycle.RECEIVED
            conn.execute(sa.update(cases).where(cases.c.id == case.id).values(
                duplicate_of_id=None, status=status, closed_at=None, updated_at=now))
            conn.execute(sa.insert(case_events).values(
                event_values(case.id, "not_duplicate", status, actor, "", now, case.administration_code)))
            return self._case_where(conn, cases.c.id == case.id) or case

    def duplicates_of(self, case_id: int) -> list[str]:
        """The references of the cases filed as this one's duplicates, oldest first."""
        with self.read() as conn:
            return list(conn.execute(sa.select(cases.c.reference).where(cases.c.duplicate_of_id == case_id)
                                     .order_by(cases.c.id)).scalars())
