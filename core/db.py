"""The SQL schema (SQLAlchemy Core tables), the engine factory and the migration runner.

SQLite is the embedded default (a file under `var/`, WAL); PostgreSQL is the production store. Every
timestamp is timezone-aware UTC on both. `migrate(engine)` brings a database to the newest schema with
Alembic (`core/migrations`); the migration creates exactly the tables declared here.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, in UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware datetimes only, converted to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Always aware, in UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


administrations = sa.Table(
    "administrations",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("names", sa.JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("names", sa.JSON, nullable=False),
    sa.Column("administration_code", sa.String(64), nullable=True),
    sa.Column("deadline_days", sa.Integer, nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

contacts = sa.Table(
    "contacts",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("opted_out", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("unreachable", sa.Boolean, nullable=False, server_default=sa.false()),
    _at("created_at"),
    _at("updated_at"),
)

contact_addresses = sa.Table(
    "contact_addresses",
    metadata,
    _id(),
    sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(64), nullable=False),
    _at("created_at"),
    sa.UniqueConstraint("kind", "value"),
    sa.UniqueConstraint("contact_id", "kind"),
)
"""Where a contact is reached: `(kind, value)` such as `("phone", "+2126...")` (E.164) or a channel's
own user id (`telegram`, `messenger`: the kind a channel adapter declares). One per kind per contact;
an address belongs to one contact."""

cases = sa.Table(
    "cases",
    metadata,
    _id(),
    sa.Column("reference", sa.String(16), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False, server_default="complaint"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("category_code", sa.String(64), nullable=False),
    sa.Column("administration_code", sa.String(64), nullable=True),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("origin_channel", sa.String(32), nullable=False),
    sa.Column("channel_address", sa.String(64), nullable=False, server_default=""),
    sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=True),
    sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("location_text", sa.Text, nullable=False, server_default=""),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("lon", sa.Float, nullable=True),
    sa.Column("rating", sa.Integer, nullable=True),
    sa.Column("source_message_id", sa.Integer, nullable=True, unique=True),
    _at("created_at"),
    _at("updated_at"),
    _at("routed_due_at", nullable=True),
    _at("answer_due_at", nullable=True),
    _at("answered_at", nullable=True),
    _at("closed_at", nullable=True),
    sa.Column("service_code", sa.String(64), nullable=True),
    sa.Column("assignee_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
    _at("reminded_at", nullable=True),
    _at("escalated_at", nullable=True),
    _at("first_answer_at", nullable=True),
    sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("duplicate_of_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
    _at("erased_at", nullable=True),
    sa.Index("ix_cases_contact_id", "contact_id"),
    sa.Index("ix_cases_duplicate_of_id", "duplicate_of_id"),
    sa.Index("ix_cases_closed_at", "closed_at"),
    sa.Index("ix_cases_category_code_created_at", "category_code", "created_at"),
    sa.Index("ix_cases_administration_code_created_at", "administration_code", "created_at"),
    sa.Index("ix_cases_kind_created_at", "kind", "created_at"),
    sa.Index("ix_cases_assignee_id", "assignee_id"),
    sa.Index("ix_cases_answer_due_at", "answer_due_at"),
    sa.Index("ix_cases_status", "status"),
    sa.Index("ix_cases_administration_code", "administration_code"),
    sa.Index("ix_cases_created_at", "created_at"),
)

case_events = sa.Table(
    "case_events",
    metadata,
    _id(),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("administration_code", sa.String(64), nullable=True),
    sa.Column("target", sa.String(64), nullable=True),
    _at("at"),
    _at("notified_at", nullable=True),
    sa.Index("ix_case_events_case_id", "case_id"),
    sa.Index("ix_case_events_notified_at", "notified_at"),
)

UNPROCESSED_INBOUND = sa.text("direction = 'in' AND processed_at IS NULL")
"""The inbound messages never processed, which the sweeper looks for every few seconds: a partial
index holds only them, so the look stays cheap in a table of millions of messages."""
PENDING_ATTACHMENT = sa.text("status = 'pending'")
"""The attachments still waiting for their download, which the sweeper looks for the same way."""

messages = sa.Table(
    "messages",
    metadata,
    _id(),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
    sa.Column("provider_message_id", sa.String(128), nullable=True),
    sa.Column("sender", sa.String(64), nullable=False, server_default=""),
    sa.Column("recipient", sa.String(64), nullable=False, server_default=""),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("payload", sa.JSON, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_rank", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_code", sa.String(32), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("priority", sa.String(8), nullable=False, server_default="replies"),
    _at("created_at"),
    _at("updated_at"),
    _at("processed_at", nullable=True),
    sa.UniqueConstraint("channel", "direction", "provider_message_id"),
    sa.Index("ix_messages_provider_message_id", "provider_message_id"),
    sa.Index("ix_messages_status_updated_at", "status", "updated_at"),
    sa.Index("ix_messages_contact_id", "contact_id"),
    sa.Index("ix_messages_case_id", "case_id"),
    sa.Index("ix_messages_unprocessed_inbound", "created_at", postgresql_where=UNPROCESSED_INBOUND,
             sqlite_where=UNPROCESSED_INBOUND),
)

attachments = sa.Table(
    "attachments",
    metadata,
    _id(),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False, server_default=""),
    sa.Column("size", sa.Integer, nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("path", sa.Text, nullable=True),
    sa.Column("source_url", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("error", sa.Text, nullable=True),
    _at("created_at"),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("lon", sa.Float, nullable=True),
    sa.Index("ix_attachments_case_id", "case_id"),
    sa.Index("ix_attachments_message_id", "message_id"),
    sa.Index("ix_attachments_pending", "id", postgresql_where=PENDING_ATTACHMENT, sqlite_where=PENDING_ATTACHMENT),
)

conversations = sa.Table(
    "conversations",
    metadata,
    _id(),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False, server_default=""),
    _at("created_at"),
    _at("updated_at"),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
    sa.Column("closed_reason", sa.String(32), nullable=False, server_default=""),
    _at("taken_at", nullable=True),
    _at("closed_at", nullable=True),
    sa.Column("collected", sa.JSON, nullable=True),
    sa.Index("ix_conversations_status", "status"),
    sa.Index("ix_conversations_contact_id", "contact_id"),
    sa.Index("ix_conversations_agent_id", "agent_id"),
)

staff = sa.Table(
    "staff",
    metadata,
    _id(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("administration_code", sa.String(64), nullable=True),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    _at("created_at"),
    _at("last_failed_login_at", nullable=True),
    _at("disabled_at", nullable=True),
)

staff_notifications = sa.Table(
    "staff_notifications",
    metadata,
    _id(),
    sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("detail", sa.String(64), nullable=False, server_default=""),
    _at("at"),
    _at("read_at", nullable=True),
    sa.Index("ix_staff_notifications_staff_id", "staff_id"),
)
"""What a staff member is told: `reminder` (a case of theirs is due soon), `overdue` (a case of
their administration is past due: supervisors), `step_in` (a supervisor took over a conversation they
held; `detail` names the supervisor). One row per recipient."""

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _id(),
    sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    _at("created_at"),
    _at("last_used_at", nullable=True),
    _at("revoked_at", nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    _at("at"),
    sa.Index("ix_audit_log_case_id", "case_id"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    _id(),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("key_sha256", sa.String(64), nullable=False, unique=True),
    _at("created_at"),
    _at("last_used_at", nullable=True),
    _at("revoked_at", nullable=True),
)
"""Keys of the systems that file cases over Open311 (a FixMyStreet installation, a city's back office):
one per named client, only its SHA-256 kept, revoked rather than deleted so the audit log still names it."""


SEARCH_OBJECTS = ("cases_search", "ix_cases_search")
"""The full-text search over cases (migration 0006): SQLite's FTS5 table (with its shadow tables and
triggers) and PostgreSQL's GIN expression index, which SQLAlchemy Core tables cannot declare."""


def outside_metadata(name: str | None) -> bool:
    """Whether a schema object is one of `SEARCH_OBJECTS`, made by the migration rather than declared here."""
    return bool(name) and any(name == o or name.startswith(o + "_") for o in SEARCH_OBJECTS)


def normalize_url(url: str) -> str:
    """The URL with `postgresql://` (and `postgres://`) rewritten to the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


IDLE_PING_SECONDS = 10.0
"""A pooled PostgreSQL connection idle longer than this is pinged before use (one that was just used
is not: a ping per transaction was a round trip per transaction)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`: SQLite (WAL, foreign keys, real transactions) or PostgreSQL (psycopg 3)."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = sa.create_engine(url, **kwargs)
        ping_idle_connections(engine)
        return engine
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **kwargs)
    _configure_sqlite(engine)
    return engine


def make_loop_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """The PostgreSQL engine of one event loop: psycopg's async API under SQLAlchemy's sync one
    (`.sync_engine`), so the store's code runs unchanged on the loop, in a greenlet
    (`gateway.runtime.Runtime.db`), and waits for the server without a thread."""
    engine = create_async_engine(normalize_url(url), **kwargs)
    ping_idle_connections(engine.sync_engine)
    return engine


def ping_idle_connections(engine: Engine, idle: float = IDLE_PING_SECONDS) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for connections that sat idle: a server restart
    or a dropped connection costs one new connection, not a failed request."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _used(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("checked_in_at", 0.0) < idle:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa.exc.DisconnectionError(str(exc)) from exc
        if not alive:
            raise sa.exc.DisconnectionError("the connection did not answer a ping")


def _configure_sqlite(engine: Engine) -> None:
    """Pragmas on each connection, and BEGIN issued by us (IMMEDIATE for writes, see `store.write`)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=15000")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode != "IMMEDIATE":
            connection.exec_driver_sql(f"BEGIN {mode}")
            return
        _begin_immediate(connection.connection.dbapi_connection)


def _begin_immediate(raw: Any, patience: float = 15.0) -> None:
    """Take SQLite's write lock, trying again every fraction of a millisecond while another process
    holds it. SQLite's own busy handler sleeps in steps of up to 100 ms, so a gateway and a worker
    writing one file would mostly wait on each other's sleeps rather than on each other's writes."""
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + patience
        pause = 0.0002
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 1.5, 0.002)
    finally:
        raw.execute("PRAGMA busy_timeout=15000")


def _enable_wal(cursor: Any, attempts: int = 200) -> None:
    """Switch the file to WAL (persistent); SQLite answers "locked" at once, without waiting, while
    another connection is switching it, so try again for a while."""
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() in ("wal", "memory"):
        return
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 72_061_403  # pg advisory lock key: concurrent starters migrate one at a time


def alembic_config(connection: sa.Connection | None = None) -> Any:
    """An Alembic `Config` pointing at `core/migrations` (and at `connection` when given)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["configure_logger"] = False
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to `revision` (default the newest); running it again changes nothing."""
    from alembic import command

    with _migrating(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to `revision` (an operator rolling a release back)."""
    from alembic import command

    with _migrating(engine) as connection:
        command.downgrade(alembic_config(connection), revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[sa.Connection]:
    """One transaction for the whole migration, one migrating process at a time. On SQLite, foreign
    keys are off while it runs (a table whose columns change is rebuilt: copied, dropped, renamed,
    which the rows referring to it would refuse) and checked once at the end."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, where it takes effect
        try:
            connection = connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration left rows referring to nothing: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
