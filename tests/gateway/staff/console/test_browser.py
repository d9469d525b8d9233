"""The console in headless Chromium (Debian's, driven by Playwright): an agent signs in, sees a stalled
SMS conversation appear live, takes it over, writes (the Twilio emulator receives it), files the case
and hands back; an officer of another administration gets 404 (as for an unknown case); the right
officer answers and the citizen is told; the Arabic console renders right to left (a screenshot is kept for a look).

Skipped when /usr/bin/chromium is absent, except under CI=true, where it must be there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core import references
from tests.gateway.staff.conftest import PASSWORD, Console

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("HOTLINE_SCREENSHOTS", "var/screenshots"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (skipped cleanly when it is not installed, outside CI)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing under CI (.ci/run installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (.[test])")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def worker(console: Console) -> Iterator[None]:
    """A real `hotline worker` process for the gateway's queues (Playwright's own event loop in this
    thread leaves no room for an in-process worker's `asyncio.run`)."""
    env = {**os.environ, **console.gateway.settings.env}
    command = [sys.executable, "-c", "from gateway.cli.main import main; raise SystemExit(main(['worker']))"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield
    process.terminate()
    process.wait(timeout=15)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll until `condition()` holds (the worker process sends in the background)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def sign_in(browser: Any, console: Console, who: str, lang: str = "en") -> Any:
    """A fresh browser page signed in as `who`."""
    page = browser.new_context(locale=lang).new_page()
    page.goto(f"{console.gateway.url}/console/login?lang={lang}")
    page.fill("input[name=username]", console.staff[who].username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()
    return page


def test_agent_and_officers_in_the_browser(browser: Any, console: Console, worker: None) -> None:
    gateway = console.gateway
    agent = sign_in(browser, console, "agent")
    assert agent.url.endswith("/console/queue")
    agent.evaluate("window.notReloaded = true")

    citizen = gateway.citizen()
    citizen.say("Bonjour")
    citizen.say("1")
    citizen.say("2")
    citizen.say("Le lampadaire de la rue 5 est éteint")
    wait_for(lambda: len(citizen.inbox()) >= 2, timeout=20)  # the reminder
    store = gateway.runtime.store
    contact_id = store.contact_id_for("sms", citizen.phone)

    def conversation_id() -> int | None:
        found = store.open_conversation("sms", contact_id)
        return found[0] if found else None

    wait_for(lambda: conversation_id() is not None, timeout=20)
    row = f"tr.conversation[data-id='{conversation_id()}']"
    agent.wait_for_selector(row, timeout=15000)
    assert agent.evaluate("window.notReloaded") is True, "the row arrived live, without a reload"
    assert "stalled mid-complaint" in agent.inner_text(row)

    agent.click(f"{row} a")
    agent.click("#take-over")
    agent.wait_for_selector("#write textarea")
    assert "You took the conversation over." in agent.inner_text("main")
    agent.fill("#write textarea", "Bonjour, ici Amina. Où exactement ?")
    agent.click("#write button")
    agent.wait_for_selector("#write textarea")
    wait_for(lambda: "Bonjour, ici Amina. Où exactement ?" in citizen.inbox(), timeout=20)
    agent.wait_for_selector("li.line.agent .delivery.accepted, li.line.agent .delivery.sent", timeout=15000)

    assert agent.input_value("#file-case select[name=category]") == "lighting"
    assert "lampadaire" in agent.input_value("#file-case textarea[name=description]")
    agent.fill("#file-case input[name=location_text]", "Rue 5, Hay Salam")
    agent.fill("#file-case input[name=name]", "Fatima")
    agent.click("#file-case button")
    agent.wait_for_selector("#filed-reference")
    reference = references.parse(agent.inner_text("#filed-reference"))
    assert reference is not None
    wait_for(lambda: any(references.display(reference) in m for m in citizen.inbox()), timeout=20)

    agent.select_option("#hand-back select[name=step]", "menu")
    agent.click("#hand-back button")
    agent.wait_for_url(re.compile(r".*/console/queue.*"))
    assert store.conversation(conversation_id() or 0) is None or conversation_id() is None

    other = sign_in(browser, console, "officer_other")
    response = other.goto(f"{gateway.url}/console/cases/{reference}")
    assert response is not None and response.status == 404

    officer = sign_in(browser, console, "officer")
    assert officer.url.endswith("/console/cases")
    officer.fill("input[name=reference]", reference[:7])
    officer.click("form.filters button")
    officer.click(f"a[href='/console/cases/{reference}']")
    assert "Fatima" in officer.inner_text("main")
    officer.select_option("#status-form select", "in_progress")
    officer.click("#status-form button")
    officer.wait_for_selector("#status-form")
    officer.select_option("#status-form select", "answered")
    officer.fill("#status-form textarea", "Le lampadaire a été remplacé le 3 mars.")
    officer.click("#status-form button")
    officer.wait_for_selector("#case-status")
    assert officer.inner_text("#case-status") == "answered"
    wait_for(lambda: any("remplacé le 3 mars" in m for m in citizen.inbox()), timeout=20)

    arabic = sign_in(browser, console, "officer", lang="ar")
    arabic.goto(f"{gateway.url}/console/cases/{reference}?lang=ar")
    assert arabic.get_attribute("html", "dir") == "rtl" and arabic.get_attribute("html", "lang") == "ar"
    assert arabic.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert "رسائل قصيرة" in arabic.inner_text("main"), "the SMS case's channel, named in Arabic"
    heading = arabic.locator("h1").bounding_box()
    assert heading is not None and heading["x"] + heading["width"] > arabic.viewport_size["width"] * 0.6, \
        "the title sits on the right"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    arabic.screenshot(path=str(SCREENSHOTS / "console-case-ar.png"), full_page=True)
    arabic.goto(f"{gateway.url}/console/cases?lang=ar")
    channels = arabic.locator("select[name=channel] option").all_inner_texts()
    assert "واتساب" in channels and "مكالمة هاتفية" in channels and "voice" not in channels
    arabic.screenshot(path=str(SCREENSHOTS / "console-cases-ar.png"))
