"""FAQ tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class UnansweredQuestion(Base):
    """A question the FAQ could not answer, kept for staff to improve the FAQ.

    Only the masked text is stored (no user ID): see `faq.unanswered_log.log_unanswered`.
    """

    __tablename__ = "faq_unanswered"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    channel: Mapped[str] = mapped_column(String(16), default="line")  # line | api | simulator
    score: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class FaqEntryRow(Base):
    """One FAQ entry in one language; staff edit these, the matcher's index is built from them."""

    __tablename__ = "faq_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str] = mapped_column(String(64), default="")
    department: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FaqState(Base):
    """A single row whose `version` grows with every edit, so each process knows when to reload."""

    __tablename__ = "faq_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
