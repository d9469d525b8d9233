"""The statistics' tallies, counted by the database in one aggregate query per request.

Each count of `core.statistics` is a `COUNT(*) FILTER (WHERE ...)` over the cases of the period, in
one statement: grouped (administration, category, channel, service, month) when asked, the totals
then being the sum of the groups (every case is in exactly one). Duplicates are left out: the
problem counts once, with its original. Months are UTC months, as periods are UTC days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core import lifecycle
from core.db import cases
from core.statistics import GROUPS, Tally
from core.store.casework import overdue_condition
from core.store.transactions import StoreBase


@dataclass(frozen=True)
class StatisticsQuery:
    """What a statistics request asks for; `administration` None: every administration (the caller
    has checked the scope)."""

    created_from: datetime | None = None
    created_to: datetime | None = None
    administration: str | None = None
    category: str | None = None
    channel: str | None = None
    service: str | None = None
    kind: str = "complaint"
    group_by: str | None = None


def _count(condition: Any) -> Any:
    return sa.func.count().filter(condition)


class StatisticsMixin(StoreBase):
    """Statistics of the case store."""

    def _days(self) -> Any:
        """Days from filing to the first answer, as the dialect computes a difference of times."""
        if self._postgres:
            return sa.extract("epoch", cases.c.first_answer_at - cases.c.created_at) / 86400.0
        return sa.func.julianday(cases.c.first_answer_at) - sa.func.julianday(cases.c.created_at)

    def _group_key(self, group_by: str) -> list[Any]:
        if group_by == "month":
            if self._postgres:
                return [sa.func.to_char(sa.func.timezone("UTC", cases.c.created_at), "YYYY-MM").label("key")]
            return [sa.func.strftime("%Y-%m", cases.c.created_at).label("key")]
        column = {"administration": cases.c.administration_code, "category": cases.c.category_code,
                  "channel": cases.c.origin_channel}.get(group_by)
        if column is not None:
            return [column.label("key")]
        return [cases.c.service_code.label("key"), cases.c.administration_code.label("administration")]

    def statistics(self, asked: StatisticsQuery, now: datetime) -> tuple[Tally, list[tuple[dict[str, Any], Tally]]]:
        """(the totals, one (group key, tally) per group with cases) of the period and scope."""
        if asked.group_by is not None and asked.group_by not in GROUPS:
            raise ValueError(f"group_by is one of {', '.join(GROUPS)}")
        processed = cases.c.first_answer_at.is_not(None)
        tallies = [
            sa.func.count().label("received"),
            _count(processed).label("processed"),
            _count(cases.c.status.in_(sorted(lifecycle.OPEN_STATUSES))).label("in_progress"),
            _count(cases.c.reopen_count > 0).label("reopened"),
            _count(cases.c.rating >= 4).label("satisfied"),
            _count(cases.c.rating <= 2).label("dissatisfied"),
            _count(cases.c.rating.is_not(None)).label("rated"),
            _count(overdue_condition(now)).label("overdue"),
            sa.func.coalesce(sa.func.sum(sa.case((processed, self._days()), else_=0.0)), 0.0).label("days"),
        ]
        conditions = [cases.c.kind == asked.kind, cases.c.duplicate_of_id.is_(None)]
        for column, value in ((cases.c.administration_code, asked.administration),
                              (cases.c.category_code, asked.category), (cases.c.origin_channel, asked.channel),
                              (cases.c.service_code, asked.service)):
            if value is not None:
                conditions.append(column == value)
        if asked.created_from is not None:
            conditions.append(cases.c.created_at >= asked.created_from)
        if asked.created_to is not None:
            conditions.append(cases.c.created_at < asked.created_to)
        where = sa.and_(*conditions)
        with self.read() as conn:
            if asked.group_by is None:
                return _tally(conn.execute(sa.select(*tallies).where(where)).one()), []
            keys = self._group_key(asked.group_by)
            rows = conn.execute(sa.select(*keys, *tallies).where(where).group_by(*keys).order_by(*keys)).all()
        groups = []
        for row in rows:
            key = {"key": row.key}
            if asked.group_by == "service":
                key["administration"] = row.administration
            groups.append((key, _tally(row)))
        return _sum(tally for _, tally in groups), groups


def _tally(row: Any) -> Tally:
    return Tally(received=int(row.received), processed=int(row.processed), in_progress=int(row.in_progress),
                 reopened=int(row.reopened), satisfied=int(row.satisfied), dissatisfied=int(row.dissatisfied),
                 rated=int(row.rated), overdue=int(row.overdue), days_to_process=float(row.days))


def _sum(tallies: Any) -> Tally:
    """The totals of a grouping's tallies (every case is in exactly one group)."""
    total = Tally()
    for tally in tallies:
        total = Tally(**{name: getattr(total, name) + getattr(tally, name) for name in Tally.__dataclass_fields__})
    return total
