"""The console's statistics page in headless Chromium, in French and in Arabic: the figures of the
period, three charts drawn on the server (mirrored in Arabic), a grouping and the CSV export, and no
horizontal scroll at 390 px. A screenshot of each language is kept (var/screenshots) to be looked at.

Skipped when /usr/bin/chromium is absent, except under CI=true, where it must be there.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.staff.console.i18n import translate
from tests.gateway.staff.api.test_api_statistics import filed
from tests.gateway.staff.conftest import Console
from tests.gateway.staff.console.test_browser import SCREENSHOTS, browser  # noqa: F401  (the fixture)
from tests.gateway.staff.console.test_browser_casework import DESKTOP, PHONE, fits, signed_in


@pytest.mark.parametrize(("lang", "viewport"), [("fr", DESKTOP), ("ar", DESKTOP), ("ar", PHONE)],
                         ids=["fr-desktop", "ar-desktop", "ar-phone"])
def test_the_statistics_page(browser: Any, console: Console, lang: str, viewport: dict[str, int]) -> None:  # noqa: F811
    for days in (2, 4, 6, 8, 10):
        filed(console, "sms", answered_after=days, rating=5)
    page = signed_in(browser, console, console.staff["admin"].username, lang, viewport)
    page.goto(f"{console.gateway.url}/console/statistics?from=2025-05-01&to=2025-06-30&group_by=administration")
    assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
    received = page.inner_text("#figures .figure[data-field=received] dd")
    assert int(received) >= 5
    assert page.locator("svg.chart").count() == 3
    direction = page.evaluate("getComputedStyle(document.querySelector('#chart-days text')).direction")
    assert direction == ("rtl" if lang == "ar" else "ltr"), "the chart's labels run in the page's direction"
    lighting = console.gateway.runtime.deployment.administration("commune-temara-lighting").name(lang)
    assert lighting in page.inner_text("#statistics-groups")
    assert translate(lang, "stat_processed_share") in page.inner_html("#statistics-groups"), \
        "a column heading, or at phone width each cell's label"
    fits(page, "#statistics-groups td, svg.chart")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    suffix = "phone" if viewport is PHONE else "desktop"
    page.screenshot(path=str(SCREENSHOTS / f"console-statistics-{lang}-{suffix}.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#statistics-export")
    assert download.value.suggested_filename == "statistics.csv"


def test_officers_and_agents_have_no_statistics_page(browser: Any, console: Console) -> None:  # noqa: F811
    for who in ("officer", "agent"):
        page = signed_in(browser, console, console.staff[who].username, "fr", DESKTOP)
        response = page.goto(f"{console.gateway.url}/console/statistics")
        assert response is not None and response.status == 403
