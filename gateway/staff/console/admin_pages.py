"""The console's admin pages: staff (add, role, administration, disable, reset password) and the
reference data (administrations, their services, categories, deadlines).

Reference data is read from the deployment's YAML (`HOTLINE_CONFIG`), which an operator keeps under
version control and reviews; the page shows what is in force rather than editing it, so that the
file and the running gateway never disagree. Every change to staff is audited.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from core import access
from gateway.keys import RUNTIME
from gateway.staff.console.views import Page, form_fields, redirect, signed_in


async def _staff_page(request: web.Request, page: Page, status: int = 200, problem: str | None = None,
                      kept: dict[str, str] | None = None, new_password: str | None = None) -> web.Response:
    runtime = request.app[RUNTIME]
    members = await runtime.db(runtime.store.all_staff)
    return page.render("admin_staff.html", status, members=members, roles=access.ROLES, form_problem=problem,
                       kept=kept or {}, new_password=new_password,
                       administrations=page.names(runtime.deployment.administrations),
                       admin_names=dict(page.names(runtime.deployment.administrations)))


@signed_in(access.can_manage_staff)
async def staff_list(request: web.Request, page: Page) -> web.StreamResponse:
    """Every member, with their role, administration and whether they are disabled."""
    return await _staff_page(request, page)


def _refusal_key(message: str) -> str:
    """The catalog key of a refusal the store gave as a `ValueError`."""
    for needle, key in (("already exists", "username_taken"), ("1 to 64", "username_required"),
                        ("needs an administration", "administration_required"), ("unknown role", "unknown_role"),
                        ("unknown administration", "unknown_administration"), ("at least 10", "password_short"),
                        ("no staff member", "unknown_member")):
        if needle in message:
            return key
    return "not_allowed"


@signed_in(access.can_manage_staff, post=True)
async def staff_add(request: web.Request, page: Page) -> web.StreamResponse:
    """Add a member with a password of at least 10 characters."""
    assert page.staff is not None
    form = await form_fields(request)
    runtime = request.app[RUNTIME]
    username, role = form.get("username", "").strip(), form.get("role", "")
    administration = form.get("administration", "").strip() or None
    password = form.get("password", "")
    kept = {"form": "add", "username": username, "role": role, "administration": administration or ""}
    try:
        if len(password) < 10:
            raise ValueError("a password is at least 10 characters")
        member = await runtime.blocking(runtime.store.add_staff, username, role, administration, password)
    except ValueError as exc:
        return await _staff_page(request, page, 400, page.refusal(_refusal_key(str(exc)), str(exc)), kept)
    await runtime.db(runtime.store.audit, page.staff.id, "staff.add", None,
                     {"username": member.username, "role": role, "administration": administration})
    raise redirect("/console/admin/staff", notice="saved")


@signed_in(access.can_manage_staff, post=True)
async def staff_update(request: web.Request, page: Page) -> web.StreamResponse:
    """Change a member's role and administration, disable or enable them (not oneself)."""
    assert page.staff is not None
    username = request.match_info["username"]
    form = await form_fields(request)
    runtime = request.app[RUNTIME]
    disabled = form.get("disabled") == "1"
    kept = {"form": "update", "member": username}
    if username == page.staff.username and (disabled or form.get("role") != page.staff.role):
        return await _staff_page(request, page, 409, page.t("refused_not_yourself"), kept)
    try:
        await runtime.db(lambda: runtime.store.update_staff(
            username, role=form.get("role", ""), administration_code=form.get("administration", "").strip() or None,
            disabled=disabled))
    except ValueError as exc:
        return await _staff_page(request, page, 400, page.refusal(_refusal_key(str(exc)), str(exc)), kept)
    await runtime.db(runtime.store.audit, page.staff.id, "staff.update", None,
                     {"username": username, "role": form.get("role", ""), "disabled": disabled,
                      "administration": form.get("administration", "") or None})
    raise redirect("/console/admin/staff", notice="saved")


@signed_in(access.can_manage_staff, post=True)
async def staff_password(request: web.Request, page: Page) -> web.StreamResponse:
    """Give a member a new random password, shown once to the admin who hands it over."""
    assert page.staff is not None
    username = request.match_info["username"]
    runtime = request.app[RUNTIME]
    password = secrets.token_urlsafe(12)
    try:
        await runtime.blocking(runtime.store.set_password, username, password)
    except ValueError as exc:
        return await _staff_page(request, page, 404, page.refusal(_refusal_key(str(exc)), str(exc)))
    await runtime.db(runtime.store.audit, page.staff.id, "staff.password_reset", None, {"username": username})
    return await _staff_page(request, page, new_password=page.t("new_password", user=username, password=password))


@signed_in(access.can_manage_staff)
async def reference_data(request: web.Request, page: Page) -> web.StreamResponse:
    """Administrations with their services, categories with where they go and their deadlines."""
    deployment = request.app[RUNTIME].deployment
    return page.render("admin_reference.html", deployment=deployment,
                       admin_names=dict(page.names(deployment.administrations)))
