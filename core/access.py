"""Who may see and change which case: roles and administrations (confidentiality, DESIGN.md §1)."""

from __future__ import annotations

from typing import Protocol

ROLES = ("agent", "officer", "supervisor", "admin")


class StaffMember(Protocol):
    """The fields access rules read."""

    role: str
    administration_code: str | None


def _covers(staff: StaffMember, administration_code: str | None) -> bool:
    if staff.role == "admin":
        return True
    if staff.role == "supervisor":
        return staff.administration_code is None or staff.administration_code == administration_code
    if staff.role == "officer":
        return staff.administration_code is not None and staff.administration_code == administration_code
    return False


def can_view_case(staff: StaffMember, administration_code: str | None) -> bool:
    """Officers see their administration's cases; supervisors theirs (all if not bound); admins all."""
    return _covers(staff, administration_code)


def can_change_status(staff: StaffMember, administration_code: str | None) -> bool:
    """The same people who may see a case may move it along its lifecycle; agents may not."""
    return _covers(staff, administration_code)
