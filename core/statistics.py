"""What the statistics mean: the national portal's figures, derived from one tally per scope, and the
rule that keeps small numbers from pointing at anyone. Pure; the tallies are counted by the store
(`core.store.tallies`) in one aggregate query.

For a period (by creation date, UTC days) and a scope (administration, category, channel, service),
over the cases of one `kind` (complaints by default: observations and suggestions are counted apart):

- `received`: cases created;
- `processed`: of those, cases that had a first reasoned answer (answered or rejected);
- `processed_share`: processed / received;
- `in_progress`: not yet processed, or reopened: received, routed, in progress, reopened;
- `reopened`: reopened at least once;
- `average_days_to_process`: mean days from creation to the first answer, over the processed;
- `satisfied`: rated 4 or 5; `dissatisfied`: rated 1 or 2; `rated`: rated at all;
- `satisfaction_share`: satisfied / rated;
- `overdue`: still open past their due date (now).

Published figures (`suppress`): a count of 1 to 4 is withheld (`None`, the cell marked `suppressed`),
and so is a share or an average over fewer than 5 cases, or one whose count is withheld (a share
times its base would give the count back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GROUPS = ("administration", "category", "channel", "service", "month")
COUNTS = ("received", "processed", "in_progress", "reopened", "satisfied", "dissatisfied", "rated", "overdue")
FIELDS = ("received", "processed", "processed_share", "in_progress", "reopened", "average_days_to_process",
          "satisfied", "dissatisfied", "rated", "satisfaction_share", "overdue")
SMALLEST_CELL = 5
"""Fewer cases than this in a published cell, and it is withheld."""


@dataclass(frozen=True)
class Tally:
    """What the store counts for one scope: the counts, and the days to a first answer summed over
    the processed cases."""

    received: int = 0
    processed: int = 0
    in_progress: int = 0
    reopened: int = 0
    satisfied: int = 0
    dissatisfied: int = 0
    rated: int = 0
    overdue: int = 0
    days_to_process: float = 0.0

    def figures(self) -> dict[str, Any]:
        """Every field of the definitions (shares from 0 to 1, days rounded to a tenth)."""
        return {
            "received": self.received,
            "processed": self.processed,
            "processed_share": _share(self.processed, self.received),
            "in_progress": self.in_progress,
            "reopened": self.reopened,
            "average_days_to_process": round(self.days_to_process / self.processed, 1) if self.processed else None,
            "satisfied": self.satisfied,
            "dissatisfied": self.dissatisfied,
            "rated": self.rated,
            "satisfaction_share": _share(self.satisfied, self.rated),
            "overdue": self.overdue,
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _small(count: int | None) -> bool:
    return count is not None and 0 < count < SMALLEST_CELL


def suppress(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures as they may be published: small counts withheld, and the shares and averages that
    rest on few cases or on a withheld count; `suppressed` says whether anything was."""
    shown = dict(figures)
    for name in COUNTS:
        if _small(figures.get(name)):
            shown[name] = None
    bases = {"processed_share": ("processed", "received"), "satisfaction_share": ("satisfied", "rated"),
             "average_days_to_process": ("processed", "processed")}
    for name, (part, whole) in bases.items():
        if _small(figures.get(part)) or (figures.get(whole) or 0) < SMALLEST_CELL:
            shown[name] = None
    shown["suppressed"] = any(shown[name] is None and figures.get(name) is not None for name in FIELDS)
    return shown
