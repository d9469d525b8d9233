"""The aiohttp application: webhooks of every registered channel, health, metrics, the JSON API and
the staff console.

Shared resources are typed `AppKey`s opened in `cleanup_ctx`, so each is closed only if it was opened.
A webhook handler stays short: verify, parse, hand each message to the inbound processor, reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from channels.base import CallChannel, ChannelAdapter, HttpRequest, SubscriptionCheck, implements
from channels.registry import REGISTRY
from core.store.agent_queue import ConsolePolicy
from gateway.dialogue.sessions import SessionStore
from gateway.http import metrics
from gateway.inbound.call_routes import add_call_routes
from gateway.inbound.processing import InboundProcessor
from gateway.keys import CONSOLE_POLICY, LANES, LIVE, PROCESSOR, REDIS, RUNTIME, SETTINGS, SYNC_REDIS
from gateway.live import LiveFeed
from gateway.open311.georeport import add_open311_routes
from gateway.outbound.counters import SharedCounters, SnapshotCollector
from gateway.outbound.lanes import WorkLanes
from gateway.outbound.queues import queue_fallback
from gateway.outbound.sweeper import SweepPolicy, stop_task, sweep_forever
from gateway.public.pages import add_public_routes
from gateway.redis_clients import async_client_for, sync_client_for
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings
from gateway.staff.api.common import MAX_ID, error
from gateway.staff.api.routes import add_api_routes
from gateway.staff.console import add_console_routes, desk_ctx

log = logging.getLogger(__name__)


MAX_WEBHOOK_BYTES = 256 * 1024
"""Twilio posts at most a few kilobytes; anything far larger is refused before it is parsed."""
UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
"""The charsets a body may declare: providers and browsers send UTF-8 (of which ASCII is a part)."""
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_SURROGATE = re.compile("[\ud800-\udfff]")
"""How aiohttp keeps a header's bytes that are not UTF-8 (`surrogateescape`)."""
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""What no browser puts in a form field a person typed (tab and line breaks aside)."""


def create_app(
    settings: Settings, runtime: Runtime | None = None, *, sweep: SweepPolicy | None = None,
    console: ConsolePolicy | None = None,
) -> web.Application:
    """The gateway application. Pass `runtime` to share one already built (tests, the demo)."""
    app = web.Application(client_max_size=MAX_WEBHOOK_BYTES, middlewares=[refuse_unreadable])
    app[SETTINGS] = settings
    app[CONSOLE_POLICY] = console or ConsolePolicy.from_env(settings.env)
    app.cleanup_ctx.append(_runtime_ctx(runtime))
    app.cleanup_ctx.append(_redis_ctx)
    app.cleanup_ctx.append(_sweeper_ctx(sweep or SweepPolicy()))
    app.cleanup_ctx.append(desk_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus_metrics)
    REGISTRY.check()
    status_routes: set[str] = set()
    for name in REGISTRY.names():
        adapter_class = REGISTRY.adapter_class(name)
        if implements(adapter_class, CallChannel):
            add_call_routes(app, name, adapter_class.webhook_path, adapter_class.call_steps)
        else:
            app.router.add_post(adapter_class.webhook_path, _webhook_handler(name))
        if implements(adapter_class, SubscriptionCheck):
            app.router.add_get(adapter_class.webhook_path, _subscription_handler(name))
        if adapter_class.status_path and adapter_class.status_path not in status_routes:
            status_routes.add(adapter_class.status_path)
            app.router.add_post(adapter_class.status_path, _status_handler(name))
    add_api_routes(app)
    add_open311_routes(app)
    add_public_routes(app)
    add_console_routes(app)
    return app


def _runtime_ctx(given: Runtime | None):
    async def context(app: web.Application) -> AsyncIterator[None]:
        runtime = given or await asyncio.to_thread(build_runtime, app[SETTINGS])
        runtime.bind_loop()
        app[RUNTIME] = runtime
        yield
        await runtime.release_loop()
        if given is None:
            for adapter in runtime.adapters.values():
                await adapter.aclose()
            runtime.close()

    return context


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    client = async_client_for(settings)
    app[REDIS] = client
    app[SYNC_REDIS] = sync_client_for(settings)
    runtime = app[RUNTIME]
    sessions = SessionStore(client, settings.queue_prefix)
    app[LANES] = WorkLanes(client, settings.queue_prefix)
    app[PROCESSOR] = InboundProcessor(runtime, sessions, client, app[LANES])
    feed = app[LIVE] = LiveFeed(client, settings.queue_prefix)
    listener = asyncio.create_task(feed.listen())
    runtime.store.announce = feed.announce
    yield
    if runtime.store.announce == feed.announce:
        runtime.store.announce = None
    await stop_task(listener)
    await feed.aclose()
    await client.aclose()
    app[SYNC_REDIS].close()


def _sweeper_ctx(policy: SweepPolicy):
    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(sweep_forever(app[PROCESSOR], policy))
        yield
        await stop_task(task)

    return context


@web.middleware
async def refuse_unreadable(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Refuse, on every route and before any handler (or signature check) reads it, a request no handler
    could use: a header that is not UTF-8 (400); an id in the path no row can have (not ASCII digits, or
    past the store's 32-bit ids: 404 before SQL sees it); a body in a charset other than UTF-8 (415), of
    bytes that are not UTF-8, a form or multipart body that does not parse, a compressed body that
    does not decompress, or a console form with control characters (400). Refusals of headers and
    bodies are logged once at WARNING, without a traceback."""
    if request.match_info.http_exception is not None:
        return await handler(request)
    if any(_SURROGATE.search(value) for value in request.headers.values()):
        return refused(request, 400, "a header that is not UTF-8")
    if not all(_is_id(value) for key, value in request.match_info.items() if key == "id" or key.endswith("_id")):
        if request.path.startswith("/api/"):
            return error(404, "not_found", "no such id")
        return web.Response(status=404, text="not found\n")
    if not request.body_exists:
        return await handler(request)
    charset = (request.charset or "").lower()
    if charset and charset not in UTF8_CHARSETS:
        return refused(request, 415, f"charset {charset[:40]!r} is not UTF-8")
    try:
        form = await request.post() if request.content_type in FORM_TYPES else {}
        if request.content_type != "multipart/form-data":
            (await request.read()).decode("utf-8")
    except web.RequestPayloadError as exc:
        # aiohttp reads what is left of a body before the next request, and would fail (with a
        # traceback) on this one again: it is over, and so is the connection.
        request.content.feed_eof()
        response = refused(request, 400, f"undecodable body ({' '.join(str(exc).split())[:120]})")
        response.force_close()
        return response
    except (UnicodeDecodeError, LookupError, ValueError) as exc:
        return refused(request, 400, f"undecodable body ({type(exc).__name__}: {str(exc)[:120]})")
    if request.path.startswith("/console/") and any(
            isinstance(value, str) and _CONTROL.search(value) for value in form.values()):
        return refused(request, 400, "control characters in a console form")
    return await handler(request)


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 10 and int(value) <= MAX_ID


def refused(request: web.Request, status: int, reason: str, body: str = "") -> web.Response:
    """A short 4xx for a request we cannot use, logged once at WARNING (no traceback): the API's JSON
    error shape under `/api/`, else `body` or a stable line of text."""
    log.warning("refused %s %r with %s: %s", request.method, request.path, status, reason)
    if request.path.startswith("/webhooks/"):
        metrics.REJECTED.labels(request.path).inc()
    if request.path.startswith("/api/"):
        code = "unsupported_media_type" if status == 415 else "bad_request"
        return error(status, code, "send UTF-8 JSON" if status == 415 else reason)
    text = body or ("unsupported media type\n" if status == 415 else "bad request\n")
    return web.Response(status=status, text=text)


async def http_request(request: web.Request) -> HttpRequest:
    """The plain-data view of a request that channel adapters verify and parse (its body was found
    decodable by `refuse_unreadable`)."""
    form = await request.post() if request.content_type in FORM_TYPES else {}
    body = b"" if form else await request.read()
    return HttpRequest(
        url=str(request.url),
        method=request.method,
        headers=request.headers,
        form={k: v for k, v in form.items() if isinstance(v, str)},
        body=body,
    )


def _webhook_handler(channel: str):
    async def handler(request: web.Request) -> web.Response:
        started = time.perf_counter()
        app = request.app
        adapter: ChannelAdapter = app[RUNTIME].adapter(channel)
        incoming = await http_request(request)
        if not adapter.verify(incoming, app[SETTINGS].public_url):
            metrics.REJECTED.labels(request.path).inc()
            return web.Response(status=403, text="forbidden\n")
        try:
            messages = adapter.parse(incoming)
        except ValueError as exc:
            return refused(request, 400, str(exc)[:200])
        inline = adapter.capabilities.synchronous_reply
        replies = []
        for message in messages:
            result = await app[PROCESSOR].process(message, reply_inline=inline)
            replies.extend(result.replies)
        reply = adapter.acknowledge(incoming, replies)
        metrics.WEBHOOKS.labels(request.path).observe(time.perf_counter() - started)
        return web.Response(status=reply.status, body=reply.body.encode(), content_type=reply.content_type,
                            charset="utf-8")

    return handler


def _subscription_handler(channel: str):
    """The provider's GET on a webhook route, verifying it is ours before it posts (`SubscriptionCheck`)."""
    async def handler(request: web.Request) -> web.Response:
        adapter = request.app[RUNTIME].adapter(channel)
        assert isinstance(adapter, SubscriptionCheck)
        query = {key: request.query.get(key, "") for key in request.query}
        reply = adapter.verify_subscription(query)
        if reply.status >= 400:
            metrics.REJECTED.labels(request.path).inc()
        return web.Response(status=reply.status, body=reply.body.encode(), content_type=reply.content_type,
                            charset="utf-8")

    return handler


def _status_handler(channel: str):
    async def handler(request: web.Request) -> web.Response:
        app = request.app
        adapter: ChannelAdapter = app[RUNTIME].adapter(channel)
        incoming = await http_request(request)
        if not adapter.verify(incoming, app[SETTINGS].public_url):
            metrics.REJECTED.labels(request.path).inc()
            return web.Response(status=403, text="forbidden\n")
        update = adapter.parse_status(incoming)
        if update is None:
            return refused(request, 400, "not a status callback", "not a status callback\n")
        runtime = app[RUNTIME]
        await runtime.db(runtime.store.apply_delivery_status, update.provider_message_id, update.status,
                         update.error_code, opted_out=update.opted_out)
        if update.status in ("failed", "undelivered"):
            with contextlib.suppress(RedisError, OSError):  # the report is kept; only the SMS fallback waits
                await queue_fallback(app[LANES], update.provider_message_id)
        metrics.DELIVERY.labels(update.status).inc()
        return web.Response(status=204)

    return handler


async def healthz(request: web.Request) -> web.Response:
    """200 when the store and Redis both answer, 503 naming the one that does not; `process` says
    which of the gateway's processes answered (`hotline serve --processes N`)."""
    runtime = request.app[RUNTIME]
    checks = {"database": "ok", "redis": "ok"}

    def ping_database() -> None:
        with runtime.store.read() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await runtime.db(ping_database)
    except SQLAlchemyError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await request.app[REDIS].ping()
    except (RedisError, OSError) as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return web.json_response({"status": "ok" if healthy else "degraded", **checks, "process": os.getpid()},
                             status=200 if healthy else 503)


async def prometheus_metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition: this process's metrics, and what the workers counted in Redis
    with the lanes' depth and age (left out, not failed, while Redis is away)."""
    body = generate_latest()
    try:
        snapshot = await SharedCounters(request.app[REDIS], request.app[SETTINGS].queue_prefix).snapshot()
    except (RedisError, OSError) as exc:
        log.warning("shared metrics unavailable: %s", exc)
    else:
        registry = CollectorRegistry()
        registry.register(SnapshotCollector(snapshot))
        body += generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
