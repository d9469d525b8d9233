"""What every part of the case store shares: the engine, the configuration, transactions, upserts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.changes import conversation_changed, messages_topic
from core.config import Deployment
from core.db import messages

PHONE = "phone"
"""The address kind of a telephone number (SMS, WhatsApp, calls): E.164."""

TRANSCRIPT_COLUMNS = (messages.c.channel, messages.c.contact_id)
"""What a changed `messages` row returns so its transcript is named (`StoreBase.touched_messages`)."""


@dataclass(frozen=True)
class Engines:
    """How one engine is used for reads, for writes, and for writes of one statement."""

    reader: Engine
    writer: Engine
    single_writer: Engine


def engines_for(engine: Engine) -> Engines:
    """Writes take SQLite's lock at BEGIN (IMMEDIATE); PostgreSQL reads, and writes of one statement
    (which is a transaction by itself), run without BEGIN and COMMIT."""
    if engine.dialect.name == "sqlite":
        writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        return Engines(reader=engine, writer=writer, single_writer=writer)
    unwrapped = engine.execution_options(isolation_level="AUTOCOMMIT")
    return Engines(reader=unwrapped, writer=engine, single_writer=unwrapped)


_TOPICS = "hotline_changed_topics"

LOOP_ENGINE: ContextVar[tuple[object, Engines] | None] = ContextVar("loop_engine", default=None)
"""(store, engines) while a store call runs on an event loop in a greenlet (`gateway.runtime.Runtime.db`):
that store's transactions then use the loop's engine (psycopg's async API) instead of its own."""


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
        self._postgres = engine.dialect.name == "postgresql"
        self._engines = engines_for(engine)
        self._unnest_inserts: dict[tuple[Any, ...], tuple[RowArrays, Any]] = {}
        self.announce: Callable[[set[str]], None] | None = None
        """Called with the topics (`core.changes`) of each write transaction once it committed, from
        whatever thread wrote; it must not block (the gateway's hands them to its loop)."""

    def address_kind_of(self, channel: str) -> str:
        """The kind of address citizens of `channel` are reached at."""
        return self.address_kinds.get(channel, PHONE)

    def address_kind_in_sql(self, channel: Any) -> Any:
        """`address_kind_of` as an SQL expression over a column of channel names."""
        if not self.address_kinds:
            return sa.literal(PHONE)
        return sa.case(self.address_kinds, value=channel, else_=PHONE)

    def _current(self) -> Engines:
        bound = LOOP_ENGINE.get()
        return bound[1] if bound is not None and bound[0] is self else self._engines

    @contextmanager
    def write(self, *, one_statement: bool = False) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on error; what it `touched` is
        announced after the commit, so whoever hears of it reads what was written.

        `one_statement`: each statement the block executes is atomic by itself and needs none of the
        others to be (a single statement, or one tried again after a conflict); on PostgreSQL they
        then run without BEGIN and COMMIT, one round trip each instead of three."""
        topics: set[str] = set()
        engines = self._current()
        with (engines.single_writer if one_statement else engines.writer).begin() as conn:
            info = conn.info  # read once: after a lost connection, `conn.info` raises instead
            info[_TOPICS] = topics
            try:
                yield conn
            finally:
                info.pop(_TOPICS, None)
        if topics and self.announce is not None:
            self.announce(topics)

    @staticmethod
    def touched(conn: Connection, topics: Iterable[str]) -> None:
        """Name what this write transaction changes (`core.changes`); outside one, nothing."""
        found = conn.info.get(_TOPICS)
        if found is not None:
            found.update(topics)

    def touched_messages(self, conn: Connection, rows: Iterable[Any]) -> None:
        """Name the transcripts that changed rows of `messages` are in (rows with `TRANSCRIPT_COLUMNS`)."""
        self.touched(conn, {messages_topic(row.channel, row.contact_id) for row in rows if row.contact_id is not None})

    def touched_conversations(self, conn: Connection, conversation_ids: Iterable[int]) -> None:
        """Name the conversations whose rows changed: the queue shows them, and their own pages."""
        self.touched(conn, {topic for conversation_id in conversation_ids
                            for topic in conversation_changed(conversation_id)})

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection: on PostgreSQL without a transaction (each statement sees what is
        committed, as it would inside one at READ COMMITTED, and BEGIN and ROLLBACK were two round
        trips a read); on SQLite in a deferred transaction, rolled back at the end."""
        with self._current().reader.connect() as conn:
            yield conn

    def insert_rows(self, conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                    returning: Sequence[sa.ColumnElement[Any]], *, skip_conflicts: bool = False) -> list[Any]:
        """Insert `rows` (each with the same keys) in one statement; the `returning` columns of each
        row inserted. Without `skip_conflicts`, in the order of `rows`; with it, rows that conflict
        are left out (and PostgreSQL keeps the order, SQLite not always).

        On PostgreSQL the rows go as one array per column (`INSERT ... SELECT ... FROM unnest(...)`):
        as many parameters as columns however many rows, so psycopg parses the statement once and
        prepares it, where a multi-row VALUES of more than 50 parameters is parsed at every execution
        (about 0.5 ms for six 14-column rows) and its pages were each a round trip."""
        if not rows:
            return []
        if not self._postgres:
            statement = self.insert(table)
            if skip_conflicts:
                return list(conn.execute(statement.on_conflict_do_nothing().returning(*returning), list(rows)))
            return list(conn.execute(statement.returning(*returning, sort_by_parameter_order=True), list(rows)))
        key = (table.name, tuple(rows[0]), tuple(column.key for column in returning), skip_conflicts)
        found = self._unnest_inserts.get(key)
        if found is None:
            arrays = self.row_arrays(table, tuple(rows[0]))
            found = self._unnest_inserts[key] = (
                arrays, sa.text(arrays.insert(returning, skip_conflicts=skip_conflicts)).columns(*returning))
        arrays, statement = found
        return sorted(conn.execute(statement, arrays.parameters(rows)), key=lambda row: row.id)

    def row_arrays(self, table: sa.Table, names: Sequence[str]) -> RowArrays:
        """`RowArrays` of these columns of `table` for this store's database."""
        return RowArrays(table, names, self.engine.dialect)

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


class RowArrays:
    """Rows of one table given to PostgreSQL as one array per column, for `INSERT ... SELECT ... FROM
    unnest(...)`: `arrays` is the unnest's arguments, `names` the quoted column names (`listed`,
    joined), `parameters` the values (each column's bind processing applied: SQLAlchemy does not
    apply it to a text statement)."""

    def __init__(self, table: sa.Table, names: Sequence[str], dialect: Any) -> None:
        columns = [table.c[name] for name in names]
        self.table = table
        self._processors = [(column.name, column.type.dialect_impl(dialect).bind_processor(dialect))
                            for column in columns]
        self.arrays = ", ".join(f"CAST(:p{index} AS {_element_type(column, dialect)}[])"
                                for index, column in enumerate(columns))
        self.names = [f'"{column.name}"' for column in columns]
        self.listed = ", ".join(self.names)

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
        """The rows' values, an array per column (`p0`, `p1`, ...)."""
        found = {}
        for index, (name, process) in enumerate(self._processors):
            values = [row[name] for row in rows]
            found[f"p{index}"] = [process(value) for value in values] if process else values
        return found

    def insert(self, returning: Sequence[sa.ColumnElement[Any]], *, beside: Mapping[str, str] | None = None,
               where: str = "", skip_conflicts: bool = False) -> str:
        """The INSERT of the given rows in their order, returning `returning`, their ids among them
        (ORDER BY the rows' order makes the sequence give them their ids in that order). `beside`:
        further arrays (name -> SQL type of an element, bound as `:name`) unnested beside the rows'
        and not inserted, for `where` to name."""
        if "id" not in {column.key for column in returning}:
            raise ValueError("an insert of many rows returns their id (its order gives theirs)")
        beside = beside or {}
        arrays = "".join(f", CAST(:{name} AS {kind}[])" for name, kind in beside.items())
        names = "".join(f", {name}" for name in beside)
        conflicts = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
        returned = ", ".join(f'"{column.key}"' for column in returning)
        return (f'INSERT INTO "{self.table.name}" ({self.listed}) SELECT {self.listed} '
                f"FROM unnest({self.arrays}{arrays}) WITH ORDINALITY AS given({self.listed}{names}, given_order)"
                f"{' WHERE ' + where if where else ''} ORDER BY given_order{conflicts} RETURNING {returned}")


def _element_type(column: sa.Column[Any], dialect: Any) -> str:
    """The SQL type of a column's array elements: a string without its length, since an explicit
    cast to VARCHAR(n) cuts a longer value short where the insert itself refuses it."""
    kind = sa.Text() if isinstance(column.type, sa.String) else column.type
    return kind.compile(dialect=dialect)
