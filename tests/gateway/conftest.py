"""Helpers for gateway tests: the `hotline` CLI run against the test gateway's store and Redis."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import requests

from conversations.catalog import text
from core import references
from gateway.cli.main import main
from tests.fixtures.gateway import Gateway
from tests.gateway.whatsapp_kit import whatsapp_policy  # noqa: F401 - the WhatsApp tests' fixture

REFERENCE = re.compile(r"(\d{3} \d{3} \d{4})")

Hotline = Callable[..., tuple[int, str, str]]


@pytest.fixture
def hotline(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Hotline:
    """Run `hotline ARGS...` with the test gateway's environment; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        for key, value in gateway.settings.env.items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def reference_in(replies: list[str]) -> str:
    """The case reference a reply announced, as bare digits (and checked valid)."""
    for reply in replies:
        found = REFERENCE.search(reply)
        if found:
            digits = found.group(1).replace(" ", "")
            assert references.is_valid(digits)
            return digits
    raise AssertionError(f"no reference in {replies!r}")


def say_text(gateway: Gateway, language: str, key: str, **values: str) -> str:
    """A catalog text as the gateway's dialogue renders it."""
    return text(language, key, gateway.runtime.dialogue_for(gateway.number), **values)


def staff_token(hotline: Hotline, username: str, role: str, administration: str | None = None) -> str:
    """Add a staff member through the CLI and return a fresh API token."""
    args = ["staff", "add", username, "--role", role]
    if administration:
        args += ["--administration", administration]
    code, _, err = hotline(*args)
    assert code == 0, err
    code, out, err = hotline("staff", "token", username)
    assert code == 0, err
    return out.strip()


def set_status(gateway: Gateway, token: str, reference: str, status: str, note: str = "") -> requests.Response:
    """`POST /api/v1/cases/{ref}/status` with a bearer token."""
    return requests.post(
        f"{gateway.url}/api/v1/cases/{references.display(reference).replace(' ', '-')}/status",
        json={"status": status, "note": note}, headers={"Authorization": f"Bearer {token}"}, timeout=10,
    )
