"""`hotline telegram set-webhook` / `delete-webhook`: register our route with Telegram, with the secret
token it must send back and the update types the bot handles."""

from __future__ import annotations

import asyncio
import sys

from telegram.error import TelegramError

from channels.base import REGISTRY
from channels.telegram.adapter import ALLOWED_UPDATES, TelegramChannel
from gateway.settings import Settings


def _adapter(settings: Settings) -> TelegramChannel | None:
    adapter = REGISTRY.adapter_class("telegram").from_env(settings.env)
    assert isinstance(adapter, TelegramChannel)
    if not adapter.settings.token:
        print("hotline: TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return None
    return adapter


def set_webhook(settings: Settings, url: str = "") -> int:
    """Point the bot's webhook at `url` (default: the public URL's Telegram route); the exit code."""
    adapter = _adapter(settings)
    if adapter is None:
        return 2
    secret = adapter.settings.webhook_secret
    if not secret or len(secret) > 256 or not all(c.isalnum() or c in "_-" for c in secret):
        print("hotline: TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
              file=sys.stderr)
        return 2
    target = url or (f"{settings.public_url}{TelegramChannel.webhook_path}" if settings.public_url else "")
    if not target.startswith("https://") and not target.startswith("http://127.0.0.1"):
        print("hotline: give --url https://... or set HOTLINE_PUBLIC_URL (Telegram calls HTTPS only)",
              file=sys.stderr)
        return 2
    try:
        asyncio.run(adapter.set_webhook(target))
    except TelegramError as exc:
        print(f"hotline: Telegram refused the webhook: {exc}", file=sys.stderr)
        return 1
    print(f"webhook set: {target} (updates: {', '.join(ALLOWED_UPDATES)})")
    return 0


def delete_webhook(settings: Settings) -> int:
    """Remove the bot's webhook; the exit code."""
    adapter = _adapter(settings)
    if adapter is None:
        return 2
    try:
        asyncio.run(adapter.delete_webhook())
    except TelegramError as exc:
        print(f"hotline: Telegram refused: {exc}", file=sys.stderr)
        return 1
    print("webhook deleted")
    return 0
