"""The staff console (`/console/...`): server-rendered pages for call-centre agents and officers.

`add_console_routes` registers the pages, their form actions, the live (server-sent event) views and
the static assets (served by the gateway: no page loads anything from the internet). `desk_ctx`
opens the agents' desk and the clock that reminds silent citizens and closes stale conversations.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from gateway.dialogue.sessions import ContactBusy
from gateway.keys import CONSOLE_POLICY, DESK, LANES, PROCESSOR, REDIS, RUNTIME
from gateway.outbound.sweeper import raise_if_cancelled, release_lease, stop_task
from gateway.staff.desk import Desk

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def add_console_routes(app: web.Application) -> None:
    """Register the console's routes and its security headers."""
    from gateway.staff.console import admin_pages as admin
    from gateway.staff.console import casework_pages as casework
    from gateway.staff.console import views

    app[views.CLOSING] = asyncio.Event()
    app.on_shutdown.append(_closing)
    app.middlewares.append(_security_headers)
    r = app.router
    r.add_get("/console", views.home)
    r.add_get("/console/", views.home)
    r.add_get("/console/login", views.login_form)
    r.add_post("/console/login", views.login)
    r.add_post("/console/logout", views.logout)
    r.add_get("/console/queue", views.queue)
    r.add_get("/console/queue/events", views.queue_events)
    r.add_post("/console/queue/next", views.take_next)
    r.add_get("/console/conversations/{id}", views.conversation)
    r.add_get("/console/conversations/{id}/events", views.conversation_events)
    r.add_post("/console/conversations/{id}/takeover", views.takeover)
    r.add_post("/console/conversations/{id}/messages", views.write)
    r.add_post("/console/conversations/{id}/messages/{message_id}/retry", views.retry)
    r.add_post("/console/conversations/{id}/case", views.file_case)
    r.add_post("/console/conversations/{id}/handback", views.hand_back)
    r.add_post("/console/conversations/{id}/close", views.close)
    r.add_post("/console/conversations/{id}/callback", views.call_back)
    r.add_get("/console/cases", casework.cases)
    r.add_get("/console/cases.csv", casework.export)
    r.add_get("/console/cases/{reference}", casework.case)
    r.add_post("/console/cases/{reference}/status", casework.case_status)
    r.add_post("/console/cases/{reference}/notes", casework.case_note)
    r.add_post("/console/cases/{reference}/transfer", casework.case_transfer)
    r.add_post("/console/cases/{reference}/circulate", casework.case_circulate)
    r.add_post("/console/cases/{reference}/assign", casework.case_assign)
    r.add_post("/console/cases/{reference}/duplicate-of", casework.case_duplicate_of)
    r.add_get("/console/notifications", casework.notifications)
    r.add_post("/console/notifications/read", casework.notifications_read)
    r.add_get("/console/workload", casework.workload)
    r.add_get("/console/audit", casework.audit)
    r.add_get("/console/statistics", casework.statistics)
    r.add_get("/console/statistics.csv", casework.statistics_export)
    r.add_get("/console/admin/staff", admin.staff_list)
    r.add_post("/console/admin/staff", admin.staff_add)
    r.add_post("/console/admin/staff/{username}", admin.staff_update)
    r.add_post("/console/admin/staff/{username}/password", admin.staff_password)
    r.add_get("/console/admin/reference", admin.reference_data)
    r.add_get("/console/media/{id}", views.media)
    r.add_static("/console/static", STATIC, append_version=False)


async def _closing(app: web.Application) -> None:
    from gateway.staff.console import views

    app[views.CLOSING].set()


@web.middleware
async def _security_headers(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    response = await handler(request)
    if request.path.startswith(("/console", "/public")):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/console") and not request.path.startswith("/console/static"):
            response.headers.setdefault("Cache-Control", "no-store")
    return response


async def desk_ctx(app: web.Application) -> AsyncIterator[None]:
    """The agents' desk, and its clock (reminders, stalls, stale conversations) while the app runs."""
    processor = app[PROCESSOR]
    desk = Desk(app[RUNTIME], processor.sessions, app[LANES], app[CONSOLE_POLICY])
    app[DESK] = desk
    task = asyncio.create_task(_clock(desk, app))
    yield
    await stop_task(task)


async def _clock(desk: Desk, app: web.Application) -> None:
    """Every `policy.sweep_interval`: one process (a Redis lock elects it) ticks silent sessions and
    closes stale conversations."""
    client = app[REDIS]
    key = f"{desk.prefix}:console:clock"
    failures = 0
    while True:
        await asyncio.sleep(desk.policy.sweep_interval.total_seconds() * min(2 ** failures, 12))
        try:
            if not await client.set(key, "1", nx=True, ex=60):
                continue
            try:
                await desk.sweep_idle()
                await desk.close_stale()
            finally:
                await release_lease(client, key)
            failures = 0
        except Exception as exc:  # the clock must outlive any one bad round: logged, then backed off
            raise_if_cancelled()
            failures += 1
            expected = isinstance(exc, RedisError | SQLAlchemyError | OSError | ContactBusy)
            log.warning("console clock skipped a round (%s): %s", type(exc).__name__, exc, exc_info=not expected)
