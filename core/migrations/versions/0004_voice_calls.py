"""Voice calls: what a call collected before it reached a person or hung up.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the conversation's `collected` document (language, category, recordings... of a call)."""
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("collected", sa.JSON, nullable=True))


def downgrade() -> None:
    """Drop what `upgrade` added."""
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("collected")
