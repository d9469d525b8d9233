"""Property-based fuzzing of the Messenger parser (Hypothesis, derandomized): arbitrary bytes, arbitrary
JSON in every place of a delivery, and real-shaped deliveries with any field replaced by anything.

The contract: `parse` returns clean messages (a numeric sender and Page, fields no longer than the
store keeps, no control characters, media only on allowed hosts) or raises `ValueError`; nothing else.
The acknowledgement never fails, and neither does the signature check.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from channels.base import HttpRequest, InboundMessage
from channels.messenger.adapter import MessengerChannel
from tests.channels.test_parser_fuzz import FUZZ, JSON_VALUES, TEXT, assert_clean, paths, replaced
from tests.emulators import messenger as fb
from tests.support import channel_settings

SECRET = "fuzz-secret"
ADAPTER = MessengerChannel.from_settings(channel_settings({"MESSENGER_APP_SECRET": SECRET,
                                                           "MESSENGER_VERIFY_TOKEN": "v"}))
PSID = "6123456789012345"
CDN = "https://scontent.xx.fbcdn.net/v/x.jpg?oh=1"
REAL = [
    fb.webhook(fb.text(PSID, "Bonjour")),
    fb.webhook(fb.quick_reply(PSID, "Plainte", "1")),
    fb.webhook(fb.postback(PSID, "GET_STARTED")),
    fb.webhook(fb.postback(PSID, "MENU", with_mid=False)),
    fb.webhook(fb.attachments(PSID, fb.attachment("image", CDN), fb.attachment("audio", CDN), fb.pin(34.0, -6.8),
                              words="Devant l'école")),
    fb.webhook(fb.text(PSID, "oui", reply_to={"mid": "m_1"})),
    fb.webhook(fb.event(PSID, "delivery", {"mids": ["m_1"], "watermark": 1, "seq": 3})),
    fb.webhook(fb.text(PSID, "un"), entries=(fb.entry(fb.text("7234567890123456", "deux"),
                                                      fb.event(PSID, "read", {"watermark": 1})),)),
]
KINDS = st.sampled_from(["message", "postback", "delivery", "read", "reaction", "optin"])


def outcome(body: bytes) -> list[InboundMessage]:
    """Parse `body`: a refusal (nothing), or clean messages; acknowledging and verifying never fail."""
    incoming = HttpRequest("https://hotline.example/webhooks/messenger", "POST", {"X-Hub-Signature-256": "x"}, {},
                           body)
    assert ADAPTER.acknowledge(incoming, []).status == 200
    assert ADAPTER.verify(incoming, None) is False
    try:
        found = ADAPTER.parse(incoming)
    except ValueError:
        return []
    assert isinstance(found, list)
    for message in found:
        assert isinstance(message, InboundMessage)
        assert_clean(message)
        assert message.channel == "messenger"
        assert message.sender.isdigit() and message.recipient.isdigit()
        assert all(ADAPTER.settings.media_allowed(ref.url) for ref in message.media)
    return found


@FUZZ
@given(st.binary(max_size=300))
def test_bytes(body: bytes) -> None:
    outcome(body)


@FUZZ
@given(JSON_VALUES)
def test_any_json(value: Any) -> None:
    outcome(json.dumps(value).encode())


@FUZZ
@given(st.one_of(st.just("page"), JSON_VALUES), JSON_VALUES)
def test_any_entries(kind: Any, entries: Any) -> None:
    outcome(json.dumps({"object": kind, "entry": entries}).encode())


@FUZZ
@given(KINDS, JSON_VALUES, JSON_VALUES, JSON_VALUES, JSON_VALUES)
def test_any_event(kind: str, body: Any, sender: Any, recipient: Any, timestamp: Any) -> None:
    event = {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": timestamp, kind: body}
    outcome(json.dumps({"object": "page", "entry": [{"id": "1", "messaging": [event]}]}).encode())


@FUZZ
@given(TEXT, JSON_VALUES, JSON_VALUES)
def test_any_message_fields(text: str, quick_reply: Any, attachments: Any) -> None:
    event = fb.event(PSID, "message", {"mid": "m_1", "text": text, "quick_reply": quick_reply,
                                       "attachments": attachments})
    outcome(json.dumps(fb.webhook(event)).encode())


MUTATED = st.sampled_from(REAL).flatmap(
    lambda delivery: st.builds(replaced, st.just(delivery), st.sampled_from(list(paths(delivery))), JSON_VALUES))


@FUZZ
@given(MUTATED)
def test_real_deliveries_with_any_field_replaced(delivery: dict[str, Any]) -> None:
    outcome(json.dumps(delivery).encode())


@FUZZ
@given(st.sampled_from(REAL), st.integers(min_value=0, max_value=3), JSON_VALUES)
def test_one_bad_event_harms_no_other(delivery: dict[str, Any], where: int, bad: Any) -> None:
    """A wrong-shaped event put among a delivery's events takes nothing from what the others give."""
    good = outcome(json.dumps(delivery).encode())
    events = delivery["entry"][0]["messaging"]
    spoiled = {**delivery, "entry": [{**delivery["entry"][0], "messaging": [*events[:where], bad, *events[where:]]},
                                     *delivery["entry"][1:]]}
    found = outcome(json.dumps(spoiled).encode())
    assert all(m in found for m in good)
