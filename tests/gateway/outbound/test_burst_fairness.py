"""A burst of 40 updates from one Telegram chat leaves another chat's first reply under 2 s.

Measured as a citizen sees it: the webhook route of a running gateway, a real `hotline worker`
process working the lanes continuously (not the tests' burst drain), and the local Bot API
emulator's clock. Telegram lets a bot send one message a second to a chat, so the burst's replies
take forty seconds to go out; they wait in their own lane, deferred to their slot, while the other
chat's reply goes at once.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from core.db import messages
from tests import telegram_updates as u
from tests.emulators.server import ThreadedServer
from tests.emulators.telegram import TelegramEmulator
from tests.emulators.twilio import TwilioEmulator
from tests.fixtures.gateway import Gateway, gateway_settings, start_gateway
from tests.gateway.outbound.worker_kit import Workers, wait_until

SECRET = "tg-burst_secret-7"
BURST = 40


@dataclass
class TelegramBot:
    """A gateway with Telegram configured, its Bot API emulator, and room for worker processes."""

    gateway: Gateway
    api: TelegramEmulator
    workers: Workers

    def post(self, update: dict[str, Any]) -> None:
        """Deliver one update to the webhook route, as Telegram does."""
        response = requests.post(f"{self.gateway.url}/webhooks/telegram", data=json.dumps(update), timeout=15,
                                 headers={"Content-Type": "application/json",
                                          "X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert response.status_code == 200, response.text


@pytest.fixture
def bot(fresh_database_url: str, redis_url: str, twilio: TwilioEmulator, tmp_path: Path) -> Iterator[TelegramBot]:
    """A Telegram gateway with a database and lanes of its own."""
    api = TelegramEmulator()
    server = ThreadedServer(api.app()).start()
    api.url = server.url
    settings = gateway_settings(fresh_database_url, redis_url, twilio)
    env = {**settings.env, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "TELEGRAM_API_BASE": api.url}
    gateway = start_gateway(dataclasses.replace(settings, env=env), twilio)
    workers = Workers(tmp_path)
    try:
        yield TelegramBot(gateway, api, workers)
    finally:
        workers.cleanup()
        gateway.stop()
        server.stop()


def replies_to(bot: TelegramBot, chat: int) -> list[dict[str, Any]]:
    """The outbound messages recorded for a chat."""
    query = sa.select(messages).where(messages.c.direction == "out", messages.c.recipient == str(chat))
    with bot.gateway.runtime.store.engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def chat_id() -> int:
    """A fresh Telegram user id."""
    return random.randint(10**8, 10**9)


def test_a_burst_from_one_chat_leaves_another_chats_first_reply_under_two_seconds(bot: TelegramBot) -> None:
    api = bot.api
    worker = bot.workers.start(bot.gateway.settings.env)
    warm = chat_id()
    bot.post(u.text(warm, "/start"))
    wait_until(lambda: bool(api.sent(warm)), 30, "the worker answering", bot.workers.logs)

    burst, other = chat_id(), chat_id()
    started = time.monotonic()
    for n in range(BURST):
        bot.post(u.text(burst, "/start" if n % 2 == 0 else f"Bonjour, c'est encore moi ({n})"))
    posted = time.monotonic()
    bot.post(u.text(other, "/start"))
    wait_until(lambda: bool(api.sent(other)), 10, "the other chat's first reply", bot.workers.logs, every=0.01)
    dt = api.sent(other)[0].at - posted
    print(f"other chat's first reply after {dt:.2f} s")
    sent_by_then = len(api.sent(burst))
    backlog = len(replies_to(bot, burst))
    print(f"{BURST} updates posted in {posted - started:.2f} s; {backlog} replies to them recorded, "
          f"{sent_by_then} sent when the other chat was answered")
    assert dt < 2.0
    assert backlog >= BURST and sent_by_then < BURST // 2, "the burst's replies were still waiting their turn"

    wait_until(lambda: len(api.sent(burst)) >= sent_by_then + 3, 10, "the burst's replies going on at their pace")
    times = [call.at for call in api.sent(burst)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    print(f"{len(times)} of the burst's replies sent in the window, gaps {min(gaps):.2f}-{max(gaps):.2f} s")
    assert min(gaps) >= 0.95, gaps
    assert worker.stop() == 0, bot.workers.logs()
