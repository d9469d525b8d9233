"""`hotline webhooks set|delete CHANNEL` (and `hotline telegram set-webhook`): register our route with
a provider that is told where to post by an API call (`WebhookRegistration`)."""

from __future__ import annotations

import asyncio
import sys

from channels.base import ChannelAdapter, WebhookRegistration, implements
from channels.registry import REGISTRY
from gateway.runtime import channel_settings, load_deployment
from gateway.settings import Settings


def _registering(settings: Settings, channel: str) -> ChannelAdapter | None:
    if channel not in REGISTRY.names():
        print(f"hotline: no channel {channel!r} (registered: {', '.join(REGISTRY.names())})", file=sys.stderr)
        return None
    adapter_class = REGISTRY.adapter_class(channel)
    if not implements(adapter_class, WebhookRegistration):
        print(f"hotline: {channel} webhooks are configured at the provider, not registered from here",
              file=sys.stderr)
        return None
    return adapter_class.from_settings(channel_settings(settings, load_deployment(settings)))


def set_webhook(settings: Settings, channel: str, url: str = "") -> int:
    """Point the channel's webhook at `url` (default: the public URL and the channel's route); the exit code."""
    adapter = _registering(settings, channel)
    if adapter is None:
        return 2
    assert isinstance(adapter, WebhookRegistration)
    target = url or (f"{settings.public_url}{adapter.webhook_path}" if settings.public_url else "")
    if not target.startswith("https://") and not target.startswith("http://127.0.0.1"):
        print("hotline: give --url https://... or set HOTLINE_PUBLIC_URL (providers call HTTPS only)",
              file=sys.stderr)
        return 2
    try:
        said = asyncio.run(adapter.set_webhook(target))
    except ValueError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the provider's own error type: its message is what the operator needs
        print(f"hotline: {channel} refused the webhook: {exc}", file=sys.stderr)
        return 1
    print(f"webhook set: {target} ({said})")
    return 0


def delete_webhook(settings: Settings, channel: str) -> int:
    """Remove the channel's webhook registration; the exit code."""
    adapter = _registering(settings, channel)
    if adapter is None:
        return 2
    assert isinstance(adapter, WebhookRegistration)
    try:
        asyncio.run(adapter.delete_webhook())
    except ValueError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"hotline: {channel} refused: {exc}", file=sys.stderr)
        return 1
    print("webhook deleted")
    return 0
