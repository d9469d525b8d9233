"""Casework inside an administration: services, assignees, deadline marks, staff notifications, search.

A case sits with one service of its administration (`service_code`) and one officer (`assignee_id`);
the deadline sweep marks when it reminded (`reminded_at`) and escalated (`escalated_at`) it and writes
`staff_notifications` (which also tell an agent that a supervisor stepped into their conversation).
An event names what it moved the case to in `target` (the service circulated to, the officer
assigned). Staff can be disabled (`disabled_at`). Officers search description and place: a GIN
full-text index on PostgreSQL, an FTS5 table kept by triggers on SQLite (a later migration that
rebuilds `cases` on SQLite must create those triggers again: SQLite drops them with the table).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime
from core.migrations import search

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

POSTGRES_SEARCH = (
    "CREATE INDEX ix_cases_search ON cases USING gin "
    "(to_tsvector('simple', coalesce(description, '') || ' ' || coalesce(location_text, '')))"
)


def upgrade() -> None:
    """Add the columns, the notifications table and the search index."""
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("service_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("assignee_id", sa.Integer,
                                   sa.ForeignKey("staff.id", name="fk_cases_assignee_id_staff"), nullable=True))
        batch.add_column(sa.Column("reminded_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("escalated_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_cases_assignee_id", ["assignee_id"])
        batch.create_index("ix_cases_answer_due_at", ["answer_due_at"])
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("target", sa.String(64), nullable=True))
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("disabled_at", UTCDateTime(), nullable=True))
    op.create_table(
        "staff_notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id", name="fk_staff_notifications_staff_id_staff"),
                  nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", name="fk_staff_notifications_case_id_cases"),
                  nullable=True),
        sa.Column("conversation_id", sa.Integer,
                  sa.ForeignKey("conversations.id", name="fk_staff_notifications_conversation_id_conversations"),
                  nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(64), nullable=False, server_default=""),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_notifications"),
    )
    op.create_index("ix_staff_notifications_staff_id", "staff_notifications", ["staff_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(search.SQLITE_TABLE)
        search.create_sqlite_triggers(op.execute)
        op.execute(search.SQLITE_REBUILD)
    else:
        op.execute(POSTGRES_SEARCH)


def downgrade() -> None:
    """Drop what `upgrade` added."""
    if op.get_bind().dialect.name == "sqlite":
        search.drop_sqlite_triggers(op.execute)
        op.execute("DROP TABLE IF EXISTS cases_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_cases_search")
    op.drop_index("ix_staff_notifications_staff_id", "staff_notifications")
    op.drop_table("staff_notifications")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("disabled_at")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("target")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_answer_due_at")
        batch.drop_index("ix_cases_assignee_id")
        batch.drop_column("escalated_at")
        batch.drop_column("reminded_at")
        batch.drop_column("assignee_id")
        batch.drop_column("service_code")
