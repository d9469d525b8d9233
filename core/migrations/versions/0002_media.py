"""Media: where a photo says it was taken (EXIF GPS), kept on its attachment as a location hint.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the photo's EXIF position to `attachments`."""
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("lat", sa.Float, nullable=True))
        batch.add_column(sa.Column("lon", sa.Float, nullable=True))


def downgrade() -> None:
    """Drop the EXIF position."""
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("lon")
        batch.drop_column("lat")
