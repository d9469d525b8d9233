"""How many SMS segments a text costs: GSM-7 (basic + extension table) or UCS-2 (3GPP TS 23.038).

A text made only of GSM-7 characters travels as GSM-7: 160 septets in one SMS, 153 per part when
concatenated; extension-table characters (`€`, `[`, `{`, ...) take two septets and are never split
across parts. Any other character makes the whole text UCS-2: 70 UTF-16 code units in one SMS, 67
per part, a surrogate pair (emoji) never split.
"""

from __future__ import annotations

from typing import Literal

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["GSM-7", "UCS-2"]

_LIMITS: dict[str, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


def encoding(text: str) -> Encoding:
    """`GSM-7` when every character is in the GSM-7 basic or extension table, else `UCS-2`."""
    if all(char in GSM_BASIC or char in GSM_EXTENSION for char in text):
        return "GSM-7"
    return "UCS-2"


def _costs(text: str, enc: Encoding) -> list[int]:
    """The size of each character in the encoding's units (septets or UTF-16 code units)."""
    if enc == "GSM-7":
        return [2 if char in GSM_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def segments(text: str) -> int:
    """The number of SMS segments `text` is sent as (0 for an empty text: nothing is sent)."""
    if not text:
        return 0
    enc = encoding(text)
    single, part = _LIMITS[enc]
    costs = _costs(text, enc)
    if sum(costs) <= single:
        return 1
    parts, room = 1, part
    for cost in costs:
        if cost > room:
            parts, room = parts + 1, part
        room -= cost
    return parts
