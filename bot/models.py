"""Residents who follow the LINE account and the topics they chose. Only what the bot needs is kept:
the LINE user ID, the chosen language, the profile language and the topics. Unfollow deletes the row
(and, by cascade, its subscriptions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class LineUser(Base):
    __tablename__ = "line_users"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)  # chosen in the menu
    profile_language: Mapped[str | None] = mapped_column(String(16), nullable=True)  # from the LINE profile
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TopicSubscription(Base):
    __tablename__ = "topic_subscriptions"
    __table_args__ = (Index("ix_topic_subscriptions_topic_user", "topic", "user_id"),)

    user_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("line_users.user_id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
