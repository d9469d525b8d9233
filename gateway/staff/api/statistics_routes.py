"""Statistics for staff: `GET /api/v1/statistics` (JSON) and `GET /api/v1/statistics.csv`, over the
period and scope asked, within what the caller may see (officers: their administration; supervisors
and admins: their scope). Staff see the figures unsuppressed; the public page withholds small cells
(`gateway.public`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from core.access import can_list_cases, case_scope
from core.lifecycle import KINDS
from core.records import Staff
from core.statistics import FIELDS, GROUPS, Tally
from core.store.tallies import StatisticsQuery
from gateway.keys import RUNTIME
from gateway.runtime import Runtime
from gateway.staff.api.case_routes import code_param, date_param
from gateway.staff.api.common import with_staff
from gateway.staff.api.export import csv_download
from gateway.staff.desk import Refused

officer = with_staff(can_list_cases, "only officers, supervisors and admins read statistics")


def add_statistics_routes(app: web.Application) -> None:
    """Register the statistics routes."""
    app.router.add_get("/api/v1/statistics", get_statistics)
    app.router.add_get("/api/v1/statistics.csv", get_statistics_csv)


def statistics_query(staff: Staff, query: Any) -> StatisticsQuery:
    """The statistics a query string asks for, within `staff`'s scope (Refused 400 or 403)."""
    scope = case_scope(staff)
    wanted = code_param(query, "administration")
    if wanted is not None and scope is not None and wanted != scope:
        raise Refused(403, "forbidden", "you only see your administration's statistics")
    kind = query.get("kind") or "complaint"
    if kind not in KINDS:
        raise Refused(400, "bad_request", f"kind is one of {', '.join(KINDS)}")
    group_by = query.get("group_by") or None
    if group_by is not None and group_by not in GROUPS:
        raise Refused(400, "bad_request", f"group_by is one of {', '.join(GROUPS)}")
    return StatisticsQuery(
        created_from=date_param(query.get("from"), "from"), created_to=date_param(query.get("to"), "to", end=True),
        administration=scope if scope is not None else wanted, category=code_param(query, "category"),
        channel=code_param(query, "channel"), service=code_param(query, "service"), kind=kind, group_by=group_by,
    )


async def statistics_document(runtime: Runtime, asked: StatisticsQuery) -> dict[str, Any]:
    """`{"totals": {...}, "groups": [{"key": ..., ...}]}` for the query (figures unsuppressed)."""
    totals, groups = await runtime.db(runtime.store.statistics, asked, datetime.now(UTC))
    return {
        "period": {"from": asked.created_from.date().isoformat() if asked.created_from else None,
                   "to": (asked.created_to - timedelta(days=1)).date().isoformat() if asked.created_to else None},
        "kind": asked.kind,
        "administration": asked.administration,
        "group_by": asked.group_by,
        "totals": totals.figures(),
        "groups": [{**key, **tally.figures()} for key, tally in groups],
    }


@officer
async def get_statistics(request: web.Request, staff: Staff) -> web.Response:
    """The national portal's figures for a period and scope, totals and groups."""
    asked = statistics_query(staff, request.query)
    return web.json_response(await statistics_document(request.app[RUNTIME], asked))


@officer
async def get_statistics_csv(request: web.Request, staff: Staff) -> web.Response:
    """The same figures as CSV: a `total` row, then one row per group."""
    asked = statistics_query(staff, request.query)
    runtime = request.app[RUNTIME]
    totals, groups = await runtime.db(runtime.store.statistics, asked, datetime.now(UTC))
    return statistics_csv(totals, groups, asked.group_by == "service")


def statistics_csv(totals: Tally, groups: list[tuple[dict[str, Any], Tally]],
                   with_administration: bool) -> web.Response:
    """The tallies as a CSV download: a `total` row, then one row per group."""
    head = ["key", *(["administration"] if with_administration else []), *FIELDS]

    def row(key: dict[str, Any], tally: Tally) -> list[Any]:
        figures = tally.figures()
        return [key.get("key") or "", *([key.get("administration") or ""] if with_administration else []),
                *("" if figures[name] is None else figures[name] for name in FIELDS)]

    return csv_download([head, *(row(key, tally) for key, tally in [({"key": "total"}, totals), *groups])],
                        "statistics.csv")
