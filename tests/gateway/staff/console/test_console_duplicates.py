"""Duplicates in the console: a case page suggests open cases of its category at a place written alike,
an officer marks one as the original (and takes it out again), a refusal is shown on the page in the
officer's language."""

from __future__ import annotations

import secrets

from gateway.staff.console.i18n import translate
from tests.gateway.staff.conftest import Console
from tests.gateway.staff.console.test_console_security import csrf_of, sign_in


def test_an_officer_marks_a_suggested_duplicate_and_takes_it_out(console: Console) -> None:
    store = console.gateway.runtime.store
    place = f"Derb Sidi Bouzid {secrets.token_hex(3)}"
    original = store.create_case(category="lighting", description="Lampe éteinte", language="fr", contact_id=None,
                                 origin_channel="sms", location_text=place).reference
    again = store.create_case(category="lighting", description="Toujours pas de lumière", language="fr",
                              contact_id=None, origin_channel="sms", location_text=place + " près du four").reference
    officer, _ = sign_in(console, console.staff["officer"].username)
    url = console.gateway.url + f"/console/cases/{again}"
    page = officer.get(url + "?lang=fr", timeout=10).text
    assert f'value="{original}"' in page, "the original is suggested"
    token = csrf_of(officer, url)
    refused = officer.post(url + "/duplicate-of", data={"csrf": token, "reference": again}, allow_redirects=False,
                           timeout=10)
    assert refused.status_code == 409 and translate("fr", "refused_self_duplicate") in refused.text
    marked = officer.post(url + "/duplicate-of", data={"csrf": token, "suggested": original}, allow_redirects=False,
                          timeout=10)
    assert marked.status_code == 303
    assert store.case_document(again)["duplicate_of"] == original
    shown = officer.get(url, timeout=10).text
    assert translate("fr", "duplicate_of") in shown and 'id="not-duplicate"' in shown
    taken_out = officer.post(url + "/duplicate-of", data={"csrf": token, "reference": ""}, allow_redirects=False,
                             timeout=10)
    assert taken_out.status_code == 303 and store.case_document(again)["duplicate_of"] is None
