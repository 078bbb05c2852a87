"""FAQ tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class UnansweredQuestion(Base):
    """A question the FAQ could not answer, kept for staff to improve the FAQ.

    Only the masked text is stored (no user ID): see `faq.unanswered.log_unanswered`.
    """

    __tablename__ = "faq_unanswered"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    channel: Mapped[str] = mapped_column(String(16), default="line")  # line | api | simulator
    score: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
