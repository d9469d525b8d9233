"""One process's composition: the phone region is decided in one place and every part uses it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from core.config import ConfigError
from gateway.runtime import build_runtime
from gateway.settings import Settings


def test_the_region_given_in_the_environment_is_the_one_everything_uses(fresh_database_url: str) -> None:
    runtime = build_runtime(Settings.from_env({"HOTLINE_DATABASE_URL": fresh_database_url,
                                               "HOTLINE_DEFAULT_REGION": "eg"}))
    try:
        assert runtime.deployment.default_region == "EG"
        assert runtime.channel_settings.region == "EG"
        assert {runtime.adapter(name).settings.default_region for name in ("sms", "whatsapp", "telegram", "ivr")} == {
            "EG"}
        contact = runtime.store.get_or_create_contact("01001234567")
        assert contact.phone == "+201001234567", "a local Egyptian number, read in the one region"
    finally:
        runtime.close()


def test_without_it_the_configuration_decides(fresh_database_url: str) -> None:
    runtime = build_runtime(Settings.from_env({"HOTLINE_DATABASE_URL": fresh_database_url}))
    try:
        assert runtime.deployment.default_region == "MA" == runtime.channel_settings.region
    finally:
        runtime.close()


def test_an_unknown_region_is_refused_with_its_name(fresh_database_url: str) -> None:
    with pytest.raises(ConfigError, match="HOTLINE_DEFAULT_REGION: unknown region 'XX'"):
        build_runtime(Settings.from_env({"HOTLINE_DATABASE_URL": fresh_database_url, "HOTLINE_DEFAULT_REGION": "xx"}))


def test_store_calls_on_the_bound_loop_use_its_engine_and_others_the_thread_pool(fresh_database_url: str) -> None:
    """PostgreSQL: a call on the loop the runtime was bound to runs on that loop's thread, over the
    loop's engine (psycopg's async API); a call from another loop, made while it is bound, goes to the
    store's threads, over the store's own engine; `blocking` always goes to the threads. SQLite:
    store calls inline everywhere."""
    runtime = build_runtime(Settings.from_env({"HOTLINE_DATABASE_URL": fresh_database_url}))

    def where() -> tuple[int, object]:
        with runtime.store.read() as connection:
            connection.execute(text("SELECT 1"))
            return threading.get_ident(), connection.engine.pool

    def from_another_loop() -> tuple[int, object]:
        return asyncio.run(runtime.db(where))

    async def bound() -> dict[str, tuple[int, object]]:
        runtime.bind_loop()
        try:
            seen = {"first": await runtime.db(where)}
            contact = await runtime.db(runtime.store.get_or_create_contact, "+212612345678")
            assert (await runtime.db(runtime.store.contact, contact.id)).phone == "+212612345678"
            seen["again"] = await runtime.db(where)
            seen["other loop"] = await asyncio.to_thread(from_another_loop)
            seen["blocking"] = await runtime.blocking(where)
            return seen
        finally:
            await runtime.release_loop()

    try:
        seen = asyncio.run(bound())
        here = threading.get_ident()
        (thread, pool), (again, same_pool) = seen["first"], seen["again"]
        assert thread == again == here and same_pool is pool
        assert seen["blocking"][0] != here and seen["blocking"][1] is runtime.store.engine.pool
        if runtime.inline_store:
            assert pool is runtime.store.engine.pool is seen["other loop"][1]
        else:
            assert pool is not runtime.store.engine.pool, "the loop's own engine"
            other_thread, other_pool = seen["other loop"]
            assert other_thread != here and other_pool is runtime.store.engine.pool
    finally:
        runtime.close()


def test_a_store_call_runs_to_its_end_when_its_caller_is_cancelled(fresh_database_url: str) -> None:
    """As on a thread: a write under way is not cut off (a send recorded as made, not half of it)."""
    runtime = build_runtime(Settings.from_env({"HOTLINE_DATABASE_URL": fresh_database_url}))
    phone = "+212612345679"

    def slow_write() -> None:
        with runtime.store.write() as connection:
            if runtime.inline_store:
                time.sleep(0.2)
            else:
                connection.execute(text("SELECT pg_sleep(0.2)"))
            runtime.store.get_or_create_contact_in(connection, phone, "phone", "", datetime.now(UTC))

    async def cancelled() -> None:
        runtime.bind_loop()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.db(slow_write), 0.05)
        finally:
            await runtime.release_loop()

    try:
        asyncio.run(cancelled())
        assert runtime.store.find_contact(phone) is not None
    finally:
        runtime.close()
