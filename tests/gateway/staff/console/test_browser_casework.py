"""Casework in headless Chromium, in French and in Arabic, on a desktop and at a phone's 390 px: an
officer searches, opens a case, circulates it (a refusal shown inline, translated, with the input
kept), takes it and answers it; a supervisor reads the workload, the overdue alert and the queue; an admin adds
and disables a member; lists and forms fit a phone with nothing off-screen.

Skipped when /usr/bin/chromium is absent, except under CI=true, where it must be there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.staff.console.i18n import translate
from tests.gateway.staff.api.test_api_conversations import waiting_citizen
from tests.gateway.staff.conftest import LIGHTING, PASSWORD, Console
from tests.gateway.staff.console.test_browser import SCREENSHOTS, browser  # noqa: F401  (the fixture)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def signed_in(browser: Any, console: Console, username: str, lang: str, viewport: dict[str, int]) -> Any:  # noqa: F811
    """A fresh page signed in as `username`, in `lang`, at `viewport`."""
    page = browser.new_context(locale=lang, viewport=viewport).new_page()
    page.goto(f"{console.gateway.url}/console/login?lang={lang}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()
    return page


def fits(page: Any, selector: str) -> None:
    """Nothing scrolls sideways, and every element matching `selector` lies within the viewport."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    for box in [element.bounding_box() for element in page.locator(selector).all()]:
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box


def marked_case(console: Console, marker: str, **fields: Any) -> str:
    """A lighting case whose description carries `marker` (to find it by search)."""
    store = console.gateway.runtime.store
    return store.create_case(category="lighting", description=f"Lampadaire éteint {marker} — الضو مطفي",
                             language="fr", contact_id=None, origin_channel="sms", location_text="Rue 5",
                             lat=33.97, lon=-6.85, **fields).reference


@pytest.mark.parametrize(("lang", "viewport"), [("fr", DESKTOP), ("ar", PHONE)], ids=["fr-desktop", "ar-phone"])
def test_an_officer_searches_circulates_takes_and_answers(browser: Any, console: Console, lang: str,  # noqa: F811
                                                          viewport: dict[str, int]) -> None:
    officer = console.add_staff("officer", LIGHTING)
    marker = "Zq" + datetime.now(UTC).strftime("%H%M%S%f")
    reference = marked_case(console, marker)
    page = signed_in(browser, console, officer.username, lang, viewport)
    assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")

    page.fill("input[name=q]", marker)
    page.click("#case-filters button[type=submit]")
    page.wait_for_selector("#cases")
    assert page.inner_text("#total") == translate(lang, "total_one")
    row = page.locator("#cases tbody tr")
    assert marker in row.inner_text() and translate(lang, "map") in row.inner_text()
    fits(page, "#cases a.open")
    if viewport is PHONE:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"console-cases-{lang}-phone.png"), full_page=True)
    page.click("#cases a.open")
    page.wait_for_selector("#case-reference")
    assert "+01" in page.inner_text("#case-due") or "+00" in page.inner_text("#case-due"), "Casablanca time"

    page.select_option("#circulate-form select[name=service]", "works")
    page.click("#circulate-form button[type=submit]")
    page.wait_for_selector("#circulate-problem")
    assert page.inner_text("#circulate-problem") == translate(lang, "refused_reason_required")
    assert page.input_value("#circulate-form select[name=service]") == "works", "the choice is kept"
    page.fill("#circulate-form textarea[name=reason]", "Poteau à remplacer : équipe travaux")
    page.click("#circulate-form button[type=submit]")
    page.wait_for_selector(".notice")
    works = console.gateway.runtime.deployment.administration(LIGHTING).service("works").name(lang)
    assert page.inner_text("#case-service") == works
    assert translate(lang, "event_circulated") in page.inner_text("#timeline")

    page.click("#take-case")
    page.wait_for_selector(".notice")
    assert page.inner_text("#case-assignee") == officer.username
    page.select_option("#status-form select[name=status]", "in_progress")
    page.click("#status-form button[type=submit]")
    page.wait_for_selector(".notice")
    page.select_option("#status-form select[name=status]", "answered")
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("#status-problem")
    assert page.inner_text("#status-problem") == translate(lang, "refused_note_required")
    assert page.input_value("#status-form select[name=status]") == "answered"
    page.fill("#status-form textarea[name=note]", "Le lampadaire fonctionne de nouveau.")
    page.click("#status-form button[type=submit]")
    page.wait_for_selector(".notice")
    assert page.inner_text("#case-status") == translate(lang, "status_answered")
    fits(page, "#status-form button, #note-form button")
    record = console.gateway.runtime.store.get_case(reference)
    assert record is not None and record.status == "answered" and record.service_code == "works"

    page.goto(f"{console.gateway.url}/console/cases?assignee=me")
    assert page.inner_text("h1") == translate(lang, "my_cases")
    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename == "cases.csv"


@pytest.mark.parametrize(("lang", "viewport"), [("ar", PHONE), ("fr", DESKTOP)], ids=["ar-phone", "fr-desktop"])
def test_a_supervisor_sees_the_workload_and_the_overdue_alert(browser: Any, console: Console, lang: str,  # noqa: F811
                                                              viewport: dict[str, int]) -> None:
    boss = console.add_staff("supervisor", LIGHTING)
    holder = console.add_staff("officer", LIGHTING)
    store = console.gateway.runtime.store
    reference = marked_case(console, "late")
    store.assign_case(reference, holder.username, boss.username)
    record = store.get_case(reference)
    assert record is not None and record.answer_due_at is not None
    store.sweep_deadlines(record.answer_due_at + timedelta(hours=1))

    page = signed_in(browser, console, boss.username, lang, viewport)
    assert int(page.inner_text("#unread")) >= 1, "the badge counts the alert"
    page.click("#notifications-link")
    page.wait_for_selector("#notification-list")
    assert translate(lang, "notification_overdue") in page.inner_text("#notification-list")
    fits(page, "#notification-list a.open")
    page.click("#mark-read")
    page.wait_for_selector(".notice")
    assert page.locator("#unread").count() == 0

    page.goto(f"{console.gateway.url}/console/workload")
    table = page.inner_text("#workload-table")
    assert holder.username in table and translate(lang, "role_officer") in table
    assert console.staff["officer_other"].username not in table, "only the supervisor's administration"
    fits(page, "#workload-table a.open")
    waiting_citizen(console)
    page.goto(f"{console.gateway.url}/console/queue")
    page.wait_for_selector("#queue-table")
    fits(page, "#queue-table a.open")
    page.goto(f"{console.gateway.url}/console/cases?escalated=1")
    assert reference in page.content()
    page.goto(f"{console.gateway.url}/console/audit")
    assert page.locator("#audit-table").count() == 1


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_an_admin_adds_and_disables_a_member(browser: Any, console: Console, lang: str) -> None:  # noqa: F811
    page = signed_in(browser, console, console.staff["admin"].username, lang, DESKTOP)
    page.goto(f"{console.gateway.url}/console/admin/staff")
    name = f"nouvelle-{lang}-{datetime.now(UTC).strftime('%H%M%S%f')}"
    page.fill("#add-staff input[name=username]", name)
    page.select_option("#add-staff select[name=role]", "officer")
    page.select_option("#add-staff select[name=administration]", LIGHTING)
    page.fill("#add-staff input[name=password]", "court")
    page.click("#add-staff button[type=submit]")
    page.wait_for_selector("#add-problem")
    assert page.inner_text("#add-problem") == translate(lang, "refused_password_short")
    assert page.input_value("#add-staff input[name=username]") == name, "what was typed is kept"
    page.fill("#add-staff input[name=password]", PASSWORD)
    page.click("#add-staff button[type=submit]")
    page.wait_for_selector(".notice")
    row = page.locator(f"tr[data-username='{name}']")
    assert translate(lang, "role_officer") in row.inner_html()

    member = signed_in(browser, console, name, lang, PHONE)
    assert member.url.endswith("/console/cases")
    row.locator("input[name=disabled]").check()
    row.locator("button[type=submit]").first.click()
    page.wait_for_selector(".notice")
    member.goto(f"{console.gateway.url}/console/cases")
    assert member.url.endswith("/console/login"), "a disabled member's session no longer opens pages"

    page.goto(f"{console.gateway.url}/console/admin/reference")
    assert "Africa/Casablanca" in page.inner_text("#deadlines")
    works = console.gateway.runtime.deployment.administration(LIGHTING).service("works").name(lang)
    assert works in page.inner_text("#administrations")
