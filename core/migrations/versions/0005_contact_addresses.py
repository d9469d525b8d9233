"""Contact addresses: a contact's phone and channel user ids as `(kind, value)` rows, not columns.

A new channel brings a new address kind (Messenger's page-scoped id) without a schema change. Today's
`contacts.phone` and `contacts.telegram_user_id` are carried over, then dropped.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CARRIED = (("phone", "phone"), ("telegram", "telegram_user_id"))
"""Address kind <- the contacts column it came from."""


def upgrade() -> None:
    """Create `contact_addresses`, copy every phone and Telegram id into it, drop the two columns."""
    op.create_table(
        "contact_addresses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Integer,
                  sa.ForeignKey("contacts.id", name="fk_contact_addresses_contact_id_contacts"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_addresses"),
        sa.UniqueConstraint("kind", "value", name="uq_contact_addresses_kind_value"),
        sa.UniqueConstraint("contact_id", "kind", name="uq_contact_addresses_contact_id_kind"),
    )
    connection = op.get_bind()
    contacts = sa.table("contacts", sa.column("id", sa.Integer), sa.column("phone", sa.String),
                        sa.column("telegram_user_id", sa.String), sa.column("created_at", UTCDateTime()))
    addresses = sa.table("contact_addresses", sa.column("contact_id", sa.Integer), sa.column("kind", sa.String),
                         sa.column("value", sa.String), sa.column("created_at", UTCDateTime()))
    for kind, column in CARRIED:
        rows = connection.execute(sa.select(contacts.c.id, contacts.c[column], contacts.c.created_at)
                                  .where(contacts.c[column].is_not(None))).all()
        if rows:
            connection.execute(addresses.insert(), [
                {"contact_id": row[0], "kind": kind, "value": row[1], "created_at": row[2] or datetime.now(UTC)}
                for row in rows])
    with op.batch_alter_table("contacts") as batch:
        batch.drop_constraint("uq_contacts_phone", type_="unique")
        batch.drop_constraint("uq_contacts_telegram_user_id", type_="unique")
        batch.drop_column("phone")
        batch.drop_column("telegram_user_id")


def downgrade() -> None:
    """Put the two columns back, filled from the addresses, and drop `contact_addresses`."""
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("phone", sa.String(32), nullable=True))
        batch.add_column(sa.Column("telegram_user_id", sa.String(32), nullable=True))
        batch.create_unique_constraint("uq_contacts_phone", ["phone"])
        batch.create_unique_constraint("uq_contacts_telegram_user_id", ["telegram_user_id"])
    connection = op.get_bind()
    contacts = sa.table("contacts", sa.column("id", sa.Integer), sa.column("phone", sa.String),
                        sa.column("telegram_user_id", sa.String))
    addresses = sa.table("contact_addresses", sa.column("contact_id", sa.Integer), sa.column("kind", sa.String),
                         sa.column("value", sa.String))
    for kind, column in CARRIED:
        for contact_id, value in connection.execute(
                sa.select(addresses.c.contact_id, addresses.c.value).where(addresses.c.kind == kind)).all():
            connection.execute(contacts.update().where(contacts.c.id == contact_id).values({column: value}))
    op.drop_table("contact_addresses")

