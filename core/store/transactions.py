"""What every part of the case store shares: the engine, the configuration, transactions, upserts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.config import Deployment

PHONE = "phone"
"""The address kind of a telephone number (SMS, WhatsApp, calls): E.164."""


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class StoreBase:
    """Holds the engine and the deployment; opens short transactions (IMMEDIATE on SQLite for writes)."""

    def __init__(self, engine: Engine, deployment: Deployment,
                 address_kinds: Mapping[str, str] | None = None) -> None:
        self.engine = engine
        self.deployment = deployment
        self.address_kinds = dict(address_kinds or {})
        """Channel -> the kind of address its citizens are reached at (`phone` when not given): the
        channels' declaration (`ChannelAdapter.address_kind`), handed in by whoever builds the store."""
        self._writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._postgres = engine.dialect.name == "postgresql"

    def address_kind_of(self, channel: str) -> str:
        """The kind of address citizens of `channel` are reached at."""
        return self.address_kinds.get(channel, PHONE)

    def address_kind_in_sql(self, channel: Any) -> Any:
        """`address_kind_of` as an SQL expression over a column of channel names."""
        if not self.address_kinds:
            return sa.literal(PHONE)
        return sa.case(self.address_kinds, value=channel, else_=PHONE)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on error."""
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (its implicit transaction is rolled back at the end)."""
        with self.engine.connect() as conn:
            yield conn

    def insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT construct (it has `on_conflict_do_nothing`)."""
        if self._postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    def for_update(self, query: sa.Select[Any]) -> sa.Select[Any]:
        """`query` locking its rows on PostgreSQL (SQLite's IMMEDIATE transaction already serializes)."""
        return query.with_for_update() if self._postgres else query
