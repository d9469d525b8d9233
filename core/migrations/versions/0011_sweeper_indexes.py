"""Partial indexes for what the sweeper looks for every few seconds: inbound messages never
processed and attachments still pending. Without them each look read every message and attachment
ever recorded.

The migration runs in one transaction, as every migration does, so on PostgreSQL building them
holds up writes to `messages` and `attachments` meanwhile. A deployment with millions of messages
builds them first, without holding anything up, and the migration then finds them there:

    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_messages_unprocessed_inbound ON messages (created_at)
        WHERE direction = 'in' AND processed_at IS NULL;
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_attachments_pending ON attachments (id) WHERE status = 'pending';

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
    """Create the two partial indexes, unless an operator built them already."""
    op.create_index("ix_messages_unprocessed_inbound", "messages", ["created_at"], if_not_exists=True,
                    postgresql_where=UNPROCESSED_INBOUND, sqlite_where=UNPROCESSED_INBOUND)
    op.create_index("ix_attachments_pending", "attachments", ["id"], if_not_exists=True,
                    postgresql_where=PENDING_ATTACHMENT, sqlite_where=PENDING_ATTACHMENT)


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_attachments_pending", "attachments")
    op.drop_index("ix_messages_unprocessed_inbound", "messages")
