"""Typed keys of the shared resources on the aiohttp application."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from aiohttp import web

from core.store.agent_queue import ConsolePolicy
from gateway.inbound.processing import InboundProcessor
from gateway.live import LiveFeed
from gateway.outbound.lanes import WorkLanes
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.staff.desk import Desk

RUNTIME = web.AppKey("runtime", Runtime)
REDIS = web.AppKey("redis", aioredis.Redis)
SYNC_REDIS = web.AppKey("sync_redis", redis.Redis)
"""A blocking client, for store calls that queue work from the store's thread (status changes)."""
LANES = web.AppKey("lanes", WorkLanes)
"""The work lanes over the app's asyncio client."""
PROCESSOR = web.AppKey("processor", InboundProcessor)
SETTINGS = web.AppKey("settings", Settings)
DESK = web.AppKey("desk", Desk)
CONSOLE_POLICY = web.AppKey("console_policy", ConsolePolicy)
LIVE = web.AppKey("live", LiveFeed)
"""Store changes announced and heard on Redis: what the console's live views wait on."""
