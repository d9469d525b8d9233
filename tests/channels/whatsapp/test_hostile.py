"""The WhatsApp channel against hostile forms, as rows: each form (verified, as Twilio signed it) and
the cleaned message it gives, or the refusal the gateway answers 400."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from channels.base import InboundMessage, Location, MediaRef
from tests.channels.whatsapp.test_adapter import CITIZEN, MEDIA, OURS, SID, channel, form, message, request

REFUSED = ValueError


@dataclass(frozen=True)
class Row:
    label: str
    fields: dict[str, str]
    expected: list[InboundMessage] | type[Exception]


ROWS = [
    Row("control characters in the text, the name and the place are removed",
        form(SID, Body="Zbel\x00\x1b[0m\r\nbzaf", ProfileName="Fati\x07ma Z", Latitude="34.02", Longitude="-6.84",
             Label="Hay\x00 Riad"),
        [InboundMessage("whatsapp", CITIZEN, OURS, SID, "Zbel[0m\nbzaf", sender_name="Fatima Z",
                        location=Location(34.02, -6.84, "Hay Riad"))]),
    Row("a NumMedia past 64 bits carries no media", form(SID, NumMedia=str(2**64), MediaUrl0=MEDIA + "1",
                                                          MediaContentType0="image/jpeg"),
        [message(SID)]),
    Row("a NumMedia in Arabic-Indic digits carries no media", form(SID, NumMedia="١", MediaUrl0=MEDIA + "1",
                                                                    MediaContentType0="image/jpeg"),
        [message(SID)]),
    Row("a content type longer than the store keeps is cut", form(SID, NumMedia="1", MediaUrl0=MEDIA + "1",
                                                                   MediaContentType0="image/" + "x" * 300),
        [message(SID, media=(MediaRef(MEDIA + "1", ("image/" + "x" * 300)[:100]),))]),
    Row("a pin past the poles is dropped", form(SID, Latitude="1e999", Longitude="nan"), [message(SID)]),
    Row("a button payload and reply context of controls only are none",
        form(SID, ButtonPayload="\x00\x01", OriginalRepliedMessageSid="\x1b"), [message(SID)]),
    Row("a sender of only a prefix carries nothing", form(SID, From="whatsapp:", WaId=""), []),
    Row("a sender longer than the store keeps is refused", form(SID, From="whatsapp:" + "1" * 40), REFUSED),
    Row("a recipient of only a prefix is refused", form(SID, To="whatsapp:"), REFUSED),
    Row("a SID with odd characters is refused", form("MM<script>"), REFUSED),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.label)
def test_hostile_forms(row: Row) -> None:
    incoming = request(row.fields)
    assert channel().verify(incoming, None)
    if isinstance(row.expected, list):
        assert channel().parse(incoming) == row.expected
    else:
        with pytest.raises(row.expected):
            channel().parse(incoming)
