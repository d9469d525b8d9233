"""Live console views follow Redis pub/sub: two gateway processes on one database and one Redis, a
queue and a transcript open on the first, the citizen writing through the second. Each change
reaches the open views within moments, and a view asks the database only when something changed."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPResponse
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.fixtures.redis_server import free_port
from tests.gateway.outbound.worker_kit import wait_until
from tests.support import inbound_sms, post_signed, random_mobile, twiml_messages

TOKEN = "live-auth-token"
PUBLIC_URL = "https://hotline.commune.example"
HOTLINE = "+212522000111"
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CHECKS = re.compile(r'hotline_console_live_checks_total\{view="(\w+)"\} (\d+(?:\.\d+)?)')


@dataclass
class Processes:
    """Two `hotline serve` processes sharing a database and Redis."""

    urls: tuple[str, str]

    def citizen_says(self, through: int, phone: str, body: str) -> list[str]:
        """An SMS posted, signed as Twilio signs it, to one of the two processes."""
        answer = post_signed(self.urls[through], "/webhooks/twilio/sms", inbound_sms(phone, HOTLINE, body), TOKEN,
                             PUBLIC_URL)
        assert answer.status_code == 200, answer.text
        return twiml_messages(answer.text)

    def checks(self, on: int) -> dict[str, float]:
        """The live views' database checks so far, per view, on one process (`/metrics`)."""
        text = requests.get(self.urls[on] + "/metrics", timeout=10).text
        return {view: float(count) for view, count in CHECKS.findall(text)}


def hotline(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    """Run one `hotline` command to completion."""
    subprocess.run([sys.executable, "-m", "gateway.cli", *args], env=env, input=stdin, text=True, check=True,
                   stdout=subprocess.DEVNULL, timeout=120)


@pytest.fixture
def processes(fresh_database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Processes]:
    env = {**os.environ, "HOTLINE_DATABASE_URL": fresh_database_url, "HOTLINE_REDIS_URL": redis_url,
           "HOTLINE_QUEUE_PREFIX": "live-" + secrets.token_hex(3), "HOTLINE_MEDIA_DIR": str(tmp_path / "media"),
           "HOTLINE_PUBLIC_URL": PUBLIC_URL, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
           "TWILIO_SMS_FROM": HOTLINE, "HOTLINE_LOG_LEVEL": "WARNING"}
    env.pop("HOTLINE_SERVE_CHILD", None)
    hotline("migrate", env=env)
    hotline("staff", "add", "agent1", "--role", "agent", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    ports = (free_port(), free_port())
    started = [subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    urls = (f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}")
    try:
        for url in urls:
            wait_until(lambda url=url: _answers(url), 60, f"{url} answering")
        yield Processes(urls)
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def signed_in(url: str) -> requests.Session:
    """An agent's browser session on one process."""
    http = requests.Session()
    token = CSRF.search(http.get(url + "/console/login?lang=fr", timeout=10).text)
    assert token is not None
    answer = http.post(url + "/console/login", data={"csrf": token.group(1), "username": "agent1",
                                                     "password": PASSWORD}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text
    return http


class Stream:
    """A server-sent event stream read on a thread of its own: its `update` events, in order. (On a
    socket of its own, so that closing it does not wait for the next keep-alive.)"""

    def __init__(self, http: requests.Session, url: str) -> None:
        parts = urlsplit(url)
        self.connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in http.cookies)
        self.connection.request("GET", parts.path, headers={"Cookie": cookies, "Accept": "text/event-stream"})
        response = self.connection.getresponse()
        assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        self.updates: queue.Queue[dict] = queue.Queue()
        self.reader = threading.Thread(target=self._read, args=(response,), daemon=True)
        self.reader.start()

    def _read(self, response: HTTPResponse) -> None:
        event = ""
        try:
            while line := response.readline():
                text = line.decode("utf-8").rstrip("\n")
                if text.startswith("event: "):
                    event = text[len("event: "):]
                elif text.startswith("data: ") and event == "update":
                    self.updates.put(json.loads(text[len("data: "):]))
        except (OSError, ValueError, HTTPException):  # closed by the test
            pass
        finally:
            self.connection.close()

    def next_update(self, timeout: float = 15.0) -> dict:
        return self.updates.get(timeout=timeout)

    def quiet(self, seconds: float) -> bool:
        """Whether no update came for `seconds`."""
        try:
            self.updates.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        """Cut the stream; the reader closes the connection as it ends."""
        sock = self.connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.reader.join(timeout=10)


def test_a_view_on_one_process_follows_changes_made_through_the_other(processes: Processes) -> None:
    agent = signed_in(processes.urls[0])
    live_queue = Stream(agent, processes.urls[0] + "/console/queue/events")
    try:
        first = live_queue.next_update()
        phone = random_mobile()
        assert live_queue.quiet(2.5), "nothing changed, nothing sent"
        idle = processes.checks(on=0)
        time.sleep(2.0)
        assert processes.checks(on=0) == idle, "an open view does not ask the database while nothing changes"

        processes.citizen_says(1, phone, "Bonjour")
        processes.citizen_says(1, phone, "je veux parler à quelqu'un")
        update = live_queue.next_update()
        assert update["version"] != first["version"]
        conversation = re.search(r'/console/conversations/(\d+)', update["html"])
        assert conversation is not None, update["html"]
        assert processes.checks(on=0)["queue"] > idle["queue"]
    finally:
        live_queue.close()

    transcript = Stream(agent, processes.urls[0] + f"/console/conversations/{conversation.group(1)}/events")
    try:
        before = transcript.next_update()
        assert "Lampadaire" not in before["html"]
        processes.citizen_says(1, phone, "Lampadaire éteint devant le numéro 12")
        after = transcript.next_update()
        assert "Lampadaire éteint devant le numéro 12" in after["html"]
    finally:
        transcript.close()
