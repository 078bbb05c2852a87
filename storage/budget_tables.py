"""Tables of the database-backed rate budgets (`storage.rate_budgets`), shared by every area.

Their migrations are in the branches of the areas that first needed them (`channel_limits`:
notifier_0001; `kpi_rate_slots`: kpi_0001).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class ChannelLimit(Base):
    """Rate-limit state of one account endpoint, shared by every worker.

    Times are epoch seconds (floats) so the one-statement token-bucket update does its arithmetic in
    SQL identically on SQLite and PostgreSQL."""

    __tablename__ = "channel_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # e.g. "line:channel:broadcast"
    capacity: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: headers only
    rate: Mapped[float | None] = mapped_column(Float, nullable=True)  # tokens per second
    tokens: Mapped[float] = mapped_column(Float, default=0.0)
    refilled_at: Mapped[float] = mapped_column(Float, default=0.0)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)
    remaining: Mapped[int | None] = mapped_column(Integer, nullable=True)  # last header value
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RateSlot(Base):
    """One of the N calls a rate-limited API allows per rolling hour; a call takes the slot whose last
    use is more than an hour old (see `storage.rate_budgets.reserve_in_window`)."""

    __tablename__ = "kpi_rate_slots"
    __table_args__ = (UniqueConstraint("key", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    slot: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
