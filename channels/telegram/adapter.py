"""Telegram through the Bot API (python-telegram-bot's types and `Bot`, never its `Application`).

Inbound: Telegram posts one `Update` (JSON) per webhook call, with our secret in
`X-Telegram-Bot-Api-Secret-Token`. Only private chats are answered; a group update gives nothing.
Commands (`/start`, `/status`, `/lang`, `/agent`, `/cancel`, `/help`, `/menu`) become the dialogue's
own words; photos (largest size), images sent as documents, voice notes, captions, pins, venues,
shared contacts, button presses and edits all become one `InboundMessage`. The update id is the
provider message id, so a repeated update is recognized.

Buttons: choices are an inline keyboard whose `callback_data` is `key.signature` (an HMAC of chat and
key with the webhook secret): a forged press is refused, and the keyboard the press came from is
passed on (`button_choices`) so the dialogue can refuse a press on an earlier question. Location and
phone requests are reply keyboards (`request_location`, `request_contact`).

Outbound goes through `Bot` pointed at `TELEGRAM_API_BASE`; errors are classed for the send job (429:
retry after `retry_after`; 403: the citizen blocked the bot, final and unreachable).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

os.environ.setdefault("PTB_TIMEDELTA", "1")

import aiohttp
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from channels.base import (
    Capabilities,
    ChannelAdapter,
    ChannelSettings,
    FetchedMedia,
    HttpRequest,
    InboundMessage,
    Location,
    MediaError,
    MediaRef,
    OutboundMessage,
    Reply,
    SendError,
    SendResult,
    SharedContact,
    checked,
    clean_text,
    load_json,
    read_capped,
)
from core.phones import normalize_phone

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096
MAX_PLACE = 300
FILE_PREFIX = "telegram:"
"""Media refs name a Telegram `file_id`, never a URL: the file is found through `getFile` when fetched."""
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
SIGNATURE_LENGTH = 10
MAX_ID = 2**63
"""Telegram's ids (users, chats, updates) fit in 64 bits; anything larger is not one."""
MAX_DATE = 2**32
"""Unix time in seconds; Telegram's are far below this (year 2106), and 0 marks an inaccessible message."""
DE_JSON_ERRORS = (TypeError, KeyError, ValueError, AttributeError, OverflowError, OSError)
"""What python-telegram-bot raises for a shape it cannot build."""

COMMANDS: dict[str, str] = {
    "start": "menu",
    "menu": "menu",
    "cancel": "cancel",
    "agent": "agent",
    "help": "help",
    "status": "track",
    "track": "track",
    "lang": "language",
    "language": "language",
}
"""Bot commands and the dialogue's (English) command words they stand for."""
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)
_TRACK_PAYLOAD = re.compile(r"^(?:track|status)[_-]?([0-9 _-]{6,20})$", re.I)


@dataclass(frozen=True)
class TelegramSettings:
    """The bot's token, the webhook secret, and where the Bot API is."""

    token: str
    webhook_secret: str
    default_region: str
    api_base: str = DEFAULT_API_BASE
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], region: str) -> TelegramSettings:
        """`TELEGRAM_BOT_TOKEN`, `TELEGRAM_WEBHOOK_SECRET`, `TELEGRAM_API_BASE` (emulator base URL)."""
        return cls(
            token=env.get("TELEGRAM_BOT_TOKEN", ""),
            webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", ""),
            default_region=region,
            api_base=(env.get("TELEGRAM_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
        )

    @property
    def bot_id(self) -> str:
        """The bot's user id (the token's first part): our address, as a phone number is on SMS."""
        return self.token.partition(":")[0] or "telegram"


def sign(secret: str, chat_id: str, key: str) -> str:
    """The signature a button's `callback_data` carries: HMAC-SHA256 of chat and key, shortened."""
    digest = hmac.new(secret.encode(), f"{chat_id}:{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_LENGTH]


def callback_data(secret: str, chat_id: str, key: str) -> str:
    """`key.signature`, at most 64 bytes as Telegram requires."""
    return f"{key[:40]}.{sign(secret, chat_id, key[:40])}"


def read_callback(secret: str, chat_id: str, data: str) -> tuple[str, bool]:
    """The key a button press names, and whether its signature is ours."""
    key, _, signature = data.rpartition(".")
    if not key:
        return data[:40], False
    return key, hmac.compare_digest(signature.encode(), sign(secret, chat_id, key).encode())


def command_text(text: str) -> str:
    """A bot command as the dialogue's words: `/start track_4829130575` is the reference, `/lang fr` is
    `fr`, `/status` is `track`; anything that is not a command is kept as it is."""
    found = _COMMAND.match(text.strip())
    if found is None:
        return text
    name, argument = found.group(1).lower(), (found.group(2) or "").strip()
    if name == "start" and argument:
        tracked = _TRACK_PAYLOAD.match(argument)
        return re.sub(r"\D", "", tracked.group(1)) if tracked else "menu"
    if name in ("status", "track", "lang", "language") and argument:
        return argument
    return COMMANDS.get(name, text)


def _keyboard_choices(secret: str, chat_id: str, message: Message | None) -> tuple[tuple[str, str], ...]:
    """The (key, label) pairs of the inline keyboard a press came from (only buttons we signed)."""
    markup = message.reply_markup if isinstance(message, Message) else None
    if markup is None:
        return ()
    pairs = []
    for row in markup.inline_keyboard:
        for button in row:
            if not isinstance(button.callback_data, str):
                continue
            key, ours = read_callback(secret, chat_id, clean_text(button.callback_data))
            if ours:
                pairs.append((key, button.text))
    return tuple(pairs)


def _media(message: Message) -> tuple[MediaRef, ...]:
    """The message's file: the largest photo size, a document, a voice note or an audio file."""
    if message.photo:
        return (MediaRef(FILE_PREFIX + message.photo[-1].file_id, "image/jpeg"),)
    if message.document is not None:
        return (MediaRef(FILE_PREFIX + message.document.file_id,
                         (message.document.mime_type or "application/octet-stream").lower()),)
    if message.voice is not None:
        return (MediaRef(FILE_PREFIX + message.voice.file_id, (message.voice.mime_type or "audio/ogg").lower()),)
    if message.audio is not None:
        return (MediaRef(FILE_PREFIX + message.audio.file_id, (message.audio.mime_type or "audio/mpeg").lower()),)
    if message.video is not None:
        return (MediaRef(FILE_PREFIX + message.video.file_id, (message.video.mime_type or "video/mp4").lower()),)
    return ()


def _location(message: Message) -> Location | None:
    """A shared pin, or a venue with its title and address."""
    if message.venue is not None:
        venue = message.venue
        words = ", ".join(part for part in (venue.title, venue.address) if part)
        return Location(venue.location.latitude, venue.location.longitude, words[:MAX_PLACE])
    if message.location is not None:
        return Location(message.location.latitude, message.location.longitude)
    return None


def _is_id(value: Any) -> bool:
    """A Telegram id: an integer (not a boolean) of at most 64 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_ID <= value < MAX_ID


def _is_text(value: Any, optional: bool = True) -> bool:
    return isinstance(value, str) or (optional and value is None)


def _user_problem(user: Any) -> str | None:
    if not isinstance(user, dict) or not _is_id(user.get("id")):
        return "the sender has no numeric id"
    if not all(_is_text(user.get(name)) for name in ("first_name", "last_name", "username", "language_code")):
        return "the sender's names are not text"
    return None


def _point_problem(point: Any) -> str | None:
    if not isinstance(point, dict) or not all(
            isinstance(point.get(name), int | float) and not isinstance(point.get(name), bool)
            for name in ("latitude", "longitude")):
        return "a location without coordinates"
    return None


def _is_file(value: Any) -> bool:
    return isinstance(value, dict) and _is_text(value.get("file_id"), False) and _is_text(value.get("mime_type"))


def _file_problem(name: str, value: Any) -> str | None:
    files = value if name == "photo" and isinstance(value, list) else [value]
    return None if all(_is_file(item) for item in files) else f"a {name} without a file id"


def _keyboard_problem(markup: Any) -> str | None:
    if markup is None:
        return None
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(
            isinstance(row, list) and all(isinstance(button, dict) and _is_text(button.get("text"), False)
                                          and _is_text(button.get("callback_data")) for button in row)
            for row in rows):
        return "a keyboard that is not rows of buttons"
    return None


def _message_problem(message: Any, replied: bool = False) -> str | None:
    """Why a message cannot be read as the fields we use, or None. Only those fields are checked:
    Telegram adds others over time."""
    if not isinstance(message, dict):
        return "the message is not an object"
    chat = message.get("chat")
    if not isinstance(chat, dict) or not _is_id(chat.get("id")) or not isinstance(chat.get("type"), str):
        return "the message has no chat"
    if not _is_id(message.get("message_id")):
        return "the message has no numeric id"
    date = message.get("date")
    if not _is_id(date) or not 0 <= date < MAX_DATE:
        return "the message date is out of range"
    if message.get("from") is not None and (problem := _user_problem(message["from"])):
        return problem
    if not all(_is_text(message.get(name)) for name in ("text", "caption")):
        return "the text is not text"
    if message.get("location") is not None and _point_problem(message["location"]):
        return "a location without coordinates"
    venue = message.get("venue")
    if venue is not None and (not isinstance(venue, dict) or _point_problem(venue.get("location"))
                              or not all(_is_text(venue.get(name)) for name in ("title", "address"))):
        return "a venue without a location"
    contact = message.get("contact")
    if contact is not None and (
            not isinstance(contact, dict) or not _is_text(contact.get("phone_number"), False)
            or not all(_is_text(contact.get(name)) for name in ("first_name", "last_name"))
            or (contact.get("user_id") is not None and not _is_id(contact["user_id"]))):
        return "a contact without a phone number"
    for name in ("photo", "document", "voice", "audio", "video"):
        if message.get(name) is not None and (problem := _file_problem(name, message[name])):
            return problem
    if problem := _keyboard_problem(message.get("reply_markup")):
        return problem
    reply = message.get("reply_to_message")
    if reply is not None and (replied or _message_problem(reply, replied=True)):
        return "the message replied to is not a message"
    return None


def _callback_problem(query: Any) -> str | None:
    if not isinstance(query, dict) or not _is_text(query.get("id"), False):
        return "the button press has no id"
    if problem := _user_problem(query.get("from")):
        return problem
    if not _is_text(query.get("data")):
        return "the button data is not text"
    message = query.get("message")
    if message is None:
        return None
    if isinstance(message, dict) and message.get("date") == 0:  # an inaccessible message: chat and id only
        chat = message.get("chat")
        ok = isinstance(chat, dict) and _is_id(chat.get("id")) and isinstance(chat.get("type"), str)
        return None if ok and _is_id(message.get("message_id")) else "the pressed message has no chat"
    return _message_problem(message)


def update_problem(data: dict[str, Any]) -> str | None:
    """Why an update of a kind we handle cannot be used (the fields we read are missing or of the wrong
    type), or None."""
    if data.get("callback_query") is not None:
        return _callback_problem(data["callback_query"])
    for kind in ("message", "edited_message"):
        if kind in data:
            return _message_problem(data[kind])
    return None


def _full_name(first: str | None, last: str | None) -> str:
    """The user's names joined (either may be empty)."""
    return " ".join(part for part in (first, last) if part)


class TelegramChannel(ChannelAdapter):
    """One Telegram bot."""

    name = "telegram"
    address_kind = "telegram"
    capabilities = Capabilities(
        buttons=True, media=True, location_pins=True, synchronous_reply=False, max_text_length=MAX_TEXT,
        recipient_rate=1.0, sender_rate=30.0,
    )
    """Telegram's limits: about one message a second per chat, 30 a second per bot."""
    webhook_path = "/webhooks/telegram"
    display_names: ClassVar[Mapping[str, str]] = {"ar": "تيليغرام", "fr": "Telegram", "en": "Telegram"}

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        self._bots: dict[int, Bot] = {}

    @classmethod
    def from_settings(cls, settings: ChannelSettings) -> TelegramChannel:
        """Build from the environment's `TELEGRAM_*` variables."""
        return cls(TelegramSettings.from_env(settings.env, settings.region))

    # -- inbound -----------------------------------------------------------------------------------

    def verify(self, request: HttpRequest, public_url: str | None) -> bool:
        """The secret token header equals `TELEGRAM_WEBHOOK_SECRET` (constant-time; never with no secret)."""
        given = request.headers.get(SECRET_HEADER, "")
        expected = self.settings.webhook_secret
        return bool(given and expected) and hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                                                                expected.encode())

    def update(self, request: HttpRequest) -> Update | None:
        """The request's `Update`, or None for one we do not use (polls, member changes, channel posts,
        whatever Telegram adds later, and an update of a kind we handle whose fields we cannot read:
        acknowledged, so Telegram does not retry it); `ValueError` when the body is not an update."""
        return self._read(request)[0]

    def _read(self, request: HttpRequest) -> tuple[Update | None, str | None]:
        """The update and, when it is not used although of a kind we handle, why."""
        try:
            data = load_json(request.body or b"")
        except ValueError as exc:
            raise ValueError("the body is not JSON") from exc
        if not isinstance(data, dict) or not _is_id(data.get("update_id")) or data["update_id"] < 0:
            raise ValueError("not a Telegram update")
        if not any(kind in data for kind in ALLOWED_UPDATES):
            return None, None
        problem = update_problem(data)
        if problem is not None:
            return None, problem
        try:
            return Update.de_json(data, None), None
        except DE_JSON_ERRORS as exc:
            return None, f"{type(exc).__name__} building it"

    def parse(self, request: HttpRequest) -> list[InboundMessage]:
        """The citizen message an update carries, or nothing (groups, channels, update types not handled,
        an update whose fields we cannot read: logged, and recorded nowhere)."""
        update, problem = self._read(request)
        if problem is not None:
            log.warning("telegram update ignored: %s", problem)
        if update is None:
            return []
        provider_id = str(update.update_id)
        if update.callback_query is not None:
            return self._callback(update, provider_id)
        edited = update.edited_message
        if edited is not None:
            if edited.chat.type != "private" or edited.from_user is None:
                return []
            return [self._inbound(edited, provider_id, edited=True)]
        message = update.message
        if message is None or message.chat.type != "private" or message.from_user is None:
            return []
        return [self._inbound(message, provider_id)]

    def _inbound(self, message: Message, provider_id: str, *, edited: bool = False) -> InboundMessage:
        user = message.from_user
        assert user is not None
        text = clean_text(message.text if message.text is not None else (message.caption or ""), MAX_TEXT)
        if message.text is not None and text.startswith("/"):
            text = command_text(text)
        shared = None
        if message.contact is not None:
            contact = message.contact
            phone = normalize_phone("+" + contact.phone_number.lstrip("+"), self.settings.default_region) or ""
            name = _full_name(contact.first_name, contact.last_name)
            shared = SharedContact(phone=phone, name=name[:200], own=contact.user_id == user.id)
        return checked(InboundMessage(
            channel=self.name,
            sender=str(user.id),
            recipient=self.settings.bot_id,
            provider_message_id=provider_id,
            text=text,
            media=() if edited else _media(message),
            location=None if edited else _location(message),
            sender_name=_full_name(user.first_name, user.last_name)[:200],
            received_at=message.date,
            reply_to=f"{message.chat.id}:{message.reply_to_message.message_id}" if message.reply_to_message else None,
            forwarded=message.forward_origin is not None,
            shared_contact=None if edited else shared,
            edited=edited,
            language_hint=user.language_code or "",
        ))

    def _callback(self, update: Update, provider_id: str) -> list[InboundMessage]:
        query = update.callback_query
        assert query is not None
        message = query.message
        chat = message.chat if message is not None else None
        if chat is not None and chat.type != "private":
            return []
        chat_id = str(chat.id) if chat is not None else str(query.from_user.id)
        key, ours = read_callback(self.settings.webhook_secret, chat_id, clean_text(query.data or ""))
        offered = _keyboard_choices(self.settings.webhook_secret, chat_id, message) if ours else ()
        user = query.from_user
        return [
            checked(InboundMessage(
                channel=self.name,
                sender=str(user.id),
                recipient=self.settings.bot_id,
                provider_message_id=provider_id,
                button_payload=key or "?",
                button_choices=offered,
                sender_name=_full_name(user.first_name, user.last_name)[:200],
                language_hint=user.language_code or "",
            ))
        ]

    def render_reply(self, texts: Sequence[OutboundMessage]) -> Reply:
        """An empty 200: replies go out through the Bot API from send jobs."""
        return Reply("text/plain", "")

    def acknowledge(self, request: HttpRequest, replies: Sequence[OutboundMessage]) -> Reply:
        """For a button press, `answerCallbackQuery` in the webhook response (the spinner stops at once,
        no extra API call); otherwise the empty 200."""
        try:
            update = self.update(request)
        except ValueError:
            return self.render_reply(replies)
        if update is None or update.callback_query is None:
            return self.render_reply(replies)
        body = {"method": "answerCallbackQuery", "callback_query_id": update.callback_query.id}
        return Reply("application/json", json.dumps(body))

    # -- outbound ----------------------------------------------------------------------------------

    def bot(self) -> Bot:
        """This event loop's `Bot` (its HTTP client belongs to the loop that opened it)."""
        loop = asyncio.get_running_loop()
        bot = self._bots.get(id(loop))
        if bot is None:
            bot = self._fresh_bot()
            self._bots = {id(loop): bot}
        return bot

    def reply_markup(self, message: OutboundMessage) -> Any:
        """Inline buttons for choices; a reply keyboard for a location or phone request; else none
        (and any reply keyboard shown before is removed)."""
        chat_id = message.recipient
        if message.request is not None:
            kind, label = message.request
            rows = [[KeyboardButton(label, request_location=kind == "location",
                                    request_contact=kind == "contact")]]
            rows.extend([KeyboardButton(f"{choice.key} {choice.label}")] for choice in message.choices)
            return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
        if message.choices:
            secret = self.settings.webhook_secret
            numbered = [[InlineKeyboardButton(c.label, callback_data=callback_data(secret, chat_id, c.key))]
                        for c in message.choices if c.key.isdigit()]
            others = [InlineKeyboardButton(c.label, callback_data=callback_data(secret, chat_id, c.key))
                      for c in message.choices if not c.key.isdigit()]
            return InlineKeyboardMarkup(numbered + ([others] if others else []))
        return ReplyKeyboardRemove()

    async def send(self, message: OutboundMessage) -> SendResult:
        """`sendMessage` with the message's keyboard; errors classed as retryable or final."""
        bot = self.bot()
        try:
            sent = await bot.send_message(chat_id=int(message.recipient), text=message.text[:MAX_TEXT],
                                          reply_markup=self.reply_markup(message))
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise SendError(f"Telegram flood control: retry after {seconds:g} s", retryable=True, code="429",
                            retry_after=seconds) from exc
        except Forbidden as exc:
            raise SendError(f"Telegram 403: {exc.message}", retryable=False, code="403", unreachable=True) from exc
        except BadRequest as exc:
            raise SendError(f"Telegram 400: {exc.message}", retryable=False, code="400") from exc
        except (TimedOut, NetworkError) as exc:
            raise SendError(f"cannot reach Telegram: {type(exc).__name__}", retryable=True, code="network") from exc
        except ValueError as exc:
            raise SendError(f"not a Telegram chat id: {message.recipient!r}", retryable=False, code="chat") from exc
        return SendResult(provider_message_id=f"{sent.chat_id}:{sent.message_id}", status="sent")

    async def fetch_media(self, ref: MediaRef, max_bytes: int) -> FetchedMedia:
        """`getFile`, then the file from the Bot API's file host only, refused as soon as it is too big."""
        if not ref.url.startswith(FILE_PREFIX):
            raise MediaError("foreign_host", "not a Telegram file id", retryable=False)
        file_id = ref.url[len(FILE_PREFIX):]
        try:
            found = await self.bot().get_file(file_id)
        except BadRequest as exc:
            too_big = "too big" in exc.message.lower()
            raise MediaError("too_large" if too_big else "not_found", exc.message, retryable=False) from exc
        except RetryAfter as exc:
            raise MediaError("unavailable", "Telegram flood control", retryable=True) from exc
        except TelegramError as exc:
            raise MediaError("unavailable", f"getFile failed: {type(exc).__name__}", retryable=True) from exc
        if found.file_size is not None and found.file_size > max_bytes:
            raise MediaError("too_large", f"{found.file_size} bytes", retryable=False)
        url = found.file_path or ""
        if not url.startswith(f"{self.settings.api_base}/file/bot"):
            raise MediaError("foreign_host", "the file is not on the Bot API's file host", retryable=False)
        return await _download(url, max_bytes, ref.content_type, self.settings.timeout)

    # -- webhook registration ----------------------------------------------------------------------

    async def set_webhook(self, url: str) -> str:
        """Register `url` with the secret token and the update types we handle (`ValueError` for a
        setting Telegram would refuse, `TelegramError` for its refusal)."""
        secret = self.settings.webhook_secret
        if not self.settings.token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        if not secret or len(secret) > 256 or not all(c.isalnum() or c in "_-" for c in secret):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        async with self._fresh_bot() as bot:
            await bot.set_webhook(url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES))
        return f"updates: {', '.join(ALLOWED_UPDATES)}"

    async def delete_webhook(self) -> str:
        """Remove the webhook."""
        if not self.settings.token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        async with self._fresh_bot() as bot:
            await bot.delete_webhook()
        return "deleted"

    def _fresh_bot(self) -> Bot:
        return Bot(self.settings.token, base_url=f"{self.settings.api_base}/bot",
                   base_file_url=f"{self.settings.api_base}/file/bot")

    async def aclose(self) -> None:
        """Close the bots' HTTP clients opened on this loop."""
        loop = asyncio.get_running_loop()
        bot = self._bots.pop(id(loop), None)
        if bot is not None:
            await bot.shutdown()


async def _download(url: str, max_bytes: int, content_type: str, timeout: float) -> FetchedMedia:
    """GET a file, streaming, at most `max_bytes`."""
    client_timeout = aiohttp.ClientTimeout(total=max(timeout * 6, 30), sock_connect=timeout)
    try:
        async with aiohttp.ClientSession(timeout=client_timeout) as session, \
                session.get(url, allow_redirects=False) as response:
            if response.status in (404, 429) or response.status >= 500:
                raise MediaError("unavailable", f"file answered {response.status}", retryable=True)
            if response.status != 200:
                raise MediaError("not_found", f"file answered {response.status}", retryable=False)
            body = await read_capped(response, max_bytes)
            served = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise MediaError("unavailable", f"cannot reach the file host: {type(exc).__name__}", retryable=True) from exc
    kept = content_type if served in ("", "application/octet-stream") else served
    return FetchedMedia(body, kept)
