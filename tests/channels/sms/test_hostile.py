"""The SMS channel and Twilio's status callbacks against hostile forms, as rows: each form and what it
must give (the cleaned message, nothing, or a refusal the gateway answers 400). Forms are verified as
Twilio signed them: these are the checks that come after the signature."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from channels.base import InboundMessage, StatusUpdate
from tests.channels.sms.test_adapter import channel, request
from tests.support import inbound_sms

CITIZEN = "+212612345678"
OURS = "+212522000111"
SID = "SM" + "a" * 32
REFUSED = ValueError


def form(**changes: str) -> dict[str, str]:
    """An inbound SMS as Twilio posts it, with the row's changes (`None` drops a field)."""
    fields = inbound_sms(CITIZEN, OURS, "Bonjour", SID)
    fields.update(changes)
    return fields


@dataclass(frozen=True)
class Row:
    label: str
    form: dict[str, str]
    expected: list[InboundMessage] | type[Exception]


ROWS = [
    Row("control characters are removed, line breaks kept as \\n", form(Body="a\x00b\x07c\x1b[31md\x7fe\r\nf\rg\th"),
        [InboundMessage("sms", CITIZEN, OURS, SID, "abc[31mde\nf\ng\th")]),
    Row("the XML non-characters are removed", form(Body="x\ufffey\uffffz"), [InboundMessage("sms", CITIZEN, OURS, SID,
                                                                                            "xyz")]),
    Row("a body of only control characters is an empty text", form(Body="\x00\x01\x02"),
        [InboundMessage("sms", CITIZEN, OURS, SID, "")]),
    Row("an alphanumeric sender with control characters is cleaned", form(From="IN\x00WI"),
        [InboundMessage("sms", "INWI", OURS, SID, "Bonjour")]),
    Row("a sender of only control characters is refused", form(From="\x00\x1b"), REFUSED),
    Row("a sender longer than the store keeps is refused", form(From="A" * 33), REFUSED),
    Row("an empty recipient is refused", form(To=""), REFUSED),
    Row("a recipient longer than the store keeps is refused", form(To="9" * 40), REFUSED),
    Row("a SID with odd characters is refused", form(MessageSid="SM<x>", SmsSid="SM<x>"), REFUSED),
    Row("a SID with a NUL is refused", form(MessageSid="SM\x00" + "a" * 31), REFUSED),
    Row("a SID longer than the store keeps is refused", form(MessageSid="SM" + "a" * 200), REFUSED),
    Row("a missing SID is a message without one (deduplicated by text)", form(MessageSid="", SmsSid=""),
        [InboundMessage("sms", CITIZEN, OURS, None, "Bonjour")]),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.label)
def test_hostile_forms(row: Row) -> None:
    incoming = request(row.form)
    assert channel().verify(incoming, None)
    if isinstance(row.expected, list):
        assert channel().parse(incoming) == row.expected
    else:
        with pytest.raises(row.expected):
            channel().parse(incoming)


STATUS_ROWS = [
    ("a failed delivery", {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "30003"},
     StatusUpdate(SID, "failed", "30003")),
    ("an opt-out at the carrier", {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "21610"},
     StatusUpdate(SID, "undelivered", "21610", opted_out=True)),
    ("a status in capitals is lowered", {"SmsSid": SID, "SmsStatus": "DELIVERED"}, StatusUpdate(SID, "delivered")),
    ("a SID with odd characters", {"MessageSid": "SM|f:x y", "MessageStatus": "failed"}, None),
    ("a SID with a NUL", {"MessageSid": "SM\x00", "MessageStatus": "failed"}, None),
    ("a SID past the store's length", {"MessageSid": "SM" + "0" * 200, "MessageStatus": "sent"}, None),
    ("a status that is not a word", {"MessageSid": SID, "MessageStatus": "sent; DROP TABLE"}, None),
    ("a status of 100 letters", {"MessageSid": SID, "MessageStatus": "x" * 100}, None),
    ("an error code with odd characters", {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "3000\x00"},
     None),
    ("an error code of 100 digits", {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "9" * 100}, None),
    ("no SID", {"MessageStatus": "delivered"}, None),
    ("no status", {"MessageSid": SID}, None),
]


@pytest.mark.parametrize(("label", "fields", "expected"), STATUS_ROWS, ids=[row[0] for row in STATUS_ROWS])
def test_hostile_status_callbacks(label: str, fields: dict[str, str], expected: StatusUpdate | None) -> None:
    assert channel().parse_status(request(fields)) == expected
