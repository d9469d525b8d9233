"""Duplicates: a case may be the duplicate of another (`duplicate_of_id`), closed as such; its reporter
follows the original. The `(category_code, created_at)` index serves the search for an open case of
the same category filed near in time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.migrations import search

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column and the indexes."""
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("duplicate_of_id", sa.Integer,
                                   sa.ForeignKey("cases.id", name="fk_cases_duplicate_of_id_cases"), nullable=True))
        batch.create_index("ix_cases_duplicate_of_id", ["duplicate_of_id"])
        batch.create_index("ix_cases_category_code_created_at", ["category_code", "created_at"])
    if op.get_bind().dialect.name == "sqlite":  # a rebuilt table lost its search triggers
        search.create_sqlite_triggers(op.execute)
        op.execute(search.SQLITE_REBUILD)


def downgrade() -> None:
    """Drop what `upgrade` added."""
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_category_code_created_at")
        batch.drop_index("ix_cases_duplicate_of_id")
        batch.drop_column("duplicate_of_id")
    if op.get_bind().dialect.name == "sqlite":
        search.create_sqlite_triggers(op.execute)
        op.execute(search.SQLITE_REBUILD)
