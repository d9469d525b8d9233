"""The registered channels: name -> adapter class. Adding a channel is its folder and one line here."""

from __future__ import annotations

from channels.base import ChannelRegistry

REGISTRY = ChannelRegistry(
    {
        "sms": "channels.sms.adapter:SmsChannel",
        "whatsapp": "channels.whatsapp.adapter:WhatsAppChannel",
        "telegram": "channels.telegram.adapter:TelegramChannel",
        "ivr": "channels.ivr.adapter:VoiceChannel",
        "messenger": "channels.messenger.adapter:MessengerChannel",
    }
)
