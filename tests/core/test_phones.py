"""Phone numbers: Moroccan and Egyptian mobiles to E.164; short codes and garbage to None."""

from __future__ import annotations

import pytest

from core.phones import is_mobile, is_short_code, normalize_phone, strip_channel_prefix


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("0612345678", "MA", "+212612345678"),
        ("0712345678", "MA", "+212712345678"),
        ("06 12 34 56 78", "MA", "+212612345678"),
        ("+212612345678", "MA", "+212612345678"),
        ("+212 6-12-34-56-78", "EG", "+212612345678"),
        ("00212612345678", "MA", "+212612345678"),
        ("whatsapp:+212612345678", "MA", "+212612345678"),
        ("WhatsApp:+201012345678", "MA", "+201012345678"),
        ("01012345678", "EG", "+201012345678"),
        ("01555516528", "EG", "+201555516528"),
        ("+201012345678", "EG", "+201012345678"),
        ("0537123456", "MA", "+212537123456"),
        ("16528", "EG", None),
        ("3737", "MA", None),
        ("0612345678", "EG", None),
        ("garbage", "MA", None),
        ("", "MA", None),
        ("+", "MA", None),
        ("whatsapp:", "MA", None),
        ("1" * 40, "MA", None),
    ],
)
def test_normalize_phone(raw: str, region: str, expected: str | None) -> None:
    assert normalize_phone(raw, region) == expected


def test_short_codes() -> None:
    assert is_short_code("16528", "EG")
    assert not is_short_code("01012345678", "EG")
    assert not is_short_code("hello", "EG")


@pytest.mark.parametrize(
    ("e164", "mobile"),
    [("+212612345678", True), ("+212712345678", True), ("+201012345678", True), ("+212537123456", False),
     ("not a number", False), ("+2016528", False)],
)  # fmt: skip
def test_is_mobile(e164: str, mobile: bool) -> None:
    assert is_mobile(e164) is mobile


def test_strip_channel_prefix() -> None:
    assert strip_channel_prefix(" whatsapp:+212612345678 ") == "+212612345678"
    assert strip_channel_prefix("+212612345678") == "+212612345678"
