"""Damage report tables: reports with their status history and photos, the residents who report on LINE
(an opaque reporter number; the LINE user ID is dropped on unfollow), the half-finished LINE flows, and
the status pushes waiting to be sent.

A report's `status`: new → checking → handled, or duplicate (with `duplicate_of`) or not_actionable.
Reports collected from other networks stay `confirmed = False` until a person confirms them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class Reporter(Base):
    """A resident who reported on LINE. Staff see only `id`; `line_user_id` is NULL once they unfollow."""

    __tablename__ = "report_reporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_user_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    channel: Mapped[str] = mapped_column(String(16), default="line")  # line | simulator
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DamageReport(Base):
    """One report. `event_id` (the LINE event that confirmed it) and (`source`, `external_id`) (a post
    on another network) make intake once-only."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_reports_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # masked before storing
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL"),
        nullable=True,
        index=True,  # a main's duplicates
    )
    source: Mapped[str] = mapped_column(String(16))  # line | phone | mastodon | bluesky | x
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_reporters.id", ondelete="SET NULL"), nullable=True, index=True
    )
    author: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a public handle (SNS)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportChange(Base):
    """One status change (or confirmation) of a report, with who made it and their note."""

    __tablename__ = "report_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))  # a staff username, or "resident" / "system"
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class ReportPhoto(Base):
    """A photo of a report: `pending` until fetched from LINE (leased, retried with `next_try_at`),
    then `stored` (file names under REPORT_MEDIA_DIR) or `failed` (`error` says why)."""

    __tablename__ = "report_photos"
    __table_args__ = (Index("ix_report_photos_state_next", "state", "next_try_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | stored | failed
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # LINE's message ID
    channel: Mapped[str] = mapped_column(String(16), default="line")  # line | simulator | upload
    file_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    thumb_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportDraft(Base):
    """A resident's report in progress on LINE (one per resident): the step and the answers so far
    (JSON). Expired drafts are ignored and purged."""

    __tablename__ = "report_drafts"

    line_user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default="line")
    step: Mapped[str] = mapped_column(String(16))
    answers: Mapped[str] = mapped_column(Text, default="{}")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ReportNotice(Base):
    """A push to the reporter about a status change, sent by the notice worker (`retry_key` makes a
    retried push safe); `pending` → `sent` or `failed`."""

    __tablename__ = "report_notices"
    __table_args__ = (Index("ix_report_notices_state_next", "state", "next_try_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    retry_key: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
