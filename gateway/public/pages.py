"""Public statistics for citizens and the press: `GET /public/statistics` (a page in ar/fr/en with its
charts) and `GET /public/statistics.json` (open data: totals, by administration, by category, by
month, and the other kinds of report).

No personal data is involved, and every published cell goes through `core.statistics.suppress`: a
count under 5 is withheld, and so is a share or an average resting on fewer than 5 cases, so no single
complaint can be singled out and no administration tops a league on one fast answer. A year is asked
with `?year=YYYY`; without it, the twelve months to today. Answers are kept a minute per period: the
page is public, and a crowd of readers must not become a crowd of aggregate queries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jinja2
from aiohttp import web

from core.lifecycle import KINDS
from core.statistics import SMALLEST_CELL, suppress
from core.store.tallies import StatisticsQuery
from gateway.charts import horizontal_bars, monthly_bars
from gateway.keys import RUNTIME
from gateway.runtime import Runtime
from gateway.staff.console.i18n import LANGUAGE_LABELS, RTL, choose_language, translate

ENVIRONMENT = jinja2.Environment(loader=jinja2.PackageLoader("gateway.public", "templates"), autoescape=True,
                                 undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
KEPT_SECONDS = 60.0
_kept: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}


def add_public_routes(app: web.Application) -> None:
    """Register the public statistics."""
    app.router.add_get("/public/statistics", statistics_page)
    app.router.add_get("/public/statistics.json", statistics_json)


def period_of(query: Any, today: date) -> tuple[datetime, datetime, str]:
    """(from, to, its label) for `?year=`, else the twelve months to today; `web.HTTPBadRequest` for
    a year that is not one."""
    raw = query.get("year", "")
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= today.year):
            raise web.HTTPBadRequest(text="year is a year from 2000 to this one (YYYY)")
        year = int(raw)
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC), raw
    start = date(today.year - 1, today.month, 1) + timedelta(days=32)
    start = start.replace(day=1)
    return (datetime.combine(start, datetime.min.time(), UTC),
            datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC), "")


async def public_document(runtime: Runtime, created_from: datetime, created_to: datetime) -> dict[str, Any]:
    """The open-data document of a period, every cell suppressed as the rule says."""
    key = (id(runtime), created_from, created_to)
    kept = _kept.get(key)
    if kept is not None and time.monotonic() - kept[0] < KEPT_SECONDS:
        return kept[1]
    now = datetime.now(UTC)
    deployment = runtime.deployment

    def grouped(group_by: str, names: Callable[[str], dict[str, str]] | None) -> tuple[dict[str, Any], list]:
        totals, groups = runtime.store.statistics(StatisticsQuery(created_from, created_to, group_by=group_by), now)
        rows = [{"key": key["key"], **({"names": names(key["key"])} if names else {}),
                 **suppress(tally.figures())} for key, tally in groups if key["key"] is not None]
        return suppress(totals.figures()), rows

    def administration_names(code: str) -> dict[str, str]:
        return deployment.administration_names(code)

    def category_names(code: str) -> dict[str, str]:
        found = deployment.category(code)
        return dict(found.names) if found is not None else {}

    def compute() -> dict[str, Any]:
        totals, by_administration = grouped("administration", administration_names)
        _, by_category = grouped("category", category_names)
        _, by_month = grouped("month", None)
        others = {}
        for kind in KINDS[1:]:
            tally, _ = runtime.store.statistics(StatisticsQuery(created_from, created_to, kind=kind), now)
            others[kind] = {"received": suppress(tally.figures())["received"]}
        return {"period": {"from": created_from.date().isoformat(),
                           "to": (created_to - timedelta(days=1)).date().isoformat()},
                "kind": "complaint", "smallest_cell": SMALLEST_CELL, "totals": totals,
                "by_administration": by_administration, "by_category": by_category, "by_month": by_month,
                "other_kinds": others}

    document = await runtime.db(compute)
    _kept[key] = (time.monotonic(), document)
    return document


def statistics_charts(t: Callable[..., str], lang: str, by_month: list[dict[str, Any]],
                      by_administration: list[dict[str, Any]], name_of: Callable[[dict[str, Any]], str]) -> dict:
    """The three charts of a statistics page: received against processed by month, days to process
    and satisfaction by administration."""
    rtl = lang in RTL
    return {
        "months": monthly_bars([(row["key"], row["received"], row["processed"]) for row in by_month],
                               (t("stat_received"), t("stat_processed")), rtl, t("chart_months")),
        "days": horizontal_bars([(name_of(row), row["average_days_to_process"]) for row in by_administration],
                                t("chart_days"), rtl, unit=t("days_unit")),
        "satisfaction": horizontal_bars([(name_of(row), row["satisfaction_share"]) for row in by_administration],
                                        t("chart_satisfaction"), rtl, share=True),
    }


async def statistics_json(request: web.Request) -> web.Response:
    """Open data: the period's figures, small cells withheld."""
    created_from, created_to, _ = period_of(request.query, datetime.now(UTC).date())
    document = await public_document(request.app[RUNTIME], created_from, created_to)
    return web.json_response(document, headers={"Cache-Control": "public, max-age=60",
                                                "Access-Control-Allow-Origin": "*"})


async def statistics_page(request: web.Request) -> web.Response:
    """The page citizens and journalists read, in their language, charts drawn on the server."""
    runtime = request.app[RUNTIME]
    lang = choose_language(request, runtime.deployment.default_language)
    created_from, created_to, year = period_of(request.query, datetime.now(UTC).date())
    document = await public_document(runtime, created_from, created_to)

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    def name_of(row: dict[str, Any]) -> str:
        names = row.get("names") or {}
        return names.get(lang) or next(iter(names.values()), row["key"])

    html = ENVIRONMENT.get_template("statistics.html").render(
        t=t, lang=lang, dir="rtl" if lang in RTL else "ltr", d=document, year=year, languages=LANGUAGE_LABELS,
        name_of=name_of, deployment=runtime.deployment.name,
        charts=statistics_charts(t, lang, document["by_month"], document["by_administration"], name_of),
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=60", "Content-Language": lang})
