"""The WhatsApp channel: Twilio's inbound WhatsApp payloads as rows, each with the normalized message it
gives; media downloads and template sends against the local Twilio emulator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from channels.base import HttpRequest, InboundMessage, Location, MediaError, MediaRef, OutboundMessage
from channels.twilio_common import TwilioSettings
from channels.whatsapp.adapter import WhatsAppChannel, WhatsAppSettings
from tests.emulators.server import ThreadedServer
from tests.emulators.twilio import TwilioEmulator
from tests.support import ACCOUNT_SID, sign

URL = "https://hotline.commune.example/webhooks/twilio/whatsapp"
TOKEN = "secret-token"
CITIZEN = "+212612345678"
OURS = "+212522000111"
MEDIA = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{'1' * 32}/Media/ME"


def channel(api_base: str = "http://127.0.0.1:9", sid: str = ACCOUNT_SID, token: str = TOKEN) -> WhatsAppChannel:
    return WhatsAppChannel(WhatsAppSettings(TwilioSettings(sid, token, api_base), sender=OURS, default_region="MA"))


def form(sid: str, **fields: str) -> dict[str, str]:
    """The fields Twilio sends with every inbound WhatsApp message, plus the row's own."""
    base = {
        "SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Fatima Z", "MessageType": "text",
        "SmsSid": sid, "WaId": CITIZEN.lstrip("+"), "SmsStatus": "received", "Body": "",
        "To": f"whatsapp:{OURS}", "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid,
        "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{CITIZEN}", "ApiVersion": "2010-04-01",
    }
    base.update(fields)
    return base


def request(fields: dict[str, str], signature: str | None = "sign") -> HttpRequest:
    headers = {"X-Twilio-Signature": sign(TOKEN, URL, fields) if signature == "sign" else (signature or "")}
    return HttpRequest(url=URL, method="POST", headers=headers, form=fields)


def message(sid: str, text: str = "", **kw: object) -> InboundMessage:
    return InboundMessage("whatsapp", CITIZEN, OURS, sid, text, sender_name="Fatima Z", **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Row:
    label: str
    fields: dict[str, str]
    expected: list[InboundMessage]


SID = "SM" + "a" * 32
MM = "MM" + "b" * 32
ROWS = [
    Row("text", form(SID, Body="Salam, kayn zbel bzaf f derb"), [message(SID, "Salam, kayn zbel bzaf f derb")]),
    Row("one photo with a caption",
        form(MM, Body="Poubelles pleines", NumMedia="1", MessageType="image", MediaUrl0=MEDIA + "0",
             MediaContentType0="image/jpeg"),
        [message(MM, "Poubelles pleines", media=(MediaRef(MEDIA + "0", "image/jpeg"),))]),
    Row("three photos in one message, no caption",
        form(MM, NumMedia="3", MessageType="image", MediaUrl0=MEDIA + "0", MediaContentType0="image/jpeg",
             MediaUrl1=MEDIA + "1", MediaContentType1="image/png", MediaUrl2=MEDIA + "2",
             MediaContentType2="IMAGE/WEBP"),
        [message(MM, media=(MediaRef(MEDIA + "0", "image/jpeg"), MediaRef(MEDIA + "1", "image/png"),
                            MediaRef(MEDIA + "2", "image/webp")))]),
    Row("a location pin with its place",
        form(SID, MessageType="location", Latitude="33.9268", Longitude="-6.9063", Address="Avenue Hassan II, Témara",
             Label="Marché municipal"),
        [message(SID, location=Location(33.9268, -6.9063, "Marché municipal, Avenue Hassan II, Témara"))]),
    Row("a current-location pin has no name",
        form(SID, MessageType="location", Latitude="30.42", Longitude="-9.59"),
        [message(SID, location=Location(30.42, -9.59, ""))]),
    Row("a pin out of range is no pin",
        form(SID, MessageType="location", Latitude="123.4", Longitude="-6.9"), [message(SID)]),
    Row("a voice note",
        form(MM, NumMedia="1", MessageType="audio", MediaUrl0=MEDIA + "0", MediaContentType0="audio/ogg"),
        [message(MM, media=(MediaRef(MEDIA + "0", "audio/ogg"),))]),
    Row("a quick-reply button",
        form(SID, Body="Très satisfait", MessageType="button", ButtonText="Très satisfait", ButtonPayload="5"),
        [message(SID, "Très satisfait", button_payload="5")]),
    Row("a button with no body falls back to its text",
        form(SID, MessageType="button", ButtonText="Oui", ButtonPayload="1"),
        [message(SID, "Oui", button_payload="1")]),
    Row("a document",
        form(MM, Body="facture.pdf", NumMedia="1", MessageType="document", MediaUrl0=MEDIA + "0",
             MediaContentType0="application/pdf"),
        [message(MM, "facture.pdf", media=(MediaRef(MEDIA + "0", "application/pdf"),))]),
    Row("a reply to one of our messages, forwarded",
        form(SID, Body="Toujours rien", OriginalRepliedMessageSender=f"whatsapp:{OURS}",
             OriginalRepliedMessageSid="SM" + "c" * 32, Forwarded="true"),
        [message(SID, "Toujours rien", reply_to="SM" + "c" * 32, forwarded=True)]),
    Row("NumMedia larger than the URLs given keeps the URLs there are",
        form(MM, NumMedia="2", MediaUrl0=MEDIA + "0", MediaContentType0="image/jpeg"),
        [message(MM, media=(MediaRef(MEDIA + "0", "image/jpeg"),))]),
    Row("a sender known only by WaId", {**form(SID, Body="x"), "From": ""}, [message(SID, "x")]),
    Row("no sender at all carries no message", {**form(SID, Body="x"), "From": "", "WaId": ""}, []),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.label)
def test_inbound_payloads(row: Row) -> None:
    adapter = channel()
    incoming = request(row.fields)
    assert adapter.verify(incoming, None)
    assert adapter.parse(incoming) == row.expected


def test_same_citizen_as_on_sms() -> None:
    from channels.sms.adapter import SmsChannel, SmsSettings

    sms = SmsChannel(SmsSettings(TwilioSettings(ACCOUNT_SID, TOKEN), sender=OURS, default_region="MA"))
    on_sms = sms.parse(request({"MessageSid": SID, "From": CITIZEN, "To": OURS, "Body": "x"}))
    on_whatsapp = channel().parse(request(form(SID, Body="x")))
    assert on_sms[0].sender == on_whatsapp[0].sender == CITIZEN


@pytest.mark.parametrize("signature", [None, "forged"])
def test_unsigned_or_forged_is_refused(signature: str | None) -> None:
    assert not channel().verify(request(form(SID, Body="x"), signature=signature), None)


@pytest.fixture(scope="module")
def emulator():
    twilio = TwilioEmulator()
    server = ThreadedServer(twilio.app()).start()
    twilio.url = server.url
    yield twilio
    server.stop()


def test_media_is_fetched_with_basic_auth(emulator: TwilioEmulator) -> None:
    url = emulator.add_media(b"\xff\xd8\xff\xe0photo", "image/jpeg")
    adapter = channel(emulator.url, emulator.account_sid, emulator.auth_token)
    fetched = asyncio.run(adapter.fetch_media(MediaRef(url, "image/jpeg"), 1024))
    assert (fetched.content, fetched.content_type) == (b"\xff\xd8\xff\xe0photo", "image/jpeg")
    assert emulator.media_file(url).hits == [True]


@pytest.mark.parametrize(
    ("url", "reason"),
    [("https://evil.example.com/a.jpg", "foreign_host"), ("file:///etc/passwd", "foreign_host"),
     ("https://api.twilio.com.evil.example/x", "foreign_host")],
)
def test_foreign_hosts_are_refused_without_a_request(emulator: TwilioEmulator, url: str, reason: str) -> None:
    adapter = channel(emulator.url, emulator.account_sid, emulator.auth_token)
    with pytest.raises(MediaError) as caught:
        asyncio.run(adapter.fetch_media(MediaRef(url, "image/jpeg"), 1024))
    assert (caught.value.reason, caught.value.retryable) == (reason, False)


def test_too_large_and_not_ready(emulator: TwilioEmulator) -> None:
    adapter = channel(emulator.url, emulator.account_sid, emulator.auth_token)
    big = emulator.add_media(b"\0" * 4096, "image/jpeg")
    with pytest.raises(MediaError) as caught:
        asyncio.run(adapter.fetch_media(MediaRef(big), 1000))
    assert (caught.value.reason, caught.value.retryable) == ("too_large", False)
    later = emulator.add_media(b"%PDF-1.4", "application/pdf", fail_with=(404,))
    with pytest.raises(MediaError) as caught:
        asyncio.run(adapter.fetch_media(MediaRef(later), 1000))
    assert caught.value.retryable
    assert asyncio.run(adapter.fetch_media(MediaRef(later), 1000)).content == b"%PDF-1.4"


def test_template_and_text_sends(emulator: TwilioEmulator) -> None:
    adapter = channel(emulator.url, emulator.account_sid, emulator.auth_token)

    async def both() -> None:
        await adapter.send(OutboundMessage("whatsapp", CITIZEN, OURS, "Votre demande 482 913 0575 : traitée."))
        await adapter.send(OutboundMessage("whatsapp", CITIZEN, "", "x", template={
            "content_sid": "HX" + "0" * 32, "content_variables": {"1": "482 913 0575", "2": "traitée"}}))

    asyncio.run(both())
    text, template = emulator.sent_to(f"whatsapp:{CITIZEN}")[-2:]
    assert (text.sender, text.body, text.content_sid) == (f"whatsapp:{OURS}", "Votre demande 482 913 0575 : traitée.",
                                                          None)
    assert template.sender == f"whatsapp:{OURS}" and template.body == ""
    assert (template.content_sid, template.content_variables) == ("HX" + "0" * 32,
                                                                  {"1": "482 913 0575", "2": "traitée"})
