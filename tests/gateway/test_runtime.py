"""One process's composition: the phone region is decided in one place and every part uses it."""

from __future__ import annotations

import asyncio
import threading

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
    loop's engine (psycopg's async API); a call from another loop goes to the store's threads, over
    the store's own engine. SQLite: inline everywhere."""
    runtime = build_runtime(Settings.from_env({"HOTLINE_DATABASE_URL": fresh_database_url}))

    def where() -> tuple[int, object]:
        with runtime.store.read() as connection:
            connection.execute(text("SELECT 1"))
            return threading.get_ident(), connection.engine.pool

    async def bound() -> tuple[tuple[int, object], tuple[int, object]]:
        runtime.bind_loop()
        try:
            first = await runtime.db(where)
            contact = await runtime.db(runtime.store.get_or_create_contact, "+212612345678")
            assert (await runtime.db(runtime.store.contact, contact.id)).phone == "+212612345678"
            return first, await runtime.db(where)
        finally:
            await runtime.release_loop()

    async def other() -> tuple[int, object]:
        return await runtime.db(where)

    try:
        (thread, pool), (again, same_pool) = asyncio.run(bound())
        other_thread, other_pool = asyncio.run(other())
        assert thread == again == threading.get_ident() and same_pool is pool
        if runtime.inline_store:
            assert other_thread == thread and other_pool is pool is runtime.store.engine.pool
        else:
            assert pool is not runtime.store.engine.pool, "the loop's own engine"
            assert other_thread != threading.get_ident() and other_pool is runtime.store.engine.pool
    finally:
        runtime.close()
