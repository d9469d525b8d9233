"""What may be published: the small-cell rule as a table (tally -> the figures shown)."""

from __future__ import annotations

from typing import Any

import pytest

from core.statistics import FIELDS, Tally, suppress

ROWS: list[tuple[str, Tally, dict[str, Any]]] = [
    ("nothing to hide", Tally(received=40, processed=30, in_progress=10, reopened=5, satisfied=12, dissatisfied=6,
                              rated=20, overdue=7, days_to_process=300.0),
     {"suppressed": False, "processed_share": 0.75, "average_days_to_process": 10.0, "satisfaction_share": 0.6}),
    ("a count of 1 to 4 is withheld, 0 is shown", Tally(received=40, processed=30, reopened=4, rated=0, overdue=0,
                                                         days_to_process=90.0),
     {"suppressed": True, "reopened": None, "rated": 0, "overdue": 0, "satisfaction_share": None}),
    ("a share whose count is withheld is withheld", Tally(received=100, processed=3, days_to_process=9.0),
     {"suppressed": True, "processed": None, "processed_share": None, "average_days_to_process": None}),
    ("an average over fewer than 5 answers is not shown",
     Tally(received=4, processed=4, days_to_process=2.0),
     {"suppressed": True, "received": None, "processed": None, "processed_share": None,
      "average_days_to_process": None}),
    ("a share over fewer than 5 is not shown", Tally(received=50, processed=50, satisfied=0, rated=3,
                                                      days_to_process=50.0),
     {"suppressed": True, "rated": None, "satisfaction_share": None, "satisfied": 0}),
    ("five is enough", Tally(received=5, processed=5, satisfied=5, rated=5, days_to_process=5.0),
     {"suppressed": False, "received": 5, "processed_share": 1.0, "average_days_to_process": 1.0,
      "satisfaction_share": 1.0}),
]


@pytest.mark.parametrize(("tally", "expected"), [(t, e) for _, t, e in ROWS], ids=[label for label, _, _ in ROWS])
def test_small_cells_are_withheld(tally: Tally, expected: dict[str, Any]) -> None:
    shown = suppress(tally.figures())
    assert set(shown) == {*FIELDS, "suppressed"}
    for name, value in expected.items():
        assert shown[name] == value, name
    unchanged = {name for name in FIELDS if name not in expected}
    for name in unchanged:
        value = tally.figures()[name]
        assert shown[name] == value or (shown[name] is None and isinstance(value, int) and 0 < value < 5), name
