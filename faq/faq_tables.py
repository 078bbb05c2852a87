"""FAQ tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class UnansweredQuestion(Base):
    """A question the FAQ could not answer, kept for staff to improve the FAQ: one row per normalised
    question and language (`key`), counted, with when it was first (`created_at`) and last seen.

    Only the masked text is stored (no user ID): see `faq.unanswered_log.log_unanswered`. A row that
    staff turned into an entry (or alternatives of one) names it in `resolved_entry`.
    """

    __tablename__ = "faq_unanswered"
    __table_args__ = (UniqueConstraint("lang", "key", name="uq_faq_unanswered_lang_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    channel: Mapped[str] = mapped_column(String(16), default="line")  # line | api | simulator (last)
    score: Mapped[float] = mapped_column(default=0.0)
    count: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    resolved_entry: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ShownAnswer(Base):
    """What the FAQ did with one question the bot answered: the decision, the masked question (for
    answers and suggestions only), the entry shown or the entries offered, then the resident's 👍/👎
    (`helpful`) and the suggestion they picked. `nonce` identifies the reply, not the resident."""

    __tablename__ = "faq_answers"
    __table_args__ = (Index("ix_faq_answers_entry_helpful", "entry_id", "helpful"),)

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    channel: Mapped[str] = mapped_column(String(16), default="line")
    decision: Mapped[str] = mapped_column(String(16))  # answer | suggest | fallback | small_talk
    entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the answer (or the pick)
    suggested: Mapped[list[str]] = mapped_column(JSON, default=list)
    score: Mapped[float] = mapped_column(default=0.0)
    helpful: Mapped[bool | None] = mapped_column(nullable=True)
    picked: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class FaqEntryRow(Base):
    """One FAQ entry in one language; staff edit these, the matcher's index is built from them."""

    __tablename__ = "faq_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(40), default="", server_default="")
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
