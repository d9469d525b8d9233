"""SMS segment counting: GSM-7 with its extension table, UCS-2 in UTF-16 code units."""

from __future__ import annotations

import pytest

from channels.sms.segments import GSM_BASIC, GSM_EXTENSION, encoding, segments

VECTORS = [
    # (text, encoding, segments)
    ("", "GSM-7", 0),
    ("a", "GSM-7", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€", "GSM-7", 1),
    ("€" * 80, "GSM-7", 1),
    ("€" * 81, "GSM-7", 2),
    ("a" * 159 + "€", "GSM-7", 2),
    ("a" * 152 + "[" + "a" * 10, "GSM-7", 2),
    ("{}[]~|^\\", "GSM-7", 1),
    ("Éclairage public à Salé: déjà signalé", "GSM-7", 1),
    ("ب" * 70, "UCS-2", 1),
    ("ب" * 71, "UCS-2", 2),
    ("ب" * 134, "UCS-2", 2),
    ("ب" * 135, "UCS-2", 3),
    ("a" * 69 + "ç", "UCS-2", 1),
    ("ê" + "a" * 70, "UCS-2", 2),
    ("…", "UCS-2", 1),
    ("😀" * 35, "UCS-2", 1),
    ("😀" * 36, "UCS-2", 2),
    ("a" + "😀" * 34 + "b", "UCS-2", 1),
    ("a" + "😀" * 34 + "bb", "UCS-2", 2),
]


@pytest.mark.parametrize(("text", "enc", "count"), VECTORS, ids=[f"{len(v[0])}-{v[1]}-{v[2]}" for v in VECTORS])
def test_vectors(text: str, enc: str, count: int) -> None:
    """Known lengths give known encodings and segment counts."""
    assert encoding(text) == enc
    assert segments(text) == count


def test_surrogate_pair_not_split_across_parts() -> None:
    """66 units then an emoji: the emoji starts the second part, the third part holds the rest."""
    text = "a" * 66 + "😀" + "b" * 66
    assert segments(text) == 3


def test_tables_have_their_standard_sizes() -> None:
    """The GSM-7 basic table has 127 characters besides the escape; the extension table ten."""
    assert len(GSM_BASIC) == 127
    assert len(GSM_EXTENSION) == 10
    assert "€" not in GSM_BASIC and "€" in GSM_EXTENSION
