"""Alembic migrations of the case store (run by `core.db.migrate`)."""
