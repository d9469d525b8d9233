"""Case lists as CSV, for the spreadsheets administrations account with.

Times are in the deployment's time zone, as staff read them in the console. A cell that a spreadsheet
would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with
an apostrophe: a citizen's description must never execute in an officer's spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

EXPORT_LIMIT = 5000
"""At most this many cases in one export (narrow the filters for more)."""

COLUMNS = ("reference", "status", "kind", "category", "administration", "service", "assignee", "origin_channel",
           "created_at", "answer_due_at", "overdue", "escalated", "location_text", "map", "preview")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A value as a cell no spreadsheet reads as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def local_time(iso: str | None, zone: ZoneInfo) -> str:
    """An ISO time in the deployment's zone, to the minute, with its offset."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M %z")


def csv_download(rows: Iterable[Sequence[Any]], filename: str) -> web.Response:
    """Rows (the header first) as a CSV download: UTF-8 with a byte-order mark, so spreadsheets read
    Arabic; every cell `safe_cell`; not kept by caches (it holds staff-only figures)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return web.Response(body=("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                 "Cache-Control": "private, no-store"})


def csv_response(summaries: list[dict[str, Any]], timezone: str) -> web.Response:
    """The case summaries as a CSV download, times in the deployment's zone."""
    zone = ZoneInfo(timezone)

    def row(summary: dict[str, Any]) -> list[Any]:
        values = {**summary, "created_at": local_time(summary["created_at"], zone),
                  "answer_due_at": local_time(summary["answer_due_at"], zone)}
        return [values.get(column) for column in COLUMNS]

    return csv_download([COLUMNS, *(row(summary) for summary in summaries)], "cases.csv")
