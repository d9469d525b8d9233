"""Citizens' phone numbers: normalized to E.164, short codes told apart, mobiles recognized.

Twilio gives WhatsApp senders as `whatsapp:+212...`; citizens type local numbers (`0612...`). Both
become `+212612...`. Short codes (Egypt's 16528) are not E.164 numbers and are never stored as one.
"""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

_PREFIXES = ("whatsapp:", "sms:", "tel:")
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def strip_channel_prefix(raw: str) -> str:
    """The address without a `whatsapp:` (or `sms:`, `tel:`) prefix."""
    text = raw.strip()
    lowered = text.lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix):
            return text[len(prefix) :].strip()
    return text


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    """A parsed number, or None when the text is not a number at all."""
    text = strip_channel_prefix(raw)
    if not text or len(text) > 32:
        return None
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


@functools.lru_cache(maxsize=65_536)
def normalize_phone(raw: str, region: str) -> str | None:
    """E.164 (`+212612345678`) for a valid number, local ones read in `region`; else None.

    Memoized: every inbound message normalizes its sender, and parsing is the costly part."""
    number = _parse(raw, region)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_short_code(raw: str, region: str) -> bool:
    """True for a short code valid in `region` (a hotline such as 16528), which is not an E.164 number."""
    text = strip_channel_prefix(raw)
    if not text.isdigit() or len(text) > 8:
        return False
    number = _parse(text, region)
    return number is not None and shortnumberinfo.is_valid_short_number_for_region(number, region)


def is_mobile(e164: str) -> bool:
    """True when the E.164 number is a mobile (or may be one): it can receive SMS and WhatsApp."""
    number = _parse(e164, "ZZ")
    if number is None or not phonenumbers.is_valid_number(number):
        return False
    return phonenumbers.number_type(number) in _MOBILE_TYPES
