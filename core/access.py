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


def can_view_case(staff: StaffMember, administration_code: str | None, *, served: bool = False) -> bool:
    """Officers see their administration's cases; supervisors theirs (all if not bound); admins all;
    agents a case they `served`: filed from a conversation they held, or of the citizen whose open
    conversation they hold (to answer "where is my complaint?" on the phone)."""
    return _covers(staff, administration_code) or (staff.role == "agent" and served)


def can_change_status(staff: StaffMember, administration_code: str | None) -> bool:
    """The same people who may see a case may move it along its lifecycle; agents may not."""
    return _covers(staff, administration_code)


def can_work_conversations(staff: StaffMember) -> bool:
    """Agents take over conversations; supervisors and admins may too (and reassign them)."""
    return staff.role in ("agent", "supervisor", "admin")


def can_reassign(staff: StaffMember) -> bool:
    """Supervisors and admins may take a conversation another agent holds."""
    return staff.role in ("supervisor", "admin")


def can_list_cases(staff: StaffMember) -> bool:
    """Officers, supervisors and admins see case lists (each within their administrations)."""
    return staff.role in ("officer", "supervisor", "admin")


def case_scope(staff: StaffMember) -> str | None:
    """The administration a case list is limited to; None for every administration."""
    if staff.role == "admin" or (staff.role == "supervisor" and staff.administration_code is None):
        return None
    return staff.administration_code or "\x00none"


def can_transfer(staff: StaffMember, administration_code: str | None) -> bool:
    """Whoever may move a case along may also pass it to another administration."""
    return _covers(staff, administration_code)


def can_circulate(staff: StaffMember, administration_code: str | None) -> bool:
    """Whoever may move a case along may pass it to another service of its administration."""
    return _covers(staff, administration_code)


def can_hold_cases(member: StaffMember, administration_code: str | None) -> bool:
    """Who a case may be assigned to: an officer or supervisor of its administration."""
    return member.role in ("officer", "supervisor") and _covers(member, administration_code)


def can_assign(staff: StaffMember, administration_code: str | None, *, to_self: bool) -> bool:
    """Supervisors and admins assign their administrations' cases to anyone who may hold them;
    an officer may only take one themselves."""
    if staff.role in ("supervisor", "admin"):
        return _covers(staff, administration_code)
    return staff.role == "officer" and to_self and _covers(staff, administration_code)


def can_see_workload(staff: StaffMember) -> bool:
    """Supervisors and admins see how many cases each officer holds."""
    return staff.role in ("supervisor", "admin")


def can_manage_staff(staff: StaffMember) -> bool:
    """Admins add staff, change roles and administrations, disable members and reset passwords."""
    return staff.role == "admin"


def can_see_identity(staff: StaffMember, administration_code: str | None, anonymous: bool) -> bool:
    """A citizen's identity: never for an anonymous case; otherwise to whoever may see the case."""
    return not anonymous and _covers(staff, administration_code)


def can_see_citizen(staff: StaffMember, anonymous: bool) -> bool:
    """Who a citizen in a conversation is (number, name, transcript): the call centre (agents,
    deployment-wide supervisors, admins) talks to them and sees it; staff bound to an administration
    never see a citizen who chose to stay anonymous (decree 1855/2017 in Egypt: only what was agreed)."""
    return not anonymous or staff.administration_code is None


def can_read_audit(staff: StaffMember) -> bool:
    """Supervisors and admins read the audit log."""
    return staff.role in ("supervisor", "admin")


def can_read_quarantine(staff: StaffMember) -> bool:
    """Admins and supervisors of the whole deployment see the work set aside after repeated failures
    (it spans every administration)."""
    return staff.role == "admin" or (staff.role == "supervisor" and staff.administration_code is None)
