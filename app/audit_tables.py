"""The audit log's table: `audit_events`, append-only and hash-chained (`app.audit`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One staff action. `id` is given by `app.audit.record` (the previous row's id + 1, under a lock),
    so a missing row shows as a gap; `hash` is SHA-256 over the row's content and `prev_hash`. Nothing
    in the app updates a row, or deletes one but the oldest once archived to a file (`app.audit_archive`);
    on PostgreSQL a trigger refuses both (migration core_0003)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor_at", "actor", "at"),
        Index("ix_audit_events_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))  # username ("" for nobody: a failed sign-in)
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48))  # e.g. post.approve, staff.sign_in_failed
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    # {"changes": {field: [before, after]}, "note": ...}: personal details masked (`app.privacy.mask_pii`)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))  # masked address (`app.client_address`)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
