"""The SMS channel: Twilio's inbound payloads as rows, each with the normalized message it gives;
outbound sends against the local Twilio emulator, each with the provider's answer and the class of
error expected."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from channels.base import HttpRequest, InboundMessage, OutboundMessage, SendError
from channels.sms.adapter import SmsChannel, SmsSettings
from channels.twilio_common import TwilioSettings, retry_after_seconds, signed_url
from tests.emulators.twilio import ScriptedFailure, TwilioEmulator
from tests.support import ACCOUNT_SID, inbound_sms, sign

URL = "https://hotline.commune.example/webhooks/twilio/sms"
TOKEN = "secret-token"


def channel(api_base: str = "http://127.0.0.1:9", token: str = TOKEN, sid: str = ACCOUNT_SID) -> SmsChannel:
    return SmsChannel(SmsSettings(TwilioSettings(sid, token, api_base), sender="+212522000111", default_region="MA"))


def request(form: dict[str, str], signature: str | None = "sign", url: str = URL) -> HttpRequest:
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = sign(TOKEN, url, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return HttpRequest(url=url, method="POST", headers=headers, form=form)


@dataclass(frozen=True)
class InboundRow:
    label: str
    form: dict[str, str]
    expected: list[InboundMessage]


INBOUND_ROWS = [
    InboundRow(
        "Moroccan mobile in E.164, French text",
        inbound_sms("+212612345678", "+212522000111", "Bonjour, les ordures ne sont pas ramassées", "SM" + "a" * 32),
        [InboundMessage("sms", "+212612345678", "+212522000111", "SM" + "a" * 32,
                        "Bonjour, les ordures ne sont pas ramassées")],
    ),
    InboundRow(
        "Arabic text with Arabic-Indic digits is kept as written",
        inbound_sms("+212712345678", "+212522000111", "١", "SM" + "b" * 32),
        [InboundMessage("sms", "+212712345678", "+212522000111", "SM" + "b" * 32, "١")],
    ),
    InboundRow(
        "Egyptian mobile",
        inbound_sms("+201001234567", "+212522000111", "مرحبا", "SM" + "c" * 32),
        [InboundMessage("sms", "+201001234567", "+212522000111", "SM" + "c" * 32, "مرحبا")],
    ),
    InboundRow(
        "a sender that is not E.164 (alphanumeric) is kept raw, not invented",
        inbound_sms("INWI", "+212522000111", "Promo", "SM" + "d" * 32),
        [InboundMessage("sms", "INWI", "+212522000111", "SM" + "d" * 32, "Promo")],
    ),
    InboundRow(
        "an empty body is a message with empty text",
        inbound_sms("+212612345678", "+212522000111", "", "SM" + "e" * 32),
        [InboundMessage("sms", "+212612345678", "+212522000111", "SM" + "e" * 32, "")],
    ),
    InboundRow(
        "older payloads carry only SmsSid",
        {"SmsSid": "SM" + "f" * 32, "From": "+212612345678", "To": "+212522000111", "Body": "salam"},
        [InboundMessage("sms", "+212612345678", "+212522000111", "SM" + "f" * 32, "salam")],
    ),
    InboundRow(
        "a request with no sender carries no message",
        {"MessageSid": "SM" + "0" * 32, "To": "+212522000111", "Body": "x"},
        [],
    ),
]


@pytest.mark.parametrize("row", INBOUND_ROWS, ids=lambda row: row.label)
def test_inbound_payloads_normalize(row: InboundRow) -> None:
    adapter = channel()
    incoming = request(row.form)
    assert adapter.verify(incoming, None)
    assert adapter.parse(incoming) == row.expected


def test_very_long_body_is_capped() -> None:
    form = inbound_sms("+212612345678", "+212522000111", "x" * 20_000)
    (message,) = channel().parse(request(form))
    assert len(message.text) == 4000


@pytest.mark.parametrize(
    ("label", "signature", "url", "public_url", "valid"),
    [
        ("signed over the URL called", "sign", URL, None, True),
        ("missing signature", None, URL, None, False),
        ("empty signature", "", URL, None, False),
        ("forged signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", URL, None, False),
        ("signed with another token", "other", URL, None, False),
        ("behind a proxy: signed over the public URL", "sign-public",
         "http://127.0.0.1:8080/webhooks/twilio/sms", "https://hotline.commune.example", True),
        ("behind a proxy without HOTLINE_PUBLIC_URL the signature cannot match", "sign-public",
         "http://127.0.0.1:8080/webhooks/twilio/sms", None, False),
    ],
)
def test_signature(label: str, signature: str | None, url: str, public_url: str | None, valid: bool) -> None:
    form = inbound_sms("+212612345678", "+212522000111", "hello")
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = sign(TOKEN, url, form)
    elif signature == "sign-public":
        headers["X-Twilio-Signature"] = sign(TOKEN, URL, form)
    elif signature == "other":
        headers["X-Twilio-Signature"] = sign("another-token", url, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    incoming = HttpRequest(url=url, method="POST", headers=headers, form=form)
    assert channel().verify(incoming, public_url) is valid, label


def test_twilio_published_signature_vector() -> None:
    """Twilio's own test vector (twilio-python unit tests) through our verification."""
    form = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
            "From": "+14158675309", "To": "+18005551212"}
    incoming = HttpRequest(url="https://mycompany.com/myapp.php?foo=1&bar=2", method="POST",
                           headers={"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}, form=form)
    assert channel(token="12345").verify(incoming, None)


def test_signed_url_keeps_query_behind_proxy() -> None:
    incoming = HttpRequest(url="http://10.0.0.5:8080/webhooks/twilio/sms?x=1", method="POST", headers={}, form={})
    assert signed_url(incoming, "https://hotline.example/") == "https://hotline.example/webhooks/twilio/sms?x=1"


def test_reply_is_twiml_with_numbered_choices() -> None:
    from channels.base import Choice

    reply = channel().render_reply([
        OutboundMessage("sms", "+212612345678", "+212522000111", "Choisissez:", (Choice("1", "Plainte"),)),
        OutboundMessage("sms", "+212612345678", "+212522000111", "<b>&"),
    ])
    assert reply.content_type == "application/xml"
    assert reply.body == ('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Choisissez:\n1 Plainte'
                          "</Message><Message>&lt;b&gt;&amp;</Message></Response>")


def test_empty_reply_acknowledges() -> None:
    assert channel().render_reply([]).body == '<?xml version="1.0" encoding="UTF-8"?><Response />'


def test_status_callback_parsed() -> None:
    form = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    update = channel().parse_status(request(form))
    assert update is not None
    assert (update.provider_message_id, update.status, update.error_code) == ("SM1", "undelivered", "30003")


@dataclass(frozen=True)
class SendRow:
    label: str
    failures: tuple[ScriptedFailure, ...]
    retryable: bool | None
    """None: the send succeeds."""
    code: str | None = None
    retry_after: float | None = None
    opted_out: bool = False


SEND_ROWS = [
    SendRow("accepted", (), None),
    SendRow("invalid number is final", (ScriptedFailure(400, 21211, "Invalid 'To' Phone Number"),), False, "21211"),
    SendRow("opted out is final and marks the contact", (ScriptedFailure(400, 21610, "unsubscribed"),), False,
            "21610", opted_out=True),
    SendRow("429 is retried after Retry-After", (ScriptedFailure(429, 20429, "Too Many Requests", "7"),), True,
            "20429", 7.0),
    SendRow("500 is retried", (ScriptedFailure(500, None, "Internal"),), True, "500"),
    SendRow("503 is retried", (ScriptedFailure(503, None, "Unavailable"),), True, "503"),
    SendRow("an unknown 4xx is final", (ScriptedFailure(400, 21602, "Message body is required"),), False, "21602"),
]


@pytest.mark.parametrize("row", SEND_ROWS, ids=lambda row: row.label)
def test_send_against_emulator(row: SendRow, twilio: TwilioEmulator) -> None:
    to = "+2126" + str(abs(hash(row.label)))[:8].ljust(8, "0")
    twilio.fail_next(to, *row.failures)
    adapter = channel(twilio.url, twilio.auth_token, twilio.account_sid)
    message = OutboundMessage("sms", to, "+212522000111", "Votre plainte 482 913 0575 est traitée",
                              status_callback="https://hotline.commune.example/webhooks/twilio/status")
    if row.retryable is None:
        result = asyncio.run(adapter.send(message))
        (sent,) = twilio.sent_to(to)
        assert result.provider_message_id == sent.sid and result.status == "queued"
        assert sent.sender == "+212522000111"
        assert sent.body == message.text
        assert sent.status_callback == message.status_callback
        return
    with pytest.raises(SendError) as raised:
        asyncio.run(adapter.send(message))
    assert raised.value.retryable is row.retryable
    assert raised.value.code == row.code
    assert raised.value.retry_after == row.retry_after
    assert raised.value.opted_out is row.opted_out
    assert twilio.sent_to(to) == []


def test_send_with_wrong_credentials_is_final(twilio: TwilioEmulator) -> None:
    adapter = channel(twilio.url, "wrong-token", twilio.account_sid)
    with pytest.raises(SendError) as raised:
        asyncio.run(adapter.send(OutboundMessage("sms", "+212612345678", "+212522000111", "x")))
    assert raised.value.retryable is False and raised.value.code == "20003"


def test_unreachable_provider_is_retryable() -> None:
    adapter = channel("http://127.0.0.1:9")
    with pytest.raises(SendError) as raised:
        asyncio.run(adapter.send(OutboundMessage("sms", "+212612345678", "+212522000111", "x")))
    assert raised.value.retryable is True


@pytest.mark.parametrize(("value", "seconds"), [("12", 12.0), ("0", 0.0), ("soon", None), (None, None)])
def test_retry_after_header(value: str | None, seconds: float | None) -> None:
    headers = {"Retry-After": value} if value is not None else {}
    assert retry_after_seconds(headers) == seconds
