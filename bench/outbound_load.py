"""Outbound benchmark: N status changes at once through the API, one `hotline worker`, the Twilio
emulator counting arrivals.

N citizens first file a complaint each over SMS (signed Twilio-shaped webhooks), and their cases are
taken in hand (`in_progress`, told too, not measured); then an officer's token answers all N cases at
once through `POST /api/v1/cases/{ref}/status`, 32 requests in flight.
Each answer tells the citizen (the answer, then the rating question) by SMS, through one worker
process. Printed: messages per second reaching the provider, and the delay from each status change
to its citizen's first message at the provider (p50, p95, max). Every citizen must receive each
message exactly once.

    .venv/bin/python bench/outbound_load.py --notices 150
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sms_load import DIALOGUE, HOTLINE, citizen_numbers, free_port, percentile, play, wait_http  # noqa: E402
from twilio_emulator import ACCOUNT_SID, AUTH_TOKEN  # noqa: E402

from gateway.cli.redis_server import start_redis  # noqa: E402


async def change_all(base_url: str, token: str, references: list[str], concurrency: int, status: str,
                     note: str) -> dict[str, float]:
    """Change every case's status through the API; when each request was sent (monotonic clock)."""
    sent: dict[str, float] = {}
    queue: asyncio.Queue[str] = asyncio.Queue()
    for reference in references:
        queue.put_nowait(reference)
    failures: list[str] = []

    async def officer(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            reference = queue.get_nowait()
            sent[reference] = time.monotonic()
            async with session.post(f"{base_url}/api/v1/cases/{reference}/status",
                                    json={"status": status, "note": note},
                                    headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status != 200:
                    failures.append(f"{reference}: HTTP {response.status} {await response.text()}")

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(officer(session) for _ in range(concurrency)))
    if failures:
        raise RuntimeError(f"{len(failures)} status changes failed, first: {failures[0]}")
    return sent


def counts(emulator_url: str) -> dict[str, int]:
    """How many messages the emulator accepted, and for how many recipients."""
    import urllib.request

    with urllib.request.urlopen(f"{emulator_url}/bench/count", timeout=10) as response:
        return json.loads(response.read())


def wait_until_told(emulator_url: str, before: int, citizens: int, timeout: float) -> None:
    """Wait for the first round of notices (cases are taken in hand before they can be answered)."""
    deadline = time.monotonic() + timeout
    while counts(emulator_url)["count"] - before < citizens:
        if time.monotonic() > deadline:
            raise RuntimeError("the 'in progress' notices did not all arrive")
        time.sleep(0.2)


def arrivals(emulator_url: str) -> list[dict]:
    """Every message the emulator accepted so far."""
    import urllib.request

    with urllib.request.urlopen(f"{emulator_url}/bench/messages", timeout=10) as response:
        return json.loads(response.read())


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=32, help="API requests in flight")
    parser.add_argument("--worker-concurrency", type=int, default=32, help="items the worker runs at once")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="hotline-outbound-"))
    redis_port, emulator_port, gateway_port = free_port(), free_port(), free_port()
    redis_process = start_redis(redis_port, workdir / "redis")
    database_url = os.environ.get("HOTLINE_DATABASE_URL") or f"sqlite:///{workdir}/bench.db"
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_BASE": emulator_url,
           "TWILIO_SMS_FROM": HOTLINE, "HOTLINE_LOG_LEVEL": "WARNING",
           "HOTLINE_QUEUE_PREFIX": "bench" + secrets.token_hex(3)}
    env.pop("HOTLINE_PUBLIC_URL", None)
    hotline = [sys.executable, "-m", "gateway.cli"]
    subprocess.run([*hotline, "migrate"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([*hotline, "staff", "add", "bench-officer", "--role", "admin"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    token = subprocess.run([*hotline, "staff", "token", "bench-officer"], env=env, check=True, cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    processes = [subprocess.Popen([sys.executable, str(ROOT / "bench" / "twilio_emulator.py"), str(emulator_port)],
                                  cwd=ROOT)]
    processes.append(subprocess.Popen([*hotline, "serve", "--port", str(gateway_port)], env=env, cwd=ROOT))
    worker = subprocess.Popen([*hotline, "worker", "--concurrency", str(args.worker_concurrency)], env=env, cwd=ROOT)
    processes.append(worker)
    try:
        base = f"http://127.0.0.1:{gateway_port}"
        wait_http(f"{base}/healthz")
        wait_http(f"{emulator_url}/bench/messages")
        numbers = citizen_numbers(args.notices)
        asyncio.run(play(base, numbers, 32, DIALOGUE))
        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT cases.reference, contacts.phone FROM cases JOIN contacts ON contacts.id = cases.contact_id"
            )).all()
        phone_of = {reference: phone for reference, phone in rows}
        before = len(arrivals(emulator_url))
        print(f"{len(phone_of)} cases filed over SMS; answering all of them at once "
              f"({args.concurrency} API requests in flight, 1 worker running {args.worker_concurrency} at once)")
        asyncio.run(change_all(base, token, list(phone_of), args.concurrency, "in_progress", ""))
        wait_until_told(emulator_url, before, len(phone_of), args.timeout)
        before = len(arrivals(emulator_url))
        started = time.monotonic()
        sent = asyncio.run(change_all(base, token, list(phone_of), args.concurrency, "answered",
                                      "Les ordures ont été ramassées ce matin."))
        api_done = time.monotonic()
        deadline = started + args.timeout
        settled_at, last_count = time.monotonic(), -1
        while time.monotonic() < deadline:
            count = counts(emulator_url)["count"] - before
            if count != last_count:
                settled_at, last_count = time.monotonic(), count
            elif count >= 2 * len(phone_of) and time.monotonic() - settled_at > 2.0:
                break  # nothing more for 2 s: anything sent twice would have arrived by now
            time.sleep(0.1)
        got = arrivals(emulator_url)[before:]
        by_citizen: dict[str, list[dict]] = defaultdict(list)
        for message in got:
            by_citizen[message["to"]].append(message)
        delays = [min(m["at"] for m in by_citizen[phone]) - sent[ref] for ref, phone in phone_of.items()
                  if by_citizen.get(phone)]
        last = max(m["at"] for m in got) if got else started
        rate = len(got) / (last - started) if got else 0.0
        print(f"status changes through the API: {len(sent)} in {api_done - started:.2f} s")
        print(f"messages at the provider: {len(got)} in {last - started:.2f} s = {rate:.0f} messages/s "
              "(from the first status change to the last arrival)")
        if len(got) > 1:
            first = min(m["at"] for m in got)
            print(f"worker's pace: {(len(got) - 1) / (last - first):.0f} messages/s "
                  f"(first to last arrival, {last - first:.2f} s)")
        if delays:
            print(f"status change -> provider: p50 {percentile(delays, 0.5):.3f} s  "
                  f"p95 {percentile(delays, 0.95):.3f} s  max {max(delays):.3f} s")
        expected = max((len(items) for items in by_citizen.values()), default=0)
        missing = [phone for phone in phone_of.values() if phone not in by_citizen]
        twice = [phone for phone, items in by_citizen.items()
                 if len({m["body"] for m in items}) != len(items) or len(items) != expected]
        if missing or twice:
            print(f"FAIL: {len(missing)} citizens were not told, {len(twice)} got a message twice or a wrong count")
            return 1
        print(f"check: each of the {len(phone_of)} citizens received its {expected} messages exactly once")
        return 0
    finally:
        for process in (*processes, redis_process):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
