"""The composition of one process: configuration, SQL store, dialogue contexts and channel adapters.

Built once per gateway or worker process; everything here is safe to share across requests. The
Redis clients are not here: they belong to an event loop (the app's, or a job's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from channels.base import ChannelAdapter, ChannelSettings
from channels.registry import REGISTRY
from conversations.model import CategoryOption, DialogueContext
from conversations.understanding.reading import reader
from core.config import Deployment, checked_region, load_config
from core.db import make_engine, make_loop_engine, migrate
from core.store.case_store import CaseStore
from core.store.transactions import LOOP_ENGINE, Engines, engines_for
from gateway.settings import Settings

T = TypeVar("T")

LOOP_POOL_SIZE = 8
"""PostgreSQL connections of one process's event loop: its group commits, reads and casework. Calls
beyond it wait for a connection rather than opening more (PostgreSQL's CPU is shared with us)."""


@dataclass
class Runtime:
    """Shared, loop-independent resources of one process."""

    settings: Settings
    deployment: Deployment
    store: CaseStore
    executor: ThreadPoolExecutor
    adapters: dict[str, ChannelAdapter] = field(default_factory=dict)
    inline_store: bool = False
    _contexts: dict[str, DialogueContext] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _loop_engine: AsyncEngine | None = field(default=None, repr=False)
    _loop_engines: Engines | None = field(default=None, repr=False)
    _in_flight: set[asyncio.Task[Any]] = field(default_factory=set, repr=False)

    async def db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a store call (SQL and nothing else that blocks): inline for SQLite (its writes are
        serialized anyway); for PostgreSQL on the loop it was bound to (`bind_loop`), in a greenlet
        over psycopg's async API, so waiting for the server costs no thread; from any other loop, on
        the store's thread pool. A call once started runs to its end even if its caller is
        cancelled, as it would on a thread: a write is never cut off between the provider's answer
        and its record."""
        if self.inline_store:
            return function(*args, **kwargs)
        loop = asyncio.get_running_loop()
        if self._loop_engine is None or loop is not self._loop:
            return await loop.run_in_executor(self.executor, partial(function, *args, **kwargs))
        call = loop.create_task(greenlet_spawn(self._on_loop_engine, function, args, kwargs))
        self._in_flight.add(call)
        call.add_done_callback(self._settled)
        return await asyncio.shield(call)

    def _settled(self, call: asyncio.Task[Any]) -> None:
        self._in_flight.discard(call)
        if not call.cancelled():
            call.exception()  # read here too: a caller cancelled meanwhile no longer awaits it

    async def blocking(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a call that blocks on more than the store (a blocking Redis client, a password hash):
        always on the thread pool, never on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(function, *args, **kwargs))

    def _on_loop_engine(self, function: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        assert self._loop_engines is not None
        token = LOOP_ENGINE.set((self.store, self._loop_engines))
        try:
            return function(*args, **kwargs)
        finally:
            LOOP_ENGINE.reset(token)

    def bind_loop(self) -> None:
        """Give the running loop its own PostgreSQL engine (the gateway's and the worker's loop; a
        store on SQLite needs none). Store calls from other loops keep the thread pool."""
        if self.inline_store or self._loop_engine is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_engine = make_loop_engine(self.settings.database_url, pool_size=LOOP_POOL_SIZE, max_overflow=0)
        self._loop_engines = engines_for(self._loop_engine.sync_engine)

    async def release_loop(self, patience: float = 10.0) -> None:
        """Let the calls under way end (up to `patience` seconds), then close the bound loop's engine."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=patience)
        engine, self._loop_engine, self._loop_engines, self._loop = self._loop_engine, None, None, None
        if engine is not None:
            await engine.dispose()

    @property
    def channel_settings(self) -> ChannelSettings:
        """What every adapter is built from: the environment, the deployment's region, our URL."""
        return channel_settings(self.settings, self.deployment)

    def adapter(self, channel: str) -> ChannelAdapter:
        """The adapter of a registered channel, built on first use."""
        if channel not in self.adapters:
            self.adapters[channel] = REGISTRY.adapter_class(channel).from_settings(self.channel_settings)
        return self.adapters[channel]

    def channels(self) -> list[str]:
        """The registered channels' names."""
        return REGISTRY.names()

    def dialogue_for(self, recipient: str, channel: str | None = None) -> DialogueContext:
        """The dialogue context of the profile our number `recipient` belongs to; with `channel`, worded
        for that channel where it words texts its own way (voice), the deployment's texts still winning,
        and told when its prompts are heard rather than read."""
        profile = self.deployment.profile_for(recipient)
        key = profile.number or ""
        if key not in self._contexts:
            self._contexts[key] = dialogue_context(self.deployment, profile)
        base = self._contexts[key]
        adapter = self.adapter(channel) if channel else None
        wording = adapter.dialogue_texts() if adapter is not None else {}
        spoken = adapter is not None and adapter.capabilities.spoken
        if not wording and not spoken:
            return base
        channel_key = f"{key}|{channel}"
        if channel_key not in self._contexts:
            texts = {lang: {**wording.get(lang, {}), **base.texts.get(lang, {})} for lang in {*wording, *base.texts}}
            self._contexts[channel_key] = replace(base, texts=texts, spoken=spoken)
        return self._contexts[channel_key]

    def close(self) -> None:
        """Stop the thread pool and dispose of the SQL engine."""
        self.executor.shutdown(wait=False)
        self.store.engine.dispose()


def dialogue_context(deployment: Deployment, profile: Any = None) -> DialogueContext:
    """What the dialogue needs of the deployment (and of the number's profile, when it has one)."""
    texts = {lang: dict(entries) for lang, entries in deployment.texts.items()}
    languages = tuple(deployment.languages)
    default_language = deployment.default_language
    if profile is not None:
        for lang, entries in (getattr(profile, "texts", None) or {}).items():
            texts.setdefault(lang, {}).update(entries)
        languages = tuple(getattr(profile, "languages", None) or languages)
        default_language = getattr(profile, "default_language", None) or default_language
    return DialogueContext(
        categories=tuple(CategoryOption(c.code, dict(c.names), tuple(w for ws in c.keywords.values() for w in ws))
                         for c in deployment.categories),
        languages=languages,
        default_language=default_language,
        darija_latin_language=deployment.darija_latin_language,
        session_timeout=timedelta(minutes=deployment.session_timeout_minutes),
        resume_notice_after=timedelta(minutes=deployment.resume_notice_minutes),
        max_misses=deployment.max_misses,
        texts=texts,
    )


def channel_settings(settings: Settings, deployment: Deployment) -> ChannelSettings:
    """What every adapter is built from: the environment, the deployment's region, our public URL."""
    return ChannelSettings(settings.env, deployment.default_region, settings.public_url)


def load_deployment(settings: Settings) -> Deployment:
    """The deployment's configuration, its phone region overridden by `HOTLINE_DEFAULT_REGION` when
    set: the one region the store, the dialogue and every adapter use."""
    deployment = load_config(settings.config_path)
    if settings.region:
        deployment = replace(deployment, default_region=checked_region(settings.region, "HOTLINE_DEFAULT_REGION"))
    return deployment


def build_runtime(settings: Settings, *, prepare_database: bool = True) -> Runtime:
    """Load configuration, open (and migrate) the store."""
    deployment = load_deployment(settings)
    engine = make_engine(settings.database_url)
    if prepare_database:
        migrate(engine)
    store = CaseStore(engine, deployment, REGISTRY.address_kinds())
    if prepare_database:
        store.sync_reference_data()
    inline = engine.dialect.name == "sqlite"
    executor = ThreadPoolExecutor(max_workers=1 if inline else 4, thread_name_prefix="store")
    reader(dialogue_context(deployment).category_keywords)  # trained here, not on a citizen's first message
    return Runtime(settings, deployment, store, executor, inline_store=inline)
