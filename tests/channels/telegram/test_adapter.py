"""The Telegram adapter as tables: real-shaped updates and what each gives; the secret check; sends
and their errors against the local Bot API emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from channels.base import HttpRequest, Location, MediaError, MediaRef, OutboundMessage, SendError, SharedContact
from channels.telegram.adapter import TelegramChannel, command_text
from tests import telegram_updates as u
from tests.emulators.server import ThreadedServer
from tests.emulators.telegram import Failure, TelegramEmulator
from tests.support import channel_settings

SECRET = "webhook-secret_0123"
ME = 51234567
ADAPTER = TelegramChannel.from_settings(channel_settings({"TELEGRAM_BOT_TOKEN": "7000000001:token",
                                                          "TELEGRAM_WEBHOOK_SECRET": SECRET}))
MENU = [("1", "Plainte"), ("2", "Observation"), ("EN", "English")]


def request(body: Any, secret: str | None = SECRET) -> HttpRequest:
    """A webhook request as aiohttp gives it to the adapter."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return HttpRequest("https://hotline.example/webhooks/telegram", "POST", headers, {}, raw)


def with_language(update: dict[str, Any], language: str) -> dict[str, Any]:
    """The update with its sender's `language_code` set to `language`."""
    body = update.get("message") or update["callback_query"]
    body["from"] = {**body["from"], "language_code": language}
    return update


PARSE = [
    ("text", u.text(ME, "Bonjour"), {"text": "Bonjour"}),
    ("start", u.text(ME, "/start"), {"text": "menu"}),
    ("start deep link", u.text(ME, "/start track_4829130575"), {"text": "4829130575"}),
    ("start unknown payload", u.text(ME, "/start promo"), {"text": "menu"}),
    ("status", u.text(ME, "/status"), {"text": "track"}),
    ("status with reference", u.text(ME, "/status 482 913 0575"), {"text": "482 913 0575"}),
    ("lang", u.text(ME, "/lang"), {"text": "language"}),
    ("lang fr", u.text(ME, "/lang fr"), {"text": "fr"}),
    ("agent with bot name", u.text(ME, "/agent@hotline_bot"), {"text": "agent"}),
    ("cancel", u.text(ME, "/cancel"), {"text": "cancel"}),
    ("photo with caption", u.photo(ME, "PHOTO-BIG", "Poubelle renversée"),
     {"text": "Poubelle renversée", "media": (MediaRef("telegram:PHOTO-BIG", "image/jpeg"),)}),
    ("document image", u.document(ME, "DOC-1"), {"media": (MediaRef("telegram:DOC-1", "image/jpeg"),)}),
    ("document pdf", u.document(ME, "DOC-2", "application/pdf", "plainte.pdf"),
     {"media": (MediaRef("telegram:DOC-2", "application/pdf"),)}),
    ("voice", u.voice(ME, "VOICE-1"), {"media": (MediaRef("telegram:VOICE-1", "audio/ogg"),)}),
    ("location", u.location(ME, 34.0209, -6.8416), {"location": Location(34.0209, -6.8416)}),
    ("venue", u.venue(ME, 34.02, -6.84, "Marché central", "Av. Mohammed V"),
     {"location": Location(34.02, -6.84, "Marché central, Av. Mohammed V")}),
    ("own contact", u.contact(ME, "212612345678"),
     {"shared_contact": SharedContact("+212612345678", "Amina Benali", own=True)}),
    ("someone else's contact", u.contact(ME, "+212612345679", owner=999),
     {"shared_contact": SharedContact("+212612345679", "Amina Benali", own=False)}),
    ("callback query", u.press(ME, SECRET, "2", MENU),
     {"button_payload": "2", "button_choices": tuple(MENU), "text": ""}),
    ("forged callback", u.press(ME, SECRET, "2", MENU, signed=False), {"button_payload": "2", "button_choices": ()}),
    ("edited message", u.message(ME, key="edited_message", text="Bonjour (corrigé)"), {"edited": True}),
    ("the app's language", u.text(ME, "Bonjour"), {"language_hint": "fr"}),
    ("a regional app language", with_language(u.text(ME, "hi"), "en-US"), {"language_hint": "en"}),
    ("an unusable app language", with_language(u.text(ME, "hi"), "français!"), {"language_hint": ""}),
    ("a button press carries it too", with_language(u.press(ME, SECRET, "1", MENU), "ar"), {"language_hint": "ar"}),
]


@pytest.mark.parametrize(("label", "update", "expected"), PARSE, ids=[row[0] for row in PARSE])
def test_updates_become_messages(label: str, update: dict[str, Any], expected: dict[str, Any]) -> None:
    (message,) = ADAPTER.parse(request(update))
    assert message.channel == "telegram"
    assert message.sender == str(ME)
    assert message.recipient == "7000000001"
    assert message.provider_message_id == str(update["update_id"])
    for name, value in expected.items():
        assert getattr(message, name) == value, name


IGNORED = [
    ("group message", u.group_text(ME, "/start")),
    ("channel post", {"update_id": 1, "channel_post": {"message_id": 1, "date": 1, "text": "hi",
                                                       "chat": {"id": -100, "type": "channel", "title": "c"}}}),
    ("poll (not handled)", {"update_id": 2, "poll": {"id": "1", "question": "?", "options": [], "total_voter_count": 0,
                                                     "is_closed": False, "is_anonymous": True, "type": "regular",
                                                     "allows_multiple_answers": False}}),
    ("my_chat_member", {"update_id": 3, "my_chat_member": {
        "chat": {"id": ME, "type": "private"}, "from": u.user(ME), "date": 1,
        "old_chat_member": {"status": "member", "user": u.user(1, "Bot")},
        "new_chat_member": {"status": "kicked", "until_date": 0, "user": u.user(1, "Bot")}}}),
]


@pytest.mark.parametrize(("label", "update"), IGNORED, ids=[row[0] for row in IGNORED])
def test_updates_not_for_the_dialogue_give_nothing(label: str, update: dict[str, Any]) -> None:
    assert ADAPTER.parse(request(update)) == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"message": {}}', b'{"update_id": "x"}', b""])
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        ADAPTER.parse(request(body))


@pytest.mark.parametrize(("secret", "ok"), [(SECRET, True), ("wrong", False), ("", False), (None, False),
                                            (SECRET + "x", False)])
def test_secret_token(secret: str | None, ok: bool) -> None:
    assert ADAPTER.verify(request({"update_id": 1}, secret), None) is ok


def test_no_secret_configured_refuses_everything() -> None:
    bare = TelegramChannel.from_settings(channel_settings({"TELEGRAM_BOT_TOKEN": "1:t"}))
    assert not bare.verify(request({"update_id": 1}, ""), None)


def test_a_button_press_is_answered_in_the_webhook_response() -> None:
    update = u.press(ME, SECRET, "1", MENU)
    reply = ADAPTER.acknowledge(request(update), [])
    assert json.loads(reply.body) == {"method": "answerCallbackQuery",
                                      "callback_query_id": update["callback_query"]["id"]}
    assert ADAPTER.acknowledge(request(u.text(ME, "hi")), []).body == ""


@pytest.mark.parametrize(("typed", "words"), [("/help", "help"), ("/menu", "menu"), ("/unknown", "/unknown"),
                                              ("hello /start", "hello /start")])
def test_command_words(typed: str, words: str) -> None:
    assert command_text(typed) == words


@pytest.fixture(scope="module")
def emulator() -> Iterator[TelegramEmulator]:
    """A Bot API emulator for this module."""
    emulator = TelegramEmulator()
    server = ThreadedServer(emulator.app()).start()
    emulator.url = server.url
    yield emulator
    server.stop()


def _adapter(emulator: TelegramEmulator) -> TelegramChannel:
    return TelegramChannel.from_settings(channel_settings({
        "TELEGRAM_BOT_TOKEN": emulator.token, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE": emulator.url}))


def test_sends_with_keyboards_and_classes_errors(emulator: TelegramEmulator) -> None:
    adapter = _adapter(emulator)
    chat = 61000001
    emulator.fail_next(chat, Failure(429, "flood", retry_after=7),
                       Failure(403, "Forbidden: bot was blocked by the user"))

    async def run() -> list[Any]:
        out: list[Any] = []
        for _ in range(3):
            try:
                out.append(await adapter.send(OutboundMessage("telegram", str(chat), "", "Choisissez :",
                                                              choices=(), request=("location", "📍 Position"))))
            except SendError as error:
                out.append(error)
        await adapter.aclose()
        return out

    flood, blocked, sent = asyncio.run(run())
    assert isinstance(flood, SendError) and flood.retryable and flood.retry_after == 7
    assert isinstance(blocked, SendError) and not blocked.retryable and blocked.unreachable
    assert sent.provider_message_id.startswith(f"{chat}:")
    (call,) = emulator.sent(chat)
    assert call.keyboard["keyboard"][0][0] == {"text": "📍 Position", "request_location": True,
                                              "request_contact": False}


def test_media_through_get_file_with_the_size_cap(emulator: TelegramEmulator) -> None:
    adapter = _adapter(emulator)
    small = emulator.add_file(b"\xff\xd8small")
    huge = emulator.add_file(b"\xff\xd8", declared_size=20 * 1024 * 1024)

    async def run() -> tuple[Any, ...]:
        fetched = await adapter.fetch_media(MediaRef("telegram:" + small, "image/jpeg"), 1000)
        errors = []
        for ref in (MediaRef("telegram:" + huge, "image/jpeg"), MediaRef("https://evil.example/x.jpg", "image/jpeg"),
                    MediaRef("telegram:missing", "image/jpeg")):
            try:
                await adapter.fetch_media(ref, 5 * 1024 * 1024)
            except MediaError as error:
                errors.append(error.reason)
        await adapter.aclose()
        return fetched, errors

    fetched, errors = asyncio.run(run())
    assert fetched.content == b"\xff\xd8small" and fetched.content_type == "image/jpeg"
    assert errors == ["too_large", "foreign_host", "not_found"]
