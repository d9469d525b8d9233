"""Typed keys of the shared resources on the aiohttp application."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from aiohttp import web

from core.queueing import ConsolePolicy
from gateway.agentwork import Desk
from gateway.inbound import InboundProcessor
from gateway.runtime import Runtime
from gateway.settings import Settings

RUNTIME = web.AppKey("runtime", Runtime)
REDIS = web.AppKey("redis", aioredis.Redis)
RQ_REDIS = web.AppKey("rq_redis", redis.Redis)
PROCESSOR = web.AppKey("processor", InboundProcessor)
SETTINGS = web.AppKey("settings", Settings)
DESK = web.AppKey("desk", Desk)
CONSOLE_POLICY = web.AppKey("console_policy", ConsolePolicy)
