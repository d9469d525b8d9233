"""Login-flood benchmark: SMS webhook latency while clients post wrong console passwords.

`hotline serve` runs as its own process on real Redis and SQLite (or HOTLINE_DATABASE_URL), behind a
"proxy" it trusts (127.0.0.1, `HOTLINE_TRUSTED_PROXIES`). Citizens play whole SMS dialogues (signed as
Twilio signs them) twice: quiet, then while `--clients` clients flood `/console/login` with wrong
passwords for a real admin (or, with `--unknown-usernames`, for a new made-up username each time). By
default each attempt claims a new address in `X-Forwarded-For` (a distributed flood: nothing is
throttled, every attempt costs an argon2 check); `--one-address` floods from one address, which the
per-address throttle soon refuses without hashing. Printed: webhook p50/p95 quiet and under the flood,
the flood's answers, and whether the admin still signs in afterwards.

    .venv/bin/python bench/login_flood.py --citizens 40 --concurrency 4 --clients 6
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sms_load import DIALOGUE, TOKEN, citizen_numbers, free_port, percentile, play, wait_http  # noqa: E402

from gateway.cli.redis_server import start_redis  # noqa: E402

ADMIN = "bench-admin"
PASSWORD = "bench correct horse battery staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(session: aiohttp.ClientSession, base_url: str, username: str, password: str,
                  forwarded: str | None = None) -> int:
    """Post the sign-in form once (opening it first); the answer's status."""
    async with session.get(base_url + "/console/login") as form:
        token = CSRF.search(await form.text())
    assert token is not None, "no CSRF token on the sign-in form"
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    async with session.post(base_url + "/console/login", allow_redirects=False, headers=headers,
                            data={"csrf": token.group(1), "username": username, "password": password}) as answer:
        await answer.read()
        return answer.status


async def flood(base_url: str, clients: int, one_address: bool, unknown: bool, stop: asyncio.Event) -> Counter[int]:
    """`clients` clients posting wrong passwords until `stop`; the answers' statuses."""
    answers: Counter[int] = Counter()

    async def client() -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            while not stop.is_set():
                forwarded = "203.0.113.9" if one_address else (
                    f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}")
                username = "nobody-" + secrets.token_hex(4) if unknown else ADMIN
                answers[await sign_in(session, base_url, username, secrets.token_hex(8), forwarded)] += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return answers


async def under_flood(base_url: str, numbers: list[str], concurrency: int, clients: int, one_address: bool,
                      unknown: bool) -> tuple[list[float], float, Counter[int], float]:
    """The dialogues played while the flood runs: latencies, wall time, the flood's answers and its span."""
    stop = asyncio.Event()
    flooding = asyncio.create_task(flood(base_url, clients, one_address, unknown, stop))
    await asyncio.sleep(1.0)
    started = time.perf_counter()
    latencies, wall = await play(base_url, numbers, concurrency, DIALOGUE)
    stop.set()
    answers = await flooding
    return latencies, wall, answers, time.perf_counter() - started + 1.0


def line(label: str, latencies: list[float]) -> str:
    """One line of webhook figures."""
    return (f"{label:<24} {len(latencies):>5} webhooks  p50 {percentile(latencies, 0.50) * 1000:7.1f} ms  "
            f"p95 {percentile(latencies, 0.95) * 1000:7.1f} ms  max {max(latencies) * 1000:7.1f} ms")


async def admin_signs_in(base_url: str) -> bool:
    """Whether the admin, from an address of their own, still gets a session."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        return await sign_in(session, base_url, ADMIN, PASSWORD, "198.51.100.20") == 303


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=40, help="dialogues per phase")
    parser.add_argument("--concurrency", type=int, default=4, help="citizens texting at a time")
    parser.add_argument("--clients", type=int, default=6, help="clients flooding the sign-in form")
    parser.add_argument("--one-address", action="store_true", help="flood from one address (throttled)")
    parser.add_argument("--unknown-usernames", action="store_true", help="a new made-up username per attempt")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="hotline-login-flood-"))
    redis_port, gateway_port = free_port(), free_port()
    redis_process = start_redis(redis_port, workdir / "redis")
    database_url = os.environ.get("HOTLINE_DATABASE_URL") or f"sqlite:///{workdir}/bench.db"
    env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "HOTLINE_LOG_LEVEL": "WARNING",
           "HOTLINE_QUEUE_PREFIX": "bench" + secrets.token_hex(3), "HOTLINE_TRUSTED_PROXIES": "127.0.0.1"}
    env.pop("HOTLINE_PUBLIC_URL", None)
    hotline = [sys.executable, "-m", "gateway.cli"]
    subprocess.run([*hotline, "migrate"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([*hotline, "staff", "add", ADMIN, "--role", "admin", "--password-stdin"], env=env, check=True,
                   cwd=ROOT, input=PASSWORD + "\n", text=True, stdout=subprocess.DEVNULL)
    gateway = subprocess.Popen([*hotline, "serve", "--port", str(gateway_port)], env=env, cwd=ROOT)
    try:
        base_url = f"http://127.0.0.1:{gateway_port}"
        wait_http(base_url + "/healthz")
        numbers = citizen_numbers(3 * args.citizens)
        asyncio.run(play(base_url, numbers[: args.citizens // 2 or 1], args.concurrency, DIALOGUE))
        quiet, _ = asyncio.run(play(base_url, numbers[args.citizens: 2 * args.citizens], args.concurrency, DIALOGUE))
        flooded, _, answers, span = asyncio.run(under_flood(base_url, numbers[2 * args.citizens:], args.concurrency,
                                                            args.clients, args.one_address,
                                                            args.unknown_usernames))
        kind = "one address" if args.one_address else "a new address per attempt"
        kind += ", made-up usernames" if args.unknown_usernames else f", username {ADMIN}"
        print(f"{args.citizens} citizens x {len(DIALOGUE)} messages, {args.concurrency} at a time, store "
              f"{database_url.split(':')[0]}, {os.cpu_count()} cores; flood: {args.clients} clients, {kind}")
        print(line("quiet", quiet))
        print(line("under the login flood", flooded))
        total = sum(answers.values())
        print(f"flood: {total} attempts in {span:.1f} s ({total / span:.1f}/s), answers "
              f"{dict(sorted(answers.items()))}")
        ratio = percentile(flooded, 0.95) / percentile(quiet, 0.95)
        print(f"p95 under the flood / quiet: {ratio:.2f}x")
        signed_in = asyncio.run(admin_signs_in(base_url))
        print(f"the admin signs in from elsewhere afterwards: {'yes' if signed_in else 'NO'}")
        return 0 if signed_in else 1
    finally:
        for process in (gateway, redis_process):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
