"""The GeoReport v2 routes under `/open311/v2/`, each in XML and JSON (`services.xml`, `services.json`).

GET is public, as the spec has it; `POST requests` needs an API key (`hotline apikey add NAME`), and
every POST with a valid key is audited (`open311.request`, the key's name, the case filed or why not).
Only cases filed over Open311 are served: those of the citizen channels were told to an administration,
not published, and their references must stay unguessable (`core.references`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import MultiDict
from sqlalchemy.exc import SQLAlchemyError

from core import references
from core.lifecycle import ANSWERED, CLOSED, IN_PROGRESS, REJECTED, REOPENED
from core.store.public_cases import CaseQuery, public_cases, public_status_events
from gateway.keys import REDIS, RUNTIME, SETTINGS
from gateway.open311.filing import ORIGIN, file_submission, read_submission
from gateway.open311.published import request_item, update_item
from gateway.open311.queries import MAX_REQUESTS, Refusal, request_query, span_of
from gateway.open311.rendering import FORMATS, JSON_TYPE, XML_TYPE, render_errors, render_list, render_object
from gateway.open311.repeats import Repeats, fingerprint
from gateway.open311.services import jurisdiction_of, language_for, service_definition, service_list

BASE = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-04T00:00:00Z"
"""When this endpoint's description last changed (services follow the deployment's categories)."""
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
UPDATE_STATUSES = frozenset({IN_PROGRESS, ANSWERED, REJECTED, CLOSED, REOPENED})
"""The status changes a reporter's system follows (routing between administrations is internal)."""
UNAVAILABLE = "the service is unavailable for a moment; try again"

Handler = Callable[[web.Request, str], Awaitable[web.Response]]


def add_open311_routes(app: web.Application) -> None:
    """Register the GeoReport v2 routes, each in both formats."""
    for fmt in FORMATS:
        app.router.add_get(f"{BASE}/discovery.{fmt}", _in(fmt, get_discovery))
        app.router.add_get(f"{BASE}/services.{fmt}", _in(fmt, get_services))
        app.router.add_get(f"{BASE}/services/{{code:[^/]+}}.{fmt}", _in(fmt, get_service_definition))
        app.router.add_post(f"{BASE}/requests.{fmt}", _in(fmt, post_request))
        app.router.add_get(f"{BASE}/requests.{fmt}", _in(fmt, get_requests))
        app.router.add_get(f"{BASE}/requests/{{reference}}.{fmt}", _in(fmt, get_request))
        app.router.add_get(f"{BASE}/servicerequestupdates.{fmt}", _in(fmt, get_updates))


def _in(fmt: str, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def route(request: web.Request) -> web.Response:
        try:
            check_jurisdiction(request)
            return await handler(request, fmt)
        except Refusal as refusal:
            return render_errors(fmt, refusal.status, refusal.description)
        except SQLAlchemyError:
            return render_errors(fmt, 400, UNAVAILABLE)

    route.__doc__ = handler.__doc__
    return route


def check_jurisdiction(request: web.Request) -> None:
    """Refuse a `jurisdiction_id` in the query other than ours: the spec's 404 (a POST's form is checked by
    `read_submission`)."""
    given = request.query.get("jurisdiction_id", "").strip()
    if given and given != jurisdiction_of(request.app[RUNTIME].deployment):
        raise Refusal(404, f"jurisdiction_id {given[:64]!r} not found")


def _language(request: web.Request) -> str:
    return language_for(request.app[RUNTIME].deployment, request.query.get("locale", ""))


async def get_discovery(request: web.Request, fmt: str) -> web.Response:
    """The service discovery document: where the endpoint is and which formats it speaks."""
    public_url = request.app[SETTINGS].public_url or str(request.url.origin())
    document: dict[str, Any] = {
        "changeset": CHANGESET,
        "contact": request.app[RUNTIME].deployment.name,
        "key_service": "API keys for filing requests are issued by the hotline's administrators.",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": f"{public_url.rstrip('/')}{BASE}",
            "changeset": CHANGESET,
            "type": "production",
            "formats": [XML_TYPE, JSON_TYPE],
        }],
    }
    return render_object(fmt, "discovery", document)


async def get_services(request: web.Request, fmt: str) -> web.Response:
    """Every category as a service, named in the requested `locale`."""
    return render_list(fmt, "services", "service", service_list(request.app[RUNTIME].deployment, _language(request)))


async def get_service_definition(request: web.Request, fmt: str) -> web.Response:
    """One service's definition (it asks for no attributes)."""
    code = request.match_info["code"]
    category = request.app[RUNTIME].deployment.category(code)
    if category is None:
        raise Refusal(404, f"service_code {code[:64]!r} not found")
    return render_object(fmt, "service_definition", service_definition(category))


async def post_request(request: web.Request, fmt: str) -> web.Response:
    """File a case from a form-encoded service request; the answer is its reference."""
    if request.content_type not in FORM_TYPES:
        raise Refusal(400, "send the request form-encoded (application/x-www-form-urlencoded)")
    form = MultiDict((key, value) for key, value in (await request.post()).items() if isinstance(value, str))
    runtime = request.app[RUNTIME]
    key = (form.get("api_key") or request.query.get("api_key", "")).strip()
    client = await runtime.db(runtime.store.api_key_name, key)
    if client is None:
        raise Refusal(403, "Invalid api_key received -- can't proceed with create_request.")
    try:
        submission = read_submission(form, runtime.store)
    except Refusal as refusal:
        await runtime.db(runtime.store.audit, None, "open311.request", None,
                         {"key": client, "refused": refusal.description})
        raise
    repeats = Repeats(request.app[REDIS], request.app[SETTINGS].queue_prefix)
    known_as = fingerprint(client, form)
    reference = await repeats.claim(known_as)
    if reference is None:
        try:
            case = await runtime.db(file_submission, runtime.store, submission, client, datetime.now(UTC))
        except (SQLAlchemyError, ValueError):
            await repeats.release(known_as)
            raise Refusal(400, UNAVAILABLE) from None
        reference = case.reference
        await repeats.filed(known_as, reference)
        await runtime.db(runtime.store.audit, None, "open311.request", case.id, {"key": client, "filed": reference})
    else:
        found = await runtime.db(runtime.store.get_case, reference)
        await runtime.db(runtime.store.audit, None, "open311.request", found.id if found else None,
                         {"key": client, "repeated": reference})
    return render_list(fmt, "service_requests", "request", [{"service_request_id": reference}])


async def get_requests(request: web.Request, fmt: str) -> web.Response:
    """Requests by id, or by service, status and date range (the most recent 90 days, at most 1,000)."""
    runtime = request.app[RUNTIME]
    query = request_query(request.query, ORIGIN, datetime.now(UTC))
    found = await runtime.db(public_cases, runtime.store, query)
    language = _language(request)
    items = [request_item(case, runtime.deployment, language) for case in found]
    return render_list(fmt, "service_requests", "request", items)


async def get_request(request: web.Request, fmt: str) -> web.Response:
    """One request by its id (the case reference)."""
    runtime = request.app[RUNTIME]
    reference = references.parse(request.match_info["reference"])
    found = (await runtime.db(public_cases, runtime.store, CaseQuery(ORIGIN, references=[reference], limit=1))
             if reference else [])
    if not found:
        raise Refusal(404, f"service_request_id {request.match_info['reference'][:20]!r} not found")
    return render_list(fmt, "service_requests", "request",
                       [request_item(found[0], runtime.deployment, _language(request))])


async def get_updates(request: web.Request, fmt: str) -> web.Response:
    """FixMyStreet's service request updates: the status changes in a date range, oldest first."""
    runtime = request.app[RUNTIME]
    span = span_of(request.query, datetime.now(UTC))
    events = await runtime.db(public_status_events, runtime.store, ORIGIN, span.start, span.end, UPDATE_STATUSES,
                              MAX_REQUESTS)
    return render_list(fmt, "service_requests_updates", "request_update", [update_item(event) for event in events])
