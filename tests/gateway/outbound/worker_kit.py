"""Helpers for tests that run `hotline worker` as a real process: start it with a gateway's settings,
kill it (SIGKILL) or stop it (SIGTERM), and wait for conditions by polling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


class WorkerProcess:
    """One `python -m gateway.cli.main worker` process, its output in a log file of its own."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "worker"],
            env={**os.environ, "HOTLINE_LOG_LEVEL": "WARNING", **env}, cwd=REPO,
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL (kill -9): nothing in hand is finished, nothing is given back."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for it to finish what it has in hand; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        """The end of its log (for failure messages)."""
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


class Workers:
    """The worker processes a test started; all of them killed at its end, whatever happened."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[WorkerProcess] = []

    def start(self, env: Mapping[str, str]) -> WorkerProcess:
        """Start one more worker process."""
        worker = WorkerProcess(env, self.directory / f"worker-{len(self.started) + 1}.log")
        self.started.append(worker)
        return worker

    def logs(self) -> str:
        """The tails of every worker's log."""
        return "\n".join(f"--- worker {n} (pid {w.pid}) ---\n{w.log_tail()}" for n, w in enumerate(self.started, 1))

    def cleanup(self) -> None:
        """Kill the ones still running."""
        for worker in self.started:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait(timeout=10)


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               detail: Callable[[], str] | None = None, every: float = 0.05) -> float:
    """Poll `condition` until it holds (the seconds it took), or fail after `timeout` saying `what`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s" + (f"\n{detail()}" if detail else ""))
        time.sleep(every)
    return time.monotonic() - started
