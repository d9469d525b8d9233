"""Retention: when a case's personal data was erased (`erased_at`), and an index to find the cases
closed long enough ago.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime
from core.migrations import search

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column and the index."""
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("erased_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_cases_closed_at", ["closed_at"])
    if op.get_bind().dialect.name == "sqlite":  # a rebuilt table lost its search triggers
        search.create_sqlite_triggers(op.execute)


def downgrade() -> None:
    """Drop what `upgrade` added."""
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_closed_at")
        batch.drop_column("erased_at")
    if op.get_bind().dialect.name == "sqlite":
        search.create_sqlite_triggers(op.execute)
