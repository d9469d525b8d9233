"""The `hotline` command: serve, worker, run (everything on one machine), staff, apikey, case, demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gateway.cli.redis_server import RedisUnavailable, ensure_redis
from gateway.redis_clients import sync_client_for
from gateway.settings import Settings

log = logging.getLogger("hotline")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="Complaints hotline gateway")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="the gateway (webhooks, API, console)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--processes", type=int, default=1,
                       help="gateway processes sharing the port (SO_REUSEPORT; default 1)")

    worker = commands.add_parser("worker", help="the worker: sends, status notices, downloads")
    worker.add_argument("--burst", action="store_true", help="stop when nothing is left to do now")
    worker.add_argument("--concurrency", type=int, default=32, help="items worked on at once (default 32)")

    run = commands.add_parser("run", help="Redis (started if none answers), a worker and the gateway")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8080)
    run.add_argument("--processes", type=int, default=1, help="gateway processes sharing the port (default 1)")

    commands.add_parser("migrate", help="create or upgrade the database schema")
    check = commands.add_parser("check-config", help="validate the YAML and the environment; say what is missing")
    check.add_argument("--connect", action="store_true", help="also reach the database (migrated?) and Redis")
    check.add_argument("--json", action="store_true", help="the findings as one JSON object")

    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(dest="staff_command", required=True)
    add = staff.add_parser("add", help="add a staff member")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["agent", "officer", "supervisor", "admin"])
    add.add_argument("--administration", default=None, help="administration code (required for officers)")
    add.add_argument("--password-stdin", action="store_true", help="read a console password from stdin")
    token = staff.add_parser("token", help="print a new bearer token for the JSON API")
    token.add_argument("username")
    apikey = commands.add_parser("apikey", help="API keys of Open311 clients").add_subparsers(
        dest="apikey_command", required=True)
    apikey.add_parser("add", help="print a new key for a named client (shown once)").add_argument("name")
    apikey.add_parser("revoke", help="revoke a client's key").add_argument("name")

    contact = commands.add_parser("contact", help="citizens").add_subparsers(dest="contact_command", required=True)
    contact.add_parser("erase", help="erase everything of a citizen who asks (law 09-08, 151/2020)").add_argument(
        "phone")
    case = commands.add_parser("case", help="cases").add_subparsers(dest="case_command", required=True)
    show = case.add_parser("show", help="show a case")
    show.add_argument("reference")
    show.add_argument("--json", action="store_true", help="one JSON object")
    set_status = case.add_parser("set-status", help="change a case's status; the citizen is told")
    set_status.add_argument("reference")
    set_status.add_argument("status")
    set_status.add_argument("--note", required=True)
    set_status.add_argument("--actor", default=os.environ.get("USER") or "operator")

    demo = commands.add_parser("demo", help="chat with the bot in the terminal as if over SMS")
    demo.add_argument("--phone", default="+212600000001", help="the citizen's number")
    demo.add_argument("--to", default="", help="the hotline number written to")
    telegram = commands.add_parser("telegram", help="the Telegram bot's webhook").add_subparsers(
        dest="telegram_command", required=True)
    set_webhook = telegram.add_parser("set-webhook", help="register the webhook with the secret token")
    set_webhook.add_argument("--url", default="", help="default: HOTLINE_PUBLIC_URL + /webhooks/telegram")
    telegram.add_parser("delete-webhook", help="remove the webhook")
    webhooks = commands.add_parser("webhooks", help="register a channel's webhook with its provider").add_subparsers(
        dest="webhooks_command", required=True)
    register = webhooks.add_parser("set", help="register HOTLINE_PUBLIC_URL + the channel's route (or --url)")
    register.add_argument("channel")
    register.add_argument("--url", default="")
    webhooks.add_parser("delete", help="remove the registration").add_argument("channel")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hotline` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get("HOTLINE_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    handler = {
        "serve": _serve, "worker": _worker, "run": _run, "migrate": _migrate,
        "staff": _staff, "apikey": _apikey, "case": _case, "demo": _demo, "telegram": _telegram,
        "webhooks": _webhooks, "check-config": _check_config, "contact": _contact,
    }[args.command]
    try:
        return handler(settings, args)
    except RedisUnavailable as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from gateway.http.app import create_app
    from gateway.runtime import build_runtime

    if args.processes < 1:
        print("hotline: --processes is at least 1", file=sys.stderr)
        return 2
    runtime = build_runtime(settings)
    if args.processes > 1:
        runtime.close()
        return _serve_processes(args)
    app = create_app(settings, runtime)
    app.on_startup.append(_freeze_startup_objects)
    web.run_app(app, host=args.host, port=args.port, access_log=None, reuse_port=bool(os.environ.get(_CHILD)),
                print=lambda text: log.info("%s", text.strip()), loop=_event_loop())
    runtime.close()
    return 0


_CHILD = "HOTLINE_SERVE_CHILD"
"""Set in the processes `--processes` starts: they share the port (`SO_REUSEPORT`)."""


def _serve_processes(args: argparse.Namespace) -> int:
    """Run `args.processes` gateway processes on one port, the kernel spreading connections between
    them (SO_REUSEPORT); a process that dies is started again, SIGTERM or SIGINT stops them all.
    Nothing a process keeps is needed by the next request (sessions, locks and work are in Redis, the
    rest in SQL), so any of them may answer any request. The database is migrated once, before."""
    command = [sys.executable, "-m", "gateway.cli", "serve", "--host", args.host, "--port", str(args.port)]
    env = {**os.environ, _CHILD: "1"}
    children = [subprocess.Popen(command, env=env) for _ in range(args.processes)]
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving on %s:%s with %s processes", args.host, args.port, args.processes)
    while not stopping:
        for index, child in enumerate(children):
            if child.poll() is not None and not stopping:
                log.warning("gateway process %s ended (%s): starting another", child.pid, child.returncode)
                time.sleep(1)
                children[index] = subprocess.Popen(command, env=env)
        time.sleep(0.5)
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


async def _freeze_startup_objects(app: Any) -> None:
    """Move everything built at start-up (modules, configuration, SQLAlchemy's compiled statements)
    out of the collector's reach: a full collection then scans only what requests create, instead of
    pausing every request in flight for tens of milliseconds."""
    import gc

    gc.collect()
    gc.freeze()


def _event_loop() -> Any:
    """uvloop where it is installed (Linux, macOS): a faster loop for sockets; asyncio's otherwise."""
    import asyncio

    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.outbound.worker import serve_worker

    loop = _event_loop()
    try:
        loop.run_until_complete(serve_worker(settings, burst=args.burst, concurrency=args.concurrency))
    finally:
        loop.close()
    return 0


def _run(settings: Settings, args: argparse.Namespace) -> int:
    redis_process = ensure_redis(settings.redis_url, Path("var/redis"))
    if redis_process is not None:
        log.info("started a local redis-server for %s (data in var/redis)", settings.redis_url)
    _migrate(settings, args)
    worker = subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"])
    try:
        return _serve(settings, args)
    finally:
        for process in (worker, redis_process):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def _check_config(settings: Settings, args: argparse.Namespace) -> int:
    """Say what is missing before anything starts (gateway/cli/check_config.py); 1 when something is."""
    from gateway.cli.check_config import check_config

    return check_config(settings, connect=args.connect, as_json=args.json)


def _store(settings: Settings) -> Any:
    from gateway.runtime import build_runtime

    return build_runtime(settings).store


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    log.info("database ready at %s", store.engine.url.render_as_string(hide_password=True))
    return 0


def _staff(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    if args.staff_command == "add":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
        try:
            store.add_staff(args.username, args.role, args.administration, password)
        except ValueError as exc:
            print(f"hotline: {exc}", file=sys.stderr)
            return 1
        print(f"added {args.username} ({args.role})")
        return 0
    try:
        print(store.issue_token(args.username))
    except LookupError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 1
    return 0


def _apikey(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    if args.apikey_command == "add":
        try:
            print(store.add_api_key(args.name))
        except ValueError as exc:
            print(f"hotline: {exc}", file=sys.stderr)
            return 1
        return 0
    if not store.revoke_api_key(args.name):
        print(f"hotline: no live API key named {args.name!r}", file=sys.stderr)
        return 1
    print(f"revoked {args.name}")
    return 0


def _contact(settings: Settings, args: argparse.Namespace) -> int:
    """Erase a citizen: their cases keep only what the statistics need."""
    from datetime import UTC, datetime

    from core.phones import normalize_phone
    from gateway.erasure import erase_citizen
    from gateway.redis_clients import async_client_for
    from gateway.runtime import build_runtime

    runtime = build_runtime(settings)
    phone = normalize_phone(args.phone, settings.region or runtime.deployment.default_region)
    if phone is None:
        print(f"hotline: {args.phone!r} is not a phone number", file=sys.stderr)
        return 1

    async def erase() -> Any:
        client = async_client_for(settings)
        try:
            return await erase_citizen(runtime, client, phone, datetime.now(UTC))
        finally:
            await client.aclose()

    erased = asyncio.run(erase())
    if erased is None:
        print(f"hotline: nobody has the number {phone}", file=sys.stderr)
        return 1
    print(f"erased {phone}: {len(erased.cases)} cases kept without personal data, {len(erased.files)} files deleted")
    return 0


def _case(settings: Settings, args: argparse.Namespace) -> int:
    from core import references

    store = _store(settings)
    reference = references.parse(args.reference)
    if reference is None:
        print(f"hotline: {args.reference!r} is not a valid case reference (10 digits, check digit)",
              file=sys.stderr)
        return 1
    if args.case_command == "show":
        document = store.case_document(reference)
        if document is None:
            print(f"hotline: no case {references.display(reference)}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(document, ensure_ascii=False))
        else:
            print(_case_text(document))
        return 0
    return _set_status(settings, store, reference, args)


def _set_status(settings: Settings, store: Any, reference: str, args: argparse.Namespace) -> int:
    from core.lifecycle import InvalidTransition
    from core.references import display
    from core.store.case_store import CaseNotFound
    from gateway.staff.case_actions import change_status

    connection = sync_client_for(settings)
    try:
        change = change_status(store, connection, settings.queue_prefix, reference, args.status, args.actor,
                               args.note)
    except CaseNotFound:
        print(f"hotline: no case {display(reference)}", file=sys.stderr)
        return 1
    except InvalidTransition as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 1
    print(f"{display(reference)}: {change.previous} -> {change.case.status}")
    return 0


def _case_text(document: dict[str, Any]) -> str:
    from core.references import display

    contact = document.get("contact") or {}
    location = document.get("location") or {}
    lines = [
        f"Case {display(document['reference'])}  [{document['status']}]",
        f"  category: {document['category']}  administration: {document['administration']}",
        f"  channel: {document['origin_channel']}  language: {document['language']}  "
        f"anonymous: {document['anonymous']}",
        f"  contact: {contact.get('name') or '-'} {' '.join(contact.get('addresses', {}).values())}",
        f"  where: {location.get('text') or '-'}",
        f"  description: {document['description']}",
        f"  rating: {document.get('rating') or '-'}",
        "  events:",
    ]
    for event in document.get("events", []):
        note = f" - {event['note']}" if event.get("note") else ""
        lines.append(f"    {event['at']}  {event['kind']:<8} {event.get('status') or '':<12} "
                     f"{event.get('actor') or ''}{note}")
    return "\n".join(lines)


def _telegram(settings: Settings, args: argparse.Namespace) -> int:
    """`hotline telegram set-webhook|delete-webhook`: `hotline webhooks` for the Telegram bot."""
    from gateway.cli.webhooks import delete_webhook, set_webhook

    if args.telegram_command == "set-webhook":
        return set_webhook(settings, "telegram", args.url)
    return delete_webhook(settings, "telegram")


def _webhooks(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.cli.webhooks import delete_webhook, set_webhook

    if args.webhooks_command == "set":
        return set_webhook(settings, args.channel, args.url)
    return delete_webhook(settings, args.channel)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from gateway.cli.demo import run_demo

    redis_process = ensure_redis(settings.redis_url, Path("var/redis"))
    try:
        return asyncio.run(run_demo(settings, args.phone, args.to))
    finally:
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)

