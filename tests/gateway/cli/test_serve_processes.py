"""`hotline serve --processes 2`: two gateway processes share one port (SO_REUSEPORT), each answering
requests on its own; one that dies is started again; SIGTERM stops them all."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.fixtures.redis_server import free_port
from tests.gateway.outbound.worker_kit import wait_until


def answering(url: str) -> set[int]:
    """The processes that answered 60 fresh connections to `/healthz` (empty while none answers)."""
    seen = set()
    for _ in range(60):
        try:
            response = requests.get(url + "/healthz", timeout=5, headers={"Connection": "close"})
        except requests.ConnectionError:
            continue
        if response.status_code == 200:
            seen.add(response.json()["process"])
    return seen


def test_two_processes_share_the_port(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    env = {**os.environ, "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}", "HOTLINE_REDIS_URL": redis_url,
           "HOTLINE_QUEUE_PREFIX": "procs-" + secrets.token_hex(3), "HOTLINE_MEDIA_DIR": str(tmp_path / "media")}
    env.pop("HOTLINE_SERVE_CHILD", None)
    parent = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--processes", "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        pids: set[int] = set()

        def both() -> bool:
            pids.update(answering(url))
            return len(pids) >= 2

        wait_until(both, 60, "both processes answering")
        assert parent.pid not in pids, "the supervisor itself serves nothing"
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        fresh: set[int] = set()

        def replaced() -> bool:
            fresh.update(answering(url) - pids)
            return bool(fresh)

        wait_until(replaced, 60, "a new process in place of the one that died")
        assert victim not in answering(url)
    finally:
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
    try:
        requests.get(url + "/healthz", timeout=2)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("a gateway process outlived SIGTERM")
