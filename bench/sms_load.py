"""Load generator: many citizens completing whole SMS complaint dialogues against `hotline serve`.

Every request is signed as Twilio signs it and shaped like Twilio's inbound SMS. The gateway runs as
its own process(es) on real Redis, once per store (`--stores`: SQLite, and PostgreSQL in a database
the benchmark makes) and process count asked (`--processes`: `hotline serve --processes N`); the
same number of requests then goes to a bare aiohttp handler in the same run, for the ratio. After
each run every citizen must have exactly one case. With `--rounds N` every configuration is played N
times, the configurations taking turns, and the medians are printed with PostgreSQL's share of
SQLite's throughput: on a shared machine one run's figures move by a quarter or more.

    .venv/bin/python bench/sms_load.py --citizens 400 --concurrency 32 --stores sqlite,postgresql \\
        --processes 1,2 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.cli.redis_server import redis_answers, start_redis  # noqa: E402

TOKEN = "bench-auth-token"
HOTLINE = "+212522000111"
DIALOGUE = [
    "Bonjour, j'ai une plainte",
    "1",
    "1",
    "Les ordures ne sont pas ramassées depuis une semaine devant l'école",
    "Rue 12, quartier Al Wifaq",
    "Karim",
    "1",
]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Block until `url` answers over HTTP."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def citizen_numbers(count: int) -> list[str]:
    """Distinct valid Moroccan mobile numbers."""
    import phonenumbers

    numbers: list[str] = []
    serial = 0
    while len(numbers) < count:
        candidate = f"+2126{61000000 + serial:08d}"
        serial += 1
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            numbers.append(candidate)
    return numbers


async def play(base_url: str, numbers: list[str], concurrency: int, dialogue: list[str]) -> tuple[list[float], float]:
    """Every citizen sends the dialogue in order (one message after the answer to the previous);
    `concurrency` citizens at a time. Returns each request's latency and the wall time."""
    validator = RequestValidator(TOKEN)
    url = base_url + "/webhooks/twilio/sms"
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for number in numbers:
        queue.put_nowait(number)
    failures: list[str] = []

    async def citizen(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            number = queue.get_nowait()
            for body in dialogue:
                sid = "SM" + secrets.token_hex(16)
                form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": number,
                        "To": HOTLINE, "Body": body, "NumMedia": "0", "NumSegments": "1", "ApiVersion": "2010-04-01"}
                signature = validator.compute_signature(url, form)
                started = time.perf_counter()
                async with session.post(url, data=form, headers={"X-Twilio-Signature": signature}) as response:
                    await response.read()
                    if response.status != 200:
                        failures.append(f"{number}: HTTP {response.status}")
                latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(citizen(session) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, first: {failures[0]}")
    return latencies, wall


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used (Linux /proc), or None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class Figures:
    """One run's figures (latencies in ms; CPU per message in µs, where measured)."""

    rate: float
    p50: float
    p95: float
    p99: float
    cpu_us: float | None = None


def report(label: str, latencies: list[float], wall: float) -> Figures:
    """Print one line of figures and return them."""
    rate = len(latencies) / wall
    figures = Figures(rate, *(percentile(latencies, share) * 1000 for share in (0.50, 0.95, 0.99)))
    print(f"{label:<28} {len(latencies):>7} msgs {wall:7.2f} s {rate:9.0f} msg/s   "
          f"p50 {figures.p50:6.2f} ms  p95 {figures.p95:6.2f} ms  "
          f"p99 {figures.p99:6.2f} ms  mean {statistics.fmean(latencies) * 1000:6.2f} ms")
    return figures


def summary(runs: dict[str, list[Figures]]) -> None:
    """The median of each configuration's runs, and PostgreSQL's throughput as a share of SQLite's
    for each process count."""
    print(f"medians of {max(len(found) for found in runs.values())} rounds:")
    medians = {}
    for label, found in runs.items():
        cpu = [f.cpu_us for f in found if f.cpu_us is not None]
        medians[label] = statistics.median(f.rate for f in found)
        p50, p95, p99 = (statistics.median(getattr(f, name) for f in found) for name in ("p50", "p95", "p99"))
        print(f"{label:<28} {medians[label]:9.0f} msg/s   p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms"
              + (f"  CPU per message {statistics.median(cpu):.0f} us" if cpu else ""))
    for label, rate in medians.items():
        if label.startswith("postgresql, "):
            sqlite = medians.get(label.replace("postgresql, ", "sqlite, ", 1))
            if sqlite:
                print(f"{label}: {rate / sqlite * 100:.0f} % of SQLite's throughput")


def fresh_postgres(server_url: str, name: str) -> str:
    """A new, empty database `name` on the PostgreSQL server of `server_url`; its URL."""
    from sqlalchemy.engine import make_url

    server = create_engine(server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def one_case_each(database_url: str, numbers: list[str]) -> dict[str, int]:
    """The citizens who do not have exactly one case, with how many they have."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT a.value, COUNT(cases.id) FROM contact_addresses a "
            "LEFT JOIN cases ON cases.contact_id = a.contact_id WHERE a.kind = 'phone' GROUP BY a.value")).all()
    engine.dispose()
    counts = {phone: count for phone, count in rows}
    return {n: counts.get(n, 0) for n in numbers if counts.get(n, 0) != 1}


def measure(label: str, database_url: str, processes: int, redis_url: str, args: argparse.Namespace) -> Figures:
    """One gateway (`processes` of it on one port) on `database_url`: warm up, play, report, check."""
    env = {**os.environ, "HOTLINE_DATABASE_URL": database_url, "HOTLINE_REDIS_URL": redis_url,
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "HOTLINE_LOG_LEVEL": "WARNING",
           "HOTLINE_QUEUE_PREFIX": "bench" + secrets.token_hex(3)}
    env.pop("HOTLINE_PUBLIC_URL", None)
    hotline = [sys.executable, "-m", "gateway.cli"]
    subprocess.run([*hotline, "migrate"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    port = free_port()
    gateway = subprocess.Popen([*hotline, "serve", "--port", str(port), "--processes", str(processes)], env=env,
                               cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        time.sleep(1.0 if processes > 1 else 0)
        numbers = citizen_numbers(args.citizens + args.warmup)
        warm, measured = numbers[: args.warmup], numbers[args.warmup:]
        asyncio.run(play(f"http://127.0.0.1:{port}", warm, args.concurrency, DIALOGUE))
        cpu_before = cpu_seconds(gateway.pid) if processes == 1 else None
        latencies, wall = asyncio.run(play(f"http://127.0.0.1:{port}", measured, args.concurrency, DIALOGUE))
        cpu_after = cpu_seconds(gateway.pid) if processes == 1 else None
        figures = report(label, latencies, wall)
        if cpu_before is not None and cpu_after is not None:
            figures = replace(figures, cpu_us=(cpu_after - cpu_before) / len(latencies) * 1e6)
            print(f"{'':<28} gateway CPU per message: {figures.cpu_us:.0f} us")
        wrong = one_case_each(database_url, numbers)
        if wrong:
            raise RuntimeError(f"{len(wrong)} citizens do not have exactly one case, e.g. {list(wrong.items())[:3]}")
        return figures
    finally:
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(timeout=30)


def main() -> int:
    """Run the benchmark and print its figures: every store and process count asked, then the bare
    handler, in one run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=20, help="citizens played first and not counted")
    parser.add_argument("--stores", default="sqlite", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--processes", default="1", help="comma-separated gateway process counts, e.g. 1,2")
    parser.add_argument("--rounds", type=int, default=1, help="times each configuration is played, taking turns")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server where the benchmark may create its databases")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    redis_process = None
    redis_url = os.environ.get("HOTLINE_REDIS_URL")
    if not redis_url or not redis_answers(redis_url):
        redis_port = free_port()
        redis_process = start_redis(redis_port, workdir / "redis")
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_server.py"), str(bare_port)], cwd=ROOT)
    print(f"{args.citizens} citizens x {len(DIALOGUE)} messages, {args.concurrency} at a time, "
          f"on {os.cpu_count()} cores")
    try:
        runs: dict[str, list[Figures]] = {}
        for round_number in range(1, args.rounds + 1):
            for store in [name.strip() for name in args.stores.split(",") if name.strip()]:
                for processes in [int(n) for n in args.processes.split(",") if n.strip()]:
                    name = f"hotline_bench_{store}_{processes}_{round_number}"
                    database_url = (fresh_postgres(args.postgres_url, name) if store == "postgresql"
                                    else f"sqlite:///{workdir}/{name}.db")
                    label = f"{store}, {processes} process{'es' if processes > 1 else ''}"
                    runs.setdefault(label, []).append(measure(label, database_url, processes, redis_url, args))
        wait_http(f"http://127.0.0.1:{bare_port}/")
        bare_latencies, bare_wall = asyncio.run(play(f"http://127.0.0.1:{bare_port}",
                                                     citizen_numbers(args.citizens), args.concurrency, DIALOGUE))
        report("bare aiohttp handler", bare_latencies, bare_wall)
        if args.rounds > 1:
            summary(runs)
        print("check: in every run each citizen has exactly one case")
        return 0
    finally:
        for process in (bare, redis_process):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
