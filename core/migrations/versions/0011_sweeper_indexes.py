"""Partial indexes for what the sweeper looks for every few seconds: inbound messages never
processed and attachments still pending. Without them each look read every message and attachment
ever recorded.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from core.db import PENDING_ATTACHMENT, UNPROCESSED_INBOUND

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two partial indexes."""
    op.create_index("ix_messages_unprocessed_inbound", "messages", ["created_at"],
                    postgresql_where=UNPROCESSED_INBOUND, sqlite_where=UNPROCESSED_INBOUND)
    op.create_index("ix_attachments_pending", "attachments", ["id"],
                    postgresql_where=PENDING_ATTACHMENT, sqlite_where=PENDING_ATTACHMENT)


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_attachments_pending", "attachments")
    op.drop_index("ix_messages_unprocessed_inbound", "messages")
