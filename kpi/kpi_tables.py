"""KPI tables: daily follower snapshots, fetch attempts (what is missing and why), targets, and the
rolling-hour call budget of rate-limited APIs (LINE insight: 60 calls/hour)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow

TOTAL = "total"  # the target scope that covers every channel together


class FollowerSnapshot(Base):
    """One account's follower figure on one JST date; UNIQUE per (channel, account, date), upserted.

    `followers` is the figure that counts toward the KPI. For LINE it is the effective number of
    friends, insight `followers − blocks` (insight `followers` never decreases: it counts everyone who
    ever added the account, including those who now block it); the raw figures are kept alongside.
    """

    __tablename__ = "kpi_snapshots"
    __table_args__ = (UniqueConstraint("channel", "account", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(128))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    followers: Mapped[int] = mapped_column(Integer)
    platform_followers: Mapped[int | None] = mapped_column(Integer, nullable=True)  # LINE insight raw
    targeted_reaches: Mapped[int | None] = mapped_column(Integer, nullable=True)  # LINE
    blocks: Mapped[int | None] = mapped_column(Integer, nullable=True)  # LINE
    fan_count: Mapped[int | None] = mapped_column(Integer, nullable=True)  # Facebook page likes
    source: Mapped[str] = mapped_column(String(16))  # collect | backfill | import
    collected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowerFetch(Base):
    """The state of fetching one account's figure for one date. A failed or unready fetch stays here
    with its reason (the day is missing, never zero); `lease_until` lets one worker at a time call the
    platform, `next_attempt_at` spaces retries."""

    __tablename__ = "kpi_fetches"
    __table_args__ = (
        UniqueConstraint("channel", "account", "date"),
        Index("ix_kpi_fetches_status_date", "status", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(128))
    date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | ok | unready | error
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowerTarget(Base):
    """A target: `followers` by `date` for `scope` ("total" or a channel name)."""

    __tablename__ = "kpi_targets"
    __table_args__ = (UniqueConstraint("scope", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date)
    followers: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200), default="")
