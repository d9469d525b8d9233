"""Test helpers that act as Twilio and as a citizen: signed webhooks shaped like Twilio's own."""

from __future__ import annotations

import random
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Mapping

import requests
from twilio.request_validator import RequestValidator

from channels.base import ChannelSettings
from core.phones import normalize_phone

ACCOUNT_SID = "AC" + "0" * 30 + "01"


def random_mobile(prefix: str = "+2126") -> str:
    """A valid mobile number nobody else in the test run uses (Moroccan by default)."""
    while True:
        candidate = prefix + "".join(random.choices("0123456789", k=12 - len(prefix) + 1))
        if normalize_phone(candidate, "MA") == candidate:
            return candidate


def message_sid() -> str:
    """A fresh Twilio message SID."""
    return "SM" + secrets.token_hex(16)


def inbound_sms(sender: str, to: str, body: str, sid: str | None = None) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS (fields as Twilio documents and sends them)."""
    sid = sid or message_sid()
    return {
        "ToCountry": "MA", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
        "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
        "Body": body, "FromCountry": "MA", "To": to, "ToZip": "", "NumSegments": "1",
        "ReferralNumMedia": "0", "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": sender,
        "ApiVersion": "2010-04-01",
    }


def inbound_whatsapp(sender: str, to: str, body: str = "", sid: str | None = None, *,
                     media: tuple[tuple[str, str], ...] = (), profile_name: str = "Citoyen",
                     **extra: str) -> dict[str, str]:
    """The form Twilio posts for an inbound WhatsApp message: `media` as (url, content type) pairs,
    `extra` for pins (`Latitude`...), buttons and reply context, as Twilio names them."""
    sid = sid or ("MM" if media else "SM") + secrets.token_hex(16)
    form = {
        "SmsMessageSid": sid, "NumMedia": str(len(media)), "ProfileName": profile_name,
        "MessageType": "image" if media else ("location" if "Latitude" in extra else "text"),
        "SmsSid": sid, "WaId": sender.lstrip("+"), "SmsStatus": "received", "Body": body,
        "To": f"whatsapp:{to}", "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid,
        "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{sender}", "ApiVersion": "2010-04-01",
    }
    for index, (url, content_type) in enumerate(media):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = content_type
    form.update(extra)
    return form


def status_callback(sid: str, status: str, to: str, sender: str, error_code: str | None = None) -> dict[str, str]:
    """The form Twilio posts to a message's StatusCallback."""
    form = {"SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "To": to, "MessageSid": sid,
            "AccountSid": ACCOUNT_SID, "From": sender, "ApiVersion": "2010-04-01"}
    if error_code:
        form["ErrorCode"] = error_code
    return form


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """`X-Twilio-Signature` as Twilio computes it."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))


def twiml_messages(xml: str) -> list[str]:
    """The bodies of the `<Message>` elements of a TwiML reply."""
    root = ET.fromstring(xml)
    assert root.tag == "Response", xml
    return [element.text or "" for element in root.iter("Message")]


def post_signed(
    base_url: str, path: str, params: Mapping[str, str], auth_token: str, public_url: str | None = None,
    signature: str | None = None,
) -> requests.Response:
    """POST a form as Twilio would, signed over the public URL (as behind a proxy)."""
    signed_over = (public_url or base_url).rstrip("/") + path
    headers = {"X-Twilio-Signature": signature if signature is not None else sign(auth_token, signed_over, params),
               "User-Agent": "TwilioProxy/1.1"}
    return requests.post(base_url + path, data=params, headers=headers, timeout=30)


def channel_settings(env: dict[str, str], region: str = "MA") -> ChannelSettings:
    """What an adapter is built from, for a test building one alone (Morocco's numbers)."""
    return ChannelSettings(env, region)
