"""A WhatsApp photo report through the real route, Twilio-signed, with a real Redis, both SQL stores, a
worker and the Twilio emulator: photo first with a pin, the photo downloaded with basic auth, checked,
stripped of EXIF and attached with its sha256; status updates free-form inside the 24-hour window and as
templates outside it; a failed WhatsApp delivery sent again by SMS."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

from PIL import Image

from core import references
from tests.fixtures.gateway import Gateway
from tests.gateway.conftest import Hotline, reference_in, say_text
from tests.gateway.whatsapp_kit import (
    ANSWERED_SID,
    RATING_SID,
    STATUS_SID,
    age_inbound,
    message_attachments,
    photo,
    settled,
    whatsapp_citizen,
)
from tests.support import status_callback


def test_photo_first_report_with_a_pin_to_templates_outside_the_window(
    whatsapp_policy: Gateway, hotline: Hotline
) -> None:
    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    picture = photo(gps=(33.9271, -6.9065))
    url = gateway.twilio.add_media(picture, "image/jpeg")

    first = "\n".join(citizen.send("Les poubelles débordent devant l'école", media=((url, "image/jpeg"),)))
    assert say_text(gateway, "fr", "photo_report") in first
    assert say_text(gateway, "fr", "ask_category") in first
    assert say_text(gateway, "fr", "location_received") in "\n".join(
        citizen.pin(33.9268, -6.9063, "École Al Amal", "Rue 12, Témara"))
    assert say_text(gateway, "fr", "ask_name") in "\n".join(citizen.send("1"))
    summary = "\n".join(citizen.send("0"))
    assert "Les poubelles débordent" in summary and "École Al Amal" in summary
    assert say_text(gateway, "fr", "summary_media", count="1") in summary
    reference = reference_in(citizen.send("1"))

    gateway.run_jobs(until=lambda: settled(gateway, citizen.phone, 1))
    assert gateway.twilio.media_file(url).hits == [True], "downloaded once, with the account's basic auth"
    (row,) = message_attachments(gateway, citizen.phone)
    stored = Path(row["path"]).read_bytes()
    assert row["status"] == "stored" and row["sha256"] == hashlib.sha256(stored).hexdigest()
    assert Path(row["path"]).is_relative_to(gateway.settings.media_dir)
    assert (round(row["lat"], 4), round(row["lon"], 4)) == (33.9271, -6.9065), "EXIF GPS read"
    assert b"Exif" not in stored and b"PhoneMaker" not in stored, "the staff copy has no EXIF"
    assert Image.open(Path(row["path"])).size == (80, 60)

    code, out, err = hotline("case", "show", reference, "--json")
    assert code == 0, err
    case = json.loads(out)
    assert case["origin_channel"] == "whatsapp" and case["contact"]["phone"] == citizen.phone
    assert case["description"] == "Les poubelles débordent devant l'école"
    assert case["location"] == {"lat": 33.9268, "lon": -6.9063, "text": "École Al Amal, Rue 12, Témara"}
    assert case["category"] == "waste" and case["anonymous"] is True
    assert [(a["kind"], a["content_type"], a["size"], a["sha256"]) for a in case["attachments"]] == [
        ("photo", "image/jpeg", len(stored), row["sha256"])]
    assert "attachment" in [e["kind"] for e in case["events"]]

    shown = references.display(reference)
    hotline("case", "set-status", reference, "in_progress", "--note", "Équipe envoyée")
    gateway.run_jobs(until=lambda: len(gateway.twilio.sent_to(f"whatsapp:{citizen.phone}")) >= 1)
    (inside,) = gateway.twilio.sent_to(f"whatsapp:{citizen.phone}")
    assert inside.content_sid is None, "inside the window: free-form"
    assert inside.body.startswith(say_text(gateway, "fr", "status_changed", reference=shown,
                                           status=say_text(gateway, "fr", "status_in_progress")))
    assert inside.body.endswith(": Équipe envoyée"), "the note for the citizen goes with it"
    assert inside.sender == f"whatsapp:{gateway.number}"

    age_inbound(gateway, citizen.phone, timedelta(hours=30))
    hotline("case", "set-status", reference, "answered", "--note", "Conteneurs vidés mardi")
    gateway.run_jobs(until=lambda: len(gateway.twilio.sent_to(f"whatsapp:{citizen.phone}")) >= 3)
    status, rating = gateway.twilio.sent_to(f"whatsapp:{citizen.phone}")[1:3]
    assert status.content_sid == ANSWERED_SID and status.body == ""
    administration = gateway.runtime.deployment.administration_names(case["administration"])["fr"]
    assert status.content_variables == {"1": shown, "2": administration, "3": "Conteneurs vidés mardi"}
    assert (rating.content_sid, rating.content_variables) == (RATING_SID, {"1": shown})
    assert citizen.sms_inbox() == []

    thanks = citizen.send("Très satisfait", MessageType="button", ButtonText="Très satisfait", ButtonPayload="5")
    assert any(say_text(gateway, "fr", "rating_thanks") in reply for reply in thanks)
    assert json.loads(hotline("case", "show", reference, "--json")[1])["rating"] == 5
    assert STATUS_SID  # the `status` template covers statuses without their own


def filed(gateway: Gateway, citizen) -> str:
    citizen.send("Bonjour")
    for step in ["1", "1", "Conteneur renversé", "Rue 7", "0"]:
        citizen.send(step)
    return reference_in(citizen.send("1"))


def test_failed_whatsapp_status_update_goes_by_sms(whatsapp_policy: Gateway, hotline: Hotline) -> None:
    from tests.emulators.twilio import ScriptedFailure

    gateway = whatsapp_policy
    citizen = whatsapp_citizen(gateway)
    reference = filed(gateway, citizen)
    gateway.twilio.fail_next(f"whatsapp:{citizen.phone}", ScriptedFailure(400, 63003, "Channel could not find To"))
    hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    gateway.run_jobs(until=lambda: len(citizen.sms_inbox()) >= 1)
    text = say_text(gateway, "fr", "status_changed", reference=references.display(reference),
                    status=say_text(gateway, "fr", "status_in_progress"))
    (told,) = citizen.sms_inbox()
    assert told.startswith(text) and told.endswith(": ok") and citizen.inbox() == []
    assert gateway.twilio.sent_to(citizen.phone)[0].sender == gateway.number

    hotline("case", "set-status", reference, "answered", "--note", "Conteneur remis en place")
    gateway.run_jobs(until=lambda: len(citizen.inbox()) >= 2)
    sent = gateway.twilio.sent_to(f"whatsapp:{citizen.phone}")[0]
    report = status_callback(sent.sid, "undelivered", f"whatsapp:{citizen.phone}", f"whatsapp:{gateway.number}",
                             "63024")
    assert gateway.post("/webhooks/twilio/status", report).status_code == 204
    gateway.post("/webhooks/twilio/status", report)
    gateway.run_jobs(until=lambda: len(citizen.sms_inbox()) >= 2)
    gateway.run_jobs()
    assert citizen.sms_inbox()[1] == sent.body, "the undelivered update went again by SMS, once"
    assert len(citizen.sms_inbox()) == 2


def test_outside_the_window_without_a_template_goes_by_sms(gateway: Gateway, hotline: Hotline) -> None:
    citizen = whatsapp_citizen(gateway)
    reference = filed(gateway, citizen)
    age_inbound(gateway, citizen.phone, timedelta(days=2))
    hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    gateway.run_jobs(until=lambda: len(citizen.sms_inbox()) >= 1)
    assert citizen.inbox() == []
    assert references.display(reference) in citizen.sms_inbox()[0]


def test_delivery_statuses_are_recorded(gateway: Gateway, hotline: Hotline) -> None:
    citizen = whatsapp_citizen(gateway)
    reference = filed(gateway, citizen)
    hotline("case", "set-status", reference, "in_progress", "--note", "ok")
    gateway.run_jobs(until=lambda: len(citizen.inbox()) >= 1)
    sent = gateway.twilio.sent_to(f"whatsapp:{citizen.phone}")[0]
    for status in ("sent", "delivered", "read"):
        report = status_callback(sent.sid, status, f"whatsapp:{citizen.phone}", f"whatsapp:{gateway.number}")
        assert gateway.post("/webhooks/twilio/status", report).status_code == 204
    found = gateway.runtime.store.sent_message("whatsapp", sent.sid)
    assert found is not None and found.status == "read"
