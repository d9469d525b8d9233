"""The `hotline` command as an operator uses it: the local Redis starter, the demo chat."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.cli.redis_server import RedisUnavailable, ensure_redis, redis_answers
from tests.fixtures.gateway import Gateway
from tests.fixtures.redis_server import free_port


def test_starts_a_local_redis_when_none_answers(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert not redis_answers(url)
    process = ensure_redis(url, tmp_path / "redis")
    try:
        assert process is not None and redis_answers(url)
        assert ensure_redis(url, tmp_path / "redis") is None, "an answering Redis is used as it is"
    finally:
        assert process is not None
        process.terminate()
        process.wait(timeout=10)


def test_a_remote_redis_that_does_not_answer_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RedisUnavailable, match=r"192\.0\.2\.1:6379 does not answer"):
        ensure_redis("redis://192.0.2.1:6379/0", tmp_path)


def test_run_command_says_what_is_wrong(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://192.0.2.1:6379/0")
    assert main(["run", "--port", str(free_port())]) == 2
    assert "does not answer (HOTLINE_REDIS_URL)" in capsys.readouterr().err


def test_demo_files_a_complaint_and_plays_the_administration(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in gateway.settings.env.items():
        monkeypatch.setenv(key, value)
    lines = ["Hello, I have a complaint", "1", "3", "Deep hole in the road", "Avenue Hassan II", "0", "1"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["demo", "--phone", "+212661234500"]) == 0
    out = capsys.readouterr().out
    reference = re.search(r"(\d{3} \d{3} \d{4})", out)
    assert reference, out
    monkeypatch.setattr("sys.stdin", io.StringIO(
        f"/status {reference.group(1).replace(' ', '-')} in_progress Team sent\n/quit\n"))
    assert main(["demo", "--phone", "+212661234500"]) == 0
    out = capsys.readouterr().out
    assert "routed -> in_progress" in out
    assert f"Your case {reference.group(1)}: being processed." in out
