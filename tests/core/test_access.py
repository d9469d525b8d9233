"""Who may read a case, as a table: role, bound administration, the case's, and whether the member
served it (an agent who filed it or holds its citizen's conversation)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.access import can_view_case


@dataclass(frozen=True)
class Member:
    role: str
    administration_code: str | None


ROWS = [  # (role, bound to, the case's administration, served, may read)
    ("officer", "rabat", "rabat", False, True),
    ("officer", "rabat", "sale", False, False),
    ("officer", "rabat", "sale", True, False),
    ("officer", None, "rabat", False, False),
    ("supervisor", "rabat", "rabat", False, True),
    ("supervisor", "rabat", "sale", False, False),
    ("supervisor", None, "sale", False, True),
    ("admin", None, "sale", False, True),
    ("agent", None, "rabat", False, False),
    ("agent", None, "rabat", True, True),
    ("agent", None, None, True, True),
]


@pytest.mark.parametrize(("role", "bound", "owner", "served", "allowed"), ROWS)
def test_who_may_read_a_case(role: str, bound: str | None, owner: str | None, served: bool, allowed: bool) -> None:
    assert can_view_case(Member(role, bound), owner, served=served) is allowed
