"""The Telegram adapter against hostile updates, as rows. An update of a kind we handle whose fields we
cannot read is ignored (the webhook answers 200 so Telegram does not retry it for ever, and nothing is
recorded); a body that is no update at all is refused (400); what gets through is cleaned."""

from __future__ import annotations

import json
from typing import Any

import pytest

from channels.base import Location
from tests import telegram_updates as u
from tests.channels.telegram.test_adapter import ADAPTER, ME, MENU, SECRET, request


def changed(update: dict[str, Any], key: str = "message", **fields: Any) -> dict[str, Any]:
    """`update` with fields of its message (or callback query) replaced; `None` removes one."""
    inner = update[key]
    for name, value in fields.items():
        if value is None:
            inner.pop(name, None)
        else:
            inner[name] = value
    return update


def deep(levels: int) -> bytes:
    return b'{"update_id": 1, "message": ' + b"[" * levels + b"]" * levels + b"}"


IGNORED = [
    ("text that is a number", changed(u.text(ME, "x"), text=5)),
    ("caption that is a list", changed(u.photo(ME, "P"), caption=["x"])),
    ("venue without a location", changed(u.venue(ME, 1, 2, "Marché", "Av."), location=None,
                                         venue={"title": "Marché", "address": "Av."})),
    ("location without coordinates", changed(u.location(ME, 1, 2), location={"latitude": "north"})),
    ("no chat", changed(u.text(ME, "x"), chat=None)),
    ("chat id that is text", changed(u.text(ME, "x"), chat={"id": "me", "type": "private"})),
    ("date past 2106", changed(u.text(ME, "x"), date=2**40)),
    ("negative date", changed(u.text(ME, "x"), date=-1)),
    ("date that is text", changed(u.text(ME, "x"), date="today")),
    ("sender id empty", changed(u.text(ME, "x"), **{"from": {"id": "", "is_bot": False, "first_name": "A"}})),
    ("sender id past 64 bits", changed(u.text(ME, "x"), **{"from": {"id": 2**64, "is_bot": False,
                                                                     "first_name": "A"}})),
    ("sender id a boolean", changed(u.text(ME, "x"), **{"from": {"id": True, "is_bot": False, "first_name": "A"}})),
    ("sender that is text", changed(u.text(ME, "x"), **{"from": "me"})),
    ("photo that is text", changed(u.text(ME, "x"), photo="x")),
    ("photo sizes without file ids", changed(u.text(ME, "x"), photo=[{"width": 1}])),
    ("document without a file id", changed(u.text(ME, "x"), document={"mime_type": "image/png"})),
    ("contact without a phone", changed(u.contact(ME, "212612345678"), contact={"first_name": "A"})),
    ("contact user id that is text", changed(u.contact(ME, "212612345678"),
                                             contact={"phone_number": "1", "first_name": "A", "user_id": "x"})),
    ("reply to something that is no message", changed(u.text(ME, "x"), reply_to_message={"x": 1})),
    ("message that is a list", {"update_id": 9, "message": [1]}),
    ("edited message without a chat", changed(u.message(ME, key="edited_message", text="x"), "edited_message",
                                              chat=None)),
    ("button press without a sender", changed(u.press(ME, SECRET, "1", MENU), "callback_query", **{"from": None})),
    ("button data that is a number", changed(u.press(ME, SECRET, "1", MENU), "callback_query", data=7)),
    ("button press without an id", changed(u.press(ME, SECRET, "1", MENU), "callback_query", id=None)),
    ("keyboard that is text", changed(u.press(ME, SECRET, "1", MENU), "callback_query",
                                      message={"message_id": 1, "date": 1, "chat": u.private_chat(ME),
                                               "reply_markup": {"inline_keyboard": "x"}})),
]


@pytest.mark.parametrize(("label", "update"), IGNORED, ids=[row[0] for row in IGNORED])
def test_unusable_updates_are_ignored(label: str, update: dict[str, Any]) -> None:
    assert ADAPTER.parse(request(update)) == []
    assert ADAPTER.acknowledge(request(update), []).status == 200


REFUSED = [
    ("JSON 40 levels deep", deep(40)),
    ("JSON 1,000 levels deep", deep(1000)),
    ("JSON 100,000 levels deep", deep(100_000)),
    ("NaN", b'{"update_id": NaN}'),
    ("a float past the double range", b'{"update_id": 1, "message": {"date": 1e999}}'),
    ("a 5,000-digit number", b'{"update_id": ' + b"9" * 5000 + b"}"),
    ("not UTF-8", b'{"update_id": 1, "message": {"text": "\xff"}}'),
    ("UTF-16", json.dumps({"update_id": 1}).encode("utf-16")),
    ("a byte-order mark", b'\xef\xbb\xbf{"update_id": 1}'),
    ("update id past 64 bits", json.dumps({"update_id": 2**64, "message": {}}).encode()),
    ("negative update id", json.dumps({"update_id": -1}).encode()),
    ("update id a boolean", json.dumps({"update_id": True}).encode()),
]


@pytest.mark.parametrize(("label", "body"), REFUSED, ids=[row[0] for row in REFUSED])
def test_bodies_that_are_no_update_are_refused(label: str, body: bytes) -> None:
    with pytest.raises(ValueError):
        ADAPTER.parse(request(body))


CLEANED = [
    ("control characters and a lone surrogate in a text", u.text(ME, "Zbel\x00\x07\ud800\x1b[0m\r\nhna"),
     {"text": "Zbel[0m\nhna"}),
    ("a command with control characters", u.text(ME, "/sta\x00rt"), {"text": "menu"}),
    ("an empty first name", changed(u.text(ME, "x"), **{"from": {"id": ME, "is_bot": False, "first_name": ""}}),
     {"sender_name": ""}),
    ("names with control characters", changed(u.text(ME, "x"), **{"from": {
        "id": ME, "is_bot": False, "first_name": "Ami\x00na", "last_name": "\x1bB"}}), {"sender_name": "Amina B"}),
    ("a pin past the poles is dropped", u.location(ME, 1000, 2), {"location": None}),
    ("a venue past the poles keeps its words", changed(u.venue(ME, 1, 2, "Marché", "Av."), venue={
        "location": {"latitude": 91, "longitude": 2}, "title": "Marché", "address": "Av."}),
     {"location": Location(None, None, "Marché, Av.")}),
    ("button data with a lone surrogate", changed(u.press(ME, SECRET, "1", MENU), "callback_query",
                                                  data="\ud800.x"), {"button_payload": ".x", "button_choices": ()}),
    ("a text of 100,000 characters is cut", u.text(ME, "é" * 100_000), {"text": "é" * 4096}),
]


@pytest.mark.parametrize(("label", "update", "expected"), CLEANED, ids=[row[0] for row in CLEANED])
def test_what_gets_through_is_cleaned(label: str, update: dict[str, Any], expected: dict[str, Any]) -> None:
    (message,) = ADAPTER.parse(request(update))
    assert message.sender == str(ME)
    for name, value in expected.items():
        assert getattr(message, name) == value, name
