"""Attachments in the store: photos, recordings and documents, recorded pending and filled in when stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.cases import event_values
from core.db import attachments, case_events
from core.records import AttachmentRecord
from core.storebase import StoreBase, utcnow

ATTACHMENT_KINDS = ("photo", "audio", "document")
ATTACHMENT_STATUSES = ("pending", "stored", "refused", "failed")


def attachment_from_row(row: Any) -> AttachmentRecord:
    """An `AttachmentRecord` from an `attachments` row."""
    return AttachmentRecord(
        id=row.id,
        case_id=row.case_id,
        message_id=row.message_id,
        kind=row.kind,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        path=row.path,
        source_url=row.source_url,
        status=row.status,
        error=row.error,
        created_at=row.created_at,
    )


class AttachmentsMixin(StoreBase):
    """Attachment operations of the case store."""

    def add_attachment(
        self,
        kind: str,
        content_type: str = "",
        source_url: str | None = None,
        case_id: int | None = None,
        message_id: int | None = None,
        now: datetime | None = None,
    ) -> int:
        """Record an attachment to download (status `pending`); its id."""
        if kind not in ATTACHMENT_KINDS:
            raise ValueError(f"unknown attachment kind {kind!r} (expected one of {ATTACHMENT_KINDS})")
        with self.write() as conn:
            return conn.execute(
                sa.insert(attachments)
                .values(
                    kind=kind,
                    content_type=content_type[:100],
                    source_url=source_url,
                    case_id=case_id,
                    message_id=message_id,
                    status="pending",
                    created_at=now or utcnow(),
                )
                .returning(attachments.c.id)
            ).scalar_one()

    def update_attachment(
        self,
        attachment_id: int,
        status: str,
        size: int | None = None,
        sha256: str | None = None,
        path: str | None = None,
        error: str | None = None,
        content_type: str | None = None,
    ) -> bool:
        """Record the download's outcome: `stored` (size, sha256, path), `refused` or `failed` (error)."""
        if status not in ATTACHMENT_STATUSES:
            raise ValueError(f"unknown attachment status {status!r} (expected one of {ATTACHMENT_STATUSES})")
        values: dict[str, Any] = {
            "status": status,
            "size": size,
            "sha256": sha256,
            "path": path,
            "error": error,
        }
        if content_type is not None:
            values["content_type"] = content_type[:100]
        with self.write() as conn:
            result = conn.execute(sa.update(attachments).where(attachments.c.id == attachment_id).values(values))
        return result.rowcount > 0

    def attach_to_case(
        self, case_id: int, attachment_ids: Sequence[int], actor: str = "citizen", now: datetime | None = None
    ) -> int:
        """Link attachments sent during the dialogue to the filed case (one `attachment` event each)."""
        if not attachment_ids:
            return 0
        now = now or utcnow()
        with self.write() as conn:
            linked = conn.execute(
                sa.update(attachments)
                .where(attachments.c.id.in_(list(attachment_ids)), attachments.c.case_id.is_(None))
                .values(case_id=case_id)
                .returning(attachments.c.id, attachments.c.kind)
            ).all()
            if linked:
                conn.execute(
                    sa.insert(case_events),
                    [event_values(case_id, "attachment", None, actor, f"{row.kind} {row.id}", now) for row in linked],
                )
        return len(linked)

    def attachment(self, attachment_id: int) -> AttachmentRecord | None:
        """The attachment with this id, or None."""
        with self.read() as conn:
            row = conn.execute(sa.select(attachments).where(attachments.c.id == attachment_id)).first()
        return attachment_from_row(row) if row is not None else None

    def case_attachments(self, case_id: int) -> list[AttachmentRecord]:
        """The case's attachments, oldest first."""
        query = sa.select(attachments).where(attachments.c.case_id == case_id).order_by(attachments.c.id)
        with self.read() as conn:
            return [attachment_from_row(r) for r in conn.execute(query)]
