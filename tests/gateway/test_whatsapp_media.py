"""Bad media and bursts on WhatsApp through the real route: a foreign host (refused, no request made), a
50 MB file, an HTML page announced as a photo, a truncated JPEG, media that answers 404 then 200, ten
photos in a burst; an EXIF position as the case's location hint; "add to my case"."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from core import references
from tests.emulators.server import ThreadedServer
from tests.fixtures.gateway import Gateway
from tests.gateway.conftest import Hotline, reference_in, say_text
from tests.gateway.whatsapp_kit import WhatsAppCitizen, message_attachments, photo, settled, whatsapp_citizen


def answer_to(gateway: Gateway, citizen: WhatsAppCitizen, text: str) -> list[str]:
    """What the citizen is told after `text`: in the webhook's answer, or, when the message found the
    contact busy (photos of a burst still being stored), a moment later by the outbound lane."""
    before = len(citizen.inbox())
    replies = citizen.send(text)
    if replies:
        return replies
    gateway.run_jobs(until=lambda: len(citizen.inbox()) > before)
    return citizen.inbox()[before:]


def refused_with(gateway: Gateway, citizen: WhatsAppCitizen, url: str, content_type: str, key: str) -> dict:
    """Send one file; run the jobs; the citizen is told `key` and the dialogue went on. The attachment row."""
    replies = "\n".join(citizen.send(media=((url, content_type),)))
    assert say_text(gateway, "fr", "ask_category") in replies, "the report goes on"
    gateway.run_jobs(until=lambda: settled(gateway, citizen.phone, 1) and len(citizen.inbox()) >= 1)
    assert citizen.inbox() == [say_text(gateway, "fr", key)]
    (row,) = message_attachments(gateway, citizen.phone)
    return row


def test_foreign_media_host_is_refused_without_a_request(whatsapp_policy: Gateway) -> None:
    gateway = whatsapp_policy
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=photo(), content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/{tail:.*}", record)
    foreign = ThreadedServer(app).start()
    try:
        citizen = whatsapp_citizen(gateway)
        citizen.send("Bonjour")
        row = refused_with(gateway, citizen, f"{foreign.url}/2010-04-01/Accounts/x/Media/y", "image/jpeg",
                           "media_failed")
    finally:
        foreign.stop()
    assert hits == [], "no request was made to the foreign host"
    assert (row["status"], row["error"].split(":")[0]) == ("refused", "foreign_host")


def test_a_50_mb_file_is_refused(whatsapp_policy: Gateway) -> None:
    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    citizen.send("Bonjour")
    url = gateway.twilio.add_media(b"\xff\xd8\xff\xe0" + b"\0" * (50 * 1024 * 1024), "image/jpeg")
    row = refused_with(gateway, citizen, url, "image/jpeg", "media_too_large")
    assert (row["status"], row["path"], row["sha256"]) == ("refused", None, None)
    assert row["error"].startswith("too_large")


def test_an_html_page_announced_as_a_photo_is_refused(whatsapp_policy: Gateway) -> None:
    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    citizen.send("Bonjour")
    url = gateway.twilio.add_media(b"<!doctype html><html><body>Sign in</body></html>", "text/html")
    row = refused_with(gateway, citizen, url, "image/jpeg", "media_wrong_type")
    assert row["error"].startswith("wrong_type")


def test_a_truncated_jpeg_is_refused(whatsapp_policy: Gateway) -> None:
    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    citizen.send("Bonjour")
    whole = photo(size=(640, 480))
    url = gateway.twilio.add_media(whole[: len(whole) // 2], "image/jpeg")
    row = refused_with(gateway, citizen, url, "image/jpeg", "media_wrong_type")
    assert row["error"].startswith("damaged")


def test_media_answering_404_then_200_is_stored_on_retry(whatsapp_policy: Gateway) -> None:
    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    url = gateway.twilio.add_media(photo(), "image/jpeg", fail_with=(404,))
    citizen.send("Voir la photo", media=((url, "image/jpeg"),))
    gateway.run_jobs(until=lambda: settled(gateway, citizen.phone, 1), timeout=20)
    (row,) = message_attachments(gateway, citizen.phone)
    assert row["status"] == "stored"
    assert gateway.twilio.media_file(url).hits == [True, True]
    assert citizen.inbox() == [], "nothing to tell the citizen"


def test_media_that_never_comes_is_marked_failed_on_the_case(whatsapp_policy: Gateway, hotline: Hotline) -> None:
    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    url = gateway.twilio.add_media(photo(), "image/jpeg", fail_with=(500, 503, 500, 500))
    citizen.send("Lampadaire cassé", media=((url, "image/jpeg"),))
    for step in ["2", "Rue 9", "0"]:
        citizen.send(step)
    reference = reference_in(answer_to(gateway, citizen, "1"))
    gateway.run_jobs(until=lambda: settled(gateway, citizen.phone, 1), timeout=30)
    assert len(gateway.twilio.media_file(url).hits) == 3, "tried media.download_attempts times"
    case = json.loads(hotline("case", "show", reference, "--json")[1])
    assert [a["status"] for a in case["attachments"]] == ["failed"]
    assert "media_failed" in [e["kind"] for e in case["events"]]
    gateway.run_jobs(until=lambda: len(citizen.inbox()) >= 1)
    assert citizen.inbox() == [say_text(gateway, "fr", "media_failed")]


def test_ten_photos_in_a_burst(whatsapp_policy: Gateway, hotline: Hotline) -> None:
    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    pictures = [photo(color=(20 * n, 100, 50)) for n in range(5)]
    urls = [gateway.twilio.add_media(pictures[n % 5], "image/jpeg") for n in range(10)]
    answers = [citizen.send("Dépôt sauvage rue 4" if n == 0 else "", media=((url, "image/jpeg"),))
               for n, url in enumerate(urls)]
    assert say_text(gateway, "fr", "ask_category") in "\n".join(answers[0])
    assert all(answer == [] for answer in answers[1:]), "the burst is taken in silence"
    for step in ["1", "Rue 4, Hay Nahda", "0"]:
        citizen.send(step)
    reference = reference_in(answer_to(gateway, citizen, "1"))
    gateway.run_jobs(until=lambda: settled(gateway, citizen.phone, 10), timeout=30)
    rows = message_attachments(gateway, citizen.phone)
    assert [row["status"] for row in rows] == ["stored"] * 10
    assert len({row["path"] for row in rows}) == 5, "the same photo is stored once"
    assert all(Path(row["path"]).exists() for row in rows)
    case = json.loads(hotline("case", "show", reference, "--json")[1])
    assert len(case["attachments"]) == 10
    assert case["description"] == "Dépôt sauvage rue 4"


def test_exif_position_is_the_location_hint_without_a_pin(whatsapp_policy: Gateway, hotline: Hotline) -> None:
    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    url = gateway.twilio.add_media(photo(gps=(33.5731, -7.5898)), "image/jpeg")
    citizen.send("Trou dans la chaussée", media=((url, "image/jpeg"),))
    for step in ["3", "Boulevard Zerktouni", "0"]:
        citizen.send(step)
    reference = reference_in(answer_to(gateway, citizen, "1"))
    gateway.run_jobs(until=lambda: settled(gateway, citizen.phone, 1))
    case = json.loads(hotline("case", "show", reference, "--json")[1])
    assert case["location"] == {"lat": 33.5731, "lon": -7.5898, "text": "Boulevard Zerktouni"}
    assert "location_hint" in [e["kind"] for e in case["events"]]


def test_add_to_my_case(whatsapp_policy: Gateway, hotline: Hotline) -> None:
    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    citizen.send("Bonjour")
    for step in ["1", "1", "Poubelles pleines", "Rue 3", "0"]:
        citizen.send(step)
    reference = reference_in(answer_to(gateway, citizen, "1"))
    shown = references.display(reference)
    asked = "\n".join(citizen.send(f"ajouter au dossier {shown}"))
    assert say_text(gateway, "fr", "ask_add_media", reference=shown) in asked
    url = gateway.twilio.add_media(photo(), "image/jpeg")
    added = "\n".join(citizen.send(media=((url, "image/jpeg"),)))
    assert say_text(gateway, "fr", "media_added", reference=shown, count="1") in added
    gateway.run_jobs(until=lambda: settled(gateway, citizen.phone, 1))
    case = json.loads(hotline("case", "show", reference, "--json")[1])
    assert [a["status"] for a in case["attachments"]] == ["stored"]

    stranger = whatsapp_citizen(gateway)
    stranger.send("Bonjour")
    other = gateway.twilio.add_media(photo(), "image/jpeg")
    refused = "\n".join(stranger.send(f"ajouter au dossier {shown}", media=((other, "image/jpeg"),)))
    assert say_text(gateway, "fr", "case_not_found", reference=shown) in refused, "only one's own case"
    assert len(json.loads(hotline("case", "show", reference, "--json")[1])["attachments"]) == 1
