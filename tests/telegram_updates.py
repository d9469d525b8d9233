"""Real-shaped Telegram updates (as the Bot API posts them to a webhook), for adapter and gateway tests."""

from __future__ import annotations

import itertools
import time
from typing import Any

from channels.telegram.adapter import callback_data

_ids = itertools.count(int(time.time()) % 100_000 * 1000)
BOT_ID = 7000000001


def next_update_id() -> int:
    """A fresh update id."""
    return next(_ids)


def user(user_id: int, first: str = "Amina", last: str = "Benali", language: str = "fr") -> dict[str, Any]:
    """A Telegram user."""
    return {"id": user_id, "is_bot": False, "first_name": first, "last_name": last, "language_code": language}


def private_chat(user_id: int) -> dict[str, Any]:
    """The private chat with a user (its id is the user's)."""
    return {"id": user_id, "type": "private", "first_name": "Amina", "last_name": "Benali"}


def message(user_id: int, update_id: int | None = None, key: str = "message", chat: dict[str, Any] | None = None,
            **fields: Any) -> dict[str, Any]:
    """An update carrying one message with `fields` (text, photo, location...)."""
    body = {"message_id": next(_ids) % 100_000, "from": user(user_id), "chat": chat or private_chat(user_id),
            "date": int(time.time()), **fields}
    if key == "edited_message":
        body["edit_date"] = int(time.time())
    return {"update_id": update_id if update_id is not None else next_update_id(), key: body}


def text(user_id: int, body: str, **kw: Any) -> dict[str, Any]:
    """A text message (commands carry a `bot_command` entity, as Telegram sends them)."""
    extra: dict[str, Any] = {}
    if body.startswith("/"):
        extra["entities"] = [{"type": "bot_command", "offset": 0, "length": len(body.split()[0])}]
    return message(user_id, text=body, **extra, **kw)


def photo(user_id: int, file_id: str, caption: str = "", size: int = 50_000) -> dict[str, Any]:
    """A photo in three sizes (the last is the largest), with a caption."""
    sizes = [{"file_id": f"{file_id}-s{n}", "file_unique_id": f"u{n}", "width": w, "height": w * 3 // 4,
              "file_size": size // (4 - n)} for n, w in enumerate((90, 320, 1280), 1)]
    sizes[-1]["file_id"] = file_id
    fields: dict[str, Any] = {"photo": sizes}
    if caption:
        fields["caption"] = caption
    return message(user_id, **fields)


def document(user_id: int, file_id: str, mime: str = "image/jpeg", name: str = "IMG_2041.jpg") -> dict[str, Any]:
    """A file sent as a document (uncompressed photo)."""
    return message(user_id, document={"file_id": file_id, "file_unique_id": "d1", "file_name": name,
                                      "mime_type": mime, "file_size": 120_000})


def voice(user_id: int, file_id: str) -> dict[str, Any]:
    """A voice note."""
    return message(user_id, voice={"file_id": file_id, "file_unique_id": "v1", "duration": 7,
                                   "mime_type": "audio/ogg", "file_size": 23_000})


def location(user_id: int, lat: float, lon: float) -> dict[str, Any]:
    """A shared pin."""
    return message(user_id, location={"latitude": lat, "longitude": lon})


def venue(user_id: int, lat: float, lon: float, title: str, address: str) -> dict[str, Any]:
    """A shared place (Telegram sends its location too)."""
    point = {"latitude": lat, "longitude": lon}
    return message(user_id, location=point, venue={"location": point, "title": title, "address": address})


def contact(user_id: int, phone: str, owner: int | None = None) -> dict[str, Any]:
    """A shared contact: the user's own (`owner` None) or someone else's."""
    return message(user_id, contact={"phone_number": phone, "first_name": "Amina", "last_name": "Benali",
                                     "user_id": owner if owner is not None else user_id})


def press(user_id: int, secret: str, key: str, keyboard: list[tuple[str, str]], signed: bool = True,
          text_shown: str = "Choose:") -> dict[str, Any]:
    """A press on one button of an inline keyboard we sent (`signed=False`: forged data)."""
    buttons = [[{"text": label, "callback_data": callback_data(secret, str(user_id), k)}] for k, label in keyboard]
    data = callback_data(secret, str(user_id), key) if signed else f"{key}.forgedsig0"
    return {
        "update_id": next_update_id(),
        "callback_query": {
            "id": str(next(_ids)),
            "from": user(user_id),
            "chat_instance": "-1234567890",
            "data": data,
            "message": {"message_id": next(_ids) % 100_000, "date": int(time.time()), "text": text_shown,
                        "chat": private_chat(user_id),
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Hotline"},
                        "reply_markup": {"inline_keyboard": buttons}},
        },
    }


def group_text(user_id: int, body: str) -> dict[str, Any]:
    """A message in a group the bot is in."""
    return message(user_id, chat={"id": -1001234567890, "type": "supergroup", "title": "Quartier"}, text=body)
