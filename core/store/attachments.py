"""Attachments in the store: photos, recordings and documents, recorded pending and filled in when stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.db import PENDING_ATTACHMENT, attachments, case_events, cases, contacts, messages
from core.records import AttachmentRecord
from core.store.cases import event_values
from core.store.transactions import StoreBase, utcnow

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


@dataclass(frozen=True)
class MediaOrigin:
    """Where an attachment came from: the channel, the citizen and our number, to answer them."""

    channel: str
    contact_id: int | None
    citizen: str
    our_number: str
    language: str | None
    case_id: int | None


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
                self._location_hint(conn, case_id, now)
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

    # -- media downloads ---------------------------------------------------------------------------

    def record_media(self, message_id: int, items: Sequence[tuple[str, str, str]],
                     now: datetime | None = None) -> list[int]:
        """Record the (kind, content type, URL) items an inbound message carried, pending, once: for a
        message already recorded, the ids recorded then."""
        with self.write() as conn:
            existing = list(conn.execute(
                sa.select(attachments.c.id).where(attachments.c.message_id == message_id).order_by(attachments.c.id)
            ).scalars())
            if existing or not items:
                return existing
            now = now or utcnow()
            rows = [
                {"kind": kind, "content_type": content_type[:100], "source_url": url, "message_id": message_id,
                 "status": "pending", "created_at": now}
                for kind, content_type, url in items
            ]
            stmt = sa.insert(attachments).returning(attachments.c.id, sort_by_parameter_order=True)
            return [row.id for row in conn.execute(stmt, rows)]

    def pending_attachments(self, older_than: datetime, limit: int = 200) -> list[int]:
        """Attachments still waiting for their download since before `older_than` (their work item was
        lost with Redis, or queueing it failed), oldest first."""
        query = (
            sa.select(attachments.c.id)
            .where(PENDING_ATTACHMENT, attachments.c.source_url.is_not(None),  # as the partial index says
                   attachments.c.created_at < older_than)
            .order_by(attachments.c.id)
            .limit(limit)
        )
        with self.read() as conn:
            return list(conn.execute(query).scalars())

    def media_origin(self, attachment_id: int) -> MediaOrigin | None:
        """Who sent an attachment, on which channel and to which of our numbers."""
        query = (
            sa.select(messages.c.channel, messages.c.sender, messages.c.recipient, messages.c.contact_id,
                      contacts.c.language, attachments.c.case_id)
            .select_from(attachments.join(messages, messages.c.id == attachments.c.message_id)
                         .outerjoin(contacts, contacts.c.id == messages.c.contact_id))
            .where(attachments.c.id == attachment_id)
        )
        with self.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return MediaOrigin(row.channel, row.contact_id, row.sender, row.recipient, row.language, row.case_id)

    def media_stored(self, attachment_id: int, *, path: str, size: int, sha256: str, content_type: str,
                     lat: float | None = None, lon: float | None = None, now: datetime | None = None) -> bool:
        """A download was checked and stored; a photo's GPS becomes its case's location hint (when the
        case has no pin). False when the attachment was not pending (another job stored it)."""
        now = now or utcnow()
        with self.write() as conn:
            row = conn.execute(
                sa.update(attachments)
                .where(attachments.c.id == attachment_id, attachments.c.status == "pending")
                .values(status="stored", path=path, size=size, sha256=sha256, content_type=content_type[:100],
                        lat=lat, lon=lon, error=None)
                .returning(attachments.c.case_id)
            ).first()
            if row is None:
                return False
            if row.case_id is not None:
                self._location_hint(conn, row.case_id, now)
        return True

    def media_not_stored(self, attachment_id: int, status: str, error: str, now: datetime | None = None) -> bool:
        """A download was refused (too big, wrong type) or failed for good; its case, if any, says so."""
        if status not in ("refused", "failed"):
            raise ValueError(f"expected refused or failed, got {status!r}")
        with self.write() as conn:
            row = conn.execute(
                sa.update(attachments)
                .where(attachments.c.id == attachment_id, attachments.c.status == "pending")
                .values(status=status, error=error[:500])
                .returning(attachments.c.case_id, attachments.c.kind)
            ).first()
            if row is None:
                return False
            if row.case_id is not None:
                note = f"{row.kind} {attachment_id} {status}: {error}"[:500]
                conn.execute(sa.insert(case_events), [event_values(row.case_id, "media_" + status, None, "system",
                                                                   note, now or utcnow())])
        return True

    def attach_media(self, reference: str, contact_id: int, attachment_ids: Sequence[int],
                     now: datetime | None = None) -> int | None:
        """Add a citizen's files to their own case; None when `reference` is not a case of theirs."""
        with self.read() as conn:
            case_id = conn.execute(
                sa.select(cases.c.id).where(cases.c.reference == reference, cases.c.contact_id == contact_id)
            ).scalar()
        if case_id is None:
            return None
        return self.attach_to_case(case_id, attachment_ids, "citizen", now)

    def _location_hint(self, conn: Connection, case_id: int, now: datetime) -> None:
        """A case without a position takes the first GPS position its stored photos carry (an event says so)."""
        hint = conn.execute(
            sa.select(attachments.c.id, attachments.c.lat, attachments.c.lon)
            .where(attachments.c.case_id == case_id, attachments.c.status == "stored",
                   attachments.c.lat.is_not(None), attachments.c.lon.is_not(None))
            .order_by(attachments.c.id)
            .limit(1)
        ).first()
        if hint is None:
            return
        updated = conn.execute(
            sa.update(cases).where(cases.c.id == case_id, cases.c.lat.is_(None), cases.c.lon.is_(None))
            .values(lat=hint.lat, lon=hint.lon, updated_at=now)
        )
        if updated.rowcount:
            note = f"position from the EXIF of photo {hint.id}: {hint.lat:.6f},{hint.lon:.6f}"
            conn.execute(sa.insert(case_events), [event_values(case_id, "location_hint", None, "system", note, now)])
