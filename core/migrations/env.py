"""Alembic environment: runs on the connection `core.db.migrate` passes in (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from core.db import make_engine, metadata

config = context.config


def run() -> None:
    """Run the migrations on the given connection, or on `sqlalchemy.url` from the config."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url: call core.db.migrate(engine)")
    engine = make_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run()
