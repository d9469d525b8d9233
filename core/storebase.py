"""What every part of the case store shares: the engine, the configuration, transactions, upserts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.config import Deployment


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class StoreBase:
    """Holds the engine and the deployment; opens short transactions (IMMEDIATE on SQLite for writes)."""

    def __init__(self, engine: Engine, deployment: Deployment) -> None:
        self.engine = engine
        self.deployment = deployment
        self._writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._postgres = engine.dialect.name == "postgresql"

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
