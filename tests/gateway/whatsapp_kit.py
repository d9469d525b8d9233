"""Helpers for WhatsApp gateway tests: a citizen on WhatsApp, photos with EXIF, the deployment's media
and template settings for one test, and the store rows a test reads."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from core.config import MediaPolicy, Template, TemplatePolicy
from core.db import attachments, messages
from tests.fixtures.gateway import Gateway
from tests.support import inbound_whatsapp, random_mobile, twiml_messages

STATUS_SID = "HX" + "1" * 32
ANSWERED_SID = "HX" + "2" * 32
RATING_SID = "HX" + "3" * 32
TEMPLATES = TemplatePolicy({
    "fr": {
        "status": Template(STATUS_SID, ("reference", "status")),
        "answered": Template(ANSWERED_SID, ("reference", "administration", "note")),
        "rating": Template(RATING_SID, ("reference",)),
    },
})
FAST_MEDIA = MediaPolicy(max_bytes=5 * 1024 * 1024, attempts=3, backoff_seconds=(1,))


def photo(color: tuple[int, int, int] = (200, 60, 40), gps: tuple[float, float] | None = None,
          size: tuple[int, int] = (80, 60)) -> bytes:
    """A JPEG as a phone makes it: EXIF with the maker and, when given, where it was taken."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if gps is not None:
        lat, lon = gps
        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)), 3: "E" if lon >= 0 else "W",
                        4: _dms(abs(lon))}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


@pytest.fixture
def whatsapp_policy(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    """The test gateway with fast media retries, a 5 MB cap and French templates, for this test only."""
    deployment = dataclasses.replace(gateway.runtime.deployment, media=FAST_MEDIA, templates={"whatsapp": TEMPLATES})
    monkeypatch.setattr(gateway.runtime, "deployment", deployment)
    return gateway


@dataclass
class WhatsAppCitizen:
    """Writes to the hotline on WhatsApp through the real webhook route."""

    gateway: Gateway
    phone: str

    def send(self, body: str = "", media: tuple[tuple[str, str], ...] = (), **extra: str) -> list[str]:
        """One WhatsApp message; the bot's replies in the webhook response."""
        form = inbound_whatsapp(self.phone, self.gateway.number, body, media=media, **extra)
        response = self.gateway.post("/webhooks/twilio/whatsapp", form)
        assert response.status_code == 200, response.text
        return twiml_messages(response.text)

    def pin(self, lat: float, lon: float, label: str = "", address: str = "") -> list[str]:
        """Share a location."""
        extra = {"Latitude": str(lat), "Longitude": str(lon)}
        if label:
            extra["Label"] = label
        if address:
            extra["Address"] = address
        return self.send(**extra)

    def inbox(self) -> list[str]:
        """What the emulator was asked to send this citizen on WhatsApp (text bodies)."""
        return [m.body for m in self.gateway.twilio.sent_to(f"whatsapp:{self.phone}")]

    def sms_inbox(self) -> list[str]:
        """What was sent to the same number by SMS."""
        return [m.body for m in self.gateway.twilio.sent_to(self.phone)]


def whatsapp_citizen(gateway: Gateway) -> WhatsAppCitizen:
    """A citizen with a fresh number."""
    return WhatsAppCitizen(gateway, random_mobile())


def message_attachments(gateway: Gateway, phone: str) -> list[dict]:
    """The attachments of every message the number sent, oldest first."""
    with gateway.runtime.store.engine.connect() as connection:
        rows = connection.execute(
            select(attachments).select_from(attachments.join(messages, messages.c.id == attachments.c.message_id))
            .where(messages.c.sender == phone).order_by(attachments.c.id)
        ).mappings().all()
    return [dict(row) for row in rows]


def settled(gateway: Gateway, phone: str, count: int) -> bool:
    """True when `count` attachments of the number are no longer pending."""
    rows = message_attachments(gateway, phone)
    return len(rows) >= count and all(row["status"] != "pending" for row in rows)


def age_inbound(gateway: Gateway, phone: str, by: timedelta) -> None:
    """Pretend the citizen last wrote `by` ago (outside WhatsApp's window when over 24 hours)."""
    with gateway.runtime.store.engine.begin() as connection:
        connection.execute(update(messages).where(messages.c.sender == phone, messages.c.direction == "in")
                           .values(created_at=datetime.now(UTC) - by))
