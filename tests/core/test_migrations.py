"""Migrations: an empty database reaches head, a re-run changes nothing, the schema matches the tables."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from core.db import (
    alembic_config,
    contact_addresses,
    contacts,
    current_revision,
    downgrade,
    make_engine,
    metadata,
    migrate,
    normalize_url,
    outside_metadata,
    ping_idle_connections,
)

TABLES = {
    "administrations", "categories", "contacts", "contact_addresses", "cases", "case_events", "messages", "attachments",
    "conversations", "staff", "api_tokens", "audit_log", "api_keys",
}  # fmt: skip


def _head() -> str:
    """The newest revision of `core/migrations`."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrate_empty_database_and_rerun(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    try:
        assert current_revision(engine) is None
        migrate(engine)
        assert current_revision(engine) == _head()
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
        migrate(engine)  # idempotent
        assert current_revision(engine) == _head()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True, "include_name": lambda name, *_: not outside_metadata(name)}), metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_concurrent_migrations(fresh_database_url: str) -> None:
    engines = [make_engine(fresh_database_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        try:
            migrate(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        if errors:
            raise errors[0]
        assert current_revision(engines[0]) == _head()
    finally:
        for e in engines:
            e.dispose()


def test_timestamps_are_aware_utc(engine: Engine) -> None:
    cairo = timezone(timedelta(hours=2))
    written = datetime(2026, 11, 23, 14, 30, tzinfo=cairo)
    with engine.begin() as conn:
        contact_id = conn.execute(
            sa.insert(contacts)
            .values(name=f"tz-{id(written)}", created_at=written, updated_at=written)
            .returning(contacts.c.id)
        ).scalar_one()
    with engine.connect() as conn:
        read = conn.execute(sa.select(contacts.c.created_at).where(contacts.c.id == contact_id)).scalar_one()
    assert read.tzinfo is not None and read.utcoffset() == timedelta(0)
    assert read == written and read == datetime(2026, 11, 23, 12, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive"), engine.begin() as conn:
        conn.execute(
            sa.insert(contacts).values(name="naive", created_at=datetime(2026, 1, 1), updated_at=datetime(2026, 1, 1))
        )


def test_sqlite_engine_settings(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "hotline.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_postgres_urls_use_psycopg() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///var/hotline.db") == "sqlite:///var/hotline.db"
    assert make_engine("postgresql://u@127.0.0.1/db").dialect.driver == "psycopg"


def test_contact_addresses_carry_todays_phones_and_telegram_ids(fresh_database_url: str) -> None:
    """0005 moves `contacts.phone` and `contacts.telegram_user_id` into `contact_addresses`, and back."""
    engine = make_engine(fresh_database_url)
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    try:
        migrate(engine, "0004")
        with engine.begin() as conn:
            old = sa.Table("contacts", sa.MetaData(), autoload_with=conn)
            ids = [conn.execute(sa.insert(old).values(created_at=at, updated_at=at, name=name, **address)
                                .returning(old.c.id)).scalar_one()
                   for name, address in [("sms", {"phone": "+212612345678"}),
                                         ("telegram", {"telegram_user_id": "777000111"}),
                                         ("both", {"phone": "+201001234567", "telegram_user_id": "42"}),
                                         ("none", {})]]
        migrate(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(contact_addresses.c.contact_id, contact_addresses.c.kind,
                                          contact_addresses.c.value)).all()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("contacts")}
        assert sorted(rows) == sorted([(ids[0], "phone", "+212612345678"), (ids[1], "telegram", "777000111"),
                                       (ids[2], "phone", "+201001234567"), (ids[2], "telegram", "42")])
        assert not columns & {"phone", "telegram_user_id"}
        downgrade(engine, "0004")
        with engine.connect() as conn:
            old = sa.Table("contacts", sa.MetaData(), autoload_with=conn)
            back = conn.execute(sa.select(old.c.id, old.c.phone, old.c.telegram_user_id).order_by(old.c.id)).all()
        assert [tuple(r) for r in back] == [(ids[0], "+212612345678", None), (ids[1], None, "777000111"),
                                            (ids[2], "+201001234567", "42"), (ids[3], None, None)]
    finally:
        engine.dispose()



def test_only_a_connection_idle_past_the_limit_is_pinged(fresh_database_url: str) -> None:
    """One round trip less per transaction: a connection just given back is used as it is."""
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("SQLite connections are not pinged")
    engine = sa.create_engine(normalize_url(fresh_database_url), pool_size=1, max_overflow=0)
    pings: list[object] = []
    ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: pings.append(connection) or ping(connection)  # type: ignore[method-assign]
    ping_idle_connections(engine, idle=0.3)
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        assert pings == [], "a new connection and one used just now"
        time.sleep(0.4)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert len(pings) == 1, "idle past the limit: pinged once"
    finally:
        engine.dispose()


def test_a_pooled_connection_the_server_dropped_while_idle_is_replaced_not_failed(fresh_database_url: str) -> None:
    """No ping per transaction (a round trip each); one before a connection idle past the limit, so a
    server restart or a dropped connection costs a new connection rather than a failed request."""
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to drop a connection")
    engine = sa.create_engine(normalize_url(fresh_database_url), pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle=0.0)
    admin = make_engine(fresh_database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            backend = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}).scalar_one()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != backend
    finally:
        engine.dispose()
        admin.dispose()
