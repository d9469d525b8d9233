"""The public statistics page in headless Chromium, without signing in, in Arabic and French: the
figures with the withheld ones shown as "—", the three charts, right to left in Arabic, nothing
loaded from elsewhere, fitting a phone. A screenshot of each is kept (var/screenshots) to be looked at.

Skipped when /usr/bin/chromium is absent, except under CI=true, where it must be there.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.staff.console.i18n import translate
from tests.gateway.public.test_pages import year_2024  # noqa: F401  (the fixture)
from tests.gateway.staff.conftest import Console
from tests.gateway.staff.console.test_browser import SCREENSHOTS, browser  # noqa: F401  (the fixture)
from tests.gateway.staff.console.test_browser_casework import DESKTOP, PHONE, fits


@pytest.mark.parametrize(("lang", "viewport"), [("ar", PHONE), ("fr", DESKTOP)], ids=["ar-phone", "fr-desktop"])
def test_the_public_page(browser: Any, year_2024: Console, lang: str, viewport: dict[str, int]) -> None:  # noqa: F811
    context = browser.new_context(locale=lang, viewport=viewport)
    page = context.new_page()
    elsewhere: list[str] = []
    page.on("request", lambda request: elsewhere.append(request.url)
            if not request.url.startswith(year_2024.gateway.url) else None)
    page.goto(f"{year_2024.gateway.url}/public/statistics?year=2024&lang={lang}")
    assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.inner_text("h1") == translate(lang, "public_title")
    assert page.inner_text("#figures .figure[data-field=received] dd") == "9"
    assert page.inner_text("#figures .figure[data-field=in_progress] dd") == "—", "3 cases: withheld"
    assert page.locator("svg.chart").count() == 3
    assert translate(lang, "public_withheld", smallest=5) in page.inner_text("#withheld-rule")
    fits(page, "svg.chart, #by-category td")
    assert elsewhere == [], "nothing is fetched from anywhere else"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"public-statistics-{lang}.png"), full_page=True)
    context.close()
