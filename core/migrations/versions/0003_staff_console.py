"""The staff console: who holds a conversation, what it filed, why it closed; login lock-out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the conversation's agent, case and closing, and the staff member's last failed login."""
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("agent_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("case_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("closed_reason", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_conversations_agent_id_staff", "staff", ["agent_id"], ["id"])
        batch.create_foreign_key("fk_conversations_case_id_cases", "cases", ["case_id"], ["id"])
        batch.create_index("ix_conversations_agent_id", ["agent_id"])
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("last_failed_login_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop what `upgrade` added."""
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("last_failed_login_at")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_agent_id")
        batch.drop_constraint("fk_conversations_case_id_cases", type_="foreignkey")
        batch.drop_constraint("fk_conversations_agent_id_staff", type_="foreignkey")
        for column in ("closed_at", "taken_at", "closed_reason", "case_id", "agent_id"):
            batch.drop_column(column)
