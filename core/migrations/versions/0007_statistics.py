"""Statistics: when a case first had a reasoned answer, and how often it was reopened.

The national portal counts a case as processed once it had a first reasoned answer (answered or
rejected), and measures processing time to that answer; `answered_at` moves with every later answer,
so the first one is kept apart (`first_answer_at`), with `reopen_count`. Both are filled from the case
events for the cases already there. The composite indexes serve an administration's case list (newest
first) and the statistics of a period.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime
from core.migrations import search

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns, fill them from the events, and add the indexes."""
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("first_answer_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"))
        batch.create_index("ix_cases_administration_code_created_at", ["administration_code", "created_at"])
        batch.create_index("ix_cases_kind_created_at", ["kind", "created_at"])
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("first_answer_at", UTCDateTime()),
                     sa.column("reopen_count", sa.Integer))
    events = sa.table("case_events", sa.column("case_id", sa.Integer), sa.column("kind", sa.String),
                      sa.column("status", sa.String), sa.column("at", UTCDateTime()))
    status_events = sa.and_(events.c.case_id == cases.c.id, events.c.kind == "status")
    op.get_bind().execute(sa.update(cases).values(
        first_answer_at=sa.select(sa.func.min(events.c.at)).where(
            status_events, events.c.status.in_(("answered", "rejected"))).scalar_subquery(),
        reopen_count=sa.select(sa.func.count()).where(status_events, events.c.status == "reopened").scalar_subquery(),
    ))
    if op.get_bind().dialect.name == "sqlite":  # a rebuilt table lost its search triggers
        search.create_sqlite_triggers(op.execute)
        op.execute(search.SQLITE_REBUILD)


def downgrade() -> None:
    """Drop what `upgrade` added."""
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_kind_created_at")
        batch.drop_index("ix_cases_administration_code_created_at")
        batch.drop_column("reopen_count")
        batch.drop_column("first_answer_at")
    if op.get_bind().dialect.name == "sqlite":
        search.create_sqlite_triggers(op.execute)
        op.execute(search.SQLITE_REBUILD)
