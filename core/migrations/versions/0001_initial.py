"""The initial schema: reference data, contacts, cases and events, messages, attachments, staff, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column:
    """A timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "administrations",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("names", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.PrimaryKeyConstraint("code", name="pk_administrations"),
    )
    op.create_table(
        "categories",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("names", sa.JSON, nullable=False),
        sa.Column("administration_code", sa.String(64), nullable=True),
        sa.Column("deadline_days", sa.Integer, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.PrimaryKeyConstraint("code", name="pk_categories"),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("telegram_user_id", sa.String(32), nullable=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("opted_out", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("unreachable", sa.Boolean, nullable=False, server_default=sa.false()),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("phone", name="uq_contacts_phone"),
        sa.UniqueConstraint("telegram_user_id", name="uq_contacts_telegram_user_id"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="complaint"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("category_code", sa.String(64), nullable=False),
        sa.Column("administration_code", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("origin_channel", sa.String(32), nullable=False),
        sa.Column("channel_address", sa.String(64), nullable=False, server_default=""),
        sa.Column("contact_id", sa.Integer, nullable=True),
        sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("location_text", sa.Text, nullable=False, server_default=""),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("rating", sa.Integer, nullable=True),
        sa.Column("source_message_id", sa.Integer, nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("routed_due_at", nullable=True),
        _at("answer_due_at", nullable=True),
        _at("answered_at", nullable=True),
        _at("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name="fk_cases_contact_id_contacts"),
        sa.UniqueConstraint("reference", name="uq_cases_reference"),
        sa.UniqueConstraint("source_message_id", name="uq_cases_source_message_id"),
    )
    op.create_index("ix_cases_contact_id", "cases", ["contact_id"])
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_administration_code", "cases", ["administration_code"])
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("administration_code", sa.String(64), nullable=True),
        _at("at"),
        _at("notified_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_events_case_id_cases"),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_index("ix_case_events_notified_at", "case_events", ["notified_at"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.Integer, nullable=True),
        sa.Column("case_id", sa.Integer, nullable=True),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("sender", sa.String(64), nullable=False, server_default=""),
        sa.Column("recipient", sa.String(64), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("payload", sa.JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_rank", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("priority", sa.String(8), nullable=False, server_default="replies"),
        _at("created_at"),
        _at("updated_at"),
        _at("processed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name="fk_messages_contact_id_contacts"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_messages_case_id_cases"),
        sa.UniqueConstraint(
            "channel",
            "direction",
            "provider_message_id",
            name="uq_messages_channel_direction_provider_message_id",
        ),
    )
    op.create_index("ix_messages_provider_message_id", "messages", ["provider_message_id"])
    op.create_index("ix_messages_status_updated_at", "messages", ["status", "updated_at"])
    op.create_index("ix_messages_contact_id", "messages", ["contact_id"])
    op.create_index("ix_messages_case_id", "messages", ["case_id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer, nullable=True),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False, server_default=""),
        sa.Column("size", sa.Integer, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("path", sa.Text, nullable=True),
        sa.Column("source_url", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("error", sa.Text, nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_attachments_case_id_cases"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name="fk_attachments_message_id_messages"),
    )
    op.create_index("ix_attachments_case_id", "attachments", ["case_id"])
    op.create_index("ix_attachments_message_id", "attachments", ["message_id"])
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False, server_default=""),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name="fk_conversations_contact_id_contacts"),
    )
    op.create_index("ix_conversations_status", "conversations", ["status"])
    op.create_index("ix_conversations_contact_id", "conversations", ["contact_id"])
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("administration_code", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_staff"),
        sa.UniqueConstraint("username", name="uq_staff_username"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Integer, nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        _at("created_at"),
        _at("last_used_at", nullable=True),
        _at("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_api_tokens_staff_id_staff"),
        sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Integer, nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("case_id", sa.Integer, nullable=True),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        _at("at"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_audit_log_staff_id_staff"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_audit_log_case_id_cases"),
    )
    op.create_index("ix_audit_log_case_id", "audit_log", ["case_id"])


def downgrade() -> None:
    """Drop every table."""
    for table in (
        "audit_log",
        "api_tokens",
        "staff",
        "conversations",
        "attachments",
        "messages",
        "case_events",
        "cases",
        "contacts",
        "categories",
        "administrations",
    ):
        op.drop_table(table)
