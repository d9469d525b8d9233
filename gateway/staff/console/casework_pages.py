"""The console's casework: case lists (search, filters, "my cases", CSV export), a case with its forms
(status, note, circulation between services, assignment, transfer), notifications, the workload per
officer, the audit log and the statistics.

The pages read and act through the same code as the JSON API (`gateway.staff.api.case_routes`, the
store's casework), so both refuse alike. A refused form shows the page again, with the refusal in the
page's language next to the form and what was typed still in it (never a bare error page).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from channels.registry import REGISTRY
from core import access, lifecycle, references
from core.lifecycle import KINDS
from core.records import CaseRecord
from core.statistics import GROUPS
from core.store.casework import COUNT_CAP
from gateway.keys import RUNTIME, SYNC_REDIS
from gateway.public.pages import statistics_charts
from gateway.staff.api.case_routes import case_filter, case_view, found_cases, workload_scope
from gateway.staff.api.export import EXPORT_LIMIT, csv_response
from gateway.staff.api.statistics_routes import statistics_csv, statistics_document, statistics_query
from gateway.staff.case_actions import change_status
from gateway.staff.console.views import Page, form_fields, redirect, signed_in
from gateway.staff.desk import Refused


@signed_in(access.can_list_cases)
async def cases(request: web.Request, page: Page) -> web.StreamResponse:
    """The cases the staff member may see: free text, filters, "my cases", the export link."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    problem = None
    try:
        given = case_filter(page.staff, request.query)
    except Refused as refused:
        if refused.status == 403:
            raise
        problem = page.refusal(refused.code, page.t("refused_bad_filter"))
        given = case_filter(page.staff, {})
    total, found = await found_cases(runtime, given)
    deployment = runtime.deployment
    return page.render(
        "cases.html", 400 if problem else 200, cases=found, total=min(total, COUNT_CAP), capped=total > COUNT_CAP,
        q=dict(request.query), problem=problem,
        statuses=lifecycle.STATUSES, categories=page.names(deployment.categories), channels=REGISTRY.names(),
        category_names=dict(page.names(deployment.categories)), services=_service_names(page),
        export_query=request.query_string, pages=_pages(request, total, given.limit, given.offset),
    )


def _pages(request: web.Request, total: int, limit: int, offset: int) -> dict[str, str]:
    """Links to the previous and next page of a list (those that exist: past the count's cap, there
    is a next page as long as this one is full)."""
    links = {}
    if offset > 0:
        links["previous"] = "?" + urlencode({**request.query, "offset": str(max(0, offset - limit))})
    if offset + limit < total or total > COUNT_CAP:
        links["next"] = "?" + urlencode({**request.query, "offset": str(offset + limit)})
    return links


@signed_in(access.can_list_cases)
async def export(request: web.Request, page: Page) -> web.StreamResponse:
    """The filtered list as CSV (what `GET /api/v1/cases.csv` answers)."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    given = dataclasses.replace(case_filter(page.staff, request.query), limit=EXPORT_LIMIT, offset=0)
    _, found = await found_cases(runtime, given)
    await runtime.db(runtime.store.audit, page.staff.id, "case.export", None,
                     {"rows": len(found), "query": dict(request.query), "via": "console"})
    return csv_response(found, runtime.deployment.timezone)


def _service_names(page: Page) -> dict[tuple[str, str], str]:
    """(administration, service) -> the service's name in the page's language."""
    deployment = page.request.app[RUNTIME].deployment
    return {(a.code, s.code): s.name(page.lang) for a in deployment.administrations for s in a.services}


@signed_in()
async def case(request: web.Request, page: Page) -> web.StreamResponse:
    """One case: facts, description, photos, place, timeline, and the forms its viewer may use."""
    return await _case_page(request, page, request.match_info["reference"])


async def _case_page(request: web.Request, page: Page, raw_reference: str, status: int = 200,
                     problem: str | None = None, kept: dict[str, str] | None = None) -> web.Response:
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    document, record = await case_view(runtime, page.staff, raw_reference, "console")
    files = await runtime.db(runtime.store.case_attachments, record.id)
    deployment = runtime.deployment
    administration = deployment.administration(record.administration_code)
    suggestions = []
    if access.can_change_status(page.staff, record.administration_code):
        suggestions = [c for c in await runtime.db(runtime.store.duplicate_suggestions, record.reference)
                       if access.can_view_case(page.staff, c.administration_code)]
    holders = []
    if access.can_assign(page.staff, record.administration_code, to_self=False):
        holders = [w.staff.username for w in await runtime.db(runtime.store.workload, record.administration_code)]
    return page.render(
        "case.html", status, d=document, files=files, form_problem=problem, kept=kept or {},
        can_change=access.can_change_status(page.staff, record.administration_code),
        can_take=access.can_assign(page.staff, record.administration_code, to_self=True)
        and document["assignee"] != page.staff.username,
        holders=holders, open=record.status in lifecycle.OPEN_STATUSES,
        services=[(s.code, s.name(page.lang)) for s in administration.services] if administration else [],
        service_names=_service_names(page), category_names=dict(page.names(deployment.categories)),
        admin_names=dict(page.names(deployment.administrations)),
        administrations=page.names(deployment.administrations), kinds=KINDS, suggestions=suggestions,
    )


async def _changeable(request: web.Request, page: Page) -> CaseRecord:
    """The case a form acts on: 404 unless the member may see it, 403 unless they may change it."""
    assert page.staff is not None
    reference = references.parse(request.match_info["reference"])
    runtime = request.app[RUNTIME]
    record = await runtime.db(runtime.store.get_case, reference) if reference else None
    if record is None or not access.can_view_case(page.staff, record.administration_code):
        raise Refused(404, "not_found", "no such case")
    if not access.can_change_status(page.staff, record.administration_code):
        raise Refused(403, "forbidden", "not your administration's case")
    return record


async def _act(request: web.Request, page: Page, form_name: str, required: tuple[str, ...],
               act: Callable[[str, dict[str, str]], Any], *, blocking: bool = False) -> web.StreamResponse:
    """Run a case form's action (`act(reference, form)`: a store call, or with `blocking` one that also
    uses a blocking client, kept off the event loop); saved, back to the case; refused, the page again
    with the refusal next to the form and the input kept."""
    record = await _changeable(request, page)
    form = {key: value.strip()[:4000] for key, value in (await form_fields(request)).items() if key != "csrf"}
    kept = {"form": form_name, **form}
    missing = next((name for name in required if not form.get(name)), None)
    if missing is not None:
        return await _case_page(request, page, record.reference, 400, page.t(f"refused_{missing}_required"), kept)
    runtime = request.app[RUNTIME]
    try:
        await (runtime.blocking if blocking else runtime.db)(act, record.reference, form)
    except lifecycle.InvalidTransition as exc:
        return await _case_page(request, page, record.reference, 409, page.refusal(exc.key, str(exc)), kept)
    raise redirect(f"/console/cases/{record.reference}", notice="saved")


@signed_in(access.can_list_cases, post=True)
async def case_status(request: web.Request, page: Page) -> web.StreamResponse:
    """Change the status (answered and rejected need the reasoned text); the citizen is told."""
    assert page.staff is not None
    runtime, who = request.app[RUNTIME], page.staff.username
    return await _act(request, page, "status", ("status",), lambda reference, form: change_status(
        runtime.store, request.app[SYNC_REDIS], runtime.settings.queue_prefix, reference, form["status"], who,
        form.get("note", "")), blocking=True)


@signed_in(access.can_list_cases, post=True)
async def case_note(request: web.Request, page: Page) -> web.StreamResponse:
    """Add an internal note."""
    assert page.staff is not None
    store, who = request.app[RUNTIME].store, page.staff.username
    return await _act(request, page, "note", ("note",),
                      lambda reference, form: store.add_note(reference, who, form["note"]))


@signed_in(access.can_list_cases, post=True)
async def case_transfer(request: web.Request, page: Page) -> web.StreamResponse:
    """Transfer the case to another administration with a reason."""
    assert page.staff is not None
    store, who = request.app[RUNTIME].store, page.staff.username
    return await _act(request, page, "transfer", ("administration", "reason"), lambda reference, form:
                      store.transfer_case(reference, form["administration"], who, form["reason"]))


@signed_in(access.can_list_cases, post=True)
async def case_circulate(request: web.Request, page: Page) -> web.StreamResponse:
    """Pass the case to another service of its administration with a reason."""
    assert page.staff is not None
    store, who = request.app[RUNTIME].store, page.staff.username
    return await _act(request, page, "circulate", ("service", "reason"), lambda reference, form:
                      store.circulate_case(reference, form["service"], who, form["reason"]))


@signed_in(access.can_list_cases, post=True)
async def case_assign(request: web.Request, page: Page) -> web.StreamResponse:
    """Assign the case (supervisors: to anyone who may hold it; officers: to themselves)."""
    assert page.staff is not None
    record = await _changeable(request, page)
    to_self = (await form_fields(request)).get("staff", "").strip() == page.staff.username
    if not access.can_assign(page.staff, record.administration_code, to_self=to_self):
        raise Refused(403, "forbidden", "officers take cases themselves; supervisors assign them")
    store, who = request.app[RUNTIME].store, page.staff.username
    return await _act(request, page, "assign", ("staff",), lambda reference, form:
                      store.assign_case(reference, form["staff"], who, form.get("note", "")))


@signed_in(access.can_list_cases, post=True)
async def case_duplicate_of(request: web.Request, page: Page) -> web.StreamResponse:
    """Mark the case as another's duplicate (a reference), or take it out (an empty one)."""
    assert page.staff is not None
    runtime, who = request.app[RUNTIME], page.staff.username
    staff = page.staff

    def mark(reference: str, form: dict[str, str]) -> Any:
        typed = form.get("reference") or form.get("suggested")
        if not typed:
            return runtime.store.unmark_duplicate(reference, who)
        original = references.parse(typed)
        found = runtime.store.get_case(original) if original else None
        if found is None or not access.can_view_case(staff, found.administration_code):
            raise lifecycle.InvalidTransition("no case with this reference", "unknown_original")
        return runtime.store.mark_duplicate(reference, found.reference, who)

    return await _act(request, page, "duplicate", (), mark)


# -- notifications, workload, audit ----------------------------------------------------------------


@signed_in()
async def notifications(request: web.Request, page: Page) -> web.StreamResponse:
    """The member's reminders, overdue alerts and step-ins, newest first."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    found = await runtime.db(runtime.store.notifications_for, page.staff.id)
    return page.render("notifications.html", notifications=found)


@signed_in(post=True)
async def notifications_read(request: web.Request, page: Page) -> web.StreamResponse:
    """Mark every notification read."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    await runtime.db(runtime.store.mark_notifications_read, page.staff.id, datetime.now(UTC))
    raise redirect("/console/notifications", notice="saved")


@signed_in(access.can_see_workload)
async def workload(request: web.Request, page: Page) -> web.StreamResponse:
    """Open and overdue cases per officer: who to give the next case to."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    scope = workload_scope(page.staff, request.query)
    loads = await runtime.db(runtime.store.workload, scope)
    return page.render("workload.html", loads=loads, scope=scope,
                       admin_names=dict(page.names(runtime.deployment.administrations)),
                       administrations=page.names(runtime.deployment.administrations))


@signed_in(access.can_read_audit)
async def audit(request: web.Request, page: Page) -> web.StreamResponse:
    """Who did or viewed what, newest first, within the supervisor's administrations."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    entries = await runtime.db(runtime.store.audit_entries, None, 200, access.case_scope(page.staff))
    names = await runtime.db(runtime.store.usernames, {e["staff_id"] for e in entries if e["staff_id"]})
    return page.render("audit.html", entries=entries, names=names)


# -- statistics ------------------------------------------------------------------------------------


@signed_in(access.can_read_audit)
async def statistics(request: web.Request, page: Page) -> web.StreamResponse:
    """The national portal's figures for a period and scope, with their charts (supervisors, admins)."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    deployment = runtime.deployment
    asked = statistics_query(page.staff, request.query)
    charted = {group: await statistics_document(runtime, dataclasses.replace(asked, group_by=group))
               for group in ("month", "administration")}
    if asked.group_by in charted:
        document = charted[asked.group_by]
    elif asked.group_by is None:
        document = {**charted["month"], "group_by": None, "groups": []}
    else:
        document = await statistics_document(runtime, asked)
    by_month, by_administration = charted["month"], charted["administration"]
    admin_names = dict(page.names(deployment.administrations))
    charts = statistics_charts(page.t, page.lang, by_month["groups"], by_administration["groups"],
                               lambda row: admin_names.get(row["key"], row["key"] or page.t("routed_by_hand")))
    labels = {"administration": admin_names, "category": dict(page.names(deployment.categories)),
              "channel": {name: page.channel_name(name) for name in REGISTRY.names()}}
    return page.render("statistics.html", d=document, charts=charts, q=dict(request.query), groups=GROUPS,
                       kinds=KINDS, labels=labels, service_names=_service_names(page),
                       administrations=page.names(deployment.administrations),
                       categories=page.names(deployment.categories), channels=REGISTRY.names(),
                       export_query=request.query_string)


@signed_in(access.can_read_audit)
async def statistics_export(request: web.Request, page: Page) -> web.StreamResponse:
    """The figures as CSV (what `GET /api/v1/statistics.csv` answers)."""
    assert page.staff is not None
    runtime = request.app[RUNTIME]
    asked = statistics_query(page.staff, request.query)
    totals, groups = await runtime.db(runtime.store.statistics, asked, datetime.now(UTC))
    return statistics_csv(totals, groups, asked.group_by == "service")
