"""The public pages are tested against a console gateway of their own (the staff tests' fixture)."""

from tests.gateway.staff.conftest import console

__all__ = ["console"]
